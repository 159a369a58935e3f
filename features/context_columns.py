"""The context columns: what lets the model weigh a rule flag by payer and situation.

Payer, claim type and setting; charges and units (capped, and the charge against the CMS payment
limit, which a payer's pricing review looks at); the days from service to submission; the
principal diagnosis's ICD-10-CM chapter; modifiers, attachments and prior authorization. Each
writer fills its own columns of the feature-major matrix ``XT`` (see ``ClaimFeaturizer._build``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from features.layout import ColumnLayout
from features.per_claim import ClaimRows, capped, one_hot
from features.rules import _arrays as A
from reference.icd10 import chapter

if TYPE_CHECKING:
    from reference.store import ReferenceData

_RATIO_CAP = 1_000.0  # charge relative to the CMS limit; capped before float32 (no inf from tiny units)
_DAYS_LOW, _DAYS_HIGH = -366, 3650  # days to submission beyond these say no more
_NO_DAY = 1e18  # stands for a missing service date while taking the earliest one
_DAYS_PER_YEAR = 365.2425
_EPOCH_YEAR = 1970.0


def write_claim_shape(XT: np.ndarray, rows: ClaimRows, layout: ColumnLayout) -> None:
    """Payer type and payer, claim type, replacement/void, place of service (one read per claim)."""
    idx = layout.index
    one_hot(XT, layout.payer_type_cols, rows.claim_value("payer_type"))
    XT[idx["claim_type=institutional"]] = rows.claim_value("claim_type") == "institutional"
    frequency = rows.claim_value("frequency_code")
    XT[idx["frequency=replacement"]] = frequency == "7"
    XT[idx["frequency=void"]] = frequency == "8"
    one_hot(XT, layout.payer_cols, rows.claim_value("payer_id"))
    one_hot(XT, layout.place_cols, rows.claim_value("place_of_service"))


def write_money(XT: np.ndarray, rows: ClaimRows, layout: ColumnLayout, reference: ReferenceData) -> None:
    """Charges and units, capped; each line's charge against its CMS payment limit; the drug and
    administration charges on a log scale, as a payer's reviewers see them per line."""
    facts, idx = rows.facts, layout.index
    lines = rows.frame.lines
    charge = capped(lines["charge"])
    total = capped(rows.claim_value("total_charge", np.nan))
    XT[idx["total_charge"]] = total
    XT[idx["log_total_charge"]] = np.log1p(np.maximum(total, 0.0))
    XT[idx["max_line_charge"]] = rows.largest(charge, 0.0)
    XT[idx["drug_charge"]] = rows.total(np.where(facts.is_drug, charge, 0.0))
    units = capped(lines["units"])
    limit = _payment_limits(reference, facts.code_uniques)[facts.code_index]
    priced = np.isfinite(limit) & (limit > 0.0) & (units > 0.0)
    allowed = np.where(priced, limit * np.where(priced, units, 1.0), 1.0)
    ratio = np.where(priced, np.minimum(np.maximum(charge, 0.0) / allowed, _RATIO_CAP), 0.0)
    XT[idx["charge_to_limit_max"]] = rows.largest(ratio, 0.0)
    XT[idx["n_lines_with_limit"]] = rows.count(priced)
    XT[idx["units_total"]] = rows.total(units)
    XT[idx["units_max"]] = rows.largest(units, 0.0)
    log_charge = np.log1p(np.maximum(charge, 0.0))
    XT[idx["drug_log_charge_sum"]] = rows.total(np.where(facts.is_drug, log_charge, 0.0))
    XT[idx["admin_log_charge_sum"]] = rows.total(np.where(facts.is_admin, log_charge, 0.0))


def _payment_limits(reference: ReferenceData, codes: list[str]) -> np.ndarray:
    """CMS payment limit per distinct code (NaN when it has none)."""
    values = np.empty(len(codes), dtype=object)
    values[:] = codes
    return reference.payment_limit(values).astype(np.float64, copy=False)


