"""Path dispatch: files and folders, format sniffing, remittance rows."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from claims.errors import InputError
from claims.remittance import RemitRow
from inputs.sources import FileFormat, _remit_columns_from_rows, load_claims, load_remits, sniff_format


def claim_line(claim_id: str) -> str:
    return json.dumps(
        {"claim_id": claim_id, "payer": {"id": "P"}, "lines": [{"line_number": 1, "procedure_code": "J3490"}]}
    )


def remit(claim_id: str, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "claim_id": claim_id,
        "payer_claim_id": "PAY" + claim_id,
        "claim_status": "1",
        "line_control_number": "L1",
        "procedure_code": "J3490",
        "modifiers": ["JW"],
        "charge": 100,
        "paid": 80.5,
        "units_paid": 1,
        "service_date": "2026-01-10",
        "adjustments": [{"level": "line", "group": "CO", "reason": "45", "amount": 19.5}],
        "remarks": ["N130"],
        "outcome": "paid",
    }
    row.update(extra)
    return row


def test_sniffing(tmp_path: Path) -> None:
    cases = {
        "a.jsonl": b'\n  {"claim_id": "x"}\n',
        "b.txt": b"ISA*00*          *00*",
        "c.x12": b"\xef\xbb\xbfST*837*0001~",
        "d.edi": b"ST|835|0001~",
        "e.csv": b"claim_id,charge\n",
        "f.jsonl": b"",
        "g": b"STATUS report",
    }
    expected = {
        "a.jsonl": FileFormat.JSONL,
        "b.txt": FileFormat.X12,
        "c.x12": FileFormat.X12,
        "d.edi": FileFormat.X12,
        "e.csv": None,
        "f.jsonl": FileFormat.JSONL,
        "g": None,
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        assert sniff_format(tmp_path / name) is expected[name], name


def test_folder_loading_in_name_order_skipping_hidden(tmp_path: Path) -> None:
    (tmp_path / "b.jsonl").write_text(claim_line("B1") + "\n{oops\n" + claim_line("B2") + "\n")
    (tmp_path / "a.jsonl").write_text(claim_line("A1") + "\n")
    (tmp_path / ".hidden.jsonl").write_text("not json at all\n")
    hidden_dir = tmp_path / ".cache"
    hidden_dir.mkdir()
    (hidden_dir / "x.jsonl").write_text("nope\n")
    result = load_claims(tmp_path)
    assert result.frame.claim_ids.tolist() == ["A1", "B1", "B2"]
    assert result.positions.tolist() == [1, 1, 3]
    assert result.sources.tolist() == ["a.jsonl", "b.jsonl", "b.jsonl"]
    assert result.frame.lines["claim_index"].tolist() == [0, 1, 2]
    assert [(e.source, e.position) for e in result.errors] == [("b.jsonl", "line 2")]
    assert result.errors[0].reason.startswith("invalid JSON")


def test_unknown_format_and_missing_paths_are_input_errors(tmp_path: Path) -> None:
    (tmp_path / "claims.csv").write_text("claim_id,charge\nA,1\n")
    with pytest.raises(InputError, match="claims.csv: unknown format"):
        load_claims(tmp_path / "claims.csv")
    with pytest.raises(InputError, match="no such file or folder"):
        load_claims(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="holds no input files"):
        load_claims(empty)


def test_x12_837_is_read_through_edi(tmp_path: Path) -> None:
    from claims.model import Claim
    from edi.writer import write_837

    claims = [Claim.model_validate(json.loads(claim_line(f"X{i}"))) for i in range(3)]
    write_837(claims, tmp_path / "claims.txt")
    result = load_claims(tmp_path / "claims.txt")
    assert result.frame.claim_ids.tolist() == ["X0", "X1", "X2"]


def test_remits_jsonl_with_errors_and_order(tmp_path: Path) -> None:
    first = tmp_path / "1.jsonl"
    second = tmp_path / "2.jsonl"
    rows_1 = [
        json.dumps(remit("C1")),
        json.dumps(remit("C2", adjustments=[], remarks=[], modifiers=[], charge=None, service_date=None)),
        json.dumps(remit("C3", outcome="maybe")),
        json.dumps(remit("C4", colour=1)),
        "{broken",
        json.dumps(
            {k: v for k, v in remit("C5", sequence=2, paid_date="2026-02-01").items() if k != "remarks"}
        ),
        json.dumps(remit("C6", adjustments=None)),
        json.dumps(remit("C7", sequence="3")),  # lax int: pydantic accepts "3"
    ]
    first.write_text("\n".join(rows_1) + "\n")
    second.write_text(json.dumps(remit("C8", claim_status="22", paid=-80.5, outcome="excluded")) + "\n")
    result = load_remits(tmp_path)
    frame = result.rows
    assert frame["claim_id"].tolist() == ["C1", "C2", "C5", "C7", "C8"]
    assert frame["source_order"].tolist() == [0, 1, 2, 3, 4]
    assert [(e.source, e.position) for e in result.errors] == [
        ("1.jsonl", "line 3"),
        ("1.jsonl", "line 4"),
        ("1.jsonl", "line 5"),
        ("1.jsonl", "line 7"),
    ]
    assert result.errors[1].reason == "colour: Extra inputs are not permitted"
    assert frame.loc[0, "adjustments"] == [{"level": "line", "group": "CO", "reason": "45", "amount": 19.5}]
    assert frame.loc[1, "adjustments"] == [] and frame.loc[2, "remarks"] == []
    assert np.isnan(frame.loc[1, "charge"]) and pd.isna(frame.loc[1, "service_date"])
    assert frame.loc[0, "service_date"] == pd.Timestamp("2026-01-10")
    assert frame["sequence"].tolist()[2:4] == [2, 3] and pd.isna(frame.loc[0, "sequence"])
    assert frame.loc[4, "paid"] == -80.5
    assert list(frame.columns) == [*RemitRow.model_fields, "source_order"]


def test_remits_arrow_rows_equal_pydantic_rows(tmp_path: Path) -> None:
    rows = [
        remit(
            f"R{i}",
            paid=i * 1.5,
            units_paid=None if i % 3 else 2,
            sequence=None if i % 2 else i,
            adjustments=[{"level": "claim", "group": "PR", "reason": "1", "amount": i}] * (i % 3),
        )
        for i in range(300)
    ]
    path = tmp_path / "remits.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    frame = load_remits(path).rows
    expected = _remit_columns_from_rows([RemitRow.model_validate(r) for r in rows])
    for name, column in expected.items():
        if name == "sequence":
            assert frame[name].isna().tolist() == [r["sequence"] is None for r in rows]
            assert frame[name].dropna().tolist() == [r["sequence"] for r in rows if r["sequence"] is not None]
        elif column.dtype.kind == "f":
            assert np.array_equal(frame[name].to_numpy(), column, equal_nan=True), name
        elif column.dtype.kind == "M":
            got = frame[name].to_numpy().astype("datetime64[D]")
            assert np.array_equal(got.view(np.int64), column.view(np.int64)), name
        else:
            assert frame[name].tolist() == column.tolist(), name


@pytest.mark.benchmark
def test_benchmark_claims_runs_with_sane_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    monkeypatch.setenv("CI", "true")
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_claims.py"
    spec = importlib.util.spec_from_file_location("bench_claims", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    figures = module.main()
    assert figures["n_claims"] == 20_000
    assert 19_900 <= figures["claims_read"] < 20_000 and figures["errors"] == 20_000 - figures["claims_read"]
    assert all(v > 0 for v in figures["claims_per_second"].values())
    assert os.environ["CI"] == "true"


def test_x12_835_is_read_through_edi(tmp_path: Path) -> None:
    from edi.writer import write_835

    rows = [
        remit("Y1"),
        remit(
            "Y2",
            paid=0,
            outcome="denied",
            adjustments=[{"level": "line", "group": "CO", "reason": "16", "amount": 100}],
        ),
    ]
    write_835(rows, tmp_path / "remits.txt")
    (tmp_path / "more.jsonl").write_text(json.dumps(remit("Y3")) + "\n")
    result = load_remits(tmp_path)
    assert result.errors == []
    assert result.rows["claim_id"].tolist() == ["Y3", "Y1", "Y2"]  # more.jsonl sorts before remits.txt
    assert result.rows["outcome"].tolist()[1:] == ["paid", "denied"]
    assert result.rows["source_order"].tolist() == [0, 1, 2]
