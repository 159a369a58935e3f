"""Remittance rows of CONTRACT §6: one row per 835 service line (2110), or per claim without lines.

``outcome`` is the label training learns from; the rules that derive it from CLP02 and the CAS
adjustments live in ``edi.remits835`` (reading an 835) and are documented in CONTRACT §6.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from claims.model import IsoDate, Number

Outcome = Literal["denied", "reduced", "paid", "excluded"]


class Adjustment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: Literal["claim", "line"]
    group: Annotated[StrictStr, Field(min_length=2, max_length=2)]
    reason: Annotated[StrictStr, Field(min_length=1, max_length=5)]
    amount: Number


class RemitRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    claim_id: Annotated[StrictStr, Field(min_length=1, max_length=38)]
    payer_claim_id: StrictStr | None = None
    claim_status: Annotated[StrictStr, Field(min_length=1, max_length=2)]
    line_control_number: StrictStr | None = None
    procedure_code: StrictStr | None = None
    modifiers: list[StrictStr] = []
    charge: Number | None = None
    paid: Number | None = None
    units_paid: Number | None = None
    service_date: IsoDate | None = None
    adjustments: list[Adjustment] = []
    remarks: list[StrictStr] = []
    outcome: Outcome
    # Extensions (optional, not in CONTRACT §6): where the row came from, for ordering adjudications.
    payer_id: StrictStr | None = None
    paid_date: IsoDate | None = None
    sequence: int | None = None
