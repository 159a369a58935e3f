"""Reason-family labels from remittance rows and the reason heads trained on a synthetic history."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest

from features.denial_reasons import FAMILIES, load_table
from inputs.sources import load_remits
from training.dataset import TrainingData
from training.pipeline import TrainResult, fit_and_evaluate
from training.reason_metrics import cause_family, read_truth_families
from training.reasons import ReasonInputs, claim_reasons, reason_inputs, row_families

from .conftest import labelled, synthetic_history

ROOT = Path(__file__).resolve().parents[2]
X12 = ROOT / "tests" / "data" / "x12"


def _row(claim: str, outcome: str, *, status: str = "1", line: str | None = "L1", adjustments: Any = (),
         remarks: Any = (), sequence: int = 1) -> dict[str, Any]:
    return {
        "claim_id": claim, "payer_claim_id": f"P{claim}", "claim_status": status, "line_control_number": line,
        "procedure_code": "J3490" if line else None, "service_date": "2026-01-05", "charge": 100.0,
        "adjustments": [{"level": lvl, "group": "CO", "reason": r, "amount": 100.0} for lvl, r in adjustments],
        "remarks": list(remarks), "outcome": outcome, "paid_date": "2026-02-01", "sequence": sequence,
    }


def _families(reasons: Any) -> dict[str, set[str]]:
    return {cid: {FAMILIES[k] for k in np.flatnonzero(row)} for cid, row in zip(reasons.claim_ids, reasons.families, strict=True)}


def test_labels_from_hand_made_remittance_rows() -> None:
    rows = pd.DataFrame([
        # line remark first, then the claim's MOA remark appended by the 835 reader
        _row("A", "denied", adjustments=[("line", "16")], remarks=["M119", "MA130"]),
        # two denied lines, two families; the paid line says nothing
        _row("B", "denied", line="L1", adjustments=[("line", "16")], remarks=["M119"], sequence=2),
        _row("B", "denied", line="L2", adjustments=[("line", "252")], remarks=["N706"], sequence=2),
        _row("B", "paid", line="L3", adjustments=[("line", "45")], sequence=2),
        # claim-level row only (no service lines), claim-level CAS
        _row("C", "denied", status="4", line=None, adjustments=[("claim", "29")], sequence=3),
        # line-level CARC before the claim-level one
        _row("D", "denied", adjustments=[("claim", "29"), ("line", "50")], sequence=4),
        # a reduced line (CO-151 + N362) is a reduction, not a denial
        _row("E", "reduced", adjustments=[("line", "151")], remarks=["N362"], sequence=5),
        # no code of the table: other
        _row("F", "denied", adjustments=[("line", "16")], remarks=["M79"], sequence=6),
        # a denial reversed and paid on correction is not a denial
        _row("G", "denied", adjustments=[("line", "16")], remarks=["M119"], sequence=7),
        _row("G", "excluded", status="22", adjustments=[("line", "16")], remarks=["M119"], sequence=8),
        _row("G", "paid", adjustments=[("line", "45")], sequence=9),
        # the MUE signature
        _row("H", "denied", adjustments=[("line", "151")], remarks=["N362"], sequence=10),
    ])
    got = _families(claim_reasons(rows))
    assert got == {
        "A": {"ndc"}, "B": {"ndc", "documentation"}, "C": {"timely_filing"}, "D": {"medical_necessity"},
        "F": {"other"}, "H": {"units"},
    }


def test_labels_on_the_835_samples() -> None:
    drug = _families(claim_reasons(load_remits(X12 / "own_example_drug_835.x12").rows))
    assert drug == {"PCN20260115A": {"ndc"}, "PCN20260117C": {"specific_code"}}  # CO-16+M119, CO-189+N657
    split = _families(claim_reasons(load_remits(X12 / "own_example_split_claims_835.x12").rows))
    assert split == {"A1": {"ndc"}, "D4": {"medical_necessity"}}  # C3's denial was reversed and paid
    for name in ("managed-care", "medicare-part-a", "secondary-payment", "cob-contractural-adjustment"):
        read = load_remits(X12 / f"LinuxForHealth-x12_{name}.835")
        assert not read.errors and len(read.rows)
        assert _families(claim_reasons(read.rows)) == {}  # paid, reduced, contractual: no denial


def test_row_families_match_a_row_by_row_reading() -> None:
    rows = load_remits(ROOT / "data" / "synthetic" / "sample" / "remits.jsonl").rows
    table = load_table()
    got = row_families(rows)
    for i, (adjustments, remarks) in enumerate(zip(rows["adjustments"], rows["remarks"], strict=True)):
        carcs = [a["reason"] for a in adjustments if a["level"] == "line"] + [
            a["reason"] for a in adjustments if a["level"] == "claim"
        ]
        known = [c for c in carcs if c in table.carc] + [r for r in remarks if r in table.rarc]
        expected = table.family_of_codes(list(remarks), carcs)
        assert (FAMILIES[got[i]] if got[i] >= 0 else None) == (expected if known else None)


def test_the_generator_signatures_agree_with_the_cause_families() -> None:
    """The evaluation maps the generator's causes to families (reason_metrics); the simulated
    payers send CARC/RARC per cause (synthetic.catalog): read back through the table, they agree."""
    from synthetic import catalog
    from synthetic.world import CAUSES

    table = load_table()
    for cause in CAUSES:
        _group, carc, rarcs = catalog.SIGNATURES[cause]
        assert table.family_of_codes(list(rarcs), [carc]) == FAMILIES[cause_family(cause)], cause
    _group, carc, rarcs = catalog.UNITS_MUE_SIGNATURE
    assert table.family_of_codes(list(rarcs), [carc]) == "units" == FAMILIES[cause_family("UNITS_MISMATCH")]


def test_truth_causes_become_families(tmp_path: Path) -> None:
    truth = tmp_path / "truth.jsonl"
    records = [
        {"claim_id": "A", "causes": ["medical_necessity", "NDC_MISSING"]},
        {"claim_id": "B", "causes": []},
        {"claim_id": "C", "causes": ["provider_history"]},
    ]
    truth.write_text("".join(json.dumps(r) + "\n" for r in records))
    got = read_truth_families(truth, np.array(["C", "A", "B", "Z"], dtype=object))
    assert got is not None
    assert [{FAMILIES[k] for k in np.flatnonzero(row)} for row in got] == [
        {"documentation"}, {"medical_necessity", "ndc"}, set(), set(),
    ]
    assert read_truth_families(tmp_path / "missing.jsonl", np.array(["A"], dtype=object)) is None


# ------------------------------------------------------------------ heads on a synthetic history
# The family metrics need a holdout where every family has a few hundred denials: on the shared
# 10,000-claim history (2,000 holdout claims) a family's ECE moves by 0.01-0.02 with the features
# alone (medical_necessity measured 0.026 and 0.034 with the recency columns off and on), while on
# 40,000 claims every family stays under 0.01 either way. So these tests train on their own history.
REASON_HISTORY_CLAIMS = 30_000


@pytest.fixture(scope="module")
def reason_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_history(tmp_path_factory, REASON_HISTORY_CLAIMS)


@pytest.fixture(scope="module")
def reason_data(reason_history: Path) -> TrainingData:
    return labelled(reason_history)


@pytest.fixture(scope="module")
def reasons(reason_history: Path, reason_data: TrainingData) -> ReasonInputs:
    by_claim = claim_reasons(load_remits(reason_history / "remits.jsonl").rows)
    truth = read_truth_families(reason_history / "truth.jsonl", reason_data.claim_ids)
    return reason_inputs(by_claim, reason_data.claim_ids, reason_data.y, truth)


@pytest.fixture(scope="module")
def with_reasons(reason_data: TrainingData, reasons: ReasonInputs) -> TrainResult:
    return fit_and_evaluate(
        reason_data, holdout_fraction=0.2, target_precision=0.8, backtest_folds=0, reasons=reasons
    )


def test_labels_cover_every_denied_claim(reason_data: TrainingData, reasons: ReasonInputs) -> None:
    denied = reason_data.y == 1
    assert reasons.labels[denied].any(axis=1).all() and not reasons.labels[~denied].any()
    assert 0 < reasons.summary["reason_other_share"] < 0.15
    assert reasons.summary["reason_denied_claims"] == int(denied.sum())


def test_family_probabilities_never_exceed_the_risk(with_reasons: TrainResult) -> None:
    model = with_reasons.model
    X, _fired = model.featurize(with_reasons.holdout_frame)
    risk = model.predict_from_features(X)
    probabilities = model.reason_probabilities(X, risk)
    assert probabilities is not None and probabilities.shape == (risk.size, len(FAMILIES))
    assert (probabilities >= 0).all() and (probabilities <= risk[:, None] + 1e-12).all()
    assert probabilities.max() > 0.3  # the heads say something


def test_heads_beat_the_rules_only_baseline_on_the_holdout(with_reasons: TrainResult) -> None:
    summary = with_reasons.model.metadata["reasons"]
    truth = summary["holdout"]["truth"]
    model, rules = truth["model"], truth["rules_only"]
    assert model["top1_accuracy_denied"] >= 0.75
    assert model["top1_accuracy_denied"] >= rules["top1_accuracy_denied"] + 0.05
    assert model["macro_pr_auc"] > rules["macro_pr_auc"]
    assert model["max_ece"] <= 0.03
    assert all(np.isfinite(m["pr_auc"]) for m in model["families"].values() if m["positives"])
    assert "reason families" in with_reasons.report()


def test_a_saved_model_keeps_its_heads(with_reasons: TrainResult) -> None:
    model = with_reasons.model
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    loaded = joblib.load(io.BytesIO(buffer.getvalue()))
    X, _fired = model.featurize(with_reasons.holdout_frame)
    risk = model.predict_from_features(X)
    np.testing.assert_array_equal(loaded.reason_probabilities(X, risk), model.reason_probabilities(X, risk))
    one_by_one = np.concatenate([loaded.reason_probabilities(X[i : i + 1], risk[i : i + 1]) for i in range(20)])
    np.testing.assert_allclose(one_by_one, model.reason_probabilities(X[:20], risk[:20]), rtol=0, atol=1e-12)


def test_a_model_saved_before_the_heads_has_no_reasons() -> None:
    model = joblib.load(ROOT / "tests" / "data" / "models" / "pre-wave2.joblib")
    assert model.reason_heads is None
    assert model.reason_probabilities(np.zeros((2, 3), dtype=np.float32), np.array([0.1, 0.2])) is None
