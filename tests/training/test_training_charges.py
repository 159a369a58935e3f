"""One meaning of a missing ``total_charge`` (issue 17 item 2): the sum of the claim's line charges,
in the training data and in the MLflow pyfunc alike (``claims.charges.total_charges``). The old
training data counted such a claim as $0; these tests fail on it."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pytest

from inputs.sources import load_claims, load_remits
from training.commands import _print_errors, _report_superseded
from training.dataset import build_training_data
from training.pyfunc import score_claims_json

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "models"


def _without_total(raw: bytes) -> tuple[str, float]:
    claim = json.loads(raw)
    claim.pop("total_charge", None)
    return json.dumps(claim), float(sum(line.get("charge") or 0.0 for line in claim["lines"]))


def test_a_claim_without_total_charge_is_worth_its_line_sum_in_the_training_data(
    history: Path, tmp_path: Path
) -> None:
    lines = (history / "claims.jsonl").read_bytes().splitlines()
    stripped: dict[str, float] = {}
    out = []
    for i, raw in enumerate(lines):
        if i % 7 == 0:
            text, line_sum = _without_total(raw)
            stripped[json.loads(text)["claim_id"]] = line_sum
            out.append(text)
        else:
            out.append(raw.decode())
    (tmp_path / "claims.jsonl").write_text("\n".join(out) + "\n")
    claims = load_claims(tmp_path / "claims.jsonl")
    assert not claims.errors
    data = build_training_data(claims.frame, load_remits(history / "remits.jsonl").rows)
    ids = data.claim_ids
    hit = np.array([claim_id in stripped for claim_id in ids])
    assert hit.sum() > 50
    expected = np.array([stripped[claim_id] for claim_id in ids[hit]])
    np.testing.assert_allclose(data.total_charge[hit], expected, rtol=0, atol=1e-9)
    assert (data.total_charge[hit] > 0).all()
    assert not np.isnan(data.total_charge).any()


def test_a_claim_without_total_charge_is_worth_its_line_sum_in_the_pyfunc() -> None:
    model = joblib.load(FIXTURES / "pre-wave2.joblib")
    raw = (FIXTURES / "pre-wave2-claims.jsonl").read_bytes().splitlines()[:20]
    stripped = [_without_total(r) for r in raw]
    out = score_claims_json(model, [text for text, _ in stripped])
    line_sums = np.array([s for _, s in stripped])
    np.testing.assert_allclose(out["expected_loss"].to_numpy(), out["risk"].to_numpy() * line_sums, rtol=1e-12)


def test_train_prints_every_record_error_not_the_first_50(capsys: pytest.CaptureFixture[str]) -> None:
    errors = [f"claims.jsonl:{i}: not a claim" for i in range(1, 131)]
    _print_errors(errors, "claim")
    err = capsys.readouterr().err.splitlines()
    assert err[:130] == errors and err[130] == "130 claim record(s) rejected"


def test_train_reports_the_superseded_count_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    _report_superseded(17)
    assert "17 remittance row(s) superseded by a later adjudication" in capsys.readouterr().err
