"""The claim of CONTRACT §2 as strict pydantic v2 models.

Strictness is deliberate: a claim that silently coerced ``"units": "3"`` or dropped an unknown field
would be scored on data the biller never sent. Numbers must be JSON numbers, strings must be strings,
dates must be ISO ``YYYY-MM-DD`` strings, and unknown fields are errors with their path.

Values that are wrong for the *payer* (a 10-digit NDC, a pointer past the last diagnosis, a zero
charge) are accepted here on purpose: they are what the rule engine exists to flag.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    model_validator,
)

MAX_LINES_PROFESSIONAL = 50
MAX_LINES_INSTITUTIONAL = 999
MAX_MONEY = 1e10
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

PayerType = Literal["medicare", "medicaid", "commercial", "other"]
ClaimType = Literal["professional", "institutional"]


def _iso_date(value: Any) -> Any:
    """Accept only ISO date strings (or dates): lax pydantic would read an integer as a timestamp."""
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date YYYY-MM-DD, not a date-time")
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("expected a date string YYYY-MM-DD")
    return value


def _finite_number(value: Any) -> Any:
    """Numbers only (no strings, no booleans), finite and of a size a claim can carry."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("expected a number")
    number = float(value)
    if not math.isfinite(number) or abs(number) > MAX_MONEY:
        raise ValueError(f"expected a finite number with absolute value at most {MAX_MONEY:g}")
    return number


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
Number = Annotated[float, BeforeValidator(_finite_number)]
Text = Annotated[StrictStr, Field(max_length=256)]
ShortCode = Annotated[StrictStr, Field(min_length=1, max_length=16)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, str_strip_whitespace=False)


class Payer(_Strict):
    id: Annotated[StrictStr, Field(min_length=1, max_length=80)]
    name: Text | None = None
    type: PayerType = "other"


class Attachment(_Strict):
    """A PWK segment: the report type says what was sent (OZ support data, 04 drugs administered...)."""

    report_type: Annotated[StrictStr, Field(min_length=1, max_length=2)]
    transmission: Annotated[StrictStr, Field(min_length=1, max_length=2)]
    control_number: Annotated[StrictStr, Field(max_length=80)] | None = None
    line_number: Annotated[StrictInt, Field(ge=1, le=MAX_LINES_INSTITUTIONAL)] | None = None


class Drug(_Strict):
    """Loop 2410. ``ndc`` and ``unit`` are kept as sent so that NDC_INVALID / NDC_UNIT_INVALID can fire."""

    ndc: Annotated[StrictStr, Field(max_length=48)] | None = None
    quantity: Number | None = None
    unit: Annotated[StrictStr, Field(max_length=8)] | None = None
    prescription_number: Annotated[StrictStr, Field(max_length=50)] | None = None
    link_sequence: Annotated[StrictStr, Field(max_length=50)] | None = None


class Line(_Strict):
    line_number: Annotated[StrictInt, Field(ge=1, le=MAX_LINES_INSTITUTIONAL)]
    procedure_code: Annotated[StrictStr, Field(min_length=1, max_length=48)]
    modifiers: Annotated[list[Annotated[StrictStr, Field(min_length=1, max_length=2)]], Field(max_length=4)] = []
    description: Annotated[StrictStr, Field(max_length=80)] | None = None
    charge: Number | None = None
    units: Number | None = None
    unit_basis: Annotated[StrictStr, Field(min_length=1, max_length=2)] = "UN"
    service_date: IsoDate | None = None
    diagnosis_pointers: Annotated[
        list[Annotated[StrictInt, Field(ge=-99, le=99)]], Field(max_length=12)
    ] = []
    revenue_code: Annotated[StrictStr, Field(max_length=4)] | None = None
    prior_authorization: Annotated[StrictStr, Field(max_length=50)] | None = None
    note: Annotated[StrictStr, Field(max_length=80)] | None = None
    line_control_number: Annotated[StrictStr, Field(max_length=50)] | None = None
    drug: Drug | None = None


def _default_submission_date() -> dt.date:
    return dt.date.today()


def _unique_line_numbers(lines: list[Line]) -> list[Line]:
    seen: set[int] = set()
    for line in lines:
        if line.line_number in seen:
            raise ValueError(f"line_number {line.line_number} appears more than once")
        seen.add(line.line_number)
    return lines


class Claim(_Strict):
    claim_id: Annotated[StrictStr, Field(min_length=1, max_length=38)]
    claim_type: ClaimType = "professional"
    frequency_code: Annotated[StrictStr, Field(min_length=1, max_length=1)] = "1"
    # 2300 REF*F8: the payer's number of the claim a replacement (7) or void (8) refers to.
    payer_claim_number: Annotated[StrictStr, Field(min_length=1, max_length=50)] | None = None
    payer: Payer
    billing_provider_npi: Annotated[StrictStr, Field(pattern=r"^\d{10}$")] | None = None
    place_of_service: Annotated[StrictStr, Field(min_length=1, max_length=3)] | None = None
    type_of_bill: Annotated[StrictStr, Field(min_length=3, max_length=4)] | None = None
    total_charge: Number | None = None
    diagnosis_codes: Annotated[list[Annotated[StrictStr, Field(min_length=1, max_length=8)]], Field(max_length=25)] = []
    prior_authorization: Annotated[StrictStr, Field(max_length=50)] | None = None
    attachments: Annotated[list[Attachment], Field(max_length=10)] = []
    note: Annotated[StrictStr, Field(max_length=80)] | None = None
    submission_date: IsoDate = Field(default_factory=_default_submission_date)
    lines: Annotated[
        list[Line],
        Field(min_length=1, max_length=MAX_LINES_INSTITUTIONAL),
        AfterValidator(_unique_line_numbers),
    ]

    @model_validator(mode="after")
    def _line_count_for_claim_type(self) -> Claim:
        if self.claim_type == "professional" and len(self.lines) > MAX_LINES_PROFESSIONAL:
            raise ValueError(
                f"a professional claim has at most {MAX_LINES_PROFESSIONAL} lines, got {len(self.lines)}"
            )
        return self
