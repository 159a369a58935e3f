"""Contract claims from JSONL at Arrow speed, with exactly pydantic's verdicts.

Validating a million claims one by one with pydantic and then pivoting them into columns costs
tens of microseconds per claim; the columnar form is all the later stages want. So large files
are parsed by ``pyarrow.json`` in chunks of lines, the constraints of ``claims.model`` are applied
to whole columns, and only records that fail a vectorized check (or that Arrow cannot parse) are
re-read one by one with orjson + ``Claim.model_validate``, which is the single source of truth
for what is accepted and for the wording of each error.

The vectorized checks are derived from the pydantic model itself (``_ModelSpec``) and are
deliberately conservative: a record they pass must be one pydantic accepts with the same values;
a record they doubt is simply sent to pydantic. Doubtful by construction:

* an explicit ``null`` for a field whose default is not ``None`` (Arrow cannot tell ``null``
  from absent, pydantic rejects the first and defaults the second) -- found by a regex, run after
  the parse and only on the lines where such a field is null to Arrow; a key spelt with escapes
  (it could hide such a name) is found by a regex on every line before the parse;
* lines where two JSON values could share a line (``}{``) -- Arrow would give two rows for one line;
* lines that do not start with ``{``, or that are not valid UTF-8 (Arrow does not check);
* whole Arrow parse failures (malformed JSON, a wrong type, an unknown field fail the whole block):
  the block is bisected until the bad lines are isolated, so one bad record costs a few small
  re-parses instead of a chunk read by pydantic.
"""

from __future__ import annotations

import datetime as dt
import mmap
import re
import types
import typing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import annotated_types
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json
from pydantic import AfterValidator, BaseModel, BeforeValidator, Strict, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from claims import model as claim_model
from claims.columnar import LINE_COLUMNS, ClaimFrame, from_claims
from claims.errors import InputError, RecordError
from claims.model import Claim

CHUNK_BYTES = 16 << 20  # lines are read and parsed in blocks of about this size
ARROW_BLOCK_BYTES = 4 << 20  # pyarrow block size: a few blocks per chunk let it use all cores (1 MiB
# blocks cost a third more CPU in per-block overhead; measured on 238 MB of claims)
MIN_BISECT_LINES = 16  # a failed Arrow parse of this many lines or fewer goes line by line to pydantic
FRAME_BATCH_BYTES = 256 << 20  # Arrow tables held before they become a frame (~500k claims): bounds
# memory while keeping the joins of frames, which copy every column, rare
SPLIT_WAYS = 4  # a failed Arrow parse is retried in this many parts (fewer re-parses than halving)
_JSON_WHITESPACE = b" \t\r\n"
_UTF8_BOM = b"\xef\xbb\xbf"
_OPEN_BRACE = ord("{")


@dataclass(frozen=True)
class ClaimReadResult:
    """Claims read from one or more files.

    ``positions`` is the 1-based record number in its file per claim (the line for JSONL);
    ``sources`` the file name per claim (object array), so a claim can always be traced back.
    """

    frame: ClaimFrame
    errors: list[RecordError]
    positions: np.ndarray
    sources: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))

    @staticmethod
    def concat(results: Sequence[ClaimReadResult]) -> ClaimReadResult:
        if not results:
            return ClaimReadResult(ClaimFrame.empty(), [], np.empty(0, dtype=np.int64))
        if len(results) == 1:  # one file: nothing to join (a copy of every column otherwise)
            return results[0]
        return ClaimReadResult(
            frame=ClaimFrame.concat([r.frame for r in results]),
            errors=[e for r in results for e in r.errors],
            positions=np.concatenate([r.positions for r in results]).astype(np.int64, copy=False),
            sources=np.concatenate([r.sources for r in results]).astype(object, copy=False),
        )


# --------------------------------------------------------------------------------------------
# The model, as data: what each field accepts, read from the pydantic annotations so the
# vectorized checks follow the model when it changes (and refuse to run if it grows a
# constraint they do not know).
# --------------------------------------------------------------------------------------------

_TODAY = "today"  # default marker for submission_date's default_factory
_KNOWN_MODEL_VALIDATORS = {"_line_count_for_claim_type"}


@dataclass(frozen=True)
class _Spec:
    kind: str  # "str" | "enum" | "number" | "int" | "date" | "list" | "struct"
    required: bool = True  # absent (or null) is an error
    nullable: bool = False  # an explicit null is a valid value
    default: Any = None  # the value when absent and not required
    min_len: int | None = None
    max_len: int | None = None
    ge: float | None = None
    le: float | None = None
    pattern: str | None = None
    choices: tuple[str, ...] = ()
    item: _Spec | None = None
    fields: tuple[tuple[str, _Spec], ...] = ()
    unique_line_numbers: bool = False

    def child(self, name: str) -> _Spec:
        return dict(self.fields)[name]


def _unwrap(annotation: Any, metadata: list[Any]) -> tuple[Any, list[Any], bool]:
    """Strip Annotated/Optional layers, collecting constraints; returns (type, metadata, nullable)."""
    nullable = False
    meta = list(metadata)
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            base, *extra = typing.get_args(annotation)
            annotation = base
            meta.extend(extra)
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                raise TypeError(f"claims.jsonl cannot vectorize the union {annotation!r}")
            nullable = True
            annotation = args[0]
        else:
            break
    flat: list[Any] = []
    for item in meta:
        flat.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    return annotation, flat, nullable


