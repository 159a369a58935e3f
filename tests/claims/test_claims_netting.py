"""CONTRACT §6 netting: split claims kept, reversals corrected whatever the CLP07, later
adjudications of the same payer claim replacing earlier ones, and the superseded count."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from claims.netting import net_remittance_rows
from edi import commands
from edi.remits835 import iter_835
from training.labels import label_claims

FIXTURE = Path(__file__).parents[1] / "data" / "x12" / "own_example_split_claims_835.x12"


def _row(claim_id: str, status: str, payer_claim_id: str | None, line: str, outcome: str,
         paid_date: str | None = "2026-02-10", sequence: int | None = None) -> dict[str, Any]:
    return {"claim_id": claim_id, "claim_status": status, "payer_claim_id": payer_claim_id,
            "line_control_number": line, "outcome": outcome, "paid_date": paid_date, "sequence": sequence}


def _kept(rows: list[dict[str, Any]]) -> list[tuple[str, str | None, str]]:
    keep = net_remittance_rows(pd.DataFrame(rows)).keep
    return [(r["claim_id"], r["payer_claim_id"], r["line_control_number"]) for r, k in zip(rows, keep, strict=True) if k]


def test_the_contracts_split_claim_example_keeps_three_rows_and_denies_the_claim() -> None:
    rows = [_row("A1", "1", "P1", "1", "paid"), _row("A1", "1", "P1", "2", "paid"),
            _row("A1", "4", "P2", "3", "denied")]
    assert _kept(rows) == [("A1", "P1", "1"), ("A1", "P1", "2"), ("A1", "P2", "3")]
    assert net_remittance_rows(pd.DataFrame(rows)).superseded_rows == 0
    assert label_claims(pd.DataFrame(rows)).table.loc["A1", "status"] == "denied"


def test_a_reversal_is_corrected_by_the_next_adjudication_whatever_its_number() -> None:
    rows = [_row("C", "4", "R1", "1", "denied", "2026-02-01"), _row("C", "22", "R1", "1", "excluded", "2026-03-01"),
            _row("C", "1", "R2", "1", "paid", "2026-03-01")]
    netting = net_remittance_rows(pd.DataFrame(rows))
    assert _kept(rows) == [("C", "R2", "1")]
    assert (netting.superseded_rows, netting.reversed_claims) == (2, 0)


def test_a_later_adjudication_of_the_same_payer_claim_replaces_it_but_not_the_other_part() -> None:
    rows = [_row("D", "1", "S1", "1", "paid", "2026-02-01"), _row("D", "1", "S2", "2", "paid", "2026-02-01"),
            _row("D", "4", "S1", "1", "denied", "2026-03-01")]
    assert _kept(rows) == [("D", "S2", "2"), ("D", "S1", "1")]
    assert net_remittance_rows(pd.DataFrame(rows)).superseded_rows == 1


def test_a_null_payer_claim_number_is_a_payer_claim_of_its_own() -> None:
    rows = [_row("E", "1", None, "1", "paid", sequence=1), _row("E", "4", None, "1", "denied", sequence=2),
            _row("E", "1", "T1", "2", "paid", sequence=3)]
    assert _kept(rows) == [("E", None, "1"), ("E", "T1", "2")]


def test_an_uncorrected_reversal_leaves_the_claim_without_an_adjudication() -> None:
    rows = [_row("F", "1", "U1", "1", "paid", "2026-02-01"), _row("F", "1", "U2", "2", "paid", "2026-02-01"),
            _row("F", "22", "U1", "1", "excluded", "2026-03-01")]
    netting = net_remittance_rows(pd.DataFrame(rows))
    assert not netting.keep.any() and netting.reversed_claims == 1 and netting.superseded_rows == 0


def test_the_split_claim_835_fixture_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """10 rows in (two split claims, a reversal and its renumbered correction, a replacement):
    7 rows out, 3 superseded, each claim labelled from every part that stands."""
    rows = list(iter_835(FIXTURE))
    assert len(rows) == 10
    out = tmp_path / "remits.jsonl"
    assert commands.remits(input_path=FIXTURE, output_path=out) == 0
    written = pd.read_json(out, lines=True, dtype={"line_control_number": str})
    assert list(zip(written["claim_id"], written["payer_claim_id"], written["line_control_number"], strict=True)) == [
        ("A1", "P1", "1"), ("A1", "P1", "2"), ("A1", "P2", "3"), ("B2", "Q1", "1"), ("B2", "Q2", "2"),
        ("C3", "R2", "1"), ("D4", "S1", "1"),
    ]
    assert "3 remittance rows superseded" in capsys.readouterr().err
    labels = label_claims(pd.DataFrame(rows))
    assert labels.table["status"].to_dict() == {"A1": "denied", "B2": "paid", "C3": "paid", "D4": "denied"}
    assert labels.superseded_rows == 3
