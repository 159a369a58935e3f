from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from claimrisk.cli import main
from claims.errors import InputError
from claims.model import Claim
from edi.commands import convert, remits


def test_convert_sample(tmp_path: Path, samples: Path) -> None:
    out = tmp_path / "claims.jsonl"
    assert convert(input_path=samples / "own_example_j3490_837p.x12", output_path=out) == 0
    (record,) = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert record["claim_id"] == "PCN20260115A" and record["type_of_bill"] is None
    assert record["lines"][0]["drug"] == {"ndc": "99999012301", "quantity": 20.0, "unit": "ML",
                                          "prescription_number": None, "link_sequence": None}
    assert Claim.model_validate(record).lines[0].service_date.isoformat() == "2026-01-10"  # type: ignore[union-attr]


def test_convert_with_a_bad_claim_exits_1_and_names_the_segment(
    tmp_path: Path, samples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.837"
    bad.write_text((samples / "own_example_j3490_837p.x12").read_text().replace("*1250.00*UN*", "*1,250*UN*"))
    assert main(["convert", "--input", str(bad), "--output", str(tmp_path / "o.jsonl")]) == 1
    err = capsys.readouterr().err
    assert "bad.837: segment 24 (SV1): claim PCN20260115A SV102 (line charge) is not a number" in err
    assert "EXAMPLEMAB" not in err and "Traceback" not in err


def test_not_x12_and_missing_file_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    assert main(["convert", "--input", str(text), "--output", str(tmp_path / "o.jsonl")]) == 2
    assert "segment 1" in capsys.readouterr().err
    with pytest.raises(InputError):
        remits(input_path=tmp_path / "missing.835", output_path=tmp_path / "o.jsonl")


def test_remits_nets_reversals(tmp_path: Path, samples: Path) -> None:
    text = (samples / "own_example_drug_835.x12").read_text()
    reversal = ("CLP*PCN20260116B*22*-800.00*-560.00*-80.00*12*EH2026000002*11*1~\nNM1*QC*1*ROE*RICHARD~\n"
                "CLP*PCN20260116B*1*800.00*600.00*80.00*12*EH2026000009*11*1~\nNM1*QC*1*ROE*RICHARD~\n"
                "SVC*HC:J3590*800.00*600.00**1~\nCAS*CO*45*120.00~\nCAS*PR*2*80.00~\n")
    text = text.replace("SE*36*0001", reversal + "SE*43*0001")
    path = tmp_path / "r.835"
    path.write_text(text)
    out = tmp_path / "remits.jsonl"
    assert remits(input_path=path, output_path=out) == 0
    rows = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert [(r["claim_id"], r["claim_status"], r["paid"]) for r in rows] == [
        ("PCN20260115A", "4", 0.0), ("PCN20260117C", "1", 240.0), ("PCN20260117C", "1", 0.0),
        ("PCN20260116B", "1", 600.0)]
    assert rows[3]["payer_claim_id"] == "EH2026000009" and rows[3]["outcome"] == "paid"
