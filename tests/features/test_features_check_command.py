"""``claimrisk check``: one line per claim in input order, errors in place, exit codes 0/1/2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from claimrisk.cli import main
from claims.errors import InputError
from features.commands import check
from features.version import rules_version
from reference.store import load_reference


def _write(path: Path, rows: list[Any]) -> None:
    path.write_bytes(b"\n".join(r if isinstance(r, bytes) else orjson.dumps(r) for r in rows) + b"\n")


def test_all_good_exit_zero(kit: Any, tmp_path: Path) -> None:
    claims = kit.random_claims(30, seed=2)
    _write(tmp_path / "in.jsonl", claims)
    assert check(input_path=tmp_path / "in.jsonl", output_path=tmp_path / "out.jsonl") == 0
    rows = [orjson.loads(line) for line in (tmp_path / "out.jsonl").read_bytes().splitlines()]
    assert [r["claim_id"] for r in rows] == [c["claim_id"] for c in claims]
    assert all(r["rules_version"] == rules_version() for r in rows)
    assert all(r["reference_data_version"] == load_reference().version for r in rows)
    expected = kit.run_rules(*claims).results()
    assert [r["rules"] for r in rows] == expected


def test_bad_records_reported_in_place(kit: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = kit.make_claim(claim_id="GOOD1")
    unknown_field = kit.make_claim(claim_id="BAD1", surprise=1)
    _write(tmp_path / "in.jsonl", [good, unknown_field, b"{not json", kit.make_claim(claim_id="GOOD2")])
    assert main(["check", "--input", str(tmp_path / "in.jsonl"), "--output", str(tmp_path / "out.jsonl")]) == 1
    rows = [orjson.loads(line) for line in (tmp_path / "out.jsonl").read_bytes().splitlines()]
    assert [r.get("claim_id") for r in rows] == ["GOOD1", "BAD1", None, "GOOD2"]
    assert rows[0]["rules"] == [] and "error" in rows[1] and "error" in rows[2] and "rules" in rows[3]
    err = capsys.readouterr().err
    assert "line 2" in err and "line 3" in err
    assert "EXAMPLEMAB" not in err and "M06.9" not in err  # no claim content on stderr


def test_missing_input_is_exit_two(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        check(input_path=tmp_path / "nope.jsonl", output_path=tmp_path / "out.jsonl")
    assert main(["check", "--input", str(tmp_path / "nope.jsonl"), "--output", str(tmp_path / "o.jsonl")]) == 2