def _spec_of(annotation: Any, metadata: list[Any], *, required: bool, default: Any) -> _Spec:
    base, meta, nullable = _unwrap(annotation, metadata)
    values: dict[str, Any] = {}
    strict = False
    validator: Any = None
    unique = False
    for item in meta:
        if isinstance(item, Strict):
            strict = bool(item.strict)
        elif isinstance(item, annotated_types.MinLen):
            values["min_len"] = item.min_length
        elif isinstance(item, annotated_types.MaxLen):
            values["max_len"] = item.max_length
        elif isinstance(item, annotated_types.Ge):
            values["ge"] = item.ge
        elif isinstance(item, annotated_types.Le):
            values["le"] = item.le
        elif isinstance(item, BeforeValidator) and item.func in (
            claim_model._iso_date,
            claim_model._finite_number,
        ):
            validator = item.func
        elif isinstance(item, AfterValidator) and item.func is claim_model._unique_line_numbers:
            unique = True
        elif type(item).__name__ == "_PydanticGeneralMetadata" and set(vars(item)) == {"pattern"}:
            values["pattern"] = item.pattern
        else:
            raise TypeError(f"claims.jsonl cannot vectorize the constraint {item!r}")
    common = {"required": required, "nullable": nullable, "default": default, "unique_line_numbers": unique}
    if typing.get_origin(base) is Literal:
        choices = typing.get_args(base)
        if not all(isinstance(c, str) for c in choices):
            raise TypeError(f"claims.jsonl supports string literals only, not {base!r}")
        return _Spec("enum", choices=tuple(choices), **common, **values)
    # Strict or lax makes no difference here: Arrow only yields a JSON string for a string column
    # and a JSON integer for an int64 one, and both modes accept those unchanged. What lax mode
    # would also accept ("3" for an int) fails the Arrow parse and is judged by pydantic.
    del strict
    if base is str:
        return _Spec("str", **common, **values)
    if base is int:
        return _Spec("int", **common, **values)
    if base is float and validator is claim_model._finite_number:
        return _Spec("number", **common, **values)
    if base is dt.date and validator is claim_model._iso_date:
        return _Spec("date", **common, **values)
    if typing.get_origin(base) is list:
        (item_type,) = typing.get_args(base)
        item = _spec_of(item_type, [], required=True, default=None)
        return _Spec("list", item=item, **common, **values)
    if isinstance(base, type) and issubclass(base, BaseModel) and not values and validator is None:
        return _Spec("struct", fields=_model_fields(base), **common)
    raise TypeError(f"claims.jsonl cannot vectorize the field type {base!r}")


def model_spec(model: type[BaseModel]) -> _Spec:
    """The vectorizable description of a pydantic model; raises TypeError for what it cannot mirror."""
    return _Spec("struct", fields=_model_fields(model))


def _model_fields(model: type[BaseModel]) -> tuple[tuple[str, _Spec], ...]:
    if model.model_config.get("extra") != "forbid":
        raise TypeError(f"{model.__name__} must forbid extra fields for the Arrow schema to match it")
    decorators = model.__pydantic_decorators__
    unknown = set(decorators.model_validators) - _KNOWN_MODEL_VALIDATORS
    if unknown or decorators.field_validators or decorators.validators or decorators.root_validators:
        raise TypeError(f"claims.jsonl does not know the validators of {model.__name__}: {sorted(unknown)}")
    out = []
    for name, info in model.model_fields.items():
        default: Any
        if info.alias not in (None, name):
            raise TypeError(f"claims.jsonl does not support aliases ({model.__name__}.{name})")
        if info.default_factory is claim_model._default_submission_date:
            required, default = False, _TODAY
        elif info.default_factory is not None:
            raise TypeError(f"claims.jsonl does not know the default factory of {model.__name__}.{name}")
        else:
            required = info.default is PydanticUndefined
            default = None if required else info.default
        out.append((name, _spec_of(info.annotation, list(info.metadata), required=required, default=default)))
    return tuple(out)


CLAIM_SPEC = model_spec(Claim)


def _arrow_type(spec: _Spec) -> pa.DataType:
    if spec.kind in ("str", "enum", "date"):
        return pa.string()
    if spec.kind == "number":
        return pa.float64()
    if spec.kind == "int":
        return pa.int64()
    if spec.kind == "list":
        assert spec.item is not None
        return pa.list_(_arrow_type(spec.item))
    return pa.struct([pa.field(name, _arrow_type(child)) for name, child in spec.fields])


def arrow_schema(spec: _Spec) -> pa.Schema:
    return pa.schema([pa.field(name, _arrow_type(child)) for name, child in spec.fields])


CLAIM_SCHEMA = arrow_schema(CLAIM_SPEC)


def _null_sensitive_names(spec: _Spec) -> set[str]:
    """Fields where an explicit null is an error but absence is not (Arrow sees both as null)."""
    names: set[str] = set()
    for name, child in spec.fields:
        if not child.required and not child.nullable:
            names.add(name)
        if child.kind == "struct":
            names |= _null_sensitive_names(child)
        if child.kind == "list" and child.item is not None and child.item.kind == "struct":
            names |= _null_sensitive_names(child.item)
    return names


# Lines Arrow must not read, found by regexes with a literal first character (RE2 then skips to
# that byte: ~40 ms per 238 MB, where one alternation of everything costs half a second).
TWO_VALUES = r"\}\s*\{"  # "}" then "{": a line that may hold two JSON values (two rows to Arrow)
ESCAPED_KEY = r'\\[^"]*"\s*:'  # a key spelt with escapes could hide any name from the null check


def explicit_null_pattern(spec: _Spec) -> str:
    """An explicit null for a field where only absence is allowed (Arrow reads both as null)."""
    names = "|".join(sorted(_null_sensitive_names(spec)))
    return r"(?:" + names + r')"\s*:\s*null'


def doubtful_line_pattern(spec: _Spec) -> str:
    """A line matching this goes straight to pydantic: an explicit null where only absence is
    allowed, a key spelt with escapes (it could hide any name), or "}" then "{" (two values on
    one line). The reader applies the three parts separately (see ``split_chunk``)."""
    return "|".join((explicit_null_pattern(spec), ESCAPED_KEY, TWO_VALUES))


_ASCII_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


# --------------------------------------------------------------------------------------------
# Vectorized validation
# --------------------------------------------------------------------------------------------


def _np_bool(values: pa.Array | pa.ChunkedArray, fill: bool) -> np.ndarray:
    return np.asarray(pc.fill_null(values, fill).to_numpy(zero_copy_only=False), dtype=bool)


def _np_int(values: pa.Array | pa.ChunkedArray, fill: int = 0) -> np.ndarray:
    return np.asarray(pc.fill_null(values, fill).to_numpy(zero_copy_only=False), dtype=np.int64)


