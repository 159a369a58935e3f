"""How good the reason heads are, and against what: the holdout numbers of issue 22 item 4.

Per family f the served score is P(denied for f | x) = risk · P(f | denied, x). It is judged on the
holdout (the latest claims) three ways: top-1 accuracy among denied claims (the family ranked first
is one of the claim's true families: that is the family a biller is sent to), PR-AUC per family
and their macro average (families with at least ``MIN_POSITIVES`` holdout claims, so one or two
cases cannot swing the mean), and the expected calibration error of each family's probability.
The baseline is what the rules alone would say: the family of the strongest fired rule, a rule's
strength being how often claims it fires on were denied for its family in the fit slice (a claim
without a fired rule of a family gets that family's rate among such claims).

The truth is the 835 labels, or, for a synthetic history, the generator's recorded causes
(``truth.jsonl``), mapped to families here: the generator may not import features or training.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score

from features.denial_reasons import FAMILIES, FAMILY_INDEX, OTHER, load_table
from training.metrics import expected_calibration_error

K = len(FAMILIES)
MIN_POSITIVES = 20  # families with fewer holdout positives are reported but left out of the macro mean
REPORTED_POSITIVES = 200  # the bar: every family this common must have its PR-AUC reported

# The generator's causes that are not rules (synthetic.world.CAUSES), by the 835 codes the
# simulated payers send for them (synthetic.catalog.SIGNATURES): a test checks the two agree.
HIDDEN_CAUSE_FAMILY: dict[str, str] = {
    "medical_necessity": "medical_necessity",  # CO-50 + N115
    "provider_history": "documentation",  # CO-226 + N706: records requested from a distrusted provider
    "payer_noise": "other",  # CO-204 + N130: eligibility / benefit
}


def cause_family(cause: str) -> int:
    """Family index of one generator cause: a rule id through the rule table, else the map above."""
    if cause in HIDDEN_CAUSE_FAMILY:
        return FAMILY_INDEX[HIDDEN_CAUSE_FAMILY[cause]]
    return load_table().rule_family(cause)


def read_truth_families(path: Path, claim_ids: np.ndarray) -> np.ndarray | None:
    """(claims, K) bool from truth.jsonl ``causes``, aligned to ``claim_ids``; None when the file
    records no causes. Claims the file lacks get no family."""
    import pandas as pd
    import pyarrow.compute as pc
    import pyarrow.json as pj

    if not path.is_file():
        return None  # training.commands.read_truth reports the missing file
    try:
        table = pj.read_json(path)
    except Exception:  # pyarrow's ArrowInvalid; read_truth reports it (position only, never content)
        return None
    if "causes" not in table.column_names or "claim_id" not in table.column_names:
        return None
    causes = table.column("causes").combine_chunks()
    flat = pc.list_flatten(causes).to_numpy(zero_copy_only=False)
    parent = pc.list_parent_indices(causes).to_numpy()
    codes, uniques = pd.factorize(flat)
    family = np.array([cause_family(str(c)) for c in uniques], dtype=np.int64)[codes] if flat.size else flat
    per_row = np.zeros((table.num_rows, K), dtype=bool)
    per_row[parent, family] = True
    ids = pd.Index(table.column("claim_id").to_numpy(zero_copy_only=False), dtype=object)
    last = ~ids.duplicated(keep="last")
    where = ids[last].get_indexer(pd.Index(claim_ids, dtype=object))
    out = np.zeros((claim_ids.shape[0], K), dtype=bool)
    out[where >= 0] = per_row[last][where[where >= 0]]
    return out


def rule_flag_families(feature_names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(feature column, family) of every rule flag ``rule:<ID>`` among the features."""
    table = load_table()
    columns, families = [], []
    for j, name in enumerate(feature_names):
        parts = name.split(":")
        if len(parts) == 2 and parts[0] == "rule":
            columns.append(j)
            families.append(table.rule_family(parts[1]))
        # "rule:<ID>:lines" counts are the same evidence; the flag is the rule's strength
    return np.asarray(columns, dtype=np.int64), np.asarray(families, dtype=np.int64)


