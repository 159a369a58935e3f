"""The reader's shortcuts against the slow, obvious forms they replace: date shapes read from the
bytes, dictionary-built string columns, explicit nulls found after the Arrow parse, memory-mapped
chunks of any size. Each must give exactly what the regex / per-row / pydantic form gives."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from claims import arrow_frame, jsonl, model_spec, vector_checks
from claims.jsonl import read_claims_jsonl, read_claims_jsonl_pydantic
from claims.model_spec import CLAIM_SPEC


def _sibling(name: str) -> ModuleType:
    """The Arrow-vs-pydantic helpers of test_claims_jsonl (tests run with --import-mode=importlib)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _date_like(rng: random.Random) -> str | None:
    """Valid dates, and valid dates with one character changed, dropped or added."""
    if rng.random() < 0.05:
        return None
    text = list(f"{rng.randint(0, 9999):04d}-{rng.randint(0, 19):02d}-{rng.randint(0, 39):02d}")
    change = rng.random()
    if change < 0.4:
        text[rng.randrange(10)] = rng.choice("0123456789-/ xT\u0660\u00e9\n")
    elif change < 0.5:
        del text[rng.randrange(10)]
    elif change < 0.6:
        text.insert(rng.randrange(11), rng.choice("0-1 "))
    return "".join(text)


def test_iso_shape_from_bytes_equals_the_regex() -> None:
    rng = random.Random(5)
    values = [_date_like(rng) for _ in range(20_000)] + ["0000-01-01", "0001-01-01", "", "2024-01-01\n"]
    array = pa.array(values, type=pa.string())
    ten_bytes = pa.array([v for v in values if v is None or len(v.encode()) == 10], type=pa.string())  # back to back
    for part in (array, array.slice(7, 5_000), array.slice(19_990), ten_bytes, ten_bytes.slice(11)):
        regex = pc.fill_null(pc.match_substring_regex(part, vector_checks._ASCII_DATE), False)
        year_zero = pc.fill_null(pc.starts_with(part, "0000"), False)
        expected = np.asarray(regex) & ~np.asarray(year_zero)
        assert expected.any() and not expected.all()
        assert vector_checks._iso_shaped(part).tolist() == expected.tolist()
    assert vector_checks._iso_shaped(pa.array([None, None], type=pa.string())).tolist() == [False, False]
    assert vector_checks._iso_shaped(pa.array([], type=pa.string())).tolist() == []


@pytest.mark.parametrize(
    "values",
    [
        ["UN", "ML", None, "UN"] * 500,
        [f"PCN{i}" for i in range(2_000)],
        [None] * 1_990 + ["A"] * 10,  # mostly null
        [None] * 50,  # all null
        [],
        ["é", "中文", "😀", "", "a\x00b"] * 300,
    ],
)
def test_string_columns_equal_a_per_row_conversion(values: list[Any]) -> None:
    array = pa.array(values, type=pa.string())
    for part in (array, array.slice(3)):
        column = arrow_frame._objects(part)
        assert column.dtype == object and column.tolist() == part.to_pylist()
        filled = arrow_frame._objects(part, "UN")
        assert filled.tolist() == ["UN" if v is None else v for v in part.to_pylist()]


