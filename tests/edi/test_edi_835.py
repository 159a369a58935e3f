from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from claims.errors import RecordError
from claims.netting import net_remittance_rows
from claims.remittance import RemitRow
from edi.remits835 import classify_outcome, iter_835


def _rows(path: Path) -> list[dict[str, Any]]:
    items = list(iter_835(path))
    assert not [i for i in items if isinstance(i, RecordError)]
    for item in items:
        RemitRow.model_validate(item)
    return items  # type: ignore[return-value]


def test_own_drug_835(samples: Path) -> None:
    rows = _rows(samples / "own_example_drug_835.x12")
    assert [(r["claim_id"], r["procedure_code"], r["outcome"]) for r in rows] == [
        ("PCN20260115A", "J3490", "denied"),
        ("PCN20260116B", "J3590", "paid"),
        ("PCN20260117C", "96413", "paid"),
        ("PCN20260117C", "J9999", "denied"),
    ]
    denied = rows[0]
    assert denied["claim_status"] == "4" and denied["payer_claim_id"] == "EH2026000001"
    assert denied["adjustments"] == [{"level": "line", "group": "CO", "reason": "16", "amount": 1250.0}]
    assert denied["remarks"] == ["M119", "MA130"]  # line LQ, then claim MOA
    assert (denied["charge"], denied["paid"], denied["units_paid"]) == (1250.0, 0.0, 1.0)
    assert denied["service_date"] == "2026-01-10" and denied["paid_date"] == "2026-01-30"
    assert denied["payer_id"] == "EXAMPLE HEALTH PLAN"
    assert rows[1]["adjustments"] == [
        {"level": "line", "group": "CO", "reason": "45", "amount": 160.0},
        {"level": "line", "group": "PR", "reason": "2", "amount": 80.0},
    ]
    assert rows[3]["remarks"] == ["N657"]
    assert rows[3]["adjustments"][0]["reason"] == "189"
    assert [r["sequence"] for r in rows] == [1, 2, 3, 3]


def test_medicare_part_a_claims_without_lines_and_moa(samples: Path) -> None:
    rows = _rows(samples / "LinuxForHealth-x12_medicare-part-a.835")
    assert [r["claim_id"] for r in rows] == ["666123", "777777"]
    first, second = rows
    assert first["procedure_code"] is None and first["charge"] == 211366.97 and first["paid"] == 138018.4
    assert first["adjustments"] == [{"level": "claim", "group": "CO", "reason": "45", "amount": 73348.57}]
    assert first["outcome"] == "paid"
    assert second["remarks"] == ["MA02"]


def test_managed_care_claim_level_contractual_and_bad_bpr16(samples: Path) -> None:
    rows = _rows(samples / "LinuxForHealth-x12_managed-care.835")
    assert rows[1]["adjustments"] == [
        {"level": "claim", "group": "CO", "reason": "A2", "amount": 55.0},
        {"level": "line", "group": "PR", "reason": "1", "amount": 600.0},
        {"level": "line", "group": "CO", "reason": "45", "amount": 50.0},
    ]
    assert [r["outcome"] for r in rows] == ["paid", "paid"]
    assert rows[0]["paid_date"] == "2002-03-14"  # BPR16 20002316 is not a date: DTM*405 instead
    assert rows[0]["service_date"] == "2002-03-01"  # DTM*150


def test_secondary_payment_composites_and_multi_triplet_cas(samples: Path) -> None:
    rows = _rows(samples / "LinuxForHealth-x12_secondary-payment.835")
    assert [r["claim_status"] for r in rows] == ["2", "2", "2"]
    assert rows[0]["procedure_code"] is None and rows[0]["outcome"] == "paid"  # OA-23 only
    assert (rows[2]["procedure_code"], rows[2]["modifiers"]) == ("66543", ["26"])
    assert [(a["group"], a["reason"], a["amount"]) for a in rows[2]["adjustments"]] == [
        ("PR", "1", 150.0), ("PR", "2", 70.0), ("CO", "42", 85.0)]


def test_cob_negative_adjustment(samples: Path) -> None:
    (row,) = _rows(samples / "LinuxForHealth-x12_cob-contractural-adjustment.835")
    assert row["procedure_code"] == "55669"
    assert row["adjustments"][1] == {"level": "line", "group": "OA", "reason": "94", "amount": -9.0}
    assert row["outcome"] == "paid"


# ---- every outcome path ---------------------------------------------------------------------


