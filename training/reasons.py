"""Why a claim will be denied: reason-family labels from the 835 codes, and the model heads that
predict them (CONTRACT §7, issue 22).

Labels. Each denied remittance row (``outcome == "denied"``, of the adjudications that stand after
netting) is given the family of its codes by ``features.denial_reasons`` (RARCs first, then CARCs,
first match wins); a claim's families are the union over its denied rows, so a claim denied on an
NDC line and a documentation line carries both. The code lists are turned into Arrow list columns
and mapped once per distinct code: no Python runs per remittance row.

Model. The heads estimate P(family | denied, x) from the same feature matrix X as the risk model,
and the served probability of "denied for family f" is ``risk(x) · P(f | denied, x)``. That
product is the right quantity (P(denied ∧ f) = P(denied) · P(f | denied)) and it enforces the
contract's consistency by construction: a conditional probability is at most 1, so no family's
probability exceeds the claim's calibrated risk, whatever the heads learned. The heads are one
LightGBM multiclass booster (softmax over the eleven families, a claim with k families entered
k times with weight 1/k) rather than eleven binary boosters: serving then pays one extra booster
call per request instead of eleven, and the rare multi-family claims (about 4 % of denials in the
synthetic history) cost little. The softmax is used as it is: multiclass log-loss is a proper
scoring rule, and per-family isotonic curves fitted on the validation slice's few hundred denials
were measured to lower top-1 accuracy and PR-AUC on every history tried (they reorder families
across each other with their steps) without improving calibration.

The heads live in this module for good: a saved RiskModel pickles ``training.reasons.ReasonHeads``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from claims.netting import net_remittance_rows
from features.denial_reasons import FAMILIES, OTHER, first_family, load_table
from training.calibration import _threads
from training.labels import CLAIM_DENIED_STATUS, label_columns

K = len(FAMILIES)
HEAD_ROUNDS = 120  # at most; early stopping on the validation slice's denials usually stops sooner
HEAD_EARLY_STOP = 10
# The heads learn from at most this many denied claims, the latest ones (fit and refit alike): on
# synthetic histories top-1 accuracy moved 0.868 -> 0.881 from 9k to 29k training denials, and
# the cap keeps a 1M-claim history's heads (200k denials) inside the training budget.
MAX_HEAD_ROWS = 60_000
HEAD_PARAMS: dict[str, Any] = {
    "objective": "multiclass",
    "num_class": K,
    "learning_rate": 0.15,
    "num_leaves": 15,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.8,
    "lambda_l2": 1.0,
    "verbose": -1,
}
_ADJUSTMENT = pa.list_(pa.struct([("level", pa.string()), ("group", pa.string()), ("reason", pa.string())]))


# ----------------------------------------------------------------------------------------- labels
def _list_column(values: np.ndarray, kind: pa.DataType) -> pa.ListArray:
    """Python lists (None for missing) -> an Arrow list column, converted in C++ in one call."""
    array = pa.array(values.tolist(), type=kind, from_pandas=True)
    return pc.fill_null(array, pa.scalar([], kind))


def row_families(rows: pd.DataFrame) -> np.ndarray:
    """Family index per remittance row from its remarks and adjustments (-1 when no code has one):
    the RARCs in listed order, then line-level CARCs, then claim-level CARCs (module docstring)."""
    table = load_table()
    n = len(rows)
    if n == 0:
        return np.empty(0, dtype=np.int8)
    remarks = _list_column(rows["remarks"].to_numpy(dtype=object), pa.list_(pa.string()))
    found = first_family(
        pc.list_flatten(remarks).to_numpy(zero_copy_only=False),
        pc.list_parent_indices(remarks).to_numpy(),
        n,
        table.rarc,
    )
    adjustments = _list_column(rows["adjustments"].to_numpy(dtype=object), _ADJUSTMENT)
    flat = pc.list_flatten(adjustments)
    parent = pc.list_parent_indices(adjustments).to_numpy()
    reason = pc.struct_field(flat, "reason").to_numpy(zero_copy_only=False)
    level = pc.struct_field(flat, "level").to_numpy(zero_copy_only=False)
    for wanted in ("line", "claim"):
        at = level == wanted
        by_carc = first_family(reason[at], parent[at], n, table.carc)
        found = np.where(found >= 0, found, by_carc)
    return found


@dataclass(frozen=True)
class ClaimReasons:
    """The reason families of every denied claim of a remittance history (by claim id)."""

    claim_ids: np.ndarray  # object, the denied claims
    families: np.ndarray  # bool (claims, K)
    unexplained_rows: int  # denied rows no code of the table explains (labelled ``other``)
    table_version: str

    def aligned(self, claim_ids: np.ndarray) -> np.ndarray:
        """(len(claim_ids), K) bool: the families of each claim, all False for claims not denied."""
        where = pd.Index(self.claim_ids, dtype=object).get_indexer(pd.Index(claim_ids, dtype=object))
        out = np.zeros((claim_ids.shape[0], K), dtype=bool)
        found = where >= 0
        out[found] = self.families[where[found]]
        return out


def _cleaned(values: pd.Series, rows: np.ndarray, how: Any) -> np.ndarray:
    """Codes (CLP02, outcome) at ``rows``, cleaned by ``how`` once per distinct value; "" for missing."""
    index, uniques = pd.factorize(values.to_numpy(dtype=object)[rows], use_na_sentinel=True)
    clean = np.array([how(str(u).strip()) for u in uniques] + [""], dtype=object)
    return clean[index]


def claim_reasons(remits: pd.DataFrame) -> ClaimReasons:
    """Net the history (CONTRACT §6, the same netting as the labels), then read the families of
    every denied row that stands; a claim denied by CLP02 = 4 without a denied row, or whose
    denied rows name no family, is ``other``. ``remits`` needs the adjustment and remark lists."""
    frame = label_columns(remits).reset_index(drop=True)
    keep = np.flatnonzero(net_remittance_rows(frame).keep)
    outcome = _cleaned(frame["outcome"], keep, str.lower) == "denied"
    denied_claim = outcome | (_cleaned(frame["claim_status"], keep, str.strip) == CLAIM_DENIED_STATUS)
    codes, ids = pd.factorize(frame["claim_id"].to_numpy(dtype=object)[keep])
    is_denied = np.bincount(codes[denied_claim], minlength=ids.size) > 0
    denied_rows = keep[outcome]
    family = row_families(
        pd.DataFrame({name: remits[name].to_numpy(dtype=object)[denied_rows] for name in ("remarks", "adjustments")})
    )
    unexplained = int(np.count_nonzero(family < 0))
    families = np.zeros((ids.size, K), dtype=bool)
    families[codes[outcome], np.where(family >= 0, family, OTHER)] = True
    families[is_denied & ~families.any(axis=1), OTHER] = True
    return ClaimReasons(
        claim_ids=np.asarray(ids, dtype=object)[is_denied],
        families=families[is_denied],
        unexplained_rows=unexplained,
        table_version=load_table().version,
    )


@dataclass(frozen=True)
class ReasonInputs:
    """What training needs for the heads, aligned with the training claims."""

    labels: np.ndarray  # (claims, K) bool, from the 835 codes
    truth: np.ndarray | None = None  # (claims, K) bool, the generator's causes (synthetic only)
    summary: dict[str, Any] = field(default_factory=dict)


def reason_inputs(reasons: ClaimReasons, claim_ids: np.ndarray, y: np.ndarray, truth: np.ndarray | None = None) -> ReasonInputs:
    """Align the labels with the training claims and summarise them (counts only, never content)."""
    labels = reasons.aligned(claim_ids)
    labels[y == 0] = False  # a claim labelled paid has no denial reason
    denied = y == 1
    labels[denied & ~labels.any(axis=1), OTHER] = True
    n_denied = int(denied.sum())
    counts = labels[denied].sum(axis=0)
    summary = {
        "reason_table_version": reasons.table_version,
        "reason_denied_claims": n_denied,
        "reason_family_claims": {name: int(c) for name, c in zip(FAMILIES, counts, strict=True)},
        "reason_other_share": float(counts[OTHER] / n_denied) if n_denied else float("nan"),
        "reason_multi_family_share": float((labels[denied].sum(axis=1) > 1).mean()) if n_denied else float("nan"),
        "reason_unexplained_rows": reasons.unexplained_rows,
    }
    return ReasonInputs(labels=labels, truth=truth, summary=summary)


def reasons_for_training(reasons: ClaimReasons, data: Any, truth_path: Any = None) -> ReasonInputs:
    """``claimrisk train``'s step: the labels aligned with the training claims (``data``, a
    ``training.dataset.TrainingData``), the generator's causes when a truth file is given, and the
    label counts added to the training summary (the share of denials that fell to ``other``)."""
    from training.reason_metrics import read_truth_families

    truth = read_truth_families(truth_path, data.claim_ids) if truth_path is not None else None
    inputs = reason_inputs(reasons, data.claim_ids, data.y, truth)
    data.summary.update({k: v for k, v in inputs.summary.items() if k.startswith("reason_")})
    return inputs


# ------------------------------------------------------------------------------------------ heads
class ReasonHeads:
    """P(family | denied, x) for the eleven families, and the served P(denied for f)."""

    def __init__(self, booster: Any, table_version: str) -> None:
        self.booster = booster  # lightgbm.Booster, multiclass over FAMILIES
        self.families: tuple[str, ...] = FAMILIES
        self.table_version = table_version  # the CARC/RARC table that labelled the training claims

    def given_denied(self, X: np.ndarray) -> np.ndarray:
        """(rows, K): P(f | denied, x), the softmax of one booster call for every family."""
        rows = X.shape[0]
        if rows == 0:
            return np.zeros((0, K))
        # the risk booster's thread choice: one for requests, and one in forked worklist workers,
        # whose OpenMP pool did not survive the fork (training.calibration.predict_on_one_thread)
        return np.asarray(self.booster.predict(X, num_threads=_threads(X)), dtype=np.float64).reshape(rows, K)

    def probabilities(self, X: np.ndarray, risk: np.ndarray) -> np.ndarray:
        """(rows, K): P(denied for f | x) = risk · P(f | denied, x), never above the risk."""
        return np.asarray(risk, dtype=np.float64)[:, None] * self.given_denied(X)


def _rows(X: np.ndarray, labels: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, class, weight): each denied claim once per family, weight 1/k for k families."""
    claim, family = np.nonzero(labels[index])
    weight = 1.0 / labels[index].sum(axis=1)[claim]
    return X[index[claim]], family, weight


