"""``claimrisk score`` on a large JSONL file: read and scored in parts by forked workers, the
worklist and the rejected records are exactly what one process gives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

import serving.worklist as worklist
from claims import parallel


def _input(history_dir: Path, path: Path, copies: int = 1) -> Path:
    lines = (history_dir / "claims.jsonl").read_text().splitlines()
    rows: list[str] = []
    for copy in range(copies):
        for k, line in enumerate(lines):
            claim = json.loads(line)
            claim["claim_id"] = f"{claim['claim_id']}-{copy}"
            rows.append(json.dumps(claim))
            if copy == 0 and k == 40:
                broken = dict(claim, claim_id="BROKEN1", lines=[dict(claim["lines"][0], units="three")])
                rows.append(json.dumps(broken))
                rows.append("{not json")
                rows.append("")  # a blank line is skipped, not a record
    path.write_text("\n".join(rows) + "\n")
    return path


def _score(
    source: Path, out: Path, workers: int, models_dir: Path, monkeypatch: pytest.MonkeyPatch, fixes: bool = False
) -> int:
    from serving.commands import score

    monkeypatch.setenv("CLAIMRISK_MODELS_DIR", str(models_dir))
    monkeypatch.setenv(worklist.WORKERS_ENV, str(workers))
    return score(input_path=source, output_path=out, threshold=None, fixes=fixes)


def test_parts_in_workers_give_the_worklist_of_one_process(
    models_dir: Path, history_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = _input(history_dir, tmp_path / "claims.jsonl")
    assert _score(source, tmp_path / "one.csv", 1, models_dir, monkeypatch) == 1
    err_one = capsys.readouterr().err

    monkeypatch.setattr(parallel, "MIN_FILE_BYTES", 0)
    monkeypatch.setattr(worklist, "PART_BYTES", 200_000)  # many parts, each a few hundred claims
    calls: list[int] = []
    in_parts = worklist._score_in_parts

    def counted(*args: Any) -> Any:
        calls.append(args[3])  # (scorer, file, threshold, workers, fixes)
        return in_parts(*args)

    monkeypatch.setattr(worklist, "_score_in_parts", counted)
    assert _score(source, tmp_path / "two.csv", 2, models_dir, monkeypatch) == 1
    err_two = capsys.readouterr().err
    assert calls == [2]  # the parallel path ran, with two workers
    assert (tmp_path / "two.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
    errors_one = [line for line in err_one.splitlines() if not line.startswith("claimrisk score:")]
    errors_two = [line for line in err_two.splitlines() if not line.startswith("claimrisk score:")]
    assert errors_one == errors_two and len(errors_two) == 2
    assert "line 42" in errors_two[0] and "BROKEN1" in errors_two[0] and "line 43" in errors_two[1]
    assert "three" not in err_two  # positions and reasons, never claim content


def test_a_small_file_or_one_worker_stays_in_process(
    models_dir: Path, history_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _input(history_dir, tmp_path / "claims.jsonl")

    def refused(*args: Any) -> Any:
        raise AssertionError("a file below parallel.MIN_FILE_BYTES must not be split")

    monkeypatch.setattr(worklist, "_score_in_parts", refused)
    assert source.stat().st_size < parallel.MIN_FILE_BYTES
    assert _score(source, tmp_path / "w.parquet", 2, models_dir, monkeypatch) == 1
    assert pq.read_table(tmp_path / "w.parquet").num_rows == 4000 + 0  # the broken records are not rows
    with pytest.raises(worklist.InputError, match="whole number"):
        _score(source, tmp_path / "w.parquet", "two", models_dir, monkeypatch)  # type: ignore[arg-type]


@pytest.mark.slow
def test_the_cli_scores_a_large_file_in_workers(models_dir: Path, history_dir: Path, tmp_path: Path) -> None:
    """Through the real command: a file over the parallel threshold, parts of more than 2,048 claims
    (LightGBM predicts those on threads; the forked workers must use one, or the predict hangs)."""
    source = _input(history_dir, tmp_path / "claims.jsonl", copies=3)
    assert source.stat().st_size >= parallel.MIN_FILE_BYTES
    env = {**os.environ, "CLAIMRISK_MODELS_DIR": str(models_dir), worklist.WORKERS_ENV: "2"}
    out = tmp_path / "w.parquet"
    run = subprocess.run(
        [sys.executable, "-m", "claimrisk", "score", "--input", str(source), "--output", str(out)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 1, run.stderr[-3000:]
    table = pq.read_table(out)
    assert table.num_rows == 3 * 4000
    assert len(set(table.column("claim_id").to_pylist())) == 3 * 4000
    assert "2 records rejected" in run.stderr


def test_fix_columns_in_workers_are_those_of_one_process(
    models_dir: Path, history_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _input(history_dir, tmp_path / "claims.jsonl")
    assert _score(source, tmp_path / "one.parquet", 1, models_dir, monkeypatch, fixes=True) == 1
    monkeypatch.setattr(parallel, "MIN_FILE_BYTES", 0)
    monkeypatch.setattr(worklist, "PART_BYTES", 200_000)
    assert _score(source, tmp_path / "two.parquet", 2, models_dir, monkeypatch, fixes=True) == 1
    import pyarrow.parquet as pq

    one, two = pq.read_table(tmp_path / "one.parquet"), pq.read_table(tmp_path / "two.parquet")
    assert one.column_names == [*worklist.COLUMNS, *worklist.FIX_COLUMNS]
    assert one.equals(two)
