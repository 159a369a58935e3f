"""The model card (markdown): what the model is for, what it learned from, how good it is, and where
it is weak. Written for billing analysts and auditors, logged with every run and exported with
the promoted model. Aggregates only, never claim content."""

from __future__ import annotations

from typing import Any

from training.reason_metrics import card_section

METRIC_LABELS = {
    "roc_auc": "ROC-AUC",
    "pr_auc": "PR-AUC",
    "brier": "Brier",
    "ece": "ECE",
    "recall_at_p90": "recall @ 90% precision",
    "recall_at_p95": "recall @ 95% precision",
    "dollars_top10": "denied $ in top 10%",
    "dollars_top20": "denied $ in top 20%",
}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if value != value else f"{value:.4f}"
    return str(value)


def metric_table(columns: dict[str, dict[str, float]]) -> str:
    """Markdown table: one row per metric, one column per scorer (model, baselines, oracle)."""
    names = list(columns)
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for key, label in METRIC_LABELS.items():
        lines.append(
            f"| {label} | " + " | ".join(_fmt(columns[n].get(key, float("nan"))) for n in names) + " |"
        )
    return "\n".join(lines)


def backtest_table(backtest: dict[str, Any] | None) -> str:
    """Markdown table of the backtest months (or why there is none)."""
    periods = (backtest or {}).get("periods") or []
    if not periods:
        return "No backtest: no whole month after the validation slice starts (the history is too short)."
    keys = ("roc_auc", "pr_auc", "ece", "dollars_top10", "dollars_top20")
    lines = [
        "| month | trained on claims up to | claims | " + " | ".join(METRIC_LABELS[k] for k in keys) + " |",
        "|---|---|---|" + "---|" * len(keys),
    ]
    for row in periods:
        values = " | ".join(_fmt(row.get(k, float("nan"))) for k in keys)
        lines.append(f"| {row['period']} | {row['train_to']} ({row['train_claims']}) | {int(row['n'])} | {values} |")
    sampled = (backtest or {}).get("fold_sample_note")  # large histories: folds fitted on a sample
    if sampled:
        lines += ["", f"The {sampled}."]
    return "\n".join(lines)


def render_model_card(
    meta: dict[str, Any], columns: dict[str, dict[str, float]], candidates: dict[str, Any]
) -> str:
    summary = meta.get("data_summary", {})
    op = meta.get("split_operating_point") or meta.get("operating_point", {})
    shipped_op = meta.get("operating_point", {})
    window = meta.get("training_window") or {}
    refit = meta.get("refit") or {}
    cand_lines = [
        "| candidate | fit s | fit rows | trees | predict rows/s | validation PR-AUC |",
        "|---|---|---|---|---|---|",
    ]
    for name, c in candidates.items():
        cand_lines.append(
            f"| {name} | {_fmt(c.get('fit_seconds'))} | {c.get('n_fit_rows')} | {c.get('iterations') or '-'} | "
            f"{_fmt(c.get('predict_rows_per_s'))} | {_fmt(c.get('validation_pr_auc'))} |"
        )
    data_lines = [f"- {key.replace('_', ' ')}: {value}" for key, value in summary.items()]
    return f"""# claimrisk model card — version {meta.get("model_version")}

## Intended use
Ranks drug claims (NOC codes J3490, J3590, J3591, J9999, C9399 and other drug lines) by the probability
that the payer denies the claim or any of its lines, before submission, so a billing team reviews the
claims with the highest expected loss (risk × charge) first. It is decision support for a person; it
does not decide whether a claim is sent.

## Model
- Estimator: **{meta.get("estimator")}** — {meta.get("choice_reason")}
- Pipeline: claim featurizer (rules {meta.get("rules_version")}, reference data
  {meta.get("reference_data_version")}) → gradient-boosted trees, monotone increasing in every rule flag
  (fixing a flagged problem never raises risk) → isotonic calibration on out-of-time predictions.
- **Training window: {window.get("from")} to {window.get("to")}** ({window.get("claims")} labelled claims,
  ending at the latest one): the trees are refitted on every labelled claim with
  {refit.get("rounds")} rounds (early stopping's {refit.get("iterations_at_fit_slice")} on the fit slice, scaled to
  the rows); {refit.get("calibration")}. Recency: {refit.get("half_life_reason")}.
- Operating point: threshold **{_fmt(shipped_op.get("threshold"))}** — {shipped_op.get("rule")}.
  The split model's threshold {_fmt(op.get("threshold"))} flagged {_fmt(op.get("holdout_review_share"))} of holdout
  claims with precision {_fmt(op.get("holdout_precision"))} and recall {_fmt(op.get("holdout_recall"))}. Serving may
  override it.
- Trained {meta.get("trained_at")}; input hash `{meta.get("input_sha256", "")[:16]}…`.

## Data
Split by submission time: fit on the earliest claims, validation (early stopping, calibration) on the
end of the train period, holdout = the latest {meta.get("holdout_fraction")} of claims.
{chr(10).join(data_lines)}

## Holdout metrics (split model: latest claims, never seen by the model that was measured)
{metric_table(columns)}

## Backtest of the shipped procedure
Each of the last months scored by the same procedure fitted on every claim submitted before it.
{backtest_table(meta.get("backtest"))}

## Denial reason families (CONTRACT §7)
Per family, P(denied for that reason) = risk × P(family | denied), so it never exceeds the risk.
{card_section(meta.get("reasons"))}

## Candidates (same split)
{chr(10).join(cand_lines)}

## Limits
- Learns the payers' behaviour in this history only; re-train when payer policy changes and compare
  before promoting (`claimrisk train --promote` does so out of time: on the claims after the
  champion's training window, else over the backtest months both ran).
- Per-payer numbers on payers with few holdout claims are noisy (see `per_payer.json`).
- Labels come from 835 outcomes: claims without a final answer (pending, reversed, unanswered) are
  left out, so the model says nothing about claims that are never answered.
"""
