"""The model card (markdown): what the model is for, what it learned from, how good it is, and where
it is weak. Written for billing analysts and auditors, logged with every run and exported with
the promoted model. Aggregates only, never claim content."""

from __future__ import annotations

from typing import Any

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


def render_model_card(
    meta: dict[str, Any], columns: dict[str, dict[str, float]], candidates: dict[str, Any]
) -> str:
    summary = meta.get("data_summary", {})
    op = meta.get("operating_point", {})
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
  (fixing a flagged problem never raises risk) → isotonic calibration fitted on the validation slice.
- Operating point: threshold **{_fmt(op.get("threshold"))}** — {op.get("rule")}.
  On the holdout it flags {_fmt(op.get("holdout_review_share"))} of claims with precision
  {_fmt(op.get("holdout_precision"))} and recall {_fmt(op.get("holdout_recall"))}. Serving may override it.
- Trained {meta.get("trained_at")}; input hash `{meta.get("input_sha256", "")[:16]}…`.

## Data
Split by submission time: fit on the earliest claims, validation (early stopping, calibration) on the
end of the train period, holdout = the latest {meta.get("holdout_fraction")} of claims.
{chr(10).join(data_lines)}

## Holdout metrics (latest claims, never seen in training)
{metric_table(columns)}

## Candidates (same split)
{chr(10).join(cand_lines)}

## Limits
- Learns the payers' behaviour in this history only; re-train when payer policy changes and compare
  before promoting (`claimrisk train --promote` does so on the newest holdout).
- Per-payer numbers on payers with few holdout claims are noisy (see `per_payer.json`).
- Labels come from 835 outcomes: claims without a final answer (pending, reversed, unanswered) are
  left out, so the model says nothing about claims that are never answered.
"""