def _dataset(X: np.ndarray, labels: np.ndarray, index: np.ndarray, reference: Any = None) -> Any:
    import lightgbm as lgb

    rows, family, weight = _rows(X, labels, index)
    return lgb.Dataset(rows, label=family, weight=weight, reference=reference, free_raw_data=True)


@dataclass(frozen=True)
class FittedHeads:
    heads: ReasonHeads  # fitted on the fit slice, stopped on validation (what the holdout judges)
    rounds: int
    fit_seconds: float
    rows: int


def _params(seed: int) -> dict[str, Any]:
    """Booster parameters; threads as for the risk model (``fit_threads``: one on a busy machine,
    where OpenMP barriers waiting on preempted threads make a 2-thread fit many times slower)."""
    from training.candidates import fit_threads

    return {**HEAD_PARAMS, "seed": seed, "num_threads": fit_threads(), "deterministic": True}


def fit_heads(X: np.ndarray, labels: np.ndarray, fit: np.ndarray, validation: np.ndarray, *, seed: int = 0) -> FittedHeads:
    """Fit the heads on the denied claims of ``fit``, stopping early on those of ``validation``
    (both are index arrays into X; labels are all False for paid claims)."""
    import time

    import lightgbm as lgb

    tick = time.perf_counter()
    fit_denied = fit[labels[fit].any(axis=1)][-MAX_HEAD_ROWS:]
    val_denied = validation[labels[validation].any(axis=1)]
    params = _params(seed)
    train = _dataset(X, labels, fit_denied)
    valid = _dataset(X, labels, val_denied, reference=train) if val_denied.size else None
    callbacks: list[Callable[..., Any]] = [lgb.early_stopping(HEAD_EARLY_STOP, verbose=False)] if valid is not None else []
    booster = lgb.train(params, train, HEAD_ROUNDS, valid_sets=[valid] if valid else None, callbacks=callbacks)
    rounds = int(booster.best_iteration or HEAD_ROUNDS)
    booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=rounds))
    heads = ReasonHeads(booster, load_table().version)
    return FittedHeads(heads, rounds, time.perf_counter() - tick, int(fit_denied.size))