def _explicit_null_variants() -> list[bytes]:
    """For every field where null is an error but absence is not: the claim with that field null,
    with it absent, and with its key spelt with an escape; plus strings that merely look alike."""
    base: dict[str, Any] = {
        "claim_id": "N0",
        "payer": {"id": "P", "type": "medicare"},
        "diagnosis_codes": ["M06.9"],
        "attachments": [{"report_type": "OZ", "transmission": "FX", "line_number": 1}],
        "submission_date": "2026-01-15",
        "lines": [
            {"line_number": 1, "procedure_code": "J3490", "modifiers": ["JW"], "unit_basis": "UN",
             "diagnosis_pointers": [1]},
        ],
    }
    out: list[bytes] = []
    names = sorted(model_spec.null_sensitive_names(CLAIM_SPEC))
    assert {"claim_type", "modifiers", "diagnosis_pointers", "submission_date"} <= set(names)
    for k, name in enumerate(names):
        for spelling in ("null", "absent", "escaped"):
            claim = orjson.loads(orjson.dumps(base))
            claim["claim_id"] = f"N{k}{spelling[0]}"
            holders = [claim, claim["payer"], claim["lines"][0], claim["attachments"][0]]
            holder = next((h for h in holders if name in h), claim)
            holder[name] = None
            raw = orjson.dumps(claim)
            if spelling == "absent":
                del holder[name]
                raw = orjson.dumps(claim)
            elif spelling == "escaped":
                raw = raw.replace(f'"{name}":null'.encode(), f'"\\u{ord(name[0]):04x}{name[1:]}":null'.encode(), 1)
            out.append(raw)
    out.append(orjson.dumps({**base, "claim_id": "LOOKALIKE", "note": "claim_type: null } {"}))
    return out


def test_explicit_nulls_are_found_after_the_parse(tmp_path: Path) -> None:
    tests = _sibling("test_claims_jsonl")
    rows = _explicit_null_variants()
    path = tmp_path / "nulls.jsonl"
    path.write_bytes(b"\n".join(rows) + b"\n")
    fast, reference = read_claims_jsonl(path), read_claims_jsonl_pydantic(path)
    tests.assert_same_result(fast, reference)
    n_names = len(model_spec.null_sensitive_names(CLAIM_SPEC))
    assert len(reference.errors) == 2 * n_names  # explicit null, plainly or escaped; absence is fine
    assert "LOOKALIKE" in reference.frame.claim_ids.tolist()


@pytest.mark.parametrize("chunk_bytes", [64, 1_000, 1 << 20])
def test_mapped_chunks_of_any_size(tmp_path: Path, chunk_bytes: int) -> None:
    """Chunks smaller than a line, a BOM, CRLF endings, blank lines and no final newline."""
    tests = _sibling("test_claims_jsonl")
    rng = random.Random(9)
    rows = [orjson.dumps(tests.random_claim(rng, f"M{i}")) for i in range(300)]
    rows[10:10] = [b"", b"   ", b"{broken"]
    path = tmp_path / "mapped.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(rows))
    fast, reference = read_claims_jsonl(path, chunk_bytes=chunk_bytes), read_claims_jsonl_pydantic(path)
    tests.assert_same_result(fast, reference)
    assert fast.frame.n_claims == 300 and [e.position for e in fast.errors] == ["line 13"]


def test_many_chunks_come_back_in_file_order(tmp_path: Path) -> None:
    """Tables turned into frames a chunk at a time, with claims pydantic had to judge (and errors)
    between them, come back in file order with the same values."""
    tests = _sibling("test_claims_jsonl")
    path = tmp_path / "mixture.jsonl"
    tests.write_mixture(path, n_good=1500, seed=21)
    reference = read_claims_jsonl_pydantic(path)
    fast = read_claims_jsonl(path, chunk_bytes=20_000)
    tests.assert_same_result(fast, reference)
    assert len(reference.errors) > 50 and reference.frame.n_claims > 1500


def test_bytes_in_memory_read_like_the_file(tmp_path: Path) -> None:
    """The API's batch reader (no file between) accepts, rejects and values exactly as the file reader."""
    tests = _sibling("test_claims_jsonl")
    path = tmp_path / "mixture.jsonl"
    tests.write_mixture(path, n_good=400, seed=5)
    from_file = read_claims_jsonl(path)
    data = path.read_bytes()
    in_memory = jsonl.read_claims_jsonl_bytes(data.rstrip(b"\n"), source=path.name)  # no final newline either
    tests.assert_same_result(in_memory, from_file)
    assert len(from_file.errors) > 10 and from_file.frame.n_claims >= 400
