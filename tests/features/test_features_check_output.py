"""``check`` output assembled in Arrow equals the obvious per-claim ``orjson.dumps`` of CONTRACT §5
objects, sorted the obvious way: ids that need escaping, errors in place, several files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from features.commands import check
from features.rules.engine import default_policies, default_reference, evaluate
from features.version import rules_version
from inputs.sources import input_files, load_claims


def _expected(path: Path) -> bytes:
    """What check writes, built one claim at a time: a dict per claim and per error, sorted by
    (file name, record number, claim before error)."""
    reference = default_reference()
    header = {"rules_version": rules_version(default_policies()), "reference_data_version": reference.version}
    records: list[tuple[str, int, int, bytes]] = []
    for file in input_files(path):
        read = load_claims(file)
        fired = evaluate(read.frame, policies=default_policies(), reference=reference)
        for i, claim_id in enumerate(read.frame.claim_ids.tolist()):
            body = {"claim_id": claim_id, "rules": fired.for_claim(i), **header}
            records.append((file.name, int(read.positions[i]), 0, orjson.dumps(body)))
        for error in read.errors:
            body = {"claim_id": error.claim_id, "error": f"{error.position}: {error.reason}"}
            records.append((file.name, int(error.position.split()[-1]), 1, orjson.dumps(body)))
    records.sort(key=lambda r: r[:3])
    return b"".join(r[3] + b"\n" for r in records)


def _write(path: Path, rows: list[Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\n".join(r if isinstance(r, bytes) else orjson.dumps(r) for r in rows) + b"\n")
    return path


@pytest.mark.parametrize("claim_id", ['A"B', "back\\slash", "tab\there", "bell\x07", "DEL\x7f", "é中😀", "/</"])
def test_claim_ids_are_quoted_like_orjson(kit: Any, tmp_path: Path, claim_id: str) -> None:
    claims = kit.random_claims(20, seed=4)
    claims[7]["claim_id"] = claim_id
    path = _write(tmp_path / "in.jsonl", claims)
    assert check(input_path=path, output_path=tmp_path / "out.jsonl") == 0
    written = (tmp_path / "out.jsonl").read_bytes()
    assert written == _expected(path)
    assert orjson.loads(written.splitlines()[7])["claim_id"] == claim_id


def test_folder_with_errors_and_repeated_names(kit: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "batch"
    claims = kit.random_claims(60, seed=6)
    _write(folder / "b.jsonl", [*claims[:20], b"{oops", claims[20]])
    _write(folder / "sub" / "a.jsonl", [b"{}", *claims[21:40]])
    _write(folder / "a.jsonl", [*claims[40:59], kit.make_claim(claim_id="ODD", colour=1)])
    assert check(input_path=folder, output_path=tmp_path / "out.jsonl") == 1
    written = (tmp_path / "out.jsonl").read_bytes()
    assert written == _expected(folder)
    assert written.count(b"\n") == 62 and written.count(b',"error":"') == 3
    assert "3 records rejected" in capsys.readouterr().err


def test_empty_input_writes_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    assert check(input_path=path, output_path=tmp_path / "out.jsonl") == 0
    assert (tmp_path / "out.jsonl").read_bytes() == b""