def refit_heads(X: np.ndarray, labels: np.ndarray, split_heads: FittedHeads, *, seed: int = 0) -> ReasonHeads:
    """The heads that ship: the same procedure refitted on the latest denied claims (up to
    MAX_HEAD_ROWS, the newest included), with the split heads' number of rounds."""
    import lightgbm as lgb

    every = np.flatnonzero(labels.any(axis=1))[-MAX_HEAD_ROWS:]
    booster = lgb.train(_params(seed), _dataset(X, labels, every), split_heads.rounds)
    return ReasonHeads(booster, split_heads.heads.table_version)


# ------------------------------------------------------------------------------- training step
@dataclass(frozen=True)
class ReasonFit:
    """What training keeps of the heads: the shipped heads and the numbers that judge them."""

    heads: ReasonHeads
    summary: dict[str, Any]  # JSON-ready: labels summary, rounds, timings, holdout metrics


def fit_reasons(
    X: np.ndarray,
    reasons: ReasonInputs,
    split: Any,
    holdout_risk: np.ndarray,
    feature_names: list[str],
    *,
    y: np.ndarray,
    seed: int = 0,
) -> ReasonFit:
    """Fit the heads on the fit slice (stopped on validation), judge them on the holdout with
    the split risk model's scores, against the rules-only baselines, then refit them on every
    denied claim for the model that ships (``refit_heads``)."""
    import time

    from training.reason_metrics import evaluate_reasons, rules_only_scores

    fitted = fit_heads(X, reasons.labels, split.fit, split.validation, seed=seed)
    hold = split.holdout
    scores = {
        "model": fitted.heads.probabilities(X[hold], holdout_risk),
        "rules_only": rules_only_scores(X, reasons.labels, split.fit, hold, feature_names),
        "rules_prior": rules_only_scores(X, reasons.labels, split.fit, hold, feature_names, prior=True),
    }
    truth = reasons.truth[hold] if reasons.truth is not None else None
    metrics = evaluate_reasons(scores, reasons.labels[hold], truth, y[hold])
    tick = time.perf_counter()
    shipped = refit_heads(X, reasons.labels, fitted, seed=seed)
    summary = {
        **reasons.summary,
        "heads": "one LightGBM multiclass booster (softmax) over the families, times the calibrated risk",
        "rounds": fitted.rounds,
        "fit_rows": fitted.rows,
        "fit_seconds": round(fitted.fit_seconds, 3),
        "refit_seconds": round(time.perf_counter() - tick, 3),
        "holdout": metrics,
    }
    return ReasonFit(heads=shipped, summary=summary)


def attach_reasons(
    model: Any,
    X: np.ndarray,
    reasons: ReasonInputs,
    split: Any,
    holdout_risk: np.ndarray,
    feature_names: list[str],
    *,
    y: np.ndarray,
    seed: int = 0,
    timings: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The training pipeline's one call: fit and judge the heads, put the shipped heads in the
    RiskModel and their summary in its metadata (``reasons``); returns the summary."""
    import time

    tick = time.perf_counter()
    fitted = fit_reasons(X, reasons, split, holdout_risk, feature_names, y=y, seed=seed)
    model.reason_heads = fitted.heads
    model.metadata["reasons"] = fitted.summary
    if timings is not None:
        timings["reasons_s"] = time.perf_counter() - tick
    return fitted.summary
