"""The scorer and the worklist: risk_if_fixed semantics, and API/CLI giving identical risks."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from claims.columnar import from_claims
from claims.errors import InputError
from claims.model import Claim
from features.rules.catalog import RULE_IDS
from inputs.sources import load_claims
from serving.config import Settings
from serving.model_store import ModelStore
from serving.scorer import Scorer, load_rule_context


@pytest.fixture(scope="module")
def scorer(models_dir: Path) -> Scorer:
    store = ModelStore(Settings(models_dir=models_dir), load_rule_context())
    return store.load()


@pytest.fixture(scope="module")
def history_frame(history_dir: Path) -> Any:
    read = load_claims(history_dir / "claims.jsonl")
    return read.frame.take(np.arange(min(800, read.frame.n_claims)))


def test_fixing_a_problem_never_raises_the_risk(scorer: Scorer, history_frame: Any) -> None:
    arrays = scorer.score_arrays(history_frame, None, with_fixes=True)
    assert arrays.fix_risk.shape[0] > 100, "the sample has fired rules"
    base = arrays.risk[arrays.fix_claim]
    assert np.all(arrays.fix_risk <= base + 1e-12)


def test_fixing_the_dominant_problem_lowers_the_risk(scorer: Scorer, claim: dict[str, Any]) -> None:
    # A NOC drug line with no invoice, no description and no prior authorization.
    claim["attachments"] = []
    claim["prior_authorization"] = None
    claim["lines"][0]["description"] = None
    claim["lines"][0]["note"] = None
    result = scorer.score(from_claims([Claim.model_validate(claim)]))[0]
    fixes = {r["id"]: r["risk_if_fixed"] for r in result["rules"]}
    assert {"INVOICE_MISSING", "DESCRIPTION_MISSING", "PRIOR_AUTH_MISSING"} <= set(fixes)
    dominant = min(fixes, key=lambda rule: fixes[rule])
    assert fixes[dominant] < result["risk"] - 0.05
    assert all(v <= result["risk"] + 1e-12 for v in fixes.values())


# Problems common enough in a small synthetic history for the model to have learnt them.
LEARNT = ("SPECIFIC_CODE_EXISTS", "INVOICE_MISSING", "UNITS_MISMATCH", "NOC_CODE_SETTING")


def test_dominant_fix_lowers_risk_across_the_history(scorer: Scorer, history_frame: Any) -> None:
    arrays = scorer.score_arrays(history_frame, None, with_fixes=True)
    best = np.full(history_frame.n_claims, np.inf)
    np.minimum.at(best, arrays.fix_claim, arrays.fix_risk)
    with_learnt = np.unique(arrays.fix_claim[np.isin(arrays.fix_rule, LEARNT)])
    assert with_learnt.shape[0] >= 30
    lowered = best[with_learnt] < arrays.risk[with_learnt]
    assert lowered.mean() >= 0.8


def test_a_problem_alone_on_its_rule_is_fixed_by_clearing_the_rule_columns(scorer: Scorer, history_frame: Any) -> None:
    """Where a rule reported one problem on a claim, fixing it clears that rule's flag and line count."""
    arrays = scorer.score_arrays(history_frame, None, with_fixes=True)
    X, _ = scorer.model.featurize(history_frame)
    columns = scorer.model.featurizer.rule_columns
    pairs = [(int(c), str(r)) for c, r in zip(arrays.fix_claim, arrays.fix_rule, strict=True)]
    alone = [k for k, pair in enumerate(pairs) if pairs.count(pair) == 1]
    assert len(alone) > 50
    for k in alone[:: max(1, len(alone) // 25)]:
        row = X[arrays.fix_claim[k]].copy()
        row[columns[arrays.fix_rule[k]]] = 0
        direct = scorer.model.predict_from_features(row[None, :])[0]
        assert arrays.fix_risk[k] == pytest.approx(direct, abs=1e-12)


def _ndc_missing_on_two_lines(claim: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(a claim whose two drug lines both lack their NDC, the same claim with line 1's NDC given)."""
    second = copy.deepcopy(claim["lines"][0]) | {"line_number": 2, "line_control_number": "L2"}
    claim["lines"].append(second)
    claim["total_charge"] = 2500.0
    claim["attachments"].append(dict(claim["attachments"][0], line_number=2))
    fixed = copy.deepcopy(claim)
    fixed["lines"][1]["drug"] = None
    for line in claim["lines"]:
        line["drug"] = None
    return claim, fixed


def test_each_line_problem_is_fixed_on_its_own_not_with_its_rule(scorer: Scorer, claim: dict[str, Any]) -> None:
    """NDC_MISSING on lines 1 and 2: line 1's risk_if_fixed is the risk of the claim with line 1's
    NDC really given (its rule features as the fixed claim has them, the rest of the claim as sent),
    not the risk with both lines fixed."""
    broken, fixed = _ndc_missing_on_two_lines(claim)
    frames = [from_claims([Claim.model_validate(c)]) for c in (broken, fixed)]
    answer = scorer.score(frames[0])[0]
    problems = {(r["id"], r["line_number"]): r["risk_if_fixed"] for r in answer["rules"]}
    assert ("NDC_MISSING", 1) in problems and ("NDC_MISSING", 2) in problems
    fixed_problems = {(r["id"], r["line_number"]) for r in scorer.check(frames[1])[0]["rules"]}
    assert fixed_problems == set(problems) - {("NDC_MISSING", 1)}, "the real fix removes that problem only"

    model = scorer.model
    (X_broken, _), (X_fixed, _) = (model.featurize(frame) for frame in frames)
    names = model.featurizer.get_feature_names_out().tolist()
    rule_cols = [k for k, name in enumerate(names) if name.startswith("rule:")]
    assert X_fixed[0, names.index("rule:NDC_MISSING")] == 1 and X_fixed[0, names.index("rule:NDC_MISSING:lines")] == 1
    one_fixed = np.asarray(X_broken, dtype=np.float32).copy()
    one_fixed[0, rule_cols] = X_fixed[0, rule_cols]
    expected = float(model.predict_from_features(one_fixed)[0])
    both_fixed = np.asarray(X_broken, dtype=np.float32).copy()
    both_fixed[0, model.featurizer.rule_columns["NDC_MISSING"]] = 0
    both = float(model.predict_from_features(both_fixed)[0])
    for line in (1, 2):  # either line's fix leaves the other line's problem
        assert problems[("NDC_MISSING", line)] == pytest.approx(expected, abs=1e-12)
        assert problems[("NDC_MISSING", line)] != pytest.approx(both, abs=1e-9)
    assert answer["risk_if_all_fixed"] <= min(problems.values()) + 1e-12


def test_api_and_worklist_agree_on_fixes(
    scorer: Scorer, claim: dict[str, Any], models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    make_client: Callable[..., TestClient],
) -> None:
    """/v1/score, /v1/score/batch and ``claimrisk score --fixes`` give one claim the same
    risk_if_all_fixed, and the worklist's best fix is the API's lowest risk_if_fixed, with its line."""
    from serving.commands import score

    broken, _ = _ndc_missing_on_two_lines(claim)
    broken["lines"][1]["description"] = None
    broken["lines"][1]["note"] = None
    source = tmp_path / "c.jsonl"
    source.write_text(json.dumps(broken) + "\n")
    monkeypatch.setenv("CLAIMRISK_MODELS_DIR", str(models_dir))
    assert score(input_path=source, output_path=tmp_path / "w.parquet", threshold=None, fixes=True) == 0
    row = pq.read_table(tmp_path / "w.parquet").to_pylist()[0]
    with make_client(models_dir=models_dir) as client:
        single = client.post("/v1/score", json=broken).json()
        batch = client.post("/v1/score/batch", json={"claims": [broken]}).json()["results"][0]
    assert single == batch
    assert single["risk_if_all_fixed"] == row["risk_if_all_fixed"]
    best = min(single["rules"], key=lambda rule: rule["risk_if_fixed"])
    assert best["risk_if_fixed"] < single["risk"]
    assert (row["best_fix"], row["best_fix_line"]) == (best["id"], best["line_number"])
    assert row["risk_if_best_fixed"] == best["risk_if_fixed"]


def test_every_fired_rule_gets_its_own_risk_if_fixed(scorer: Scorer, history_frame: Any) -> None:
    subset = history_frame.take(np.arange(50))
    answers = scorer.score(subset)
    for answer in answers:
        for rule in answer["rules"]:
            assert rule["id"] in RULE_IDS
            assert 0.0 <= rule["risk_if_fixed"] <= answer["risk"] + 1e-12


def _score_cli(history: Path, out: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    from serving.commands import score

    monkeypatch.setenv("CLAIMRISK_MODELS_DIR", str(models_dir))
    return score(input_path=history, output_path=out, threshold=None)


def test_api_and_cli_give_identical_risks(
    models_dir: Path, history_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    make_client: Callable[..., TestClient],
) -> None:
    lines = (history_dir / "claims.jsonl").read_text().splitlines()[:300]
    source = tmp_path / "claims.jsonl"
    source.write_text("\n".join(lines) + "\n")
    assert _score_cli(source, tmp_path / "worklist.parquet", models_dir, monkeypatch) == 0
    assert _score_cli(source, tmp_path / "worklist.csv", models_dir, monkeypatch) == 0
    parquet = pq.read_table(tmp_path / "worklist.parquet").to_pylist()
    csv = pacsv.read_csv(tmp_path / "worklist.csv").to_pylist()
    assert len(parquet) == len(csv) == 300
    with make_client(models_dir=models_dir) as client:
        body = client.post("/v1/score/batch", json={"claims": [json.loads(x) for x in lines]}).json()
    assert body["errors"] == []
    api = {r["claim_id"]: r for r in body["results"]}
    for row in parquet:
        answer = api[row["claim_id"]]
        assert row["risk"] == answer["risk"]
        assert row["expected_loss"] == answer["expected_loss"]
        assert row["decision"] == answer["decision"]
        assert row["rules"] == list(dict.fromkeys(r["id"] for r in answer["rules"]))
    for row in csv:
        answer = api[row["claim_id"]]
        assert row["risk"] == pytest.approx(answer["risk"], rel=1e-15)
        assert (row["rules"] or "") == ";".join(dict.fromkeys(r["id"] for r in answer["rules"]))


def test_worklist_is_ranked_by_expected_loss_and_reports_bad_records(
    models_dir: Path, history_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = (history_dir / "claims.jsonl").read_text().splitlines()[:100]
    bad = json.loads(lines[0])
    bad["claim_id"] = "BROKEN1"
    bad["lines"][0]["units"] = "three"
    source = tmp_path / "claims.jsonl"
    source.write_text("\n".join([*lines[:50], json.dumps(bad), *lines[50:]]) + "\n")
    assert _score_cli(source, tmp_path / "out.parquet", models_dir, monkeypatch) == 1
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.column_names == [
        "claim_id", "risk", "expected_loss", "decision", "rules", "top_reason", "top_reason_probability"
    ]  # CONTRACT §7 added the two reason columns
    assert table.num_rows == 100
    loss = table.column("expected_loss").to_numpy()
    assert np.all(np.diff(loss) <= 0)
    err = capsys.readouterr().err
    assert "line 51" in err and "BROKEN1" in err
    assert "three" not in err


def test_worklist_command_errors(models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, claim: dict) -> None:
    source = tmp_path / "c.jsonl"
    source.write_text(json.dumps(claim) + "\n")
    with pytest.raises(InputError, match=r"\.csv or \.parquet"):
        _score_cli(source, tmp_path / "out.xlsx", models_dir, monkeypatch)
    with pytest.raises(InputError, match="no exported model"):
        _score_cli(source, tmp_path / "out.csv", tmp_path / "nothing", monkeypatch)


def test_threshold_override_in_the_worklist(
    models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, claim: dict
) -> None:
    from serving.commands import score

    source = tmp_path / "c.jsonl"
    source.write_text(json.dumps(claim) + "\n" + json.dumps(dict(copy.deepcopy(claim), claim_id="B")) + "\n")
    monkeypatch.setenv("CLAIMRISK_MODELS_DIR", str(models_dir))
    assert score(input_path=source, output_path=tmp_path / "o.csv", threshold=0.0) == 0
    assert set(pacsv.read_csv(tmp_path / "o.csv").column("decision").to_pylist()) == {"review"}


def test_one_claim_alone_scores_as_in_a_batch(scorer: Scorer, history_frame: Any) -> None:
    """The single-claim shortcuts (fix variants, LightGBM's single-row path, charges) give the
    batch path's numbers exactly."""
    frame = history_frame.take(np.arange(120))
    batch = scorer.score_arrays(frame, 0.5, with_fixes=True)
    assert batch.fix_claim.shape[0] > 16, "the batch takes the vectorised fix path"
    for i in range(frame.n_claims):
        one = scorer.score_arrays(frame.take([i]), 0.5, with_fixes=True)
        mine = batch.fix_claim == i
        assert one.risk.tobytes() == batch.risk[i : i + 1].tobytes()
        assert one.expected_loss.tobytes() == batch.expected_loss[i : i + 1].tobytes()
        assert one.fix_claim.tolist() == [0] * int(mine.sum())
        assert one.fix_rule.dtype == object and one.fix_rule.tolist() == batch.fix_rule[mine].tolist()
        assert one.fix_risk.tobytes() == batch.fix_risk[mine].tobytes()


def test_all_fixed_is_every_fired_rule_cleared_and_never_above_a_single_fix(
    scorer: Scorer, history_frame: Any
) -> None:
    arrays = scorer.score_arrays(history_frame, None, with_fixes=True, with_all_fixed=True)
    alone = scorer.score_arrays(history_frame, None, with_fixes=True)
    assert alone.all_fixed_risk.shape[0] == 0  # the API's path pays for no all-fixed rows
    np.testing.assert_array_equal(arrays.risk, alone.risk)
    np.testing.assert_array_equal(arrays.fix_risk, alone.fix_risk)
    best = arrays.risk.copy()
    np.minimum.at(best, arrays.fix_claim, arrays.fix_risk)
    assert np.all(arrays.all_fixed_risk <= best + 1e-12)
    n_rules = np.bincount(arrays.fix_claim, minlength=history_frame.n_claims)
    assert (n_rules > 1).sum() >= 20, "the sample has claims with several problems"
    no_rule = n_rules == 0
    np.testing.assert_array_equal(arrays.all_fixed_risk[no_rule], arrays.risk[no_rule])
    X, _ = scorer.model.featurize(history_frame)
    columns = scorer.model.featurizer.rule_columns
    for i in np.flatnonzero(n_rules > 1)[:25]:
        row = X[i].copy()
        for rule in arrays.fix_rule[arrays.fix_claim == i]:
            row[columns[rule]] = 0
        direct = scorer.model.predict_from_features(row[None, :])[0]
        assert arrays.all_fixed_risk[i] == pytest.approx(direct, abs=1e-12)


def test_worklist_fix_columns(
    scorer: Scorer, history_dir: Path, models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from serving.commands import score
    from serving.worklist import COLUMNS, FIX_COLUMNS

    monkeypatch.setenv("CLAIMRISK_MODELS_DIR", str(models_dir))
    source = tmp_path / "claims.jsonl"
    source.write_text("".join((history_dir / "claims.jsonl").read_text().splitlines(keepends=True)[:800]))
    assert score(input_path=source, output_path=tmp_path / "plain.csv", threshold=None) == 0
    assert score(input_path=source, output_path=tmp_path / "fixes.csv", threshold=None, fixes=True) == 0
    plain = pacsv.read_csv(tmp_path / "plain.csv")
    table = pacsv.read_csv(tmp_path / "fixes.csv")
    assert plain.column_names == list(COLUMNS)  # the contract's columns, unchanged without --fixes
    assert table.column_names == [*COLUMNS, *FIX_COLUMNS]
    assert table.select(list(COLUMNS)).equals(plain)  # same claims, same order, same risks

    rows = table.to_pylist()
    scored = scorer.score(load_claims(source).frame)
    ids = [a["claim_id"] for a in scored]
    answers = {a["claim_id"]: a for a in scored if ids.count(a["claim_id"]) == 1}  # replacements share ids
    with_best = 0
    for row in rows:
        if row["claim_id"] not in answers:
            continue
        answer = answers[row["claim_id"]]
        fixes = {rule["id"]: rule["risk_if_fixed"] for rule in answer["rules"]}
        assert row["risk_if_all_fixed"] <= min([row["risk"], *fixes.values()]) + 1e-9
        assert row["recoverable"] == pytest.approx((row["risk"] - row["risk_if_all_fixed"]) * row["total_charge"])
        assert 0.0 <= row["recoverable"] <= row["expected_loss"] + 1e-6
        if not row["best_fix"]:  # an empty CSV field: no fix lowers this claim's risk
            assert not fixes or min(fixes.values()) >= row["risk"] - 1e-12
            assert row["risk_if_best_fixed"] is None
        else:
            with_best += 1
            assert row["best_fix"] in (row["rules"] or "").split(";")
            assert row["risk_if_best_fixed"] == pytest.approx(min(fixes.values()))
            assert fixes[row["best_fix"]] == pytest.approx(row["risk_if_best_fixed"])
    assert with_best >= 30
