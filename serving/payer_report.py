"""``claimrisk payers``: what each payer does with each rule, from the analyst's own history.

The numbers (``training.payer_stats``) need one thing only a model can give: each rule's effect
on a claim *with its other problems and context held fixed*. That is the scorer's per-problem
``risk_if_fixed`` (``serving.scorer.Scorer``, vectorized over every flagged claim), which is why
the command lives in serving: training may not import serving. The model is fitted here, on the
given history, with the training code's featurizer and first booster (``training.candidates.refit``:
fit on the earlier part of the history, early stopping and isotonic calibration on its latest
part), never registered: the report needs no champion, and it describes the history it was given.

Two choices, each measured or argued:
- No recency columns (``training.recency``): their per-payer-and-rule recent denial rates would let
  the booster place a payer's weighing of a rule in a column the scorer's fix does not clear, and
  the effect would read low exactly where the payer enforces the rule.
- The booster is fitted on at most FIT_ROWS claims, a time-ordered random sample, when the history
  is larger (the 1M-claim target); every claim is still featurized, counted and scored.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from claims.columnar import ClaimFrame
from claims.errors import InputError
from serving.scorer import Scorer, load_rule_context
from training.payer_stats import (
    CONTINUITY,
    MIN_FLAGGED,
    RULE_POLICY_KEYS,
    FlagPairs,
    PayerRuleTable,
    Suggestion,
    enforced_by_policy,
    monthly_trend,
    payer_rule_table,
    suggest,
)

EXIT_OK, EXIT_REJECTED = 0, 1
MIN_CLAIMS = 200
# Claims the booster is fitted on at most (a time-ordered random sample beyond it): 200k claims
# fit in about a fifth of the 1M-claim budget, and the effects are means over thousands of claims.
FIT_ROWS = 200_000
# The latest share of the fitted claims, for early stopping and calibration (as training's split).
STOP_FRACTION = 0.15
# Flagged claims scored per scorer call: bounds the memory of the fix variants on a 1M history.
SCORE_CHUNK = 100_000
ARTIFACT_PATH = "payer_report"


@dataclass
class PayerReport:
    """Everything the report's files show."""

    table: PayerRuleTable
    trend: pd.DataFrame
    suggestions: list[Suggestion]
    window: dict[str, Any]
    model: Any = None  # the RiskModel fitted for the report (kept for checks; never registered)
    timings: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        from training.payer_stats import table_json

        return {
            "window": self.window,
            "payers": table_json(self.table),
            "suggestions": [s.as_json() for s in self.suggestions],
        }


def _fit_model(X: np.ndarray, data: Any, featurizer: Any, fit_rows: int, seed: int) -> tuple[Any, dict[str, Any]]:
    """A RiskModel of this history (not registered): the first booster of ``training.candidates``
    fitted on the earlier claims of (a sample of) the history, stopped and calibrated on the rest."""
    from sklearn.pipeline import Pipeline

    from training.candidates import BOOSTERS, refit
    from training.risk_model import RiskModel

    n = X.shape[0]
    rows = np.arange(n)
    if n > fit_rows:  # sorted, so the sample keeps submission order and its time cut stays a time cut
        rows = np.sort(np.random.default_rng(seed).choice(n, size=fit_rows, replace=False))
    cut = int(round(rows.shape[0] * (1.0 - STOP_FRACTION)))
    fit, stop = rows[:cut], rows[cut:]
    monotone = [int(c) for c in featurizer.monotonic_cst()]
    winner = refit(BOOSTERS[0], X[fit], data.y[fit], X[stop], data.y[stop], monotone, seed)
    pipeline = Pipeline([("featurizer", featurizer), ("classifier", winner.classifier)])
    about = {
        "estimator": BOOSTERS[0],
        "fit_claims": int(fit.shape[0]),
        "stop_and_calibration_claims": int(stop.shape[0]),
        "iterations": winner.iterations,
        "sampled": bool(n > fit_rows),
    }
    return RiskModel(pipeline, threshold=0.5, metadata={"purpose": "payer report (not registered)", **about}), about