def write_timing(XT: np.ndarray, rows: ClaimRows, layout: ColumnLayout) -> None:
    """Days from service (the submission date when missing) to submission, and the service date
    itself in years: payers change policy on dates (later dates fall in a tree's last bin)."""
    idx = layout.index
    service, submission = rows.facts.service_date, rows.frame.lines["submission_date"]
    days = (submission - service).astype(np.int64)
    days = np.where(np.isnat(submission) | np.isnat(service), 0, days)
    # np.minimum/np.maximum rather than np.clip: same values, a tenth of the call overhead
    days = np.minimum(np.maximum(days, _DAYS_LOW), _DAYS_HIGH).astype(np.float64)
    XT[idx["days_to_submission_max"]] = rows.largest(days, float(_DAYS_LOW))
    XT[idx["days_to_submission_min"]] = rows.smallest(days, float(_DAYS_HIGH))
    service_days = np.where(np.isnat(service), _NO_DAY, service.astype(np.float64))
    earliest = rows.smallest(service_days, _NO_DAY)
    XT[idx["service_date_years"]] = np.where(earliest < _NO_DAY, _EPOCH_YEAR + earliest / _DAYS_PER_YEAR, np.nan)


def principal_chapters(principal: tuple[np.ndarray, list[Any]]) -> np.ndarray:
    """ICD-10-CM chapter of each claim's principal diagnosis (``principal``: per claim an index into
    the distinct codes, -1 when it has none; the codes); None when absent or invalid."""
    index, uniques = principal
    codes = np.empty(len(uniques), dtype=object)
    codes[:] = uniques
    table = np.empty(len(uniques) + 1, dtype=object)  # the last entry answers index -1: no diagnosis
    table[:-1] = chapter(codes)
    table[-1] = None
    return table[index]


def write_diagnoses(XT: np.ndarray, rows: ClaimRows, layout: ColumnLayout, principal: tuple[np.ndarray, list[Any]]) -> None:
    """The principal diagnosis's chapter (fitted chapters, other, none) and the diagnosis count."""
    one_hot(XT, layout.chapter_cols, principal_chapters(principal), layout.other_chapter)
    XT[layout.index["n_diagnoses"]] = np.bincount(rows.frame.diagnoses["claim_index"], minlength=rows.n)


def write_paperwork(XT: np.ndarray, rows: ClaimRows, layout: ColumnLayout) -> None:
    """Waste modifiers, attachments (claim level, invoices, not sent) and prior authorization."""
    facts, n, idx = rows.facts, rows.n, layout.index
    XT[idx["modifier_jw_lines"]] = rows.count(facts.modifier_jw)
    XT[idx["modifier_jz_lines"]] = rows.count(facts.modifier_jz)
    att = rows.frame.attachments
    a_ci = att["claim_index"]
    if a_ci.shape[0]:
        XT[idx["attachments"]] = np.bincount(a_ci, minlength=n)
        XT[idx["attachments_claim_level"]] = np.bincount(a_ci[att["line_number"] < 0], minlength=n)
        XT[idx["attachments_invoice"]] = np.bincount(a_ci[facts.attachment_is_invoice], minlength=n)
        not_sent = A.map_unique(att["transmission"], _not_sent, np.bool_)
        XT[idx["attachments_not_sent"]] = np.bincount(a_ci[not_sent], minlength=n)
    has_pa = facts.prior_authorization
    if has_pa is None:  # facts from an engine that did not record it
        lines = rows.frame.lines
        has_pa = ~(A.is_blank(lines["claim_prior_authorization"]) & A.is_blank(lines["line_prior_authorization"]))
    XT[idx["prior_authorization"]] = rows.count(has_pa) > 0


def _not_sent(transmission: Any) -> bool:
    """Attachment transmission code AA: "available on request", i.e. not sent with the claim."""
    return isinstance(transmission, str) and transmission.strip().upper() == "AA"