def parse_iso_dates(values: pa.Array) -> np.ndarray:
    """ISO ``YYYY-MM-DD`` strings -> datetime64[D]; NaT for null or for anything pydantic would
    refuse (another shape, an impossible day, year 0). Arrow's cast is strict and fast but fails the
    whole array on one bad date; then ``strptime`` (lenient: 2023-02-29 becomes March 1st) plus a
    round trip through ``strftime`` finds the bad ones."""
    good = _iso_shaped(values)
    try:
        days = pc.cast(values, pa.date32())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        stamps = pc.strptime(values, format="%Y-%m-%d", unit="s", error_is_null=True)
        good &= _np_bool(pc.equal(pc.strftime(stamps, format="%Y-%m-%d"), values), False)
        days = pc.cast(stamps, pa.date32())
    out = np.asarray(days.to_numpy(zero_copy_only=False), dtype="datetime64[D]")
    out[~good] = np.datetime64("NaT")
    return out


_DATE_DIGITS = np.array([0, 1, 2, 3, 5, 6, 8, 9])  # "YYYY-MM-DD": digits everywhere but 4 and 7


def _iso_shaped(values: pa.Array) -> np.ndarray:
    """Per value: ``YYYY-MM-DD`` in ASCII digits (``_ASCII_DATE``) and not year 0000; False for
    null. Read from the string bytes directly: ten bytes per value instead of a regex per value."""
    if values.type != pa.string():
        shaped = _np_bool(pc.match_substring_regex(values, _ASCII_DATE), False)
        return shaped & ~_np_bool(pc.starts_with(values, "0000"), False)
    n = len(values)
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[values.offset : values.offset + n + 1]
    good = (np.diff(offsets) == 10) & np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    rows = np.flatnonzero(good)
    if rows.size:
        text = np.frombuffer(values.buffers()[2], dtype=np.uint8)
        starts = offsets[rows]
        if starts[-1] - starts[0] == 10 * (rows.size - 1):  # back to back (nulls take no bytes)
            chars = text[starts[0] : starts[0] + 10 * rows.size].reshape(-1, 10)
        else:
            chars = text[starts[:, None] + np.arange(10)]
        digit = (chars >= ord("0")) & (chars <= ord("9"))
        fine = digit[:, _DATE_DIGITS].all(axis=1) & (chars[:, 4] == ord("-")) & (chars[:, 7] == ord("-"))
        fine &= ~(chars[:, :4] == ord("0")).all(axis=1)
        good[rows[~fine]] = False
    return good


def _flat(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(array, pa.ChunkedArray):
        return array.chunk(0) if array.num_chunks == 1 else array.combine_chunks()
    return array


def _check(
    spec: _Spec,
    values: pa.Array,
    owner: np.ndarray,
    present: np.ndarray,
    bad: np.ndarray,
    maybe_null: np.ndarray | None = None,
) -> None:
    """Mark in ``bad`` (per claim) every claim owning an element that breaks ``spec``.

    ``owner`` is the claim index of each element, ``present`` whether its container exists
    (children of a null drug block are not checked). ``maybe_null`` (per claim) gets the claims
    where a field that must not be an explicit null is null to Arrow (absent or null: only the
    line's text can tell)."""
    is_null = values.is_null().to_numpy(zero_copy_only=False)
    if spec.required:
        bad[owner[present & is_null]] = True
    elif maybe_null is not None and not spec.nullable:
        maybe_null[owner[present & is_null]] = True
    given = present & ~is_null
    if not given.any():
        return
    failed = np.zeros(len(values), dtype=bool)
    if spec.kind == "str":
        length = _np_int(pc.utf8_length(values))
        if spec.min_len is not None:
            failed |= length < spec.min_len
        if spec.max_len is not None:
            failed |= length > spec.max_len
        if spec.pattern is not None:
            # RE2 classes are ASCII-only, a subset of pydantic's Unicode ones: a match here is a
            # match there; anything else is left for pydantic to judge.
            failed |= ~_np_bool(pc.match_substring_regex(values, spec.pattern), False)
    elif spec.kind == "enum":
        failed |= ~_np_bool(pc.is_in(values, value_set=pa.array(spec.choices)), False)
    elif spec.kind in ("number", "int"):
        numbers = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
        with np.errstate(invalid="ignore"):
            if spec.kind == "number":
                failed |= ~(np.abs(numbers) <= claim_model.MAX_MONEY)  # also catches NaN and inf
            if spec.ge is not None:
                failed |= ~(numbers >= spec.ge)
            if spec.le is not None:
                failed |= ~(numbers <= spec.le)
    elif spec.kind == "date":
        failed |= np.isnat(parse_iso_dates(values))
    elif spec.kind == "list":
        length = _np_int(pc.list_value_length(values))
        if spec.min_len is not None:
            failed |= length < spec.min_len
        if spec.max_len is not None:
            failed |= length > spec.max_len
        assert spec.item is not None
        items = pc.list_flatten(values)
        parent = np.asarray(pc.list_parent_indices(values).to_numpy(), dtype=np.int64)
        _check(spec.item, items, owner[parent], given[parent], bad, maybe_null)
        if spec.unique_line_numbers:
            _check_unique_line_numbers(items, owner[parent], bad)
    elif spec.kind == "struct":
        children = values.flatten()
        for (_, child_spec), child_values in zip(spec.fields, children, strict=True):
            _check(child_spec, child_values, owner, given, bad, maybe_null)
    bad[owner[given & failed]] = True


def _check_unique_line_numbers(lines: pa.Array, owner: np.ndarray, bad: np.ndarray) -> None:
    numbers = _np_int(lines.field("line_number"), -1)
    order = np.lexsort((numbers, owner))
    same = (owner[order][1:] == owner[order][:-1]) & (numbers[order][1:] == numbers[order][:-1])
    bad[owner[order][1:][same]] = True


def rows_failing(spec: _Spec, table: pa.Table, maybe_null: np.ndarray | None = None) -> np.ndarray:
    """Per row of a table read with ``arrow_schema(spec)``: does any field constraint fail?

    ``maybe_null`` (per row, optional) is set where a field that must not be an explicit null is
    null to Arrow: only those rows' lines need the text check for ``"name": null``."""
    n = table.num_rows
    bad = np.zeros(n, dtype=bool)
    owner = np.arange(n, dtype=np.int64)
    present = np.ones(n, dtype=bool)
    for name, child in spec.fields:
        _check(child, _flat(table.column(name)), owner, present, bad, maybe_null)
    return bad


def _line_count_fails(table: pa.Table) -> np.ndarray:
    """``Claim._line_count_for_claim_type``, per row."""
    claim_type = pc.fill_null(_flat(table.column("claim_type")), CLAIM_SPEC.child("claim_type").default)
    professional = _np_bool(pc.equal(claim_type, "professional"), False)
    n_lines = _np_int(pc.list_value_length(_flat(table.column("lines"))))
    return professional & (n_lines > claim_model.MAX_LINES_PROFESSIONAL)


# --------------------------------------------------------------------------------------------
# Arrow table -> ClaimFrame
# --------------------------------------------------------------------------------------------


def _objects(values: pa.Array, default: str | None = None) -> np.ndarray:
    """Strings -> object array with None for null.

    A column of few distinct values (payer ids, codes, units, POS...) goes through a dictionary:
    each distinct string becomes one Python object shared by its rows, two to three times cheaper
    to build than a string per row and far smaller to hold. Mostly-null or mostly-distinct columns
    (claim ids, control numbers) are cheaper converted directly."""
    if default is not None:
        values = pc.fill_null(values, default)
    if 2 * values.null_count > len(values) or _mostly_distinct(values):
        out = values.to_numpy(zero_copy_only=False)
        if out.dtype != object:  # an all-null column may come back as float
            column = np.empty(len(out), dtype=object)
            column[:] = [None] * len(out)
            return column
        return out
    encoded = pc.dictionary_encode(values)
    uniques = encoded.dictionary.to_numpy(zero_copy_only=False)
    table = np.empty(len(uniques) + 1, dtype=object)
    table[: len(uniques)] = uniques
    table[-1] = None  # null rows point past the distinct values
    indices = pc.fill_null(encoded.indices, len(uniques)).to_numpy(zero_copy_only=False)
    return table[indices]


_DISTINCT_SAMPLE = 2048


def _mostly_distinct(values: pa.Array) -> bool:
    """Are most of the first non-null values distinct? (A sample: the choice only affects speed.)"""
    sample = values.slice(0, _DISTINCT_SAMPLE).drop_null()
    return 2 * len(pc.unique(sample)) > len(sample)


def _floats(values: pa.Array) -> np.ndarray:
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)


