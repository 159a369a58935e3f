"""Is a NOC drug description complete enough for a payer to price it?

A payer pricing an unclassified code needs the drug's name and its strength or dose (CARC 16 +
M123). Both are checked with plain patterns on the description plus the line note, because that
is all a claims examiner has too: a name is any word of three or more letters that is not a unit,
route or filler word ("MG", "IV", "VIAL", "UNCLASSIFIED"...), and a strength is a number followed
by a unit.
"""

from __future__ import annotations

import re

import numpy as np

from features.rules import _arrays as A

WORD_PATTERN = r"[A-Za-z]{3,}"
STRENGTH_PATTERN = (
    r"(?<![A-Za-z])\d+(?:[.,]\d+)?\s*"
    r"(?:MCG|MG|MEQ|MMOL|ML|GM|GRAMS?|G|L|UNITS?|UNT|IU|U|MU|MIU|KIU|%|MCI|MBQ)"
    r"(?![A-Za-z])"
)
_WORD = re.compile(WORD_PATTERN)
_STRENGTH = re.compile(STRENGTH_PATTERN, re.IGNORECASE)

# Words that never name a drug: units, routes, dosage forms, containers and billing filler.
NOT_A_DRUG_NAME: frozenset[str] = frozenset(
    """
    MCG MGS GRAM GRAMS UNIT UNITS UNT MEQ MMOL LITER LITERS MIU KIU MCI MBQ PER EACH DOSE DOSES TOTAL
    INTRAVENOUS INTRAMUSCULAR SUBCUTANEOUS SUBCUT SUBQ INTRADERMAL INTRATHECAL INTRAVITREAL INTRAVESICAL
    INTRAARTICULAR INTRALESIONAL INTRAOCULAR ORAL TOPICAL INHALATION NASAL OPHTHALMIC ROUTE
    INJECTION INJ INJECTABLE INFUSION INFUSED PUSH DRIP BOLUS IVP IVPB
    VIAL VIALS AMPULE AMPULES AMP SYRINGE SYRINGES PEN PENS KIT BAG BAGS BOTTLE CARTRIDGE PREFILLED
    SOLUTION SOLN SUSPENSION SUSP POWDER PWD LYOPHILIZED TABLET TABLETS TAB TABS CAPSULE CAPSULES CAP
    CAPS CREAM GEL IMPLANT EMULSION CONCENTRATE SINGLE MULTI USE
    DRUG DRUGS BIOLOGIC BIOLOGICS BIOLOGICAL BIOLOGICALS UNCLASSIFIED UNLISTED CLASSIFIED NOC NOS OTHER
    MEDICATION MEDICATIONS MED MEDS CHEMOTHERAPY CHEMO ANTINEOPLASTIC
    AND THE FOR WITH WITHOUT OF GIVEN ADMINISTERED ADMIN WASTE WASTED DISCARDED DISCARD USED
    NDC HCPCS CODE SEE NOTE INVOICE ATTACHED PATIENT DAY DAYS WEEK WEEKS HOURS MIN MINUTES
    """.split()
)


def has_strength(text: str) -> bool:
    return _STRENGTH.search(text) is not None


def has_drug_name(text: str) -> bool:
    return any(word.upper() not in NOT_A_DRUG_NAME for word in _WORD.findall(text))


def description_gaps(description: str | None, note: str | None) -> tuple[bool, bool]:
    """(has a drug name, has a strength/dose) over description + line note."""
    text = f"{description or ''} {note or ''}"
    return has_drug_name(text), has_strength(text)


def description_verdicts(descriptions: np.ndarray, notes: np.ndarray) -> np.ndarray:
    """Per row, int8: -1 when description and note are both blank, else has_drug_name * 2 +
    has_strength; each distinct (description, note) pair is judged once."""
    desc_index, desc_uniques = A.factorize(descriptions)
    note_index, note_uniques = A.factorize(notes)
    width = max(len(note_uniques), 1)
    pair_index, pair_keys = A.factorize(desc_index * width + note_index)
    judged = [_verdict(desc_uniques[k // width], note_uniques[k % width]) for k in pair_keys]
    return np.array(judged, dtype=np.int8).reshape(len(pair_keys))[pair_index]


def _verdict(description: str | None, note: str | None) -> int:
    if _blank(description) and _blank(note):
        return -1
    has_name, has_strength = description_gaps(description, note)
    return int(has_name) * 2 + int(has_strength)


def _blank(value: object) -> bool:
    return value is None or not str(value).strip()
