"""``claimrisk train``: history in, a registered (and maybe promoted) model out.

Steps: read claims and remittances → join and label → split by time → featurize → fit and compare
the candidates on the same slices → evaluate on the holdout (and the oracle, for a synthetic
history) → backtest the shipped procedure month by month and refit it on every labelled claim →
log everything to MLflow and register → promote and export when asked and deserved.
Per-record reader errors are printed (never claim content) and make the exit code 1.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from claims.errors import InputError
from training.backtest import DEFAULT_FOLDS
from training.dataset import build_training_data, hash_inputs
from training.labels import label_columns
from training.progress import note
from training.reasons import claim_reasons, reasons_for_training
from training.split import time_split

EXIT_OK, EXIT_REJECTED = 0, 1
MIN_CLAIMS = 200


def _print_errors(errors: list[Any], what: str) -> None:
    """Every record error on stderr (CONTRACT §5: none is dropped), then how many there were.

    One write for the lot: a history with many bad records must not cost a syscall per line.
    A RecordError's text names the file, position and reason, never claim content."""
    if not errors:
        return
    sys.stderr.write("".join(f"{error}\n" for error in errors))
    sys.stderr.write(f"{len(errors)} {what} record(s) rejected\n")
    sys.stderr.flush()


def _report_superseded(rows: int) -> None:
    """How many remittance rows a later adjudication of the same payer claim replaced (count only,
    never content): an analyst checking the labels needs to know the netting changed something."""
    sys.stderr.write(f"{rows} remittance row(s) superseded by a later adjudication\n")
    sys.stderr.flush()


def read_truth(path: Path, claim_ids: np.ndarray) -> np.ndarray:
    """truth.jsonl p_deny aligned to ``claim_ids`` (NaN where the truth file has no row)."""
    import pyarrow.json as pj

    if not path.is_file():
        raise InputError(f"{path}: no such truth file")
    try:
        table = pj.read_json(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid with a position, never content
        raise InputError(f"{path}: not a truth JSONL file ({type(exc).__name__})") from exc
    if "claim_id" not in table.column_names or "p_deny" not in table.column_names:
        raise InputError(f"{path}: truth rows need claim_id and p_deny")
    import pandas as pd

    truth = pd.Series(
        table.column("p_deny").to_numpy(zero_copy_only=False).astype(np.float64),
        index=table.column("claim_id").to_numpy(zero_copy_only=False),
    )
    truth = truth[~truth.index.duplicated(keep="last")]
    return truth.reindex(claim_ids).to_numpy(dtype=np.float64)


def train(
    *,
    claims_path: Path,
    remits_path: Path,
    promote: bool,
    truth_path: Path | None,
    holdout_fraction: float,
    target_precision: float,
    models_dir: Path | None,
    backtest_folds: int = DEFAULT_FOLDS,
) -> int:
    """Train, evaluate, register and (with ``promote``) promote; 0 ok, 1 some records rejected."""
    from inputs.sources import load_claims, load_remits

    started = time.perf_counter()
    timings: dict[str, float] = {}
    claims_path, remits_path = Path(claims_path), Path(remits_path)

    note("reading claims and remittances")
    tick = time.perf_counter()
    claims_read = load_claims(claims_path)
    claim_errors = claims_read.errors
    _print_errors(claim_errors, "claim")
    remits_read = load_remits(remits_path)
    remit_errors = remits_read.errors
    _print_errors(remit_errors, "remittance")
    # The reason families need the adjustment and remark lists (training.reasons): read them, then
    # keep only what labelling reads: the lists are large and unused after this.
    reasons_by_claim = claim_reasons(remits_read.rows)
    remit_rows = label_columns(remits_read.rows)
    del remits_read
    rejected = len(claim_errors) + len(remit_errors)
    timings["read_s"] = time.perf_counter() - tick

    tick = time.perf_counter()
    data = build_training_data(claims_read.frame, remit_rows)
    del claims_read, remit_rows  # the training set holds its own copy of the labelled claims
    data.summary["claim_records_rejected"] = len(claim_errors)
    data.summary["remit_records_rejected"] = len(remit_errors)
    data.summary["input_sha256"] = hash_inputs([claims_path, remits_path])
    timings["label_s"] = time.perf_counter() - tick
    s = data.summary
    note(
        f"{s['claims_joined']} claims joined ({s['claims_denied']} denied), {s['claims_unanswered']} unanswered, "
        f"{s['claims_excluded']} excluded, {s['claims_reversed']} reversed, "
        f"{s['remit_claims_unmatched']} remitted claims unmatched"
    )
    _report_superseded(int(s.get("remit_rows_superseded", 0)))
    if len(data) < MIN_CLAIMS:
        raise InputError(
            f"only {len(data)} claims have a final answer in the remittances; need at least {MIN_CLAIMS}"
        )
    if data.y.min() == data.y.max():
        raise InputError("every labelled claim has the same outcome: nothing to learn")

    from training.pipeline import fit_and_evaluate

    result = fit_and_evaluate(
        data,
        holdout_fraction=holdout_fraction,
        target_precision=target_precision,
        truth=read_truth(truth_path, data.claim_ids) if truth_path is not None else None,
        timings=timings,
        backtest_folds=backtest_folds,
        reasons=reasons_for_training(reasons_by_claim, data, truth_path),
    )

    from training.registry import register_and_promote

    tick = time.perf_counter()
    outcome = register_and_promote(result, claims_path=claims_path, promote=promote, models_dir=models_dir)
    timings["mlflow_s"] = time.perf_counter() - tick
    timings["total_s"] = time.perf_counter() - started
    sys.stdout.write(result.report() + "\n" + outcome.report() + "\n")
    sys.stdout.flush()
    note("done in " + ", ".join(f"{k.removesuffix('_s')} {v:.1f} s" for k, v in timings.items()))
    return EXIT_REJECTED if rejected else EXIT_OK


__all__ = ["train", "time_split"]