def _struct_children(values: pa.Array, spec: _Spec) -> dict[str, pa.Array]:
    return {name: child for (name, _), child in zip(spec.fields, values.flatten(), strict=True)}


def _default_of(spec: _Spec, name: str) -> str:
    default = spec.child(name).default
    assert isinstance(default, str)
    return default


def frame_from_table(table: pa.Table, today: dt.date | None = None) -> ClaimFrame:
    """Validated claims (every row passed ``_vector_bad``) -> the same columns ``from_claims`` builds."""
    table = table.combine_chunks()
    n = table.num_rows
    col = {name: _flat(table.column(name)) for name in table.column_names}
    payer_spec = CLAIM_SPEC.child("payer")
    line_spec = CLAIM_SPEC.child("lines").item
    assert line_spec is not None
    drug_spec = line_spec.child("drug")
    attachment_spec = CLAIM_SPEC.child("attachments").item
    assert attachment_spec is not None

    payer = _struct_children(col["payer"], payer_spec)
    submission = parse_iso_dates(col["submission_date"])
    submission[np.isnat(submission)] = np.datetime64(today or dt.date.today(), "D")
    n_diagnoses = _np_int(pc.list_value_length(col["diagnosis_codes"]))
    claim_level: dict[str, np.ndarray] = {
        "claim_id": _objects(col["claim_id"]),
        "claim_type": _objects(col["claim_type"], _default_of(CLAIM_SPEC, "claim_type")),
        "frequency_code": _objects(col["frequency_code"], _default_of(CLAIM_SPEC, "frequency_code")),
        "payer_id": _objects(payer["id"]),
        "payer_name": _objects(payer["name"]),
        "payer_type": _objects(payer["type"], _default_of(payer_spec, "type")),
        "billing_provider_npi": _objects(col["billing_provider_npi"]),
        "place_of_service": _objects(col["place_of_service"]),
        "type_of_bill": _objects(col["type_of_bill"]),
        "total_charge": _floats(col["total_charge"]),
        "claim_prior_authorization": _objects(col["prior_authorization"]),
        "claim_note": _objects(col["note"]),
        "submission_date": submission,
        "n_lines": _np_int(pc.list_value_length(col["lines"])),
        "n_diagnoses": n_diagnoses,
    }

    line_values = pc.list_flatten(col["lines"])
    line_claim = np.asarray(pc.list_parent_indices(col["lines"]).to_numpy(), dtype=np.int64)
    line = _struct_children(line_values, line_spec)
    drug = _struct_children(line["drug"], drug_spec)
    pointer_count = _np_int(pc.list_value_length(line["diagnosis_pointers"]))
    pointer_min, pointer_max = _pointer_bounds(line["diagnosis_pointers"], len(line_values))
    service_date = parse_iso_dates(line["service_date"])

    lines: dict[str, np.ndarray] = {"claim_index": line_claim}
    for name, values in claim_level.items():
        lines[name] = values[line_claim]
    lines.update(
        {
            "line_number": _np_int(line["line_number"]),
            "procedure_code": _objects(line["procedure_code"]),
            "modifiers": _objects(pc.binary_join(line["modifiers"], "|"), ""),
            "description": _objects(line["description"]),
            "charge": _floats(line["charge"]),
            "units": _floats(line["units"]),
            "unit_basis": _objects(line["unit_basis"], _default_of(line_spec, "unit_basis")),
            "service_date": service_date,
            "pointer_count": pointer_count,
            "pointer_min": pointer_min,
            "pointer_max": pointer_max,
            "revenue_code": _objects(line["revenue_code"]),
            "line_prior_authorization": _objects(line["prior_authorization"]),
            "line_note": _objects(line["note"]),
            "line_control_number": _objects(line["line_control_number"]),
            "has_drug": np.asarray(line["drug"].is_valid().to_numpy(zero_copy_only=False), dtype=bool),
            "ndc": _objects(drug["ndc"]),
            "drug_quantity": _floats(drug["quantity"]),
            "drug_unit": _objects(drug["unit"]),
            "prescription_number": _objects(drug["prescription_number"]),
            "link_sequence": _objects(drug["link_sequence"]),
        }
    )
    lines = {name: lines[name] for name in LINE_COLUMNS}

    dx_claim = np.asarray(pc.list_parent_indices(col["diagnosis_codes"]).to_numpy(), dtype=np.int64)
    diagnoses = {
        "claim_index": dx_claim,
        "position": _positions_in_list(dx_claim),
        "code": _objects(pc.list_flatten(col["diagnosis_codes"])),
    }
    att_values = pc.list_flatten(col["attachments"])
    att = _struct_children(att_values, attachment_spec)
    attachments = {
        "claim_index": np.asarray(pc.list_parent_indices(col["attachments"]).to_numpy(), dtype=np.int64),
        "line_number": _np_int(att["line_number"], -1),
        "report_type": _objects(att["report_type"]),
        "transmission": _objects(att["transmission"]),
        "control_number": _objects(att["control_number"]),
    }
    return ClaimFrame(
        lines=lines,
        diagnoses=diagnoses,
        attachments=attachments,
        n_claims=n,
        claim_ids=claim_level["claim_id"],
    )