def _adj(group: str, reason: str, amount: float, level: str = "line") -> dict[str, Any]:
    return {"level": level, "group": group, "reason": reason, "amount": amount}


@pytest.mark.parametrize(
    ("status", "charge", "paid", "adjustments", "expected"),
    [
        ("1", 100.0, 80.0, [_adj("CO", "45", 20.0)], "paid"),  # contractual only
        ("2", 100.0, 80.0, [_adj("CO", "45", 20.0)], "paid"),
        ("3", 100.0, 100.0, [], "paid"),
        ("19", 100.0, 0.0, [_adj("CO", "16", 100.0)], "denied"),
        ("20", 100.0, 0.0, [_adj("CO", "50", 100.0)], "denied"),
        ("21", 100.0, 60.0, [_adj("CO", "151", 40.0)], "reduced"),
        ("1", 100.0, 0.0, [_adj("CO", "45", 100.0)], "paid"),  # CO-45 only, $0
        ("1", 100.0, 0.0, [_adj("PR", "1", 100.0)], "paid"),  # deductible: not a denial
        ("1", 100.0, 0.0, [_adj("PR", "1", 60.0), _adj("CO", "45", 40.0)], "paid"),
        ("1", 100.0, 0.0, [_adj("PR", "2", 20.0), _adj("CO", "16", 80.0)], "denied"),
        ("1", 100.0, 50.0, [_adj("CO", "253", 2.0), _adj("OA", "23", 48.0)], "paid"),
        ("1", 100.0, 50.0, [_adj("CO", "189", 50.0)], "reduced"),  # partial reduction
        ("4", 100.0, 0.0, [], "denied"),
        ("4", 100.0, 0.0, [_adj("PR", "1", 100.0)], "denied"),
        ("22", -100.0, -80.0, [_adj("CO", "45", -20.0)], "excluded"),
        ("23", 100.0, 0.0, [], "excluded"),
        ("25", 100.0, 0.0, [_adj("CO", "16", 100.0)], "excluded"),
        ("1", 100.0, 0.0, [_adj("OA", "133", 100.0)], "excluded"),  # pending
        ("1", 100.0, 0.0, [_adj("CO", "97", 100.0)], "denied"),  # bundled: no separate payment
        ("1", 100.0, 0.0, [_adj("CO", "94", 100.0), _adj("CO", "59", 0.0)], "paid"),
    ],
)
def test_classify_outcome(status: str, charge: float, paid: float, adjustments: list[dict[str, Any]],
                          expected: str) -> None:
    assert classify_outcome(claim_status=status, charge=charge, paid=paid, adjustments=adjustments) == expected


def test_claim_level_denial_makes_every_line_denied() -> None:
    claim_cas = [_adj("CO", "197", 500.0, "claim")]
    outcome = classify_outcome(claim_status="1", charge=200.0, paid=0.0, adjustments=claim_cas,
                               claim_charge=500.0, claim_paid=0.0)
    assert outcome == "denied"
    partial = [_adj("CO", "197", 100.0, "claim")]
    assert classify_outcome(claim_status="1", charge=200.0, paid=200.0, adjustments=partial,
                            claim_charge=500.0, claim_paid=400.0) == "reduced"
    contractual = [_adj("CO", "A2", 100.0, "claim")]
    assert classify_outcome(claim_status="1", charge=200.0, paid=200.0, adjustments=contractual,
                            claim_charge=500.0, claim_paid=400.0) == "paid"


CLAIM_DENIAL_835 = (
    "ST*835*0001~BPR*H*0*C*NON************20260201~TRN*1*T1*1000000000~N1*PR*PAYER A*XV*PA1~"
    "N1*PE*CLINIC*XX*1234567893~LX*1~"
    "CLP*C1*1*300*0*0*12*ICN1~CAS*CO*197*300~NM1*QC*1*X~"
    "SVC*HC:J3490*200*0**1~DTM*472*20260110~REF*6R*L1~SVC*HC:96413*100*0**1~DTM*472*20260110~"
    "SE*15*0001~"
)


def test_claim_level_cas_denial_in_a_file(tmp_path: Path) -> None:
    path = tmp_path / "d.835"
    path.write_text(CLAIM_DENIAL_835)
    rows = _rows(path)
    assert [(r["procedure_code"], r["outcome"], r["line_control_number"]) for r in rows] == [
        ("J3490", "denied", "L1"), ("96413", "denied", None)]
    assert rows[0]["payer_id"] == "PA1" and rows[0]["paid_date"] == "2026-02-01"
    assert rows[1]["adjustments"] == [{"level": "claim", "group": "CO", "reason": "197", "amount": 300.0}]