def rules_only_scores(
    X: np.ndarray,
    labels: np.ndarray,
    fit: np.ndarray,
    holdout: np.ndarray,
    feature_names: list[str],
    *,
    prior: bool = False,
) -> np.ndarray:
    """(holdout, K): per family the fit-slice rate of the strongest fired rule of that family, 0
    when none fired (the issue's baseline: no fired rule names no family), or with ``prior`` that
    family's rate among the fit claims where none of its rules fired (a stronger baseline)."""
    columns, families = rule_flag_families(feature_names)
    fired_fit = np.nan_to_num(X[np.ix_(fit, columns)]) > 0
    fired_hold = np.nan_to_num(X[np.ix_(holdout, columns)]) > 0
    y_fit = labels[fit]
    out = np.zeros((holdout.size, K))
    for f in range(K):
        mine = np.flatnonzero(families == f)
        fit_any = fired_fit[:, mine].any(axis=1)
        out[:, f] = float(y_fit[~fit_any, f].mean()) if prior and (~fit_any).any() else 0.0
        if mine.size == 0:
            continue
        rates = np.array([y_fit[fired_fit[:, j], f].mean() if fired_fit[:, j].any() else 0.0 for j in mine])
        strongest = np.max(np.where(fired_hold[:, mine], rates[None, :], -1.0), axis=1)
        out[:, f] = np.where(strongest >= 0, strongest, out[:, f])
    return out


def family_metrics(scores: np.ndarray, truth: np.ndarray, denied: np.ndarray) -> dict[str, Any]:
    """Top-1 among denied claims with a known family, PR-AUC and ECE per family, macro PR-AUC."""
    known = denied & truth.any(axis=1)
    top = np.argmax(scores, axis=1)
    named = scores.max(axis=1) > 0  # all zero: no family named (the rules-only baseline, no rule fired)
    hit = truth[known, top[known]] & named[known]
    top1 = float(hit.mean()) if known.any() else float("nan")
    per_family: dict[str, dict[str, float]] = {}
    for f, name in enumerate(FAMILIES):
        positives = int(truth[:, f].sum())
        per_family[name] = {
            "positives": positives,
            "pr_auc": float(average_precision_score(truth[:, f], scores[:, f])) if positives else float("nan"),
            "ece": expected_calibration_error(truth[:, f], np.clip(scores[:, f], 0.0, 1.0)),
        }
    used = [m["pr_auc"] for m in per_family.values() if m["positives"] >= MIN_POSITIVES]
    return {
        "top1_accuracy_denied": top1,
        "denied_claims": int(known.sum()),
        "macro_pr_auc": float(np.mean(used)) if used else float("nan"),
        "max_ece": float(max(m["ece"] for m in per_family.values())),
        "families": per_family,
    }


def evaluate_reasons(
    scores: dict[str, np.ndarray], labels: np.ndarray, truth: np.ndarray | None, y: np.ndarray
) -> dict[str, dict[str, Any]]:
    """Holdout metrics of each scorer (``model``, ``rules_only``, ``rules_prior``) against the
    generator's causes (``truth``) when given, else against the 835 labels (``labels``)."""
    denied = np.asarray(y) == 1
    sources = {"truth": truth} if truth is not None else {"labels": labels}
    return {
        source: {name: family_metrics(s, target, denied) for name, s in scores.items()}
        for source, target in sources.items()
    }


