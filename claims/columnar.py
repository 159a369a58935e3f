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


_EPOCH_ORDINAL = 719_163  # date(1970, 1, 1).toordinal(): datetime64[D] counts days from it
_NAT = np.datetime64("NaT", "D").astype(np.int64)


def _dates(values: Sequence[Any]) -> np.ndarray:
    """``datetime.date | None`` -> ``datetime64[D]`` via day ordinals: several times cheaper than
    letting NumPy parse date objects one by one."""
    days = [_NAT if v is None else v.toordinal() - _EPOCH_ORDINAL for v in values]
    return np.array(days, dtype=np.int64).view("datetime64[D]")


def _objects(values: Sequence[Any]) -> np.ndarray:
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column


def _line_row(line: Any) -> tuple[Any, ...]:
    """One line's values in ``_LINE_FIELDS`` order."""
    pointers = line.diagnosis_pointers
    drug = line.drug
    if drug is None:
        drug_values: tuple[Any, ...] = (False, None, None, None, None, None)
    else:
        drug_values = (True, drug.ndc, drug.quantity, drug.unit, drug.prescription_number, drug.link_sequence)
    return (
        line.line_number,
        line.procedure_code,
        "|".join(line.modifiers),
        line.description,
        line.charge,
        line.units,
        line.unit_basis,
        line.service_date,
        len(pointers),
        min(pointers) if pointers else 0,
        max(pointers) if pointers else 0,
        line.revenue_code,
        line.prior_authorization,
        line.note,
        line.line_control_number,
        *drug_values,
    )


def _typed_block(columns: Sequence[Sequence[Any]], kind: str) -> np.ndarray:
    """Several columns of one kind as one 2-D array (a row per column): one NumPy conversion per
    kind instead of one per column, which is most of the cost for a single claim."""
    if kind == "str":
        block = np.empty((len(columns), len(columns[0])), dtype=object)
        block[:] = columns
        return block
    if kind == "date":
        days = [[_NAT if v is None else v.toordinal() - _EPOCH_ORDINAL for v in values] for values in columns]
        return np.array(days, dtype=np.int64).view("datetime64[D]")
    if kind == "float":
        return np.array(columns, dtype=np.float64)  # None -> NaN
    return np.array(columns, dtype=_NUMPY_DTYPE[kind])


Groups = tuple[tuple[str, tuple[str, ...], tuple[int, ...]], ...]


def _groups(names: Sequence[str], schema: Mapping[str, str]) -> Groups:
    """(kind, names, positions) per dtype kind, in first-seen order."""
    by_kind: dict[str, list[int]] = {}
    for position, name in enumerate(names):
        by_kind.setdefault(schema[name], []).append(position)
    return tuple((kind, tuple(names[p] for p in ps), tuple(ps)) for kind, ps in by_kind.items())


def _columns_by_kind(
    groups: Groups, values: Sequence[Sequence[Any]], n_rows: int, repeat: np.ndarray | None = None
) -> Columns:
    """Columns (sequences of Python values, in ``groups`` positions) -> typed NumPy columns,
    converted a kind at a time; ``repeat`` picks rows (claim values onto their lines)."""
    out: Columns = {}
    for kind, names, positions in groups:
        if n_rows == 0:
            block = np.empty((len(positions), 0), dtype=_NUMPY_DTYPE[kind])
        else:
            block = _typed_block([values[p] for p in positions], kind)
        if repeat is not None:
            block = block[:, repeat]
        out.update(zip(names, block, strict=True))  # row views, as ``block[row]`` gives them
    return out