def test_six_triplets_of_one_cas(tmp_path: Path) -> None:
    text = CLAIM_DENIAL_835.replace(
        "CAS*CO*197*300~", "CAS*CO*1*10**2*20**3*30**4*40**5*50**6*150~")
    path = tmp_path / "six.835"
    path.write_text(text)
    rows = _rows(path)
    assert [a["reason"] for a in rows[0]["adjustments"]] == ["1", "2", "3", "4", "5", "6"]
    assert sum(a["amount"] for a in rows[0]["adjustments"]) == 300.0


def test_malformed_835_reports_and_continues(tmp_path: Path, samples: Path) -> None:
    text = (samples / "own_example_drug_835.x12").read_text()
    text = text.replace("CAS*CO*45*160.00", "CAS*CO*45*16O.00").replace("SE*36*0001", "SE*35*0001")
    path = tmp_path / "bad.835"
    path.write_text(text)
    items = list(iter_835(path))
    errors = [i for i in items if isinstance(i, RecordError)]
    rows = [i for i in items if not isinstance(i, RecordError)]
    assert [r["claim_id"] for r in rows] == ["PCN20260115A", "PCN20260117C", "PCN20260117C"]
    assert errors[0].claim_id == "PCN20260116B" and "CAS03" in errors[0].reason
    assert errors[0].position.endswith("(CAS)")
    assert "SE01" in errors[1].reason


# ---- reversal netting -----------------------------------------------------------------------


def net_adjudications(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keep = net_remittance_rows(pd.DataFrame(rows)).keep
    return [row for row, kept in zip(rows, keep, strict=True) if kept]


def _row(claim_id: str, status: str, paid_date: str, sequence: int | None, paid: float = 0.0) -> dict[str, Any]:
    return {"claim_id": claim_id, "claim_status": status, "paid_date": paid_date, "sequence": sequence,
            "payer_claim_id": "ICN", "paid": paid}


def test_reversal_and_correction_netted_latest_wins() -> None:
    rows = [
        _row("A", "1", "2026-01-10", 1, 100.0), _row("A", "1", "2026-01-10", 1, 50.0),
        _row("B", "4", "2026-01-10", 2),
        _row("A", "22", "2026-02-10", 7, -100.0), _row("A", "1", "2026-02-10", 8, 120.0),
    ]
    kept = net_adjudications(rows)
    assert [(r["claim_id"], r["sequence"], r["paid"]) for r in kept] == [("B", 2, 0.0), ("A", 8, 120.0)]


def test_reversal_without_correction_drops_the_claim() -> None:
    rows = [_row("A", "1", "2026-01-10", 1, 100.0), _row("A", "22", "2026-02-10", 5, -100.0),
            _row("B", "1", "2026-01-10", 2, 10.0)]
    assert [r["claim_id"] for r in net_adjudications(rows)] == ["B"]


def test_reversal_listed_after_the_adjudication_on_the_same_day_leaves_no_adjudication() -> None:
    """CONTRACT §6: on the same paid date "later" is later in the file, and a reversal with no later
    correction leaves the claim without a valid adjudication."""
    rows = [_row("A", "1", "2026-01-10", 1), _row("A", "1", "2026-02-10", 4, 90.0),
            _row("A", "22", "2026-02-10", 5)]
    assert net_adjudications(rows) == []


def test_netting_orders_by_paid_date_before_file_order() -> None:
    rows = [_row("A", "4", "2026-03-01", 1), _row("A", "1", "2026-01-01", 2, 10.0)]
    assert [r["claim_status"] for r in net_adjudications(rows)] == ["4"]


def test_netting_rows_without_sequence_use_runs_in_file_order() -> None:
    rows = [_row("A", "1", "2026-01-10", None, 1.0), _row("A", "1", "2026-01-10", None, 2.0),
            _row("A", "22", "2026-01-20", None), _row("A", "2", "2026-01-20", None, 3.0)]
    assert [r["paid"] for r in net_adjudications(rows)] == [3.0]


def test_invalid_service_date_rejects_the_claim(tmp_path: Path) -> None:
    path = tmp_path / "d.835"
    path.write_text(CLAIM_DENIAL_835.replace("DTM*472*20260110~REF", "DTM*472*20261310~REF"))
    items = list(iter_835(path))
    (error,) = items
    assert isinstance(error, RecordError) and error.claim_id == "C1"
    assert "service_date" in error.reason and error.position == "segment 7 (CLP)"
