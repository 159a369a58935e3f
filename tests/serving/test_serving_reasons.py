"""Denial reasons served (CONTRACT §7): ``reasons`` in /v1/score, ``top_reason`` in the worklist."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pyarrow.csv as pacsv
import pytest
from fastapi.testclient import TestClient

from features.denial_reasons import FAMILIES, load_table
from inputs.sources import load_claims
from serving.config import Settings
from serving.model_store import ModelStore
from serving.scorer import REASON_FLOOR, Scorer, load_rule_context
from serving.worklist import build_worklist

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def scorer(models_dir: Path) -> Scorer:
    return ModelStore(Settings(models_dir=models_dir), load_rule_context()).load()


@pytest.fixture(scope="module")
def history_claims(history_dir: Path) -> list[str]:
    return (history_dir / "claims.jsonl").read_text().splitlines()[:300]


def _check_reasons(answer: dict[str, Any]) -> None:
    reasons = answer["reasons"]
    assert reasons, "a model with reason heads names at least the likeliest family"
    probabilities = [r["probability"] for r in reasons]
    assert probabilities == sorted(probabilities, reverse=True)
    assert all(0.0 <= p <= answer["risk"] + 1e-12 for p in probabilities)
    families = [r["family"] for r in reasons]
    assert len(set(families)) == len(families) and set(families) <= set(FAMILIES)
    table = load_table()
    fired = {rule["id"] for rule in answer["rules"]}
    for reason in reasons:
        assert set(reason["rules"]) <= fired
        assert all(FAMILIES[table.rule_family(rule_id)] == reason["family"] for rule_id in reason["rules"])
    for reason in reasons[1:]:
        assert reason["probability"] >= REASON_FLOOR or reason["rules"]
    # every fired rule is listed under its family
    assert fired == {rule_id for reason in reasons for rule_id in reason["rules"]}


def test_score_answers_reasons(model_client: TestClient, history_claims: list[str]) -> None:
    flagged = 0
    for line in history_claims[:60]:
        response = model_client.post("/v1/score", content=line, headers={"content-type": "application/json"})
        assert response.status_code == 200, response.text
        answer = response.json()
        _check_reasons(answer)
        flagged += bool(answer["rules"])
    assert flagged  # some claims had fired rules to group


def test_batch_and_single_give_the_same_reasons(model_client: TestClient, history_claims: list[str]) -> None:
    import json

    claims = [json.loads(line) for line in history_claims[:40]]
    batch = model_client.post("/v1/score/batch", json={"claims": claims}).json()["results"]
    for claim, from_batch in zip(claims, batch, strict=True):
        single = model_client.post("/v1/score", json=claim).json()
        assert single["reasons"] == from_batch["reasons"]


def test_the_worklist_carries_the_top_reason_of_the_api(
    scorer: Scorer, history_dir: Path, models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from serving.commands import score

    monkeypatch.setenv("CLAIMRISK_MODELS_DIR", str(models_dir))
    source = tmp_path / "claims.jsonl"
    source.write_text("".join((history_dir / "claims.jsonl").read_text().splitlines(keepends=True)[:300]))
    for fixes in (False, True):
        out = tmp_path / f"worklist-{fixes}.csv"
        assert score(input_path=source, output_path=out, threshold=None, fixes=fixes) == 0
        table = pacsv.read_csv(out).to_pylist()
        assert {"top_reason", "top_reason_probability"} <= set(table[0])
        frame = load_claims(source).frame
        answers = {a["claim_id"]: a for a in scorer.score(frame)}
        for row in table:
            first = answers[row["claim_id"]]["reasons"][0]
            assert row["top_reason"] == first["family"]
            assert row["top_reason_probability"] == pytest.approx(first["probability"], rel=1e-12, abs=1e-15)
            assert row["top_reason_probability"] <= row["risk"] + 1e-12


def test_a_model_without_heads_answers_no_reasons(tmp_path: Path) -> None:
    """The model saved before the heads existed (tests/data/models) still scores; no reasons."""
    model = joblib.load(ROOT / "tests" / "data" / "models" / "pre-wave2.joblib")
    scorer = Scorer(model, context=load_rule_context())
    frame = load_claims(ROOT / "tests" / "data" / "models" / "pre-wave2-claims.jsonl").frame
    answers = scorer.score(frame)
    assert all(a["reasons"] == [] for a in answers)
    table = build_worklist(scorer, frame)
    assert table.column("top_reason").null_count == frame.n_claims
    assert table.column("top_reason_probability").null_count == frame.n_claims
    expected = np.loadtxt(ROOT / "tests" / "data" / "models" / "pre-wave2-risks.txt")
    np.testing.assert_allclose([a["risk"] for a in answers], expected, rtol=0, atol=1e-12)
