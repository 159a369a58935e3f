"""``claimrisk train``: history in, a registered (and maybe promoted) model out.

Steps: read claims and remittances → join and label → split by time → featurize → fit and compare
the candidates on the same slices → evaluate on the holdout (and the oracle, for a synthetic
history) → log everything to MLflow and register → promote and export when asked and deserved.
Per-record reader errors are printed (never claim content) and make the exit code 1.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from claims.errors import InputError
from training.dataset import build_training_data, hash_inputs
from training.labels import label_columns
from training.progress import bar, note
from training.split import time_split

EXIT_OK, EXIT_REJECTED = 0, 1
# Comparison of the slower candidates on at most this many (most recent) fit rows; the winner is
# then refitted on the whole fit slice. Keeps the 1M-claim run inside its time budget.
COMPARE_ROWS = int(os.environ.get("CLAIMRISK_COMPARE_ROWS", "100000"))
FEATURIZE_CHUNK = 250_000
MIN_CLAIMS = 200


def _print_errors(errors: list[Any], what: str) -> None:
    for error in errors[:50]:
        sys.stderr.write(f"{error}\n")
    if len(errors) > 50:
        sys.stderr.write(f"... and {len(errors) - 50} more {what} errors\n")


def featurize(featurizer: Any, frame: Any) -> np.ndarray:
    """Features of every claim of ``frame`` (a fitted featurizer), in chunks: bounded memory, a bar."""
    from training.frames import slice_claims

    n = frame.n_claims
    parts = []
    with bar(total=n, desc="featurizing", unit="claim") as progress:
        for start in range(0, n, FEATURIZE_CHUNK):
            chunk = slice_claims(frame, start, start + FEATURIZE_CHUNK)
            parts.append(np.asarray(featurizer.transform(chunk), dtype=np.float32))
            progress.update(chunk.n_claims)
    return (
        np.concatenate(parts)
        if parts
        else np.empty((0, len(featurizer.get_feature_names_out())), dtype=np.float32)
    )


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


def example_claims() -> list[str]:
    """The MLflow input example: invented claims, never rows of the analyst's history (PHI)."""
    from claims.examples import EXAMPLE_CLAIMS
    from claims.model import Claim

    return [Claim.model_validate(claim).model_dump_json() for claim in EXAMPLE_CLAIMS]


def train(
    *,
    claims_path: Path,
    remits_path: Path,
    promote: bool,
    truth_path: Path | None,
    holdout_fraction: float,
    target_precision: float,
    models_dir: Path | None,
) -> int:
    """Train, evaluate, register and (with ``promote``) promote; 0 ok, 1 some records rejected."""
    from claims.sources import load_claims, load_remits

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
    # Keep only what labelling reads: the adjustment and remark lists are large and unused here.
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


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def scratch_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="claimrisk-train-")


__all__ = ["train", "time_split"]
