"""The columnar form of claims that every later stage works on.

Rules, features, training and scoring all run on whole arrays, so claims are held as three
tables of NumPy columns rather than as objects:

* ``lines``: one row per service line, with the claim's fields repeated (the main table);
* ``diagnoses``: one row per diagnosis code (``claim_index``, ``position`` 1-based, ``code``);
* ``attachments``: one row per PWK (``claim_index``, ``line_number`` or -1 for claim level, ...).

Plain NumPy dicts rather than DataFrames because the single-claim scoring path must cost
microseconds, and a DataFrame costs hundreds of them to build; ``lines_frame()`` gives pandas when a
human or a plot wants one. String columns are ``object`` arrays with ``None`` for missing, numbers
are ``float64`` with NaN, dates ``datetime64[D]`` with NaT, counts ``int64``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from claims.model import Claim

Columns = dict[str, np.ndarray]

# name -> dtype kind: "str" object/None, "float" float64/NaN, "date" datetime64[D]/NaT, "int" int64, "bool"
LINE_COLUMNS: dict[str, str] = {
    # claim fields, repeated on every line
    "claim_index": "int",
    "claim_id": "str",
    "claim_type": "str",
    "frequency_code": "str",
    "payer_id": "str",
    "payer_name": "str",
    "payer_type": "str",
    "billing_provider_npi": "str",
    "place_of_service": "str",
    "type_of_bill": "str",
    "total_charge": "float",
    "claim_prior_authorization": "str",
    "claim_note": "str",
    "submission_date": "date",
    "n_lines": "int",
    "n_diagnoses": "int",
    # line fields
    "line_number": "int",
    "procedure_code": "str",
    "modifiers": "str",  # "|"-joined, "" when none, e.g. "JW|59"
    "description": "str",
    "charge": "float",
    "units": "float",
    "unit_basis": "str",
    "service_date": "date",
    "pointer_count": "int",  # number of diagnosis pointers on the line
    "pointer_min": "int",  # 0 when none
    "pointer_max": "int",  # 0 when none
    "revenue_code": "str",
    "line_prior_authorization": "str",
    "line_note": "str",
    "line_control_number": "str",
    "has_drug": "bool",  # a loop 2410 / drug block is present
    "ndc": "str",
    "drug_quantity": "float",
    "drug_unit": "str",
    "prescription_number": "str",
    "link_sequence": "str",
}
DIAGNOSIS_COLUMNS: dict[str, str] = {"claim_index": "int", "position": "int", "code": "str"}
ATTACHMENT_COLUMNS: dict[str, str] = {
    "claim_index": "int",
    "line_number": "int",  # -1 at claim level
    "report_type": "str",
    "transmission": "str",
    "control_number": "str",
}

_NUMPY_DTYPE: dict[str, Any] = {"str": object, "float": np.float64, "date": "datetime64[D]", "int": np.int64, "bool": np.bool_}


def empty_columns(schema: Mapping[str, str]) -> Columns:
    return {name: np.empty(0, dtype=_NUMPY_DTYPE[kind]) for name, kind in schema.items()}


def as_columns(values: Mapping[str, Sequence[Any]], schema: Mapping[str, str]) -> Columns:
    """Lists of Python values -> typed NumPy columns (dates as ``datetime.date`` or ISO strings)."""
    out: Columns = {}
    for name, kind in schema.items():
        data = values[name]
        if kind == "str":
            column = np.empty(len(data), dtype=object)
            column[:] = list(data)
        elif kind == "date":
            column = np.array([np.datetime64("NaT") if v is None else v for v in data], dtype="datetime64[D]")
        elif kind == "float":
            column = np.array([np.nan if v is None else v for v in data], dtype=np.float64)
        else:
            column = np.asarray(data, dtype=_NUMPY_DTYPE[kind])
        out[name] = column
    return out


@dataclass(frozen=True)
class ClaimFrame:
    """Claims as columns. ``n_claims`` counts claims; claim ``i`` owns rows whose ``claim_index == i``."""

    lines: Columns
    diagnoses: Columns
    attachments: Columns
    n_claims: int
    claim_ids: np.ndarray = field(repr=False)  # object array, one per claim, in claim_index order

    def __len__(self) -> int:
        return self.n_claims

    @property
    def n_lines(self) -> int:
        return int(self.lines["claim_index"].shape[0])

    def lines_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.lines, copy=False)

    def diagnoses_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.diagnoses, copy=False)

    def attachments_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.attachments, copy=False)

    def take(self, claim_indices: Sequence[int] | np.ndarray) -> ClaimFrame:
        """A new frame holding the given claims, renumbered 0..k-1 in the given order."""
        order = np.asarray(claim_indices, dtype=np.int64)
        remap = np.full(self.n_claims, -1, dtype=np.int64)
        remap[order] = np.arange(order.shape[0])

        def subset(cols: Columns) -> Columns:
            new_index = remap[cols["claim_index"]]
            keep = np.flatnonzero(new_index >= 0)
            keep = keep[np.argsort(new_index[keep], kind="stable")]
            picked = {name: col[keep] for name, col in cols.items()}
            picked["claim_index"] = new_index[keep]
            return picked

        return ClaimFrame(
            lines=subset(self.lines),
            diagnoses=subset(self.diagnoses),
            attachments=subset(self.attachments),
            n_claims=int(order.shape[0]),
            claim_ids=self.claim_ids[order],
        )

    @staticmethod
    def concat(frames: Sequence[ClaimFrame]) -> ClaimFrame:
        if not frames:
            return ClaimFrame.empty()
        offsets = np.cumsum([0] + [f.n_claims for f in frames[:-1]])

        def stack(parts: list[Columns]) -> Columns:
            out: Columns = {}
            for name in parts[0]:
                out[name] = np.concatenate([p[name] for p in parts])
            out["claim_index"] = np.concatenate(
                [p["claim_index"] + off for p, off in zip(parts, offsets, strict=True)]
            )
            return out

        return ClaimFrame(
            lines=stack([f.lines for f in frames]),
            diagnoses=stack([f.diagnoses for f in frames]),
            attachments=stack([f.attachments for f in frames]),
            n_claims=int(sum(f.n_claims for f in frames)),
            claim_ids=np.concatenate([f.claim_ids for f in frames]),
        )

    @staticmethod
    def empty() -> ClaimFrame:
        return ClaimFrame(
            lines=empty_columns(LINE_COLUMNS),
            diagnoses=empty_columns(DIAGNOSIS_COLUMNS),
            attachments=empty_columns(ATTACHMENT_COLUMNS),
            n_claims=0,
            claim_ids=np.empty(0, dtype=object),
        )


def from_claims(claims: Sequence[Claim]) -> ClaimFrame:
    """Validated claims -> columns. Used for the API, X12 input and small inputs; large JSONL files
    take the Arrow path in ``claims.jsonl`` that never materialises ``Claim`` objects."""
    lines: dict[str, list[Any]] = {name: [] for name in LINE_COLUMNS}
    dx: dict[str, list[Any]] = {name: [] for name in DIAGNOSIS_COLUMNS}
    att: dict[str, list[Any]] = {name: [] for name in ATTACHMENT_COLUMNS}
    for index, claim in enumerate(claims):
        claim_values = (
            index,
            claim.claim_id,
            claim.claim_type,
            claim.frequency_code,
            claim.payer.id,
            claim.payer.name,
            claim.payer.type,
            claim.billing_provider_npi,
            claim.place_of_service,
            claim.type_of_bill,
            claim.total_charge,
            claim.prior_authorization,
            claim.note,
            claim.submission_date,
            len(claim.lines),
            len(claim.diagnosis_codes),
        )
        for line in claim.lines:
            for name, value in zip(_CLAIM_LINE_FIELDS, claim_values, strict=True):
                lines[name].append(value)
            pointers = line.diagnosis_pointers
            drug = line.drug
            lines["line_number"].append(line.line_number)
            lines["procedure_code"].append(line.procedure_code)
            lines["modifiers"].append("|".join(line.modifiers))
            lines["description"].append(line.description)
            lines["charge"].append(line.charge)
            lines["units"].append(line.units)
            lines["unit_basis"].append(line.unit_basis)
            lines["service_date"].append(line.service_date)
            lines["pointer_count"].append(len(pointers))
            lines["pointer_min"].append(min(pointers) if pointers else 0)
            lines["pointer_max"].append(max(pointers) if pointers else 0)
            lines["revenue_code"].append(line.revenue_code)
            lines["line_prior_authorization"].append(line.prior_authorization)
            lines["line_note"].append(line.note)
            lines["line_control_number"].append(line.line_control_number)
            lines["has_drug"].append(drug is not None)
            lines["ndc"].append(drug.ndc if drug else None)
            lines["drug_quantity"].append(drug.quantity if drug else None)
            lines["drug_unit"].append(drug.unit if drug else None)
            lines["prescription_number"].append(drug.prescription_number if drug else None)
            lines["link_sequence"].append(drug.link_sequence if drug else None)
        for position, code in enumerate(claim.diagnosis_codes, start=1):
            dx["claim_index"].append(index)
            dx["position"].append(position)
            dx["code"].append(code)
        for attachment in claim.attachments:
            att["claim_index"].append(index)
            att["line_number"].append(attachment.line_number if attachment.line_number is not None else -1)
            att["report_type"].append(attachment.report_type)
            att["transmission"].append(attachment.transmission)
            att["control_number"].append(attachment.control_number)
    claim_ids = np.empty(len(claims), dtype=object)
    claim_ids[:] = [c.claim_id for c in claims]
    return ClaimFrame(
        lines=as_columns(lines, LINE_COLUMNS),
        diagnoses=as_columns(dx, DIAGNOSIS_COLUMNS),
        attachments=as_columns(att, ATTACHMENT_COLUMNS),
        n_claims=len(claims),
        claim_ids=claim_ids,
    )


_CLAIM_LINE_FIELDS = (
    "claim_index",
    "claim_id",
    "claim_type",
    "frequency_code",
    "payer_id",
    "payer_name",
    "payer_type",
    "billing_provider_npi",
    "place_of_service",
    "type_of_bill",
    "total_charge",
    "claim_prior_authorization",
    "claim_note",
    "submission_date",
    "n_lines",
    "n_diagnoses",
)

