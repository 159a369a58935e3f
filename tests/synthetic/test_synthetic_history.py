"""The history is valid contract data, balanced, deterministic, and its denials say why."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import orjson
import pytest

from claims.model import Claim
from claims.remittance import RemitRow
from edi.remits835 import classify_outcome
from reference.icd10 import diagnosis_status
from synthetic import catalog as cat
from synthetic.commands import synth
from synthetic.npi import is_valid_npi
from synthetic.world import CAUSES

REPO = Path(__file__).resolve().parents[2]


def _read(path: Path) -> list[dict]:
    with open(path, "rb") as handle:
        return [orjson.loads(line) for line in handle]


def test_every_claim_and_remit_row_validates(small_history: Path) -> None:
    claims = [Claim.model_validate(record) for record in _read(small_history / "claims.jsonl")]
    rows = [RemitRow.model_validate(record) for record in _read(small_history / "remits.jsonl")]
    assert len(claims) == 2_000
    assert len({c.claim_id for c in claims}) == 2_000
    assert len(rows) > len(claims)
    assert all(is_valid_npi(c.billing_provider_npi or "") for c in claims)
    truth = {t["claim_id"]: {d["id"] for d in t["defects"]} for t in _read(small_history / "truth.jsonl")}
    for c in claims:  # the total differs from the lines only as an injected CHARGE_INVALID defect
        off = abs((c.total_charge or 0) - sum(line.charge or 0 for line in c.lines)) > 0.005
        assert off == ("CHARGE_INVALID" in truth[c.claim_id])
    types = Counter(c.claim_type for c in claims)
    assert types["institutional"] > 50 and types["professional"] > 1000
    assert {c.payer.type for c in claims} == {"medicare", "medicaid", "commercial"}
    assert len({c.payer.id for c in claims}) >= 10


def test_remits_balance_per_line_in_cents(small_history: Path) -> None:
    for record in _read(small_history / "remits.jsonl"):
        cas = sum(round(a["amount"] * 100) for a in record["adjustments"])
        assert round(record["charge"] * 100) - round(record["paid"] * 100) == cas, record["claim_id"]


def test_outcome_is_what_an_835_reader_would_say(small_history: Path) -> None:
    outcomes = Counter()
    for record in _read(small_history / "remits.jsonl"):
        expected = classify_outcome(
            claim_status=record["claim_status"], charge=record["charge"], paid=record["paid"],
            adjustments=record["adjustments"],
        )
        assert record["outcome"] == expected, record
        outcomes[record["outcome"]] += 1
    assert set(outcomes) == {"paid", "denied", "reduced", "excluded"}
    paid = [r for r in _read(small_history / "remits.jsonl") if r["outcome"] == "paid"]
    assert all(r["paid"] > 0 for r in paid if r["claim_status"] != "22")


def test_every_denial_carries_the_signature_of_its_cause(small_history: Path) -> None:
    truth = {t["claim_id"]: t for t in _read(small_history / "truth.jsonl")}
    latest: dict[str, int] = {}
    rows = _read(small_history / "remits.jsonl")
    for r in rows:
        latest[r["claim_id"]] = max(latest.get(r["claim_id"], 0), r["sequence"])
    allowed = {name: {(g, c, rarc) for g, c, rarc in [cat.SIGNATURES[name]]} for name in CAUSES}
    allowed["UNITS_MISMATCH"].add(cat.UNITS_MUE_SIGNATURE)
    denied_seen = 0
    for r in rows:
        if r["sequence"] != latest[r["claim_id"]] or r["outcome"] != "denied":
            continue
        denied_seen += 1
        t = truth[r["claim_id"]]
        assert t["denied"] is True and t["causes"]
        (adj,) = r["adjustments"]
        signature = (adj["group"], adj["reason"], tuple(r["remarks"]))
        assert any(signature in allowed[c] for c in t["causes"]), (signature, t["causes"])
    assert denied_seen > 100
    # CARC 16 always travels with a RARC (X12 rule for CARC 16)
    assert all(r["remarks"] for r in rows if any(a["reason"] == "16" for a in r["adjustments"]))


def test_truth_is_consistent_with_the_remits(small_history: Path) -> None:
    truth = _read(small_history / "truth.jsonl")
    assert all(0.0 < t["p_deny"] < 1.0 for t in truth)
    rate = np.mean([t["denied"] for t in truth])
    assert 0.08 <= rate <= 0.25
    by_claim: dict[str, list[dict]] = {}
    for r in _read(small_history / "remits.jsonl"):
        by_claim.setdefault(r["claim_id"], []).append(r)
    statuses = Counter(t["status"] for t in truth)
    assert statuses["pending"] and statuses["unanswered"] and statuses["reversed"]
    for t in truth:
        rows = by_claim.get(t["claim_id"], [])
        if t["status"] == "unanswered":
            assert not rows
            continue
        if t["status"] == "pending":
            assert {r["outcome"] for r in rows} == {"excluded"}
            continue
        last = max(r["sequence"] for r in rows)
        final = [r for r in rows if r["sequence"] == last]
        assert any(r["outcome"] == "denied" for r in final) == t["denied"], t
        if t["status"] == "reversed":
            assert {r["claim_status"] for r in rows} >= {"22"}


def test_diagnoses_are_billable_except_injected_defects(small_history: Path) -> None:
    truth = {t["claim_id"]: t for t in _read(small_history / "truth.jsonl")}
    for record in _read(small_history / "claims.jsonl"):
        status = diagnosis_status(np.array(record["diagnosis_codes"], dtype=object))
        flagged = any(d["id"] == "DIAGNOSIS_INVALID" for d in truth[record["claim_id"]]["defects"])
        assert bool((status != 0).any()) == flagged, record["diagnosis_codes"]
    catalog_codes = [c for codes in cat.CLASS_DIAGNOSES.values() for c in codes] + list(cat.SECONDARY_DIAGNOSES)
    assert (diagnosis_status(np.array(catalog_codes, dtype=object)) == 0).all()
    wrong = np.array(cat.NON_BILLABLE_DIAGNOSES + cat.INVALID_DIAGNOSES, dtype=object)
    assert (diagnosis_status(wrong) != 0).all()


def test_npis_carry_a_valid_check_digit() -> None:
    from synthetic.npi import make_npis

    npis = make_npis(np.random.default_rng(3), 500)
    assert all(is_valid_npi(n) for n in npis) and len(set(npis)) == 500
    assert is_valid_npi("1234567893") and not is_valid_npi("1234567894")


def test_policy_change_shows_in_the_denials(tmp_path: Path) -> None:
    """PIONR starts denying NOC lines without prior authorisation on the change date."""
    from reference.store import load_reference
    from synthetic.adjudicate import adjudicate
    from synthetic.generate import generate_batch
    from synthetic.world import CAUSE_INDEX, build_world

    world = build_world(4, load_reference())
    batch = generate_batch(world, np.random.default_rng(4), 0, 40_000)
    adj = adjudicate(world, batch, np.random.default_rng(5))
    pionr = batch.payer[batch.line_claim] == list(world.payers.ids).index(cat.POLICY_CHANGE_PAYER)
    after = batch.after_change[batch.line_claim]
    pa = adj.line_cause == CAUSE_INDEX["PRIOR_AUTH_MISSING"]
    assert pa[pionr & ~after].sum() == 0
    assert pa[pionr & after].sum() > 5


def test_same_seed_same_bytes_other_seed_other_history(tmp_path: Path) -> None:
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        assert synth(n_claims=400, seed=seed, out=tmp_path / name, x12=False) == 0
    for file in ("claims.jsonl", "remits.jsonl", "truth.jsonl"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
        assert (tmp_path / "a" / file).read_bytes() != (tmp_path / "c" / file).read_bytes()


def test_bad_arguments_are_input_errors(tmp_path: Path) -> None:
    from claims.errors import InputError

    with pytest.raises(InputError):
        synth(n_claims=0, seed=1, out=tmp_path, x12=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError):
        synth(n_claims=10, seed=1, out=tmp_path / "file", x12=False)


def test_generator_never_imports_the_model_side() -> None:
    code = (
        "import sys, pathlib\n"
        "from synthetic.commands import synth\n"
        "import synthetic.x12, synthetic.history\n"
        "synth(n_claims=50, seed=1, out=pathlib.Path(sys.argv[1]), x12=False)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'features', 'training', 'serving'})\n"
        "print(','.join(bad))\n"
    )
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        result = subprocess.run(
            [sys.executable, "-c", code, folder], capture_output=True, text=True, cwd=REPO, check=True
        )
    assert result.stdout.strip() == ""
