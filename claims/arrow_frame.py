"""Arrow table of validated claims -> ``ClaimFrame``, the same columns ``from_claims`` builds.

Large JSONL files never materialise ``Claim`` objects: the table Arrow parsed (and
``claims.vector_checks`` passed) is turned into NumPy columns directly, list columns flattened with
their parent indices, so reading costs a small multiple of the JSON parse.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from claims.columnar import LINE_COLUMNS, ClaimFrame
from claims.model_spec import CLAIM_SPEC, FieldSpec
from claims.vector_checks import flat_array, np_int, parse_iso_dates


def _objects(values: pa.Array, default: str | None = None) -> np.ndarray:
    """Strings -> object array with None for null (``default`` in place of null when given).

    One direct conversion: a dictionary-encoded variant (one Python string per distinct value) was
    measured 13 % slower on bench_claims' 200,000 claims and was removed."""
    if default is not None:
        values = pc.fill_null(values, default)
    out = values.to_numpy(zero_copy_only=False)
    if out.dtype != object:  # an all-null column may come back as float
        column = np.empty(len(out), dtype=object)
        column[:] = [None] * len(out)
        return column
    return out


def _floats(values: pa.Array) -> np.ndarray:
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)


def _struct_children(values: pa.Array, spec: FieldSpec) -> dict[str, pa.Array]:
    return {name: child for (name, _), child in zip(spec.fields, values.flatten(), strict=True)}


def _default_of(spec: FieldSpec, name: str) -> str:
    default = spec.child(name).default
    assert isinstance(default, str)
    return default


def frame_from_table(table: pa.Table, today: dt.date | None = None) -> ClaimFrame:
    """Validated claims (every row passed ``claims.vector_checks``) -> the same columns
    ``from_claims`` builds: claim values repeated onto their lines, then the list columns."""
    table = table.combine_chunks()
    col = {name: flat_array(table.column(name)) for name in table.column_names}
    claim_level = _claim_columns(col, today)
    line_claim = np.asarray(pc.list_parent_indices(col["lines"]).to_numpy(), dtype=np.int64)
    lines: dict[str, np.ndarray] = {"claim_index": line_claim}
    for name, values in claim_level.items():
        lines[name] = values[line_claim]
    lines.update(_line_columns(pc.list_flatten(col["lines"])))
    dx_claim = np.asarray(pc.list_parent_indices(col["diagnosis_codes"]).to_numpy(), dtype=np.int64)
    diagnoses = {
        "claim_index": dx_claim,
        "position": _positions_in_list(dx_claim),
        "code": _objects(pc.list_flatten(col["diagnosis_codes"])),
    }
    return ClaimFrame(
        lines={name: lines[name] for name in LINE_COLUMNS},
        diagnoses=diagnoses,
        attachments=_attachment_columns(col["attachments"]),
        n_claims=table.num_rows,
        claim_ids=claim_level["claim_id"],
    )


def _claim_columns(col: dict[str, pa.Array], today: dt.date | None) -> dict[str, np.ndarray]:
    """One value per claim, defaults filled where the JSON left a field out (as pydantic would)."""
    payer_spec = CLAIM_SPEC.child("payer")
    payer = _struct_children(col["payer"], payer_spec)
    submission = parse_iso_dates(col["submission_date"])
    submission[np.isnat(submission)] = np.datetime64(today or dt.date.today(), "D")
    return {
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
        "n_lines": np_int(pc.list_value_length(col["lines"])),
        "n_diagnoses": np_int(pc.list_value_length(col["diagnosis_codes"])),
    }


def _line_columns(line_values: pa.Array) -> dict[str, np.ndarray]:
    """One value per line (its drug block flattened into the line)."""
    line_spec = CLAIM_SPEC.child("lines").item
    assert line_spec is not None
    line = _struct_children(line_values, line_spec)
    drug = _struct_children(line["drug"], line_spec.child("drug"))
    pointer_min, pointer_max = _pointer_bounds(line["diagnosis_pointers"], len(line_values))
    return {
        "line_number": np_int(line["line_number"]),
        "procedure_code": _objects(line["procedure_code"]),
        "modifiers": _objects(pc.binary_join(line["modifiers"], "|"), ""),
        "description": _objects(line["description"]),
        "charge": _floats(line["charge"]),
        "units": _floats(line["units"]),
        "unit_basis": _objects(line["unit_basis"], _default_of(line_spec, "unit_basis")),
        "service_date": parse_iso_dates(line["service_date"]),
        "pointer_count": np_int(pc.list_value_length(line["diagnosis_pointers"])),
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


def _attachment_columns(attachments: pa.Array) -> dict[str, np.ndarray]:
    """One row per PWK, claim level (line -1) or with the line it documents."""
    attachment_spec = CLAIM_SPEC.child("attachments").item
    assert attachment_spec is not None
    att = _struct_children(pc.list_flatten(attachments), attachment_spec)
    return {
        "claim_index": np.asarray(pc.list_parent_indices(attachments).to_numpy(), dtype=np.int64),
        "line_number": np_int(att["line_number"], -1),
        "report_type": _objects(att["report_type"]),
        "transmission": _objects(att["transmission"]),
        "control_number": _objects(att["control_number"]),
    }


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
    values = np_int(pc.list_flatten(pointers))
    if values.size:
        parent = np.asarray(pc.list_parent_indices(pointers).to_numpy(), dtype=np.int64)
        starts = np.flatnonzero(np.r_[True, parent[1:] != parent[:-1]])
        low[parent[starts]] = np.minimum.reduceat(values, starts)
        high[parent[starts]] = np.maximum.reduceat(values, starts)
    return low, high