def pair_effects(scorer: Scorer, frame: ClaimFrame, pairs: FlagPairs, n_rules: int) -> np.ndarray:
    """Per (claim, rule) pair: risk − risk_if_fixed of that rule's problem on the claim, from the
    scorer's per-problem fixes (the largest when the rule fired on several lines: fixing one line
    of two leaves the flag set). NaN for a pair the scorer reports no problem for."""
    from features.rules.catalog import RULE_IDS

    claims = np.unique(pairs.claim)
    keys, values = [], []
    for start in range(0, claims.shape[0], SCORE_CHUNK):
        chunk = claims[start : start + SCORE_CHUNK]
        arrays = scorer.score_arrays(frame.take(chunk), 0.5, with_fixes=True)
        rule = pd.Index(RULE_IDS).get_indexer(pd.Index(arrays.fix_rule))
        keys.append(chunk[arrays.fix_claim] * n_rules + rule)
        values.append(arrays.risk[arrays.fix_claim] - arrays.fix_risk)
    if not keys:
        return np.full(pairs.claim.shape[0], np.nan)
    best = pd.Series(np.concatenate(values)).groupby(np.concatenate(keys)).max()
    return best.reindex(pairs.claim * n_rules + pairs.rule).to_numpy(dtype=np.float64)


def payer_types(frame: ClaimFrame, payers: np.ndarray) -> np.ndarray:
    """Each payer's most frequent payer type on its claims' lines (its policy resolves through it)."""
    lines = pd.DataFrame({"payer_id": frame.lines["payer_id"], "payer_type": frame.lines["payer_type"]})
    counts = lines.value_counts(dropna=False).reset_index(name="n")
    modal = counts.sort_values("n", ascending=False, kind="stable").drop_duplicates("payer_id")
    found = modal.set_index("payer_id")["payer_type"]
    return found.reindex(pd.Index(payers, dtype=object)).to_numpy(dtype=object)


def build_report(data: Any, reasons: Any, *, fit_rows: int = FIT_ROWS, seed: int = 0) -> PayerReport:
    """The report of a labelled history (``training.dataset.TrainingData``) and its reason
    families (``training.reasons.ClaimReasons``)."""
    from features.denial_reasons import rule_family_codes
    from features.payer_policy import PolicySet
    from features.rules.catalog import RULE_IDS
    from features.transformer import ClaimFeaturizer

    timings: dict[str, float] = {}
    tick = time.perf_counter()
    featurizer = ClaimFeaturizer()
    X = np.asarray(featurizer.fit_transform(data.frame, data.y), dtype=np.float32)
    columns = featurizer.rule_columns
    pairs = FlagPairs.of(X[:, [columns[rule][0] for rule in RULE_IDS]])
    timings["featurize_s"] = time.perf_counter() - tick

    tick = time.perf_counter()
    model, about = _fit_model(X, data, featurizer, fit_rows, seed)
    del X
    timings["fit_s"] = time.perf_counter() - tick

    tick = time.perf_counter()
    scorer = Scorer(model, context=load_rule_context())
    effect = pair_effects(scorer, data.frame, pairs, len(RULE_IDS))
    timings["effects_s"] = time.perf_counter() - tick

    expected = rule_family_codes(tuple(RULE_IDS))
    cited = reasons.aligned(data.claim_ids)[pairs.claim, expected[pairs.rule]]
    table = payer_rule_table(data.payer_id, pairs, tuple(RULE_IDS), data.y, data.denied_dollars, cited, effect)
    enforced = enforced_by_policy(PolicySet.load(), table.payers, payer_types(data.frame, table.payers), table.rules)
    window = {
        "from": data.summary.get("submission_date_min"),
        "to": data.summary.get("submission_date_max"),
        "claims": len(data),
        "denied": int(data.y.sum()),
        "model": about,
        "lift": f"Katz 95 % interval on the log scale; tables with a zero cell get {CONTINUITY} added to each cell",
        "effect": "mean over the payer's flagged claims of risk - risk_if_fixed (serving.scorer), "
        "the rule's problem fixed, the claim's other problems and context unchanged",
        "carc_match": "share of the rule's denied flagged claims citing the CONTRACT §7 family of the rule",
        "min_flagged_for_suggestion": MIN_FLAGGED,
    }
    return PayerReport(
        table=table,
        trend=monthly_trend(data.payer_id, data.submission_date, data.y),
        suggestions=suggest(table, enforced, RULE_POLICY_KEYS),
        window=window,
        model=model,
        timings=timings,
    )


