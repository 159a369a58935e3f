"""The billing team's worklist: every claim of a file scored and ranked by dollars at risk.

It calls the same ``Scorer.score_arrays`` as the API, so a claim gets the same risk whichever way
it is scored. Columns are built as Arrow arrays end to end (the fired rule ids become a list column
from offsets, joined with ``;`` for CSV by Arrow itself), so no Python loop runs per claim.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from claims.columnar import ClaimFrame
from claims.errors import InputError
from serving.scorer import Scorer

CHUNK_CLAIMS = 100_000
FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
COLUMNS = ("claim_id", "risk", "expected_loss", "decision", "rules")


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
    names = pa.array(np.asarray(RULE_IDS, dtype=object)[codes[keep]], type=pa.string())
    counts = np.bincount(claim_index[keep], minlength=n_claims)
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets, type=pa.int32()), names)


def score_chunk(scorer: Scorer, frame: ClaimFrame, threshold: float | None) -> pa.Table:
    arrays = scorer.score_arrays(frame, threshold, with_fixes=False)
    return pa.table(
        {
            "claim_id": pa.array(arrays.claim_ids, type=pa.string()),
            "risk": pa.array(arrays.risk, type=pa.float64()),
            "expected_loss": pa.array(arrays.expected_loss, type=pa.float64()),
            "decision": pa.array(arrays.decisions(), type=pa.string()),
            "rules": rule_lists(arrays.fired, frame.n_claims),
        }
    )


def build_worklist(
    scorer: Scorer, frame: ClaimFrame, threshold: float | None = None, *, chunk_claims: int = CHUNK_CLAIMS
) -> pa.Table:
    """All claims scored, highest ``expected_loss`` first (ties keep input order)."""
    if frame.n_claims <= chunk_claims:
        table = score_chunk(scorer, frame, threshold)
    else:
        parts = [
            score_chunk(scorer, frame.take(np.arange(start, min(start + chunk_claims, frame.n_claims))), threshold)
            for start in range(0, frame.n_claims, chunk_claims)
        ]
        table = pa.concat_tables(parts)
    order = np.argsort(-table.column("expected_loss").to_numpy(), kind="stable")
    return table.take(pa.array(order))


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