def from_claims(claims: Sequence[Claim]) -> ClaimFrame:
    """Validated claims -> columns. Used for the API, X12 input and small inputs; large JSONL files
    take the Arrow path in ``claims.jsonl`` that never materialises ``Claim`` objects.

    Row tuples are built per line and transposed once, columns are converted a dtype at a time, and
    claim-level values are converted once per claim and repeated onto lines by index: one claim
    costs tens of microseconds, which matters on the single-claim API path."""
    n = len(claims)
    if n == 0:
        return ClaimFrame.empty()
    claim_rows: list[tuple[Any, ...]] = []
    line_rows: list[tuple[Any, ...]] = []
    line_owner: list[int] = []
    for index, claim in enumerate(claims):
        lines = claim.lines
        claim_rows.append(_claim_row(claim))
        line_owner.extend([index] * len(lines))
        line_rows.extend([_line_row(line) for line in lines])
    owner = np.array(line_owner, dtype=np.int64)
    n_lines = owner.shape[0]
    columns: Columns = {"claim_index": owner}
    columns.update(_columns_by_kind(_CLAIM_GROUPS, list(zip(*claim_rows, strict=True)), n, owner))
    columns.update(
        _columns_by_kind(
            _LINE_GROUPS,
            list(zip(*line_rows, strict=True)) if line_rows else [()] * len(_LINE_FIELDS),
            n_lines,
        )
    )
    lines_out = {name: columns[name] for name in LINE_COLUMNS}
    att_rows = _attachment_rows(claims)
    attachments = _columns_by_kind(
        _ATTACHMENT_GROUPS,
        list(zip(*att_rows, strict=True)) if att_rows else [()] * len(ATTACHMENT_COLUMNS),
        len(att_rows),
    )
    return ClaimFrame(
        lines=lines_out,
        diagnoses=_diagnoses(claims),
        attachments={name: attachments[name] for name in ATTACHMENT_COLUMNS},
        n_claims=n,
        claim_ids=_objects([row[0] for row in claim_rows]),
    )


def _claim_row(claim: Claim) -> tuple[Any, ...]:
    """One claim's values in ``_CLAIM_FIELDS`` order."""
    payer = claim.payer
    return (
        claim.claim_id,
        claim.claim_type,
        claim.frequency_code,
        payer.id,
        payer.name,
        payer.type,
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


def _attachment_rows(claims: Sequence[Claim]) -> list[tuple[Any, ...]]:
    """Every attachment's values in ``ATTACHMENT_COLUMNS`` order (line -1: at claim level)."""
    return [
        (
            index,
            attachment.line_number if attachment.line_number is not None else -1,
            attachment.report_type,
            attachment.transmission,
            attachment.control_number,
        )
        for index, claim in enumerate(claims)
        for attachment in claim.attachments
    ]


def _diagnoses(claims: Sequence[Claim]) -> Columns:
    """The diagnosis table: one row per code, positions from 1 (the principal) in claim order."""
    owner: list[int] = []
    position: list[int] = []
    code: list[str] = []
    for index, claim in enumerate(claims):
        codes = claim.diagnosis_codes
        owner.extend([index] * len(codes))
        position.extend(range(1, len(codes) + 1))
        code.extend(codes)
    return {
        "claim_index": np.array(owner, dtype=np.int64),
        "position": np.array(position, dtype=np.int64),
        "code": _objects(code),
    }


_CLAIM_FIELDS = (
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
_LINE_FIELDS = (
    "line_number",
    "procedure_code",
    "modifiers",
    "description",
    "charge",
    "units",
    "unit_basis",
    "service_date",
    "pointer_count",
    "pointer_min",
    "pointer_max",
    "revenue_code",
    "line_prior_authorization",
    "line_note",
    "line_control_number",
    "has_drug",
    "ndc",
    "drug_quantity",
    "drug_unit",
    "prescription_number",
    "link_sequence",
)
_CLAIM_GROUPS = _groups(_CLAIM_FIELDS, LINE_COLUMNS)
_LINE_GROUPS = _groups(_LINE_FIELDS, LINE_COLUMNS)
_ATTACHMENT_GROUPS = _groups(tuple(ATTACHMENT_COLUMNS), ATTACHMENT_COLUMNS)
