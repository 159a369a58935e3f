"""Vectorized validation: the constraints of a ``FieldSpec`` applied to whole Arrow columns.

Deliberately conservative: a row these checks pass must be one pydantic accepts with the same
values; a row they doubt is sent to pydantic (``claims.records``), which stays the single source
of truth for what is accepted and for the wording of each error.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from claims import model as claim_model
from claims.model_spec import CLAIM_SPEC, FieldSpec

_ASCII_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def np_bool(values: pa.Array | pa.ChunkedArray, fill: bool) -> np.ndarray:
    return np.asarray(pc.fill_null(values, fill).to_numpy(zero_copy_only=False), dtype=bool)


def np_int(values: pa.Array | pa.ChunkedArray, fill: int = 0) -> np.ndarray:
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
        good &= np_bool(pc.equal(pc.strftime(stamps, format="%Y-%m-%d"), values), False)
        days = pc.cast(stamps, pa.date32())
    out = np.asarray(days.to_numpy(zero_copy_only=False), dtype="datetime64[D]")
    out[~good] = np.datetime64("NaT")
    return out


_DATE_DIGITS = np.array([0, 1, 2, 3, 5, 6, 8, 9])  # "YYYY-MM-DD": digits everywhere but 4 and 7


def _iso_shaped(values: pa.Array) -> np.ndarray:
    """Per value: ``YYYY-MM-DD`` in ASCII digits (``_ASCII_DATE``) and not year 0000; False for
    null. Read from the string bytes directly: ten bytes per value instead of a regex per value."""
    if values.type != pa.string():
        shaped = np_bool(pc.match_substring_regex(values, _ASCII_DATE), False)
        return shaped & ~np_bool(pc.starts_with(values, "0000"), False)
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


def flat_array(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(array, pa.ChunkedArray):
        return array.chunk(0) if array.num_chunks == 1 else array.combine_chunks()
    return array


def _check(
    spec: FieldSpec,
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
        length = np_int(pc.utf8_length(values))
        if spec.min_len is not None:
            failed |= length < spec.min_len
        if spec.max_len is not None:
            failed |= length > spec.max_len
        if spec.pattern is not None:
            # RE2 classes are ASCII-only, a subset of pydantic's Unicode ones: a match here is a
            # match there; anything else is left for pydantic to judge.
            failed |= ~np_bool(pc.match_substring_regex(values, spec.pattern), False)
    elif spec.kind == "enum":
        failed |= ~np_bool(pc.is_in(values, value_set=pa.array(spec.choices)), False)
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
        length = np_int(pc.list_value_length(values))
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
    numbers = np_int(lines.field("line_number"), -1)
    order = np.lexsort((numbers, owner))
    same = (owner[order][1:] == owner[order][:-1]) & (numbers[order][1:] == numbers[order][:-1])
    bad[owner[order][1:][same]] = True


def rows_failing(spec: FieldSpec, table: pa.Table, maybe_null: np.ndarray | None = None) -> np.ndarray:
    """Per row of a table read with ``arrow_schema(spec)``: does any field constraint fail?

    ``maybe_null`` (per row, optional) is set where a field that must not be an explicit null is
    null to Arrow: only those rows' lines need the text check for ``"name": null``."""
    n = table.num_rows
    bad = np.zeros(n, dtype=bool)
    owner = np.arange(n, dtype=np.int64)
    present = np.ones(n, dtype=bool)
    for name, child in spec.fields:
        _check(child, flat_array(table.column(name)), owner, present, bad, maybe_null)
    return bad


def line_count_fails(table: pa.Table) -> np.ndarray:
    """``Claim._line_count_for_claim_type``, per row."""
    claim_type = pc.fill_null(flat_array(table.column("claim_type")), CLAIM_SPEC.child("claim_type").default)
    professional = np_bool(pc.equal(claim_type, "professional"), False)
    n_lines = np_int(pc.list_value_length(flat_array(table.column("lines"))))
    return professional & (n_lines > claim_model.MAX_LINES_PROFESSIONAL)
