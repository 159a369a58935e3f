"""``check`` in worker processes writes byte for byte what one process writes, errors included."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

import features.commands as commands
from claims import parallel
from claims.jsonl import (
    ClaimReadResult,
    jsonl_cuts,
    numbered_parts,
    read_claims_jsonl,
    read_claims_jsonl_part,
)


def _input(kit: Any, path: Path) -> Path:
    claims = kit.random_claims(400, seed=8)
    rows: list[bytes] = [orjson.dumps(c) for c in claims]
    rows[5] = b"{not json"
    rows[150] = orjson.dumps(kit.make_claim(claim_id="BADX", surprise=1))
    rows.insert(300, b"")  # a blank line is skipped, not counted as a claim
    path.write_bytes(b"\xef\xbb\xbf" + b"\n".join(rows))  # BOM, and no newline after the last record
    return path


def _run(path: Path, out: Path, workers: int, monkeypatch: pytest.MonkeyPatch) -> tuple[int, bytes]:
    monkeypatch.setenv(commands.WORKERS_ENV, str(workers))
    monkeypatch.setattr(parallel, "MIN_FILE_BYTES", 0)
    monkeypatch.setattr(commands, "PART_BYTES", 20_000)  # many small parts
    code = commands.check(input_path=path, output_path=out)
    return code, out.read_bytes()


def test_two_workers_equal_one(kit: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    path = _input(kit, tmp_path / "in.jsonl")
    one = _run(path, tmp_path / "one.jsonl", 1, monkeypatch)
    err_one = capsys.readouterr().err
    two = _run(path, tmp_path / "two.jsonl", 2, monkeypatch)
    err_two = capsys.readouterr().err
    assert one == two and one[0] == 1
    assert err_one == err_two and "line 6" in err_two and "2 records rejected" in err_two
    rows = [orjson.loads(line) for line in two[1].splitlines()]
    assert len(rows) == 400 and rows[5] == {"claim_id": None, "error": rows[5]["error"]}
    assert rows[150]["claim_id"] == "BADX" and "error" in rows[150]


def test_worker_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(commands.WORKERS_ENV, "3")
    assert commands.worker_count() == 3
    monkeypatch.setenv(commands.WORKERS_ENV, "0")
    assert commands.worker_count() == 1
    monkeypatch.setenv(commands.WORKERS_ENV, "two")
    with pytest.raises(commands.InputError, match="whole number"):
        commands.worker_count()
    monkeypatch.delenv(commands.WORKERS_ENV)
    assert 1 <= commands.worker_count() <= 8


@pytest.mark.parametrize("n_parts", [1, 2, 7, 1000])
def test_parts_of_a_file_read_like_the_whole(kit: Any, tmp_path: Path, n_parts: int) -> None:
    path = _input(kit, tmp_path / "in.jsonl")
    today = dt.date.today()
    parts = list(numbered_parts(path, jsonl_cuts(path, n_parts)))
    assert parts[0][0] == 0 and parts[-1][1] == path.stat().st_size
    assert all(a[1] == b[0] for a, b in zip(parts, parts[1:], strict=False))
    whole = read_claims_jsonl(path)
    pieced = ClaimReadResult.concat(
        [read_claims_jsonl_part(path, *part, today=today, chunk_bytes=7_000) for part in parts]
    )
    assert np.array_equal(whole.positions, pieced.positions)
    assert [str(e) for e in whole.errors] == [str(e) for e in pieced.errors]
    for name, column in whole.frame.lines.items():
        assert column.tolist() == pieced.frame.lines[name].tolist() or (
            column.dtype.kind == "f" and np.array_equal(column, pieced.frame.lines[name], equal_nan=True)
        ), name
    assert whole.frame.claim_ids.tolist() == pieced.frame.claim_ids.tolist()


def test_parts_are_numbered_lazily_and_an_empty_file_is_one_empty_part(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"a": 1}\n' * 10 + b'{"a": 2}')  # no newline after the last line
    cuts = jsonl_cuts(path, 3)
    numbered = numbered_parts(path, cuts)
    assert next(numbered) == (0, cuts[1], 0)  # the first part needs no counting: handed out at once
    rest = list(numbered)
    assert [p[2] for p in rest] == [cuts[i] // 9 for i in range(1, len(cuts) - 1)]  # 9 bytes a line
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert jsonl_cuts(empty, 4) == [0, 0]
    assert list(numbered_parts(empty, [0, 0])) == [(0, 0, 0)]
