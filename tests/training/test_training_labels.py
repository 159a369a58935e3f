"""Labels from remittance rows: netting, exclusion, any-line-denied, the line join, the counts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from claims.columnar import from_claims
from claims.model import Claim
from training.dataset import build_training_data
from training.labels import label_claims, match_lines, net_adjudications_frame


def _row(claim_id: str, outcome: str = "paid", status: str = "1", **extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "claim_id": claim_id,
        "payer_claim_id": f"P{claim_id}",
        "claim_status": status,
        "line_control_number": None,
        "procedure_code": "J3490",
        "charge": 100.0,
        "paid": 0.0 if outcome == "denied" else 80.0,
        "service_date": "2026-01-10",
        "outcome": outcome,
        "paid_date": "2026-02-01",
        "sequence": None,
    }
    base.update(extra)
    return base


def _claim(claim_id: str, submitted: str, lines: list[dict[str, object]]) -> Claim:
    return Claim.model_validate(
        {
            "claim_id": claim_id,
            "payer": {"id": "EXHP1", "type": "commercial"},
            "total_charge": float(sum(float(str(line["charge"])) for line in lines)),
            "diagnosis_codes": ["M06.9"],
            "submission_date": submitted,
            "lines": lines,
        }
    )


def _line(
    n: int, code: str, charge: float, lcn: str | None = None, date: str = "2026-01-10"
) -> dict[str, object]:
    return {
        "line_number": n,
        "procedure_code": code,
        "charge": charge,
        "units": 1,
        "service_date": date,
        "diagnosis_pointers": [1],
        "line_control_number": lcn,
    }


def test_any_denied_line_denies_the_claim_and_reductions_do_not() -> None:
    rows = pd.DataFrame(
        [
            _row("A", "paid", line_control_number="1"),
            _row("A", "denied", line_control_number="2"),
            _row("B", "reduced", line_control_number="1"),
            _row("B", "paid", line_control_number="2"),
            _row("C", "paid", status="4"),  # CLP02 = 4: denied whatever the line outcomes say
        ]
    )
    table = label_claims(rows).table
    assert table.loc["A", "status"] == "denied"
    assert table.loc["B", "status"] == "paid"
    assert table.loc["C", "status"] == "denied"


def test_pending_or_predetermination_rows_exclude_the_claim() -> None:
    rows = pd.DataFrame([_row("A", "denied"), _row("A", "excluded"), _row("B", "excluded", status="25")])
    table = label_claims(rows).table
    assert table["status"].to_dict() == {"A": "excluded", "B": "excluded"}


def test_reversal_then_correction_keeps_the_correction() -> None:
    rows = pd.DataFrame(
        [
            _row("A", "denied", status="1", paid_date="2026-02-01"),
            _row("A", "excluded", status="22", paid_date="2026-03-01"),
            _row("A", "paid", status="1", paid_date="2026-03-01"),
        ]
    )
    netted = net_adjudications_frame(rows)
    assert netted.rows["outcome"].tolist() == ["paid"]
    assert netted.reversed_claims == 0
    assert netted.superseded_rows == 2
    assert label_claims(rows).table.loc["A", "status"] == "paid"


def test_reversal_paid_last_drops_the_claim() -> None:
    rows = pd.DataFrame(
        [
            _row("A", "paid", paid_date="2026-02-01"),
            _row("A", "excluded", status="22", paid_date="2026-03-01"),
            _row("B", "paid", paid_date="2026-02-01"),
        ]
    )
    netted = net_adjudications_frame(rows)
    assert netted.reversed_claims == 1
    assert netted.rows["claim_id"].tolist() == ["B"]


def test_latest_adjudication_by_paid_date_not_file_order() -> None:
    rows = pd.DataFrame(
        [
            _row("A", "paid", payer_claim_id="X1", paid_date="2026-04-01"),
            _row("A", "denied", payer_claim_id="X1", paid_date="2026-02-01"),
        ]
    )
    assert label_claims(rows).table.loc["A", "status"] == "paid"


def test_undated_events_fall_back_to_file_order() -> None:
    rows = pd.DataFrame(
        [
            _row("A", "paid", payer_claim_id="X1", paid_date=None),
            _row("A", "denied", payer_claim_id="X1", paid_date=None),
        ]
    )
    assert label_claims(rows).table.loc["A", "status"] == "denied"


def test_line_join_on_control_number_then_code_and_date_then_code() -> None:
    lines = pd.DataFrame(
        {
            "claim_id": ["A", "A", "A", "B"],
            "line_control_number": ["L1", "L2", None, None],
            "procedure_code": ["J3490", "96413", "J9999", "J3490"],
            "service_date": pd.to_datetime(["2026-01-10"] * 4),
        }
    )
    remits = pd.DataFrame(
        {
            "claim_id": ["A", "A", "A", "B", "B", "A"],
            "line_control_number": ["L2", "L1", None, None, None, None],
            "procedure_code": ["96413", "J3490", "J9999", "J3490", "J0000", None],
            "service_date": pd.to_datetime(
                ["2026-01-10", "2026-01-10", None, "2026-01-10", "2026-01-10", None]
            ),
        }
    )
    match = match_lines(lines, remits)
    assert match.claim_line_row.tolist() == [1, 0, 2, 3, -1, -1]
    assert (match.by_control_number, match.by_code_and_date, match.by_code) == (2, 1, 1)
    assert match.unmatched == 1  # B's J0000 matches nothing
    assert match.claim_level_rows == 1  # the row with neither control number nor code


def test_dataset_counts_and_orders_by_submission_and_denied_dollars() -> None:
    claims = [
        _claim("LATE", "2026-03-01", [_line(1, "J3490", 300.0, "L1"), _line(2, "96413", 50.0, "L2")]),
        _claim("EARLY", "2026-01-05", [_line(1, "J3490", 200.0, "L1")]),
        _claim("NOANSWER", "2026-01-06", [_line(1, "J3490", 10.0)]),
        _claim("PENDING", "2026-01-07", [_line(1, "J3490", 10.0)]),
        _claim("MID", "2026-02-01", [_line(1, "J9999", 70.0), _line(2, "96413", 30.0)]),
    ]
    rows = pd.DataFrame(
        [
            _row("LATE", "denied", line_control_number="L1", charge=999.0),  # matched: the claim's 300 counts
            _row("LATE", "paid", line_control_number="L2", procedure_code="96413"),
            _row("EARLY", "paid", line_control_number="L1"),
            _row("PENDING", "excluded"),
            _row("MID", "denied", procedure_code="J9999", status="4"),  # CLP02 4: the whole claim
            _row("MID", "paid", procedure_code="96413", status="4"),
            _row("STRANGER", "paid"),
        ]
    )
    data = build_training_data(from_claims(claims), rows)
    assert data.claim_ids.tolist() == ["EARLY", "MID", "LATE"]
    assert data.y.tolist() == [0, 1, 1]
    assert data.denied_dollars.tolist() == [0.0, 100.0, 300.0]
    s = data.summary
    assert (
        s["claims_joined"],
        s["claims_unanswered"],
        s["claims_excluded"],
        s["remit_claims_unmatched"],
    ) == (3, 1, 1, 1)
    assert s["submission_date_min"] == "2026-01-05" and s["submission_date_max"] == "2026-03-01"
    assert np.all(np.diff(data.submission_date.astype(np.int64)) >= 0)


def test_duplicate_claim_id_keeps_the_latest_submission() -> None:
    claims = [
        _claim("A", "2026-01-01", [_line(1, "J3490", 100.0)]),
        _claim("A", "2026-01-20", [_line(1, "J3490", 150.0)]),
    ]
    data = build_training_data(from_claims(claims), pd.DataFrame([_row("A", "paid")]))
    assert len(data) == 1
    assert data.total_charge.tolist() == [150.0]
    assert data.summary["duplicate_claim_ids"] == 1


def test_synthetic_history_labels_match_the_generator(training_data) -> None:  # type: ignore[no-untyped-def]
    s = training_data.summary
    assert (
        s["claims_joined"] + s["claims_unanswered"] + s["claims_excluded"] + s["claims_reversed"]
        <= s["claims_read"]
    )
    assert 0.05 < s["denial_rate"] < 0.6
    assert s["denied_remit_lines_unmatched"] == 0
    assert (training_data.denied_dollars[training_data.y == 0] == 0).all()
    assert (training_data.denied_dollars[training_data.y == 1] > 0).all()
