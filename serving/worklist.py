"""The billing team's worklist: every claim of a file scored and ranked by dollars at risk.

It calls the same ``Scorer.score_arrays`` as the API, so a claim gets the same risk whichever way
it is scored. Columns are built as Arrow arrays end to end (the fired rule ids become a list column
from offsets, joined with ``;`` for CSV by Arrow itself), so no Python loop runs per claim.

A large JSONL file is read and scored in parts by worker processes forked after the model is
loaded (reading the JSON is most of the work, and claims are independent); the parts' tables are
joined in file order and ranked once, so the worklist is the one a single process writes.
``CLAIMRISK_SCORE_WORKERS`` sets the number of processes (default: the usable cores; 1 turns it off).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from claims import parallel
from claims.columnar import ClaimFrame
from claims.errors import InputError, RecordError
from serving.scorer import DECISION_PASS, DECISION_REVIEW, ScoreArrays, Scorer, claim_charges

CHUNK_CLAIMS = 100_000
WORKERS_ENV = "CLAIMRISK_SCORE_WORKERS"
PART_BYTES = 32 << 20  # parts of about this size, and at least two per worker to keep all busy
FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
# CONTRACT §4 and §7: the reason columns are always there (null for a model without reason heads)
COLUMNS = ("claim_id", "risk", "expected_loss", "decision", "rules", "top_reason", "top_reason_probability")
# ``claimrisk score --fixes``: what to fix first and the dollars the fixes can win back, after COLUMNS
FIX_COLUMNS = ("total_charge", "best_fix", "best_fix_line", "risk_if_best_fixed", "risk_if_all_fixed", "recoverable")


def output_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{path.name}: the worklist is written as .csv or .parquet, not {path.suffix or 'no extension'!r}")
    return fmt


def rule_lists(fired: object, n_claims: int) -> pa.ListArray:
    """Distinct fired rule ids per claim (engine order: line, then rule id) as an Arrow list column."""
    from features.rules.catalog import RULE_IDS

    claim_index = np.asarray(fired.claim_index, dtype=np.int64)  # type: ignore[attr-defined]
    codes = np.asarray(fired.rule, dtype=np.int64)  # type: ignore[attr-defined]
    n_rules = len(RULE_IDS)
    # Rows are sorted by claim, so the first occurrence of each (claim, rule) keeps claim order.
    _, first = np.unique(claim_index * n_rules + codes, return_index=True)
    keep = np.sort(first)
    names = pa.array(RULE_IDS, type=pa.string()).take(pa.array(codes[keep]))
    counts = np.bincount(claim_index[keep], minlength=n_claims)
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets, type=pa.int32()), names)


def score_chunk(scorer: Scorer, frame: ClaimFrame, threshold: float | None, fixes: bool = False) -> pa.Table:
    arrays = scorer.score_arrays(frame, threshold, with_fixes=fixes, with_all_fixed=fixes)
    columns = {
        "claim_id": pa.array(arrays.claim_ids, type=pa.string()),
        "risk": pa.array(arrays.risk, type=pa.float64()),
        "expected_loss": pa.array(arrays.expected_loss, type=pa.float64()),
        # chosen by Arrow from the flags: a NumPy string array costs 30x more to convert
        "decision": pc.if_else(pa.array(arrays.review, type=pa.bool_()), DECISION_REVIEW, DECISION_PASS),
        "rules": rule_lists(arrays.fired, frame.n_claims),
        **reason_columns(arrays.reasons, frame.n_claims),
    }
    if fixes:
        columns.update(fix_columns(arrays, claim_charges(frame)))
    return pa.table(columns)


def reason_columns(reasons: np.ndarray | None, n_claims: int) -> dict[str, pa.Array]:
    """Per claim the most likely denial reason family and its probability (the API's first
    ``reasons`` entry, CONTRACT §7), one argmax over the claims; nulls without reason heads."""
    if reasons is None or reasons.shape[0] != n_claims or n_claims == 0:
        return {
            "top_reason": pa.nulls(n_claims, type=pa.string()),
            "top_reason_probability": pa.nulls(n_claims, type=pa.float64()),
        }
    from features.denial_reasons import FAMILIES, top_families

    top, probability = top_families(reasons)  # the store's and the API's pick, ties included
    names = pa.array(FAMILIES, type=pa.string()).take(pa.array(top))
    return {"top_reason": names, "top_reason_probability": pa.array(probability, type=pa.float64())}


def fix_columns(arrays: ScoreArrays, charges: np.ndarray) -> dict[str, pa.Array]:
    """Per claim: the one problem whose fix lowers the risk most (null when none lowers it), its line
    (null at claim level), the risk after it, the risk with every reported problem fixed, and
    ``recoverable`` = (risk - that) x total charge, the part of the expected loss the flags
    explain; a biller works the highest ``recoverable`` first. The figures are the API's
    ``risk_if_fixed`` and ``risk_if_all_fixed`` for the same claim."""
    n = arrays.risk.shape[0]
    best_fix = np.full(n, None, dtype=object)
    best_line = np.full(n, -1, dtype=np.int64)
    best_risk = np.full(n, np.nan)
    if arrays.fix_claim.shape[0]:
        # each claim's problems ordered by the risk their fix leaves (ties: engine order); the first is the best
        order = np.lexsort((arrays.fix_risk, arrays.fix_claim))
        claims, first = np.unique(arrays.fix_claim[order], return_index=True)
        pick = order[first]
        lowers = arrays.fix_risk[pick] < arrays.risk[claims]
        best_fix[claims[lowers]] = arrays.fix_rule[pick[lowers]]
        best_line[claims[lowers]] = arrays.fix_line[pick[lowers]]
        best_risk[claims[lowers]] = arrays.fix_risk[pick[lowers]]
    all_fixed = arrays.all_fixed_risk
    return {
        "total_charge": pa.array(charges, type=pa.float64()),
        "best_fix": pa.array(best_fix, type=pa.string()),
        "best_fix_line": pa.array(best_line, type=pa.int64(), mask=best_line < 0),
        "risk_if_best_fixed": pa.array(best_risk, type=pa.float64(), from_pandas=True),
        "risk_if_all_fixed": pa.array(all_fixed, type=pa.float64()),
        "recoverable": pa.array((arrays.risk - all_fixed) * charges, type=pa.float64()),
    }


def build_worklist(
    scorer: Scorer,
    frame: ClaimFrame,
    threshold: float | None = None,
    *,
    chunk_claims: int = CHUNK_CLAIMS,
    fixes: bool = False,
) -> pa.Table:
    """All claims scored, highest ``expected_loss`` first (ties keep input order); ``fixes`` adds
    FIX_COLUMNS."""
    if frame.n_claims <= chunk_claims:
        table = score_chunk(scorer, frame, threshold, fixes)
    else:
        parts = [
            score_chunk(
                scorer, frame.take(np.arange(start, min(start + chunk_claims, frame.n_claims))), threshold, fixes
            )
            for start in range(0, frame.n_claims, chunk_claims)
        ]
        table = pa.concat_tables(parts)
    return _ranked(table)


def _ranked(table: pa.Table) -> pa.Table:
    order = np.argsort(-table.column("expected_loss").to_numpy(), kind="stable")
    return table.take(pa.array(order))


def score_file(
    scorer: Scorer, path: Path, threshold: float | None = None, *, fixes: bool = False
) -> tuple[pa.Table, list[RecordError]]:
    """The ranked worklist of a JSONL/837 file or folder, and the records that could not be read;
    a single large JSONL file is read and scored in parts by forked workers (module docstring)."""
    from inputs.sources import FileFormat, input_files, load_claims, sniff_format

    files = input_files(path)
    workers = parallel.worker_count(WORKERS_ENV)
    if (
        workers > 1
        and len(files) == 1
        and files[0].stat().st_size >= parallel.MIN_FILE_BYTES
        and "fork" in multiprocessing.get_all_start_methods()
        and sniff_format(files[0]) is FileFormat.JSONL
    ):
        return _score_in_parts(scorer, files[0], threshold, workers, fixes)
    read = load_claims(path)
    return build_worklist(scorer, read.frame, threshold, fixes=fixes), list(read.errors)


# ------------------------------------------------------------------------------ worker processes
def _score_in_parts(
    scorer: Scorer, file: Path, threshold: float | None, workers: int, fixes: bool
) -> tuple[pa.Table, list[RecordError]]:
    """The parts of ``file`` scored in the command's one fork pool (``claims.parallel.map_parts``):
    the workers inherit the loaded model and reference data (nothing is pickled but the byte ranges
    in and each part's table out); every part reads with the same ``today``."""
    from training.calibration import predict_on_one_thread

    today = dt.date.today()

    def work(part: tuple[int, int, int]) -> tuple[pa.Table | None, list[RecordError]]:
        return _score_part(scorer, threshold, fixes, file, today, part)

    tables: list[pa.Table] = []
    errors: list[RecordError] = []
    # the parent's OpenMP pool did not survive the fork: each worker predicts on its one core
    for table, part_errors in parallel.map_parts(file, workers, PART_BYTES, work, initializer=predict_on_one_thread):
        if table is not None:
            tables.append(table)
        errors.extend(part_errors)
    if not tables:
        return build_worklist(scorer, ClaimFrame.empty(), threshold, fixes=fixes), errors
    return _ranked(pa.concat_tables(tables)), errors


def _score_part(
    scorer: Scorer, threshold: float | None, fixes: bool, file: Path, today: dt.date, part: tuple[int, int, int]
) -> tuple[pa.Table | None, list[RecordError]]:
    from claims.jsonl import read_claims_jsonl_part

    read = read_claims_jsonl_part(file, *part, today=today)
    table = score_chunk(scorer, read.frame, threshold, fixes) if read.frame.n_claims else None
    return table, list(read.errors)


def write_worklist(table: pa.Table, path: Path) -> None:
    fmt = output_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, tmp)
    else:
        import pyarrow.csv as pacsv

        rules = table.column("rules")
        joined = pc.fill_null(pc.binary_join(rules, ";"), "")
        flat = table.set_column(table.schema.get_field_index("rules"), "rules", joined)
        pacsv.write_csv(flat, tmp)
    tmp.replace(path)
