"""``claimrisk payers`` end to end on a synthetic history whose payers' policies are known."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from claimrisk.cli import main

PAYER_CLAIMS = 12_000
PAYER_SEED = 5


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One run of the command (real synthetic history, real model, real MLflow store)."""
    from synthetic.commands import synth

    root = tmp_path_factory.mktemp("payers")
    assert synth(n_claims=PAYER_CLAIMS, seed=PAYER_SEED, out=root / "history", x12=False) == 0
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlruns.db'}")
        mp.chdir(root)
        code = main([
            "payers", "--claims", str(root / "history" / "claims.jsonl"),
            "--remits", str(root / "history" / "remits.jsonl"), "--output", str(root / "report"),
        ])
    assert code == 0
    return root


def _report(report_dir: Path) -> dict[str, Any]:
    return dict(json.loads((report_dir / "report" / "payers.json").read_text()))


def test_payers_json_has_the_shape_of_the_issue(report_dir: Path) -> None:
    report = _report(report_dir)
    assert set(report) == {"window", "payers", "suggestions"}
    assert {"from", "to", "claims"} <= set(report["window"])
    assert len(report["payers"]) >= 10
    keys = {"flagged", "denial_rate_flagged", "denial_rate_unflagged", "lift", "lift_ci", "effect", "denied_dollars", "carc_match"}
    total = 0
    for entry in report["payers"].values():
        assert set(entry) == {"claims", "denial_rate", "rules"}
        total += entry["claims"]
        for rule in entry["rules"].values():
            assert set(rule) == keys
            assert rule["flagged"] > 0 and len(rule["lift_ci"]) == 2
            if rule["lift"] is not None:
                assert rule["lift_ci"][0] <= rule["lift"] <= rule["lift_ci"][1]
            assert rule["carc_match"] is None or 0.0 <= rule["carc_match"] <= 1.0
    assert total == report["window"]["claims"]
    for suggestion in report["suggestions"]:
        assert {"payer_id", "rule", "change", "evidence"} <= set(suggestion)
        assert suggestion["change"] in ("relax", "enforce")


def test_the_report_writes_markdown_plots_and_an_mlflow_run(report_dir: Path) -> None:
    out = report_dir / "report"
    text = (out / "payers.md").read_text()
    assert "## Suggested policy changes" in text and "](trend.png)" in text
    for name in ("trend.png", "lift.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{report_dir / 'mlruns.db'}")
    runs = mlflow.search_runs(experiment_names=["claimrisk"], filter_string="tags.report = 'payers'")
    assert len(runs) == 1
    artifacts = mlflow.MlflowClient().list_artifacts(runs["run_id"][0], "payer_report")
    assert {Path(a.path).name for a in artifacts} >= {"payers.json", "payers.md", "trend.png", "lift.png"}


def test_the_report_recovers_a_policy_the_generator_set(report_dir: Path) -> None:
    """SUMMT never requires prior authorization (synthetic.catalog.PAYERS: its PA hazard is 0),
    while the shipped commercial policy enforces PRIOR_AUTH_MISSING for it; every other payer
    that sees the rule denies on it. Its lift is still high (careless providers make several
    errors at once), so only the adjusted effect can tell: relax, or at least the lowest effect."""
    report = _report(report_dir)
    relax = [s for s in report["suggestions"] if (s["payer_id"], s["rule"], s["change"]) == ("SUMMT", "PRIOR_AUTH_MISSING", "relax")]
    effects = {p: e["rules"]["PRIOR_AUTH_MISSING"]["effect"] for p, e in report["payers"].items()
               if "PRIOR_AUTH_MISSING" in e["rules"] and e["rules"]["PRIOR_AUTH_MISSING"]["effect"] is not None}
    assert relax or min(effects, key=effects.__getitem__) == "SUMMT"
    others = [v for p, v in effects.items() if p != "SUMMT"]
    assert effects["SUMMT"] < np.median(others) / 3
    assert report["payers"]["SUMMT"]["rules"]["PRIOR_AUTH_MISSING"]["lift"] > 1.5  # the confounded measure


def test_effects_are_the_scorers_risk_if_fixed(report_dir: Path) -> None:
    """Each (claim, rule) effect is the claim's risk minus the scorer's risk_if_fixed for that rule's
    problem as POST /v1/score answers it (the largest, when the rule fired on several lines)."""
    from features.rules.catalog import RULE_CODE, RULE_IDS
    from serving.payer_report import build_report, load_history, pair_effects
    from serving.scorer import Scorer, load_rule_context
    from training.payer_stats import FlagPairs

    history = report_dir / "history"
    data, reasons, rejected = load_history(history / "claims.jsonl", history / "remits.jsonl")
    assert rejected == 0
    report = build_report(data, reasons)
    frame = data.frame.take(np.arange(0, len(data), 37)[:300])
    scorer = Scorer(report.model, context=load_rule_context())
    expected: dict[tuple[int, int], float] = {}
    for k, answer in enumerate(scorer.score(frame, 0.5)):
        for rule in answer["rules"]:
            key = (k, RULE_CODE[rule["id"]])
            expected[key] = max(expected.get(key, -1.0), answer["risk"] - rule["risk_if_fixed"])
    assert len(expected) > 50
    keys = sorted(expected)
    pairs = FlagPairs(np.array([c for c, _ in keys]), np.array([r for _, r in keys]))
    effect = pair_effects(scorer, frame, pairs, len(RULE_IDS))
    assert effect == pytest.approx([expected[key] for key in keys], abs=1e-12)
    assert np.nanmin(report.table.effect) >= 0.0  # monotone in every rule flag: a fix never adds risk
