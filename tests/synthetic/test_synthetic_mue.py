"""The generator bills and denies MUE excesses as CONTRACT §3 defines the edit, without the rule.

The rule engine (``features``) is used here only to check the generator from outside: it fires on
exactly the lines the generator pushed past the MUE, and the payers deny those lines with CO-151 +
N362 unless their policy does not apply the MUEs.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import orjson
import pytest

from claims.jsonl import read_claims_jsonl
from features.payer_policy import PolicySet
from features.rules.engine import evaluate
from reference.store import load_reference
from synthetic import catalog as cat
from synthetic.adjudicate import adjudicate
from synthetic.commands import synth
from synthetic.generate import generate_batch
from synthetic.world import CAUSE_INDEX, build_world

MUE = "UNITS_EXCEED_MUE"
OFF = cat.MUE_OFF_PAYERS[0]


def _read(path: Path) -> list[dict]:
    with open(path, "rb") as handle:
        return [orjson.loads(line) for line in handle]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mue") / "history"
    assert synth(n_claims=12_000, seed=5, out=out, x12=False) == 0
    return out


def _fired(history: Path, policies: PolicySet) -> list[tuple[str, int, dict]]:
    """(claim id, line number, evidence) of every UNITS_EXCEED_MUE the rule engine finds."""
    read = read_claims_jsonl(history / "claims.jsonl")
    fired = evaluate(read.frame, policies=policies, reference=load_reference())
    rows = np.flatnonzero(fired.rule_ids == MUE)
    ids = np.asarray(read.frame.claim_ids, dtype=object)[fired.claim_index[rows]].tolist()
    return [(c, n, fired.evidence(int(r))) for c, n, r in zip(ids, fired.line_number[rows].tolist(), rows, strict=True)]


def _claims(history: Path) -> dict[str, dict]:
    return {c["claim_id"]: c for c in _read(history / "claims.jsonl")}


def test_the_rule_fires_on_exactly_the_lines_pushed_past_the_mue(history: Path) -> None:
    fired = _fired(history, PolicySet.load())
    truth = {
        (t["claim_id"], d["line_number"]) for t in _read(history / "truth.jsonl") for d in t["defects"] if d["id"] == MUE
    }
    assert {(c, n) for c, n, _ in fired} == truth
    claims = _claims(history)
    n_lines = sum(len(c["lines"]) for c in claims.values())
    assert 0.008 < len(truth) / n_lines < 0.04  # careful dosing stays within the edit; ~1-2 % habit + wrong units
    # some excesses are split over two lines of one code and date, each within the MUE, their sum past it
    split = [
        (c, e) for c, _, e in fired
        if len(e["lines"]) == 2 and all(claims[c]["lines"][n - 1]["units"] <= e["mue"] for n in e["lines"])
    ]
    assert len(split) >= 5
    for c, e in split:
        assert {claims[c]["lines"][n - 1]["procedure_code"] for n in e["lines"]} == {e["procedure_code"]}
        assert e["indicator"] in (2, 3) and e["units"] > e["mue"]


def test_payers_deny_the_excess_with_151_n362_unless_their_policy_is_off(history: Path) -> None:
    truth = {t["claim_id"]: t for t in _read(history / "truth.jsonl")}
    payer = {cid: c["payer"]["id"] for cid, c in _claims(history).items()}
    excess = {(cid, d["line_number"]) for cid, t in truth.items() for d in t["defects"] if d["id"] == MUE}
    latest: dict[str, int] = {}
    rows = _read(history / "remits.jsonl")
    for r in rows:
        latest[r["claim_id"]] = max(latest.get(r["claim_id"], 0), r["sequence"])
    seen: Counter[tuple[bool, str]] = Counter()
    for r in rows:
        key = (r["claim_id"], int(r["line_control_number"].rsplit("L", 1)[1]))
        if key not in excess or r["sequence"] != latest[r["claim_id"]] or r["outcome"] == "excluded":
            continue
        off = r["payer_id"] == OFF
        mue_denial = r["outcome"] == "denied" and r["adjustments"][0]["reason"] == "151" and r["remarks"] == ["N362"]
        seen[(off, "mue_denial" if mue_denial else r["outcome"])] += 1
    on_total = sum(v for (off, _), v in seen.items() if not off)
    assert on_total > 200 and seen[(False, "mue_denial")] / on_total > 0.85
    off_total = sum(v for (off, _), v in seen.items() if off)
    assert off_total >= 10 and seen[(True, "mue_denial")] == 0  # a commercial payer: 151 means MUE only
    assert all(MUE not in truth[c]["causes"] for c, _ in excess if payer[c] == OFF)
    assert sum(MUE in truth[c]["causes"] for c, _ in excess if payer[c] != OFF) > 200


def test_a_payer_policy_with_mue_off_silences_the_rule_for_that_payer(history: Path, tmp_path: Path) -> None:
    """What a user who learned that payer's habit would write: the rule then agrees with the payer."""
    (tmp_path / f"{OFF}.yaml").write_text("mue: false\n")
    payer = {cid: c["payer"]["id"] for cid, c in _claims(history).items()}
    shipped = {(c, n) for c, n, _ in _fired(history, PolicySet.load())}
    mirrored = {(c, n) for c, n, _ in _fired(history, PolicySet.load(tmp_path))}
    assert {k for k in shipped if payer[k[0]] == OFF} and mirrored == {k for k in shipped if payer[k[0]] != OFF}


def test_mue_draws_leave_every_other_draw_where_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    """The excess habit and the payers' answer draw from streams of their own: without the habit,
    every claim it did not touch keeps its exact adjudication."""
    world = build_world(4, load_reference())
    with_habit = generate_batch(world, np.random.default_rng(4), 0, 6000)
    adj = adjudicate(world, with_habit, np.random.default_rng(5))
    monkeypatch.setattr(cat, "MUE_HABIT", 0.0)
    without = generate_batch(world, np.random.default_rng(4), 0, 6000)
    adj_without = adjudicate(world, without, np.random.default_rng(5))
    differs = (with_habit.units != without.units) | (with_habit.procedure_code != without.procedure_code)
    changed = np.bincount(with_habit.line_claim, weights=differs, minlength=6000) > 0
    assert 10 < changed.sum() < 600
    assert np.array_equal(adj.denied[~changed], adj_without.denied[~changed])
    assert np.array_equal(adj.p_deny[~changed], adj_without.p_deny[~changed])
    mue_cause = adj.line_cause == CAUSE_INDEX[MUE]
    assert mue_cause.sum() > adj_without.line_cause.tolist().count(CAUSE_INDEX[MUE])
