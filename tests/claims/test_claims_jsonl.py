"""The Arrow JSONL reader against the pydantic reference path: same claims, values and errors."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from claims.columnar import ClaimFrame, from_claims
from claims.errors import InputError
from claims.jsonl import ClaimReadResult, read_claims_jsonl, read_claims_jsonl_pydantic
from claims.model import Claim

HCPCS = ["J3490", "J3590", "J9999", "C9399", "96413", "J1745"]
UNICODE = ["é", "ü", "中文", "😀", "Ω", "\u00a0", "\\", '"', "}{", "\t"]


def random_claim(rng: random.Random, claim_id: str) -> dict[str, Any]:
    """A valid claim exercising optional fields, nulls, ints for floats, unicode and sizes."""
    institutional = rng.random() < 0.2
    n_lines = rng.choice([1, 1, 2, 3, 4, 50] + ([51, 120] if institutional else []))
    claim: dict[str, Any] = {"claim_id": claim_id, "payer": {"id": f"P{rng.randrange(20)}"}}
    if institutional or rng.random() < 0.5:
        claim["claim_type"] = "institutional" if institutional else "professional"
    maybe = rng.random
    if maybe() < 0.5:
        claim["frequency_code"] = rng.choice("178")
    if maybe() < 0.6:
        claim["payer"]["type"] = rng.choice(["medicare", "medicaid", "commercial", "other"])
    if maybe() < 0.5:
        claim["payer"]["name"] = rng.choice(
            [None, "EXAMPLE PLAN", "Plan " + rng.choice(UNICODE) * rng.randrange(1, 4)]
        )
    if maybe() < 0.7:
        claim["billing_provider_npi"] = rng.choice([None, "1234567893", "0000000000"])
    if maybe() < 0.5:
        claim["place_of_service"] = rng.choice([None, "11", "22", "1"])
    if institutional and maybe() < 0.7:
        claim["type_of_bill"] = rng.choice(["131", "0131", None])
    if maybe() < 0.8:
        claim["total_charge"] = rng.choice(
            [None, 0, 1250, 99.99, 1e10, -5.5, rng.uniform(0, 1e6), 1e-303, 0.1 + 0.2]
        )
    if maybe() < 0.8:
        claim["diagnosis_codes"] = [
            rng.choice(["M06.9", "Z79.899", "C50912", "E11.9"]) for _ in range(rng.randrange(0, 26))
        ]
    if maybe() < 0.3:
        claim["prior_authorization"] = rng.choice([None, "PA778899"])
    if maybe() < 0.4:
        claim["attachments"] = [
            {
                "report_type": rng.choice(["OZ", "04", "A"]),
                "transmission": rng.choice(["FX", "EL", "BM"]),
                **({"control_number": rng.choice([None, "INV1", ""])} if maybe() < 0.7 else {}),
                **({"line_number": rng.choice([None, 1, 2, 999])} if maybe() < 0.6 else {}),
            }
            for _ in range(rng.randrange(0, 11))
        ]
    if maybe() < 0.3:
        claim["note"] = rng.choice([None, "", "x" * 80, "é" * 80, "note " + rng.choice(UNICODE)])
    if maybe() < 0.8:
        claim["submission_date"] = rng.choice(["2026-01-15", "2024-02-29", "0001-01-01", "9999-12-31"])
    numbers = rng.sample(range(1, 1000), n_lines) if maybe() < 0.3 else list(range(1, n_lines + 1))
    claim["lines"] = [random_line(rng, number) for number in numbers]
    return claim


def random_line(rng: random.Random, number: int) -> dict[str, Any]:
    maybe = rng.random
    line: dict[str, Any] = {"line_number": number, "procedure_code": rng.choice(HCPCS)}
    if maybe() < 0.5:
        line["modifiers"] = rng.sample(["JW", "JZ", "59", "25", "X"], rng.randrange(0, 5))
    if maybe() < 0.6:
        line["description"] = rng.choice(
            [None, "EXAMPLEMAB 100MG IV", "", "ü" * 80, "desc " + rng.choice(UNICODE)]
        )
    for name in ("charge", "units"):
        if maybe() < 0.8:
            line[name] = rng.choice(
                [None, 0, 1, 3, 1250.0, 0.5, rng.uniform(-10, 1e5), 123456789.123456789, -0.0]
            )
    if maybe() < 0.4:
        line["unit_basis"] = rng.choice(["UN", "ML", "F2"])
    if maybe() < 0.7:
        line["service_date"] = rng.choice([None, "2026-01-10", "2025-12-31", "2024-02-29"])
    if maybe() < 0.6:
        line["diagnosis_pointers"] = [rng.randint(-99, 99) for _ in range(rng.randrange(0, 13))]
    for name, values in (
        ("revenue_code", [None, "0636", "250"]),
        ("prior_authorization", [None, "PA1"]),
        ("note", [None, "EXAMPLEMAB 100MG/10ML VIAL", "n" * 80]),
        ("line_control_number", [None, f"L{number}"]),
    ):
        if maybe() < 0.3:
            line[name] = rng.choice(values)
    if maybe() < 0.6:
        drug: dict[str, Any] = {}
        for name, values in (
            ("ndc", [None, "99999-0123-01", "12345678901", "123", "x" * 48]),
            ("quantity", [None, 20, 0.5, 1e10, -1]),
            ("unit", [None, "ML", "UN", "XX", "ABCDEFGH"]),
            ("prescription_number", [None, "RX1"]),
            ("link_sequence", [None, "1"]),
        ):
            if maybe() < 0.6:
                drug[name] = rng.choice(values)
        line["drug"] = rng.choice([drug, drug, None])
    return line


def bad_records(rng: random.Random) -> list[bytes]:
    """Records of every kind pydantic (or the JSON parser) rejects, and a few odd ones it accepts."""
    good = random_claim(rng, "ODD")

    def variant(**changes: Any) -> bytes:
        data = json.loads(json.dumps(good))
        data.update(changes)
        return orjson.dumps(data)

    def line_variant(**changes: Any) -> bytes:
        data = json.loads(json.dumps(good))
        data["lines"][0].update(changes)
        return orjson.dumps(data)

    too_many = [{"line_number": i, "procedure_code": "J3490"} for i in range(1, 52)]
    return [
        b"{bad",
        b'{"claim_id": "T", "payer": {"id": "P"}, "lines": [',
        b"{}",
        b"[1, 2]",
        b"3",
        b'"a string"',
        b"null",
        b'{"claim_id": "NAN", "payer": {"id": "P"}, "total_charge": NaN, "lines": [{"line_number": 1, "procedure_code": "J"}]}',
        b'{"claim_id": "INF", "payer": {"id": "P"}, "total_charge": Infinity, "lines": [{"line_number": 1, "procedure_code": "J"}]}',
        b'{"claim_id": "UTF", "payer": {"id": "P", "name": "\xff\xfe"}, "lines": [{"line_number": 1, "procedure_code": "J"}]}',
        b'{"claim_id": "TWO", "payer": {"id": "P"}, "lines": [{"line_number": 1, "procedure_code": "J"}]}{"claim_id": "TWO2", "payer": {"id": "P"}, "lines": [{"line_number": 1, "procedure_code": "J"}]}',
        b'{"claim_id": "DUP", "claim_id": "DUP2", "payer": {"id": "P"}, "lines": [{"line_number": 1, "procedure_code": "J"}]}',
        b'{"\\u0063laim_type": null, "claim_id": "ESC", "payer": {"id": "P"}, "lines": [{"line_number": 1, "procedure_code": "J"}]}',
        b'{"claim_id": "ESC2", "payer": {"\\u0069d": "P"}, "lines": [{"line_number": 1, "procedure_code": "J"}]}',
        b'{"claim_id": "SURR", "payer": {"id": "P", "name": "\\ud83d\\ude00"}, "lines": [{"line_number": 1, "procedure_code": "J"}]}',
        b'{"claim_id": "LONE", "payer": {"id": "P", "name": "\\udc00"}, "lines": [{"line_number": 1, "procedure_code": "J"}]}',
        b'  {"claim_id": "INDENT", "payer": {"id": "P"}, "lines": [{"line_number": 1, "procedure_code": "J"}]}',
        b'{"claim_id": "CR", "payer": {"id": "P"}, "lines": [{"line_number": 1, "procedure_code": "J"}]}\r',
        b'{"claim_id": "BIGINT", "payer": {"id": "P"}, "lines": [{"line_number": 99999999999999999999, "procedure_code": "J"}]}',
        b'{"claim_id": "BIGNUM", "payer": {"id": "P"}, "total_charge": 1e400, "lines": [{"line_number": 1, "procedure_code": "J"}]}',
        variant(colour="red"),
        variant(payer={"id": "P", "colour": "red"}),
        line_variant(colour="red"),
        line_variant(drug={"ndc": "1", "colour": "red"}),
        variant(attachments=[{"report_type": "OZ", "transmission": "FX", "colour": "red"}]),
        variant(claim_id=123),
        variant(claim_id=None),
        variant(claim_id=""),
        variant(claim_id="x" * 39),
        variant(claim_id="é" * 38),
        variant(claim_type=None),
        variant(claim_type="dental"),
        variant(frequency_code=None),
        variant(frequency_code="12"),
        variant(payer="P"),
        variant(payer=None),
        variant(payer={"id": "P", "type": None}),
        variant(payer={"id": "P", "type": "medicare"}),
        variant(payer={"id": "P", "type": "Medicare"}),
        variant(payer={"id": ""}),
        variant(payer={"name": "no id"}),
        variant(billing_provider_npi="123456789"),
        variant(billing_provider_npi="123456789a"),
        variant(billing_provider_npi="١٢٣٤٥٦٧٨٩٠"),
        variant(billing_provider_npi=1234567893),
        variant(place_of_service=""),
        variant(type_of_bill="13"),
        variant(total_charge="12.5"),
        variant(total_charge=True),
        variant(total_charge=1e11),
        variant(total_charge=-1e10),
        variant(diagnosis_codes=None),
        variant(diagnosis_codes="M06.9"),
        variant(diagnosis_codes=["M06.9", None]),
        variant(diagnosis_codes=["M06.9", ""]),
        variant(diagnosis_codes=["M06.9123"]),
        variant(diagnosis_codes=["M06.91234"]),
        variant(diagnosis_codes=["A"] * 26),
        variant(diagnosis_codes=[]),
        variant(attachments=None),
        variant(attachments=[{"report_type": "OZ", "transmission": "FX", "line_number": 0}]),
        variant(attachments=[{"report_type": "OZ", "transmission": "FX", "line_number": 1000}]),
        variant(attachments=[{"report_type": "OZ", "transmission": "FX", "line_number": 1.0}]),
        variant(attachments=[{"report_type": "OZX", "transmission": "FX"}]),
        variant(attachments=[{"transmission": "FX"}]),
        variant(attachments=[{"report_type": "OZ", "transmission": "FX"}] * 11),
        variant(attachments=[None]),
        variant(note="x" * 81),
        variant(note="é" * 81),
        variant(note=5),
        variant(submission_date=None),
        variant(submission_date="2023-02-29"),
        variant(submission_date="2024-1-01"),
        variant(submission_date="0000-01-01"),
        variant(submission_date="20240101"),
        variant(submission_date=20240101),
        variant(submission_date="2024-01-01T00:00:00"),
        variant(submission_date="2024-01-01\n"),
        variant(submission_date="٢٠٢٤-01-01"),
        variant(lines=None),
        variant(lines=[]),
        variant(lines={}),
        variant(lines=[None]),
        variant(lines=too_many),
        variant(lines=too_many, claim_type="institutional"),
        variant(lines=[{"line_number": 1, "procedure_code": "J"}, {"line_number": 1, "procedure_code": "K"}]),
        line_variant(line_number=1.0),
        line_variant(line_number="1"),
        line_variant(line_number=True),
        line_variant(line_number=0),
        line_variant(line_number=1000),
        line_variant(line_number=None),
        line_variant(procedure_code=""),
        line_variant(procedure_code="x" * 49),
        line_variant(procedure_code=None),
        line_variant(modifiers=None),
        line_variant(modifiers=["JW", None]),
        line_variant(modifiers=["JWX"]),
        line_variant(modifiers=[""]),
        line_variant(modifiers=["A", "B", "C", "D", "E"]),
        line_variant(modifiers="JW"),
        line_variant(description="d" * 81),
        line_variant(charge="1"),
        line_variant(charge=False),
        line_variant(charge=float("nan")),
        line_variant(units=[1]),
        line_variant(units=1e10 + 1),
        line_variant(unit_basis=None),
        line_variant(unit_basis=""),
        line_variant(unit_basis="UNX"),
        line_variant(service_date="2026-13-01"),
        line_variant(service_date=""),
        line_variant(diagnosis_pointers=None),
        line_variant(diagnosis_pointers=[1.5]),
        line_variant(diagnosis_pointers=[100]),
        line_variant(diagnosis_pointers=[-100]),
        line_variant(diagnosis_pointers=[1] * 13),
        line_variant(diagnosis_pointers=[True]),
        line_variant(diagnosis_pointers=[None]),
        line_variant(revenue_code="06361"),
        line_variant(drug=[]),
        line_variant(drug="NDC"),
        line_variant(drug={}),
        line_variant(drug={"ndc": "x" * 49}),
        line_variant(drug={"quantity": "20"}),
        line_variant(drug={"unit": "ABCDEFGHI"}),
        line_variant(drug={"quantity": float("inf")}),
        line_variant(note="}{"),
        line_variant(note='"type": null'),
    ]


def write_mixture(path: Path, n_good: int, seed: int) -> None:
    rng = random.Random(seed)
    bad = bad_records(rng)
    out: list[bytes] = []
    for i in range(n_good):
        claim = random_claim(rng, f"C{i:06d}")
        style = rng.random()
        if style < 0.15:
            out.append(json.dumps(claim).encode())  # spaces and \u escapes
        elif style < 0.2:
            out.append(json.dumps(claim, ensure_ascii=False, indent=None, separators=(" , ", " : ")).encode())
        else:
            out.append(orjson.dumps(claim))
        if rng.random() < 0.08:
            out.append(rng.choice(bad))
        if rng.random() < 0.01:
            out.append(rng.choice([b"", b"   ", b"\t", b"\r"]))
    out.extend(bad)
    path.write_bytes(b"\n".join(out))  # no final newline on purpose


def assert_same_result(fast: ClaimReadResult, reference: ClaimReadResult) -> None:
    assert [str(e) for e in fast.errors] == [str(e) for e in reference.errors]
    assert fast.positions.tolist() == reference.positions.tolist()
    assert fast.sources.tolist() == reference.sources.tolist()
    assert_same_frame(fast.frame, reference.frame)


def assert_same_frame(left: ClaimFrame, right: ClaimFrame) -> None:
    assert left.n_claims == right.n_claims
    assert left.claim_ids.tolist() == right.claim_ids.tolist()
    for table in ("lines", "diagnoses", "attachments"):
        ours, theirs = getattr(left, table), getattr(right, table)
        assert list(ours) == list(theirs)
        for name in theirs:
            a, b = ours[name], theirs[name]
            assert a.dtype == b.dtype, (table, name, a.dtype, b.dtype)
            if a.dtype.kind == "f":
                assert np.array_equal(a, b, equal_nan=True), (table, name)
            elif a.dtype.kind == "M":
                assert np.array_equal(a.view(np.int64), b.view(np.int64)), (table, name)
            else:
                assert a.tolist() == b.tolist(), (table, name)


@pytest.mark.parametrize("chunk_bytes", [1 << 20, 5000])
def test_arrow_path_equals_pydantic_path(tmp_path: Path, chunk_bytes: int) -> None:
    path = tmp_path / "claims.jsonl"
    write_mixture(path, n_good=3000, seed=7)
    reference = read_claims_jsonl_pydantic(path)
    fast = read_claims_jsonl(path, chunk_bytes=chunk_bytes)
    assert reference.frame.n_claims > 3000  # the odd-but-valid records count too
    assert len(reference.errors) > 150
    assert_same_result(fast, reference)


def test_arrow_frame_equals_from_claims_on_valid_claims(tmp_path: Path) -> None:
    rng = random.Random(3)
    claims = [random_claim(rng, f"V{i}") for i in range(2000)]
    path = tmp_path / "valid.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(c) for c in claims) + b"\n")
    fast = read_claims_jsonl(path)
    assert fast.errors == []
    assert fast.positions.tolist() == list(range(1, 2001))
    assert_same_frame(fast.frame, from_claims([Claim.model_validate(c) for c in claims]))


def test_floats_parse_exactly_like_python(tmp_path: Path) -> None:
    rng = random.Random(11)
    values = [rng.uniform(-1e10, 1e10) for _ in range(3000)] + [
        rng.random() * 10 ** rng.randint(-300, 9) for _ in range(3000)
    ]
    texts = [repr(v) for v in values] + [
        "0.1",
        "1e-7",
        "123456789.123456789123",
        "9999999999.999999",
        "5e-324",
    ]
    lines = [
        f'{{"claim_id": "F{i}", "payer": {{"id": "P"}}, "lines": [{{"line_number": 1, "procedure_code": "J", "charge": {t}}}]}}'
        for i, t in enumerate(texts)
    ]
    path = tmp_path / "floats.jsonl"
    path.write_text("\n".join(lines))
    charges = read_claims_jsonl(path).frame.lines["charge"]
    assert charges.tolist() == [float(t) for t in texts]


def test_errors_carry_line_numbers_and_good_records_survive(tmp_path: Path) -> None:
    good = (
        '{"claim_id": "G%d", "payer": {"id": "P"}, "lines": [{"line_number": 1, "procedure_code": "J3490"}]}'
    )
    lines = [
        good % 1,
        "{not json",
        good % 2,
        "",
        '{"claim_id": "U1", "payer": {"id": "P"}, "lines": [{"line_number": 1, "procedure_code": "J", "x": 1}]}',
        '{"claim_id": "W1", "payer": {"id": "P"}, "lines": [{"line_number": "1", "procedure_code": "J"}]}',
        "{}",
        good % 3,
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = read_claims_jsonl(path)
    assert result.frame.claim_ids.tolist() == ["G1", "G2", "G3"]
    assert result.positions.tolist() == [1, 3, 8]
    assert [str(e) for e in result.errors] == [
        "mixed.jsonl: line 2: invalid JSON: unexpected character, expected a string key at column 2",
        "mixed.jsonl: line 5: claim U1 lines.0.x: Extra inputs are not permitted",
        "mixed.jsonl: line 6: claim W1 lines.0.line_number: Input should be a valid integer",
        "mixed.jsonl: line 7: claim_id: Field required",
    ]


def test_submission_date_defaults_to_today(tmp_path: Path) -> None:
    path = tmp_path / "today.jsonl"
    path.write_text(
        '{"claim_id": "T", "payer": {"id": "P"}, "lines": [{"line_number": 1, "procedure_code": "J"}]}\n'
    )
    frame = read_claims_jsonl(path).frame
    assert frame.lines["submission_date"][0] == np.datetime64(
        Claim.model_validate(
            {"claim_id": "T", "payer": {"id": "P"}, "lines": [{"line_number": 1, "procedure_code": "J"}]}
        ).submission_date,
        "D",
    )


def test_empty_file_and_missing_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"\n\n")
    result = read_claims_jsonl(empty)
    assert result.frame.n_claims == 0 and result.errors == [] and result.positions.size == 0
    with pytest.raises(InputError, match="no such file"):
        read_claims_jsonl(tmp_path / "missing.jsonl")


def test_few_claims_frames_equal_a_slice_of_many() -> None:
    """A handful of claims (an API request, or the requests batched into one model call) gives the
    columns, dtypes and values ``take`` reads back out of a 400-claim frame, for sizes 1 to 16."""
    rng = random.Random(5)
    claims = [Claim.model_validate(random_claim(rng, f"O{i}")) for i in range(400)]
    general = from_claims(claims)
    start, size = 0, 1
    while start < len(claims):
        rows = list(range(start, min(start + size, len(claims))))
        few = from_claims([claims[k] for k in rows])
        assert_same_frame(few, general.take(rows))
        for table in (few.lines, few.diagnoses, few.attachments):
            assert all(column.ndim == 1 for column in table.values())
        start += size
        size = size % 16 + 1