def _print_errors(errors: list[Any], what: str) -> None:
    """Record errors on stderr (file and position, never claim content), then their count."""
    if errors:
        sys.stderr.write("".join(f"{error}\n" for error in errors) + f"{len(errors)} {what} record(s) rejected\n")
        sys.stderr.flush()


def load_history(claims_path: Path, remits_path: Path) -> tuple[Any, Any, int]:
    """(labelled history, its reason families, records rejected), labelled as training labels it."""
    from inputs import load_claims, load_remits
    from training.dataset import build_training_data
    from training.labels import label_columns
    from training.reasons import claim_reasons

    claims_read = load_claims(Path(claims_path))
    _print_errors(claims_read.errors, "claim")
    remits_read = load_remits(Path(remits_path))
    _print_errors(remits_read.errors, "remittance")
    reasons = claim_reasons(remits_read.rows)
    data = build_training_data(claims_read.frame, label_columns(remits_read.rows))
    if len(data) < MIN_CLAIMS:
        raise InputError(f"only {len(data)} claims have a final answer in the remittances; need at least {MIN_CLAIMS}")
    if data.y.min() == data.y.max():
        raise InputError("every labelled claim has the same outcome: no denial rate to compare")
    return data, reasons, len(claims_read.errors) + len(remits_read.errors)


def payers(*, claims_path: Path, remits_path: Path, output_dir: Path) -> int:
    """Write DIR/payers.json, DIR/payers.md and its PNG plots, and log them to an MLflow run in the
    training experiment; 0 ok, 1 some records rejected."""
    from training.payer_files import write_report

    started = time.perf_counter()
    data, reasons, rejected = load_history(claims_path, remits_path)
    loaded = time.perf_counter() - started
    report = build_report(data, reasons)
    report.timings["load_s"] = loaded
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    files = write_report(report.as_json(), report.trend, output_dir)
    report.timings["before_mlflow_s"] = time.perf_counter() - started
    _log_to_mlflow(report, output_dir)
    sys.stdout.write(
        f"payers: {len(report.table.payers)} payers, {len(report.suggestions)} suggestion(s) -> "
        f"{', '.join(str(f) for f in files)}\n"
    )
    return EXIT_REJECTED if rejected else EXIT_OK


def _log_to_mlflow(report: PayerReport, output_dir: Path) -> None:
    """A run in the training experiment (``training.tracking``) holding the report's files."""
    import mlflow

    from training.tracking import configure

    _, experiment_id = configure()
    with mlflow.start_run(experiment_id=experiment_id, run_name="payers"):
        mlflow.set_tags({"report": "payers"})
        mlflow.log_params({"claims": report.window["claims"], **{f"model_{k}": v for k, v in report.window["model"].items()}})
        mlflow.log_metrics({
            "payers": float(len(report.table.payers)),
            "suggestions": float(len(report.suggestions)),
            "denial_rate": report.window["denied"] / max(report.window["claims"], 1),
            **{k: float(v) for k, v in report.timings.items()},
        })
        mlflow.log_artifacts(str(output_dir), ARTIFACT_PATH)