def reason_table(summary: dict[str, Any]) -> str:
    """Plain-text table for ``claimrisk train`` from the heads' summary (``training.reasons``): the
    share of denials labelled ``other``, then per family positives, PR-AUC and ECE, model vs rules."""
    metrics = summary["holdout"]
    source = "truth" if "truth" in metrics else "labels"
    model, rules = metrics[source]["model"], metrics[source]["rules_only"]
    prior = metrics[source].get("rules_prior", rules)
    lines = [
        f"reason families (holdout, against the {'generator causes' if source == 'truth' else '835 codes'}): "
        f"top-1 among denied {model['top1_accuracy_denied']:.4f} (rules only {rules['top1_accuracy_denied']:.4f}, "
        f"with the family prior {prior['top1_accuracy_denied']:.4f}), macro PR-AUC {model['macro_pr_auc']:.4f} "
        f"(rules only {rules['macro_pr_auc']:.4f}), max ECE {model['max_ece']:.4f}; "
        f"{_pct(summary.get('reason_other_share'))} of denied claims fell to other (no family in their 835 codes)",
        f"{'family':<20}{'positives':>10}{'PR-AUC':>10}{'rules PR-AUC':>14}{'ECE':>8}",
    ]
    for name in FAMILIES:
        m, r = model["families"][name], rules["families"][name]
        lines.append(f"{name:<20}{m['positives']:>10}{m['pr_auc']:>10.4f}{r['pr_auc']:>14.4f}{m['ece']:>8.4f}")
    return "\n".join(lines)


def mlflow_metrics(summary: dict[str, Any] | None) -> dict[str, float]:
    """Flat MLflow metric names for the reason heads: ``reason_<source>_<scorer>_<metric>`` and
    ``reason_<source>_<scorer>_<family>_<metric>``, plus the share of denials labelled ``other``."""
    if not summary:
        return {}
    out: dict[str, float] = {"reason_other_share": float(summary.get("reason_other_share", float("nan")))}
    for source, scorers in (summary.get("holdout") or {}).items():
        for scorer, m in scorers.items():
            prefix = f"reason_{source}_{scorer}_"
            for key in ("top1_accuracy_denied", "macro_pr_auc", "max_ece"):
                out[prefix + key] = float(m[key])
            for family, values in m["families"].items():
                out[f"{prefix}{family}_pr_auc"] = float(values["pr_auc"])
                out[f"{prefix}{family}_ece"] = float(values["ece"])
    return {k: v for k, v in out.items() if v == v}  # noqa: PLR0124 - NaN check


def card_section(summary: dict[str, Any] | None) -> str:
    """The model card's markdown on the reason families (or why the model has none)."""
    if not summary:
        return "This model has no reason heads: it predicts the risk only (trained without 835 codes)."
    holdout = summary.get("holdout") or {}
    source = "truth" if "truth" in holdout else "labels"
    scorers = holdout.get(source, {})
    names = [n for n in ("model", "rules_only", "rules_prior") if n in scorers]
    lines = [
        f"Labels from the 835 codes (table {summary.get('reason_table_version')}); "
        f"{_pct(summary.get('reason_other_share'))} of {summary.get('reason_denied_claims')} denied claims fell to "
        f"`other`, {_pct(summary.get('reason_multi_family_share'))} have several families. Judged on the holdout "
        f"against the {'generator causes' if source == 'truth' else '835 codes'}; `rules_only` = the family of the "
        "strongest fired rule, `rules_prior` = the same with each family's prior where none of its rules fired.",
        "",
        "| scorer | top-1 among denied | macro PR-AUC | max ECE |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {n} | {scorers[n]['top1_accuracy_denied']:.4f} | {scorers[n]['macro_pr_auc']:.4f} | {scorers[n]['max_ece']:.4f} |"
        for n in names
    ]
    if "model" in scorers:
        lines += ["", "| family | holdout positives | PR-AUC | rules-only PR-AUC | ECE |", "|---|---|---|---|---|"]
        for family, m in scorers["model"]["families"].items():
            rules = scorers.get("rules_only", scorers["model"])["families"][family]
            lines.append(f"| {family} | {m['positives']} | {m['pr_auc']:.4f} | {rules['pr_auc']:.4f} | {m['ece']:.4f} |")
    return "\n".join(lines)


def _pct(value: Any) -> str:
    return f"{100 * float(value):.1f} %" if isinstance(value, int | float) and value == value else "n/a"  # noqa: PLR0124


__all__ = ["OTHER", "card_section", "evaluate_reasons", "mlflow_metrics", "family_metrics", "read_truth_families", "reason_table", "rules_only_scores"]