def _positions_in_list(parent: np.ndarray) -> np.ndarray:
    """1-based position of each flattened element within its (sorted, contiguous) parent."""
    if parent.size == 0:
        return np.empty(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, parent[1:] != parent[:-1]])
    first_of = np.repeat(starts, np.diff(np.r_[starts, parent.size]))
    return np.arange(parent.size, dtype=np.int64) - first_of + 1


def _pointer_bounds(pointers: pa.Array, n_lines: int) -> tuple[np.ndarray, np.ndarray]:
    low = np.zeros(n_lines, dtype=np.int64)
    high = np.zeros(n_lines, dtype=np.int64)
    values = _np_int(pc.list_flatten(pointers))
    if values.size:
        parent = np.asarray(pc.list_parent_indices(pointers).to_numpy(), dtype=np.int64)
        starts = np.flatnonzero(np.r_[True, parent[1:] != parent[:-1]])
        low[parent[starts]] = np.minimum.reduceat(values, starts)
        high[parent[starts]] = np.maximum.reduceat(values, starts)
    return low, high


# --------------------------------------------------------------------------------------------
# One record at a time: the reference path and the fallback for doubtful records
# --------------------------------------------------------------------------------------------


def validation_reason(error: ValidationError) -> str:
    """The first pydantic error as ``field.path: message``, never quoting the input (PHI)."""
    first = error.errors(include_url=False, include_input=False, include_context=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


def claim_from_json(raw: bytes, *, source: str, position: str) -> Claim | RecordError:
    """One JSON text -> a validated claim or the reason it cannot be one."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return RecordError(source, position, f"invalid JSON: {exc.msg} at column {exc.colno}")
    return claim_from_object(data, source=source, position=position)


def claim_from_object(data: Any, *, source: str, position: str) -> Claim | RecordError:
    if not isinstance(data, dict):
        return RecordError(source, position, f"expected a JSON object, got {_json_kind(data)}")
    try:
        return Claim.model_validate(data)
    except ValidationError as exc:
        claim_id = data.get("claim_id")
        readable = claim_id if isinstance(claim_id, str) and 0 < len(claim_id) <= 38 else None
        return RecordError(source, position, validation_reason(exc), readable)


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool) or value is None:
        return "a literal"
    return "a number"


def _is_blank(raw: bytes) -> bool:
    return not raw.strip(_JSON_WHITESPACE)


def _line_chunks(path: Path, chunk_bytes: int) -> Iterator[tuple[int, bytes]]:
    """(number of lines before the chunk, chunk of whole lines ending in a newline)."""
    lines_before = 0
    carry = b""
    first = True
    with path.open("rb") as handle:
        while True:
            block = handle.read(chunk_bytes)
            if first:
                first = False
                if block.startswith(_UTF8_BOM):
                    block = block[len(_UTF8_BOM) :]
            if not block:
                if carry:
                    yield lines_before, carry + b"\n"
                return
            data = carry + block if carry else block
            cut = data.rfind(b"\n")
            if cut < 0:
                carry = data
                continue
            chunk, carry = data[: cut + 1], data[cut + 1 :]
            yield lines_before, chunk
            lines_before += chunk.count(b"\n")


def read_claims_jsonl_pydantic(path: Path) -> ClaimReadResult:
    """The reference reader: orjson + ``Claim.model_validate`` + ``from_claims`` per record.

    Kept public because it defines what the Arrow path must reproduce (tests compare the two) and
    because the benchmark measures against it."""
    path = Path(path)
    _require_file(path)
    source = path.name
    claims: list[Claim] = []
    positions: list[int] = []
    errors: list[RecordError] = []
    for lines_before, chunk in _line_chunks(path, CHUNK_BYTES):
        for offset, raw in enumerate(chunk.split(b"\n")[:-1], start=lines_before + 1):
            if _is_blank(raw):
                continue
            result = claim_from_json(raw, source=source, position=f"line {offset}")
            if isinstance(result, RecordError):
                errors.append(result)
            else:
                claims.append(result)
                positions.append(offset)
    return _result(from_claims(claims), errors, np.asarray(positions, dtype=np.int64), source)


def _result(
    frame: ClaimFrame, errors: list[RecordError], positions: np.ndarray, source: str
) -> ClaimReadResult:
    sources = np.empty(frame.n_claims, dtype=object)
    sources[:] = source
    return ClaimReadResult(frame, errors, positions, sources)


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise InputError(f"{path}: no such file")


# --------------------------------------------------------------------------------------------
# The Arrow path
# --------------------------------------------------------------------------------------------


Bytes = bytes | memoryview  # a chunk: a slice of the memory-mapped file, or bytes


@dataclass
class _ChunkLines:
    """A chunk split into lines without copying: a binary Arrow array over the chunk's bytes."""

    chunk: Bytes
    lines: pa.BinaryArray
    offsets: np.ndarray  # int32, len(lines) + 1: line i is chunk[offsets[i]:offsets[i + 1]]
    numbers: np.ndarray  # 1-based line number per line

    @staticmethod
    def split(chunk: Bytes, lines_before: int) -> _ChunkLines:
        buf = np.frombuffer(chunk, dtype=np.uint8)
        ends = np.flatnonzero(buf == 10) + 1
        offsets = np.empty(ends.size + 1, dtype=np.int32)
        offsets[0] = 0
        offsets[1:] = ends
        lines = pa.Array.from_buffers(
            pa.binary(), ends.size, [None, pa.py_buffer(offsets), pa.py_buffer(chunk)]
        )
        numbers = np.arange(lines_before + 1, lines_before + 1 + ends.size, dtype=np.int64)
        return _ChunkLines(chunk, lines, offsets, numbers)

    def raw(self, index: int) -> bytes:
        """Line ``index`` without its newline."""
        return bytes(self.chunk[int(self.offsets[index]) : int(self.offsets[index + 1]) - 1])

    def joined(self, indices: np.ndarray) -> pa.Buffer:
        if indices.size == len(self.lines):
            return pa.py_buffer(self.chunk)
        picked = self.lines.take(pa.array(indices, type=pa.int64()))
        offsets = np.frombuffer(picked.buffers()[1], dtype=np.int32)[
            picked.offset : picked.offset + len(picked) + 1
        ]
        return picked.buffers()[2].slice(int(offsets[0]), int(offsets[-1] - offsets[0]))


@dataclass(frozen=True)
class JsonlShape:
    """What a JSONL file of one pydantic model looks like to the Arrow path."""

    spec: _Spec
    parse_options: pa_json.ParseOptions
    doubtful_line: str
    extra_check: Callable[[pa.Table], np.ndarray] | None = None  # model validators, per row
    explicit_null: str = ""  # explicit_null_pattern(spec); "" matches every line (all doubtful)

    @staticmethod
    def of(model: type[BaseModel], extra_check: Callable[[pa.Table], np.ndarray] | None = None) -> JsonlShape:
        spec = model_spec(model)
        # "infer" rather than "error": an unknown field then does not fail a whole block without
        # saying where; it shows up as an extra column and the lines naming it go to pydantic.
        options = pa_json.ParseOptions(explicit_schema=arrow_schema(spec), unexpected_field_behavior="infer")
        return JsonlShape(spec, options, doubtful_line_pattern(spec), extra_check, explicit_null_pattern(spec))

    def rows_failing(self, table: pa.Table, maybe_null: np.ndarray | None = None) -> np.ndarray:
        bad = rows_failing(self.spec, table, maybe_null)
        if self.extra_check is not None:
            bad |= self.extra_check(table)
        return bad


def _arrow_candidates(chunk: _ChunkLines) -> tuple[np.ndarray, np.ndarray]:
    """Split line indices into (parsed by Arrow, sent to pydantic); blank lines are in neither.

    An explicit null where only absence is allowed is looked for after the parse, and only on the
    rows where such a field is null to Arrow (``_explicit_nulls``), not on every line."""
    n = len(chunk.lines)
    buf = np.frombuffer(chunk.chunk, dtype=np.uint8)
    starts_object = buf[chunk.offsets[:n]] == _OPEN_BRACE
    doubtful = _np_bool(pc.match_substring_regex(chunk.lines, TWO_VALUES), True)
    doubtful |= _np_bool(pc.match_substring_regex(chunk.lines, ESCAPED_KEY), True)
    candidate = starts_object & ~doubtful
    try:
        pa.Array.from_buffers(pa.string(), n, chunk.lines.buffers()).validate(full=True)
    except pa.ArrowInvalid:  # rare: find the lines that are not UTF-8 and let orjson word the error
        for index in np.flatnonzero(candidate):
            try:
                chunk.raw(int(index)).decode("utf-8")
            except UnicodeDecodeError:
                candidate[index] = False
    to_pydantic = [i for i in np.flatnonzero(~candidate) if not _is_blank(chunk.raw(int(i)))]
    return np.flatnonzero(candidate), np.asarray(to_pydantic, dtype=np.int64)


def _explicit_nulls(chunk: _ChunkLines, rows: np.ndarray, maybe_null: np.ndarray, pattern: str) -> np.ndarray:
    """Per parsed row (line ``rows[i]``): does its line spell an explicit null where only absence
    is allowed? Only rows where such a field is null to Arrow (``maybe_null``) can."""
    suspect = np.flatnonzero(maybe_null)
    found = np.zeros(rows.size, dtype=bool)
    if suspect.size:
        text = chunk.lines.take(pa.array(rows[suspect], type=pa.int64()))
        found[suspect] = _np_bool(pc.match_substring_regex(text, pattern), True)
    return found


def _read_json(buffer: pa.Buffer, options: pa_json.ParseOptions, *, single_block: bool) -> pa.Table:
    read_options = (
        pa_json.ReadOptions(use_threads=False, block_size=max(buffer.size + 1, ARROW_BLOCK_BYTES))
        if single_block
        else pa_json.ReadOptions(use_threads=True, block_size=ARROW_BLOCK_BYTES)
    )
    return pa_json.read_json(pa.BufferReader(buffer), read_options=read_options, parse_options=options)


_ROW_HINT = re.compile(r" in row (\d+)$")


def _parse_arrow(
    chunk: _ChunkLines, indices: np.ndarray, options: pa_json.ParseOptions
) -> tuple[list[tuple[pa.Table, np.ndarray]], list[np.ndarray]]:
    """Parse the given lines with Arrow, isolating the lines it cannot parse.

    Returns (tables with the line index of each row, line indices left to pydantic). The first
    attempt uses all cores; after a failure, parts are parsed as one block each, so Arrow's
    error names the failing row ("... in row N") and only that line is set aside. Errors without
    a row (an unexpected field, a float for an integer) are isolated by splitting the part."""
    tables: list[tuple[pa.Table, np.ndarray]] = []
    rest: list[np.ndarray] = []
    pending = [indices]
    single_block = False
    while pending:
        part = pending.pop()
        try:
            table = _read_json(chunk.joined(part), options, single_block=single_block)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            hint = _ROW_HINT.search(str(exc)) if single_block else None
            row = int(hint.group(1)) if hint else -1
            single_block = True
            if 0 <= row < part.size:
                rest.append(part[row : row + 1])
                pending.extend(p for p in (part[:row], part[row + 1 :]) if p.size)
            elif part.size <= MIN_BISECT_LINES:
                rest.append(part)
            else:
                pending.extend(np.array_split(part, min(SPLIT_WAYS, part.size)))
            continue
        if table.num_rows == part.size:
            table, unknown = _known_fields_only(table, options.explicit_schema)
            if unknown:
                named = np.zeros(part.size, dtype=bool)
                for name in unknown:
                    named |= _np_bool(pc.match_substring(chunk.lines.take(pa.array(part)), f'"{name}"'), True)
                rest.append(part[named])
                table, part = table.filter(pa.array(~named)), part[~named]
            tables.append((table, part))
        elif part.size <= MIN_BISECT_LINES:
            rest.append(part)
        else:  # a line held more or fewer than one value: find it by splitting
            pending.extend(np.array_split(part, min(SPLIT_WAYS, part.size)))
    return tables, rest


def _known_fields_only(table: pa.Table, schema: pa.Schema) -> tuple[pa.Table, set[str]]:
    """The table reduced to ``schema``, and the names of the unknown fields Arrow inferred."""
    if table.schema.equals(schema):
        return table, set()
    unknown: set[str] = set(table.column_names) - set(schema.names)
    columns = []
    for target in schema:
        columns.append(_project(_flat(table.column(target.name)), target.type, unknown))
    return pa.Table.from_arrays(columns, schema=schema), unknown


def _project(values: pa.Array, target: pa.DataType, unknown: set[str]) -> pa.Array:
    if values.type.equals(target):
        return values
    if pa.types.is_struct(target):
        present = {values.type.field(i).name for i in range(values.type.num_fields)}
        unknown |= present - {f.name for f in target}
        children = [_project(values.field(f.name), f.type, unknown) for f in target]
        return pa.StructArray.from_arrays(children, fields=list(target), mask=values.is_null())
    if pa.types.is_list(target):
        return pa.ListArray.from_arrays(
            values.offsets,
            _project(values.values, target.value_type, unknown),
            type=target,
            mask=values.is_null(),
        )
    raise pa.ArrowTypeError(f"unexpected type {values.type} for {target}")


def split_chunk(chunk: _ChunkLines, shape: JsonlShape) -> tuple[pa.Table | None, np.ndarray, np.ndarray]:
    """(table of the rows Arrow read and the model accepts, their line indices, line indices
    left for pydantic in ascending order)."""
    arrow_lines, doubtful_lines = _arrow_candidates(chunk)
    pydantic_lines = [doubtful_lines]
    table: pa.Table | None = None
    rows = np.empty(0, dtype=np.int64)
    if arrow_lines.size:
        parsed, unparsed = _parse_arrow(chunk, arrow_lines, shape.parse_options)
        pydantic_lines.extend(unparsed)
        if parsed:
            table = pa.concat_tables([t for t, _ in parsed]).combine_chunks()
            rows = np.concatenate([r for _, r in parsed])
            if rows.size > 1 and np.any(rows[1:] < rows[:-1]):
                order = np.argsort(rows, kind="stable")
                table, rows = table.take(pa.array(order)), rows[order]
            maybe_null = np.zeros(rows.size, dtype=bool)
            bad = shape.rows_failing(table, maybe_null)
            bad |= _explicit_nulls(chunk, rows, maybe_null & ~bad, shape.explicit_null)
            if bad.any():
                pydantic_lines.append(rows[bad])
                table = table.filter(pa.array(~bad))
                rows = rows[~bad]
    return table, rows, np.sort(np.concatenate(pydantic_lines))


def line_chunks(path: Path, chunk_bytes: int = CHUNK_BYTES) -> Iterator[_ChunkLines]:
    """The lines of a file in chunks of about ``chunk_bytes`` (BOM dropped, a newline added after
    the last line): slices of the memory-mapped file, so nothing is copied before Arrow parses."""
    path = Path(path)
    _require_file(path)
    yield from _mapped_chunks(path, 0, path.stat().st_size, 0, chunk_bytes)


def _mapped_chunks(path: Path, start: int, stop: int, lines_before: int, chunk_bytes: int) -> Iterator[_ChunkLines]:
    """Chunks of whole lines of bytes ``start:stop`` of a file; line numbers count from ``lines_before``."""
    if stop <= start:
        return
    with path.open("rb") as handle:
        data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    # No close(): the chunks handed out are views of the map, which lives as long as they do.
    view = memoryview(data)
    if start == 0 and data[: len(_UTF8_BOM)] == _UTF8_BOM:
        start = len(_UTF8_BOM)
    offset = start
    while offset < stop:
        cut = data.rfind(b"\n", offset, min(offset + chunk_bytes, stop))
        if cut < 0:
            cut = data.find(b"\n", offset + chunk_bytes, stop)
        piece: Bytes = view[offset : cut + 1] if cut >= 0 else bytes(view[offset:stop]) + b"\n"
        chunk = _ChunkLines.split(piece, lines_before)
        lines_before += len(chunk.lines)
        offset = cut + 1 if cut >= 0 else stop
        yield chunk


CLAIM_SHAPE = JsonlShape.of(Claim, extra_check=_line_count_fails)


class _ClaimCollector:
    """Claims of one file as its chunks are read: Arrow tables are kept and turned into a frame a
    batch at a time (fewer, larger conversions and concatenations than one per chunk), claims
    pydantic had to judge are kept as objects; ``result`` puts both back into file order."""

    def __init__(self, source: str, today: dt.date) -> None:
        self.source = source
        self.today = today
        self.frames: list[ClaimFrame] = []
        self.positions: list[np.ndarray] = []
        self.tables: list[pa.Table] = []
        self.table_positions: list[np.ndarray] = []
        self.table_bytes = 0
        self.claims: list[Claim] = []
        self.claim_positions: list[int] = []
        self.errors: list[RecordError] = []

    def add(self, chunk: _ChunkLines) -> None:
        table, table_lines, one_by_one = split_chunk(chunk, CLAIM_SHAPE)
        if table is not None and table.num_rows:
            self.tables.append(table)
            self.table_positions.append(chunk.numbers[table_lines])
            self.table_bytes += table.nbytes
            if self.table_bytes >= FRAME_BATCH_BYTES:
                self._flush_tables()
        for index in one_by_one:
            number = int(chunk.numbers[index])
            result = claim_from_json(chunk.raw(int(index)), source=self.source, position=f"line {number}")
            if isinstance(result, RecordError):
                self.errors.append(result)
            else:
                self.claims.append(result)
                self.claim_positions.append(number)

    def _flush_tables(self) -> None:
        if self.tables:
            self.frames.append(frame_from_table(pa.concat_tables(self.tables), self.today))
            self.positions.append(np.concatenate(self.table_positions))
            self.tables, self.table_positions, self.table_bytes = [], [], 0

    def result(self) -> ClaimReadResult:
        self._flush_tables()
        frames, positions = self.frames, self.positions
        if self.claims:
            frames = [*frames, from_claims(self.claims)]
            positions = [*positions, np.asarray(self.claim_positions, dtype=np.int64)]
        if not frames:
            return _result(ClaimFrame.empty(), self.errors, np.empty(0, dtype=np.int64), self.source)
        frame = frames[0] if len(frames) == 1 else ClaimFrame.concat(frames)
        where = positions[0] if len(positions) == 1 else np.concatenate(positions)
        if self.claims and where.size > 1 and np.any(where[1:] < where[:-1]):
            order = np.argsort(where, kind="stable")
            frame, where = frame.take(order), where[order]
        return _result(frame, self.errors, where, self.source)


def read_claims_jsonl(path: Path, *, chunk_bytes: int = CHUNK_BYTES) -> ClaimReadResult:
    """Claims of a JSONL file (one claim per line; blank lines skipped) in file order.

    Accepts and rejects exactly what ``Claim.model_validate`` does, with the same values; a record
    that cannot be read becomes a ``RecordError`` (``line N``) and the others still go through."""
    path = Path(path)
    _require_file(path)
    collector = _ClaimCollector(path.name, dt.date.today())
    for chunk in line_chunks(path, chunk_bytes):
        collector.add(chunk)
    return collector.result()


def read_claims_jsonl_bytes(data: bytes, *, source: str = "request") -> ClaimReadResult:
    """``read_claims_jsonl`` of JSONL already in memory (an API batch), without a file between:
    the same checks, values and ``line N`` errors."""
    if not data.endswith(b"\n"):
        data += b"\n"
    collector = _ClaimCollector(source, dt.date.today())
    collector.add(_ChunkLines.split(data, 0))
    return collector.result()


def jsonl_cuts(path: Path, n_parts: int) -> list[int]:
    """Byte offsets splitting a JSONL file into about ``n_parts`` ranges at line ends: ``[0, ...,
    size]``, ``[0, 0]`` for an empty file. A few ``find`` calls: cheap, unlike counting lines."""
    path = Path(path)
    _require_file(path)
    size = path.stat().st_size
    if size == 0:
        return [0, 0]
    with path.open("rb") as handle:
        data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        cuts = [0]
        for k in range(1, max(1, n_parts)):
            target = max(size * k // n_parts, cuts[-1])
            newline = data.find(b"\n", target)
            if newline < 0 or newline + 1 >= size:
                break
            if newline + 1 > cuts[-1]:
                cuts.append(newline + 1)
        cuts.append(size)
        return cuts
    finally:
        data.close()


def numbered_parts(path: Path, cuts: list[int]) -> Iterator[tuple[int, int, int]]:
    """(start, stop, lines before start) for each range of ``cuts``, counting each range's lines
    only after yielding it: handed to ``Pool.imap``, the first part is being read by a worker while
    the newlines before the next ones are still being counted (NumPy, a block at a time, on the
    memory-mapped file: a quarter of the cost of reading it into one bytes object)."""
    if cuts[-1] == 0:
        yield (0, 0, 0)
        return
    with Path(path).open("rb") as handle:
        data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        lines_before = 0
        for start, stop in zip(cuts[:-1], cuts[1:], strict=True):
            yield (start, stop, lines_before)
            lines_before += _count_newlines(data, start, stop)
    finally:
        data.close()


def _count_newlines(data: mmap.mmap, start: int, stop: int, block: int = 16 << 20) -> int:
    count = 0
    for offset in range(start, stop, block):
        view = np.frombuffer(data, dtype=np.uint8, count=min(block, stop - offset), offset=offset)
        count += int(np.count_nonzero(view == 10))
        del view  # no export left behind: the map can be closed
    return count


def read_claims_jsonl_part(
    path: Path, start: int, stop: int, lines_before: int, *, today: dt.date | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> ClaimReadResult:
    """``read_claims_jsonl`` restricted to bytes ``start:stop`` (from :func:`numbered_parts`), with
    line numbers counted from ``lines_before``. The parts of a file, concatenated in order, give
    exactly what ``read_claims_jsonl`` gives for the whole file (with the same ``today``)."""
    path = Path(path)
    _require_file(path)
    collector = _ClaimCollector(path.name, today or dt.date.today())
    for chunk in _mapped_chunks(path, start, min(stop, path.stat().st_size), lines_before, chunk_bytes):
        collector.add(chunk)
    return collector.result()


__all__ = [
    "CHUNK_BYTES",
    "CLAIM_SCHEMA",
    "ClaimReadResult",
    "claim_from_json",
    "claim_from_object",
    "frame_from_table",
    "jsonl_cuts",
    "numbered_parts",
    "parse_iso_dates",
    "read_claims_jsonl",
    "read_claims_jsonl_part",
    "read_claims_jsonl_pydantic",
    "validation_reason",
]
