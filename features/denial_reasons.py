"""Denial reason families (CONTRACT §7): which of eleven reasons a payer's 835 codes cite, and which
family each rule's problem belongs to.

A risk of 0.62 with no fired rule leaves a biller nothing to fix; "0.62, mostly medical necessity"
says where to look. The 835 already says why each line was denied, in CARC and RARC codes, so the
reason labels are read from them with one table (``denial_reasons.csv`` beside this module, shipped
as package data), never from code: a payer's new remark code is a one-line data change.

Reading order (CONTRACT §7, ``docs/domain.md`` §3.4): the RARCs first, in the order the row lists
them (the line's ``LQ*HE`` before the claim's MOA/MIA), because CARC 16, 252 and A1 are generic and
only the remark says what was wrong; then the CARCs, line-level adjustments before claim-level
ones; the first code with a family wins, and a denial no code explains is ``other``. The table
holds the contract's signatures plus the domain notes' secondary and legacy codes (its ``source``
column says which), and the family of every rule in the catalog, so serving can name the fired
rules behind each predicted family.

Everything here is pure data and arrays (no remittance rows): ``training.reasons`` applies it to
the history, ``serving`` to the fired rules of a request.
"""

from __future__ import annotations

import csv
import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

FAMILIES: tuple[str, ...] = (
    "ndc",
    "units",
    "description",
    "specific_code",
    "coding",
    "invoice",
    "documentation",
    "medical_necessity",
    "prior_auth",
    "timely_filing",
    "other",
)
"""The eleven families in CONTRACT §7 order; a family's index here is its column everywhere."""

FAMILY_INDEX: dict[str, int] = {name: i for i, name in enumerate(FAMILIES)}
OTHER = FAMILY_INDEX["other"]
TABLE_FILE = "denial_reasons.csv"
KINDS = ("rarc", "carc", "rule")


class ReasonTableError(ValueError):
    """The shipped table is malformed (unknown kind or family, a code listed twice)."""


@dataclass(frozen=True)
class ReasonTable:
    """Code -> family index, one mapping per kind of code, and the table's content hash."""

    rarc: dict[str, int]
    carc: dict[str, int]
    rule: dict[str, int]
    version: str  # first 12 hex digits of the table file's sha256: which mapping labelled a model

    def family_of_codes(self, rarcs: Sequence[str], carcs: Sequence[str]) -> str:
        """The family of one denied line given its RARCs and CARCs, each in reading order."""
        for code in rarcs:
            if code in self.rarc:
                return FAMILIES[self.rarc[code]]
        for code in carcs:
            if code in self.carc:
                return FAMILIES[self.carc[code]]
        return FAMILIES[OTHER]

    def rule_family(self, rule_id: str) -> int:
        """A rule's family index; a rule the table does not list yet counts as ``other``."""
        return self.rule.get(rule_id, OTHER)


def parse_table(text: str) -> ReasonTable:
    """Validate and index the CSV text (kind, code, family, source)."""
    maps: dict[str, dict[str, int]] = {kind: {} for kind in KINDS}
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames is None or not {"kind", "code", "family"} <= set(reader.fieldnames):
        raise ReasonTableError(f"{TABLE_FILE}: the header must name kind, code and family")
    for number, row in enumerate(reader, start=2):
        kind = (row.get("kind") or "").strip()
        code = (row.get("code") or "").strip()
        family = (row.get("family") or "").strip()
        if kind not in maps:
            raise ReasonTableError(f"{TABLE_FILE} line {number}: unknown kind {kind!r}")
        if family not in FAMILY_INDEX:
            raise ReasonTableError(f"{TABLE_FILE} line {number}: unknown family {family!r}")
        if not code or code in maps[kind]:
            raise ReasonTableError(f"{TABLE_FILE} line {number}: {kind} code {code!r} is empty or listed twice")
        maps[kind][code] = FAMILY_INDEX[family]
    version = hashlib.sha256(text.encode()).hexdigest()[:12]
    return ReasonTable(rarc=maps["rarc"], carc=maps["carc"], rule=maps["rule"], version=version)


@functools.cache
def load_table() -> ReasonTable:
    """The shipped table (cached: it is read once per process)."""
    text = resources.files("features").joinpath(TABLE_FILE).read_text(encoding="utf-8")
    return parse_table(text)


def first_family(codes: np.ndarray, row: np.ndarray, n_rows: int, mapping: dict[str, int]) -> np.ndarray:
    """Per row, the family of its first code that has one (-1 when none does).

    ``codes`` is a flat object array of codes and ``row`` the row each belongs to, rows in
    non-decreasing order and each row's codes in reading order (an Arrow list column flattened).
    The table lookup runs once per distinct code, not per row."""
    out = np.full(n_rows, -1, dtype=np.int8)
    if codes.shape[0] == 0:
        return out
    index, uniques = pd.factorize(codes, use_na_sentinel=True)
    family_of_unique = np.array([mapping.get(str(code).strip(), -1) for code in uniques] + [-1], dtype=np.int8)
    family = family_of_unique[index]  # the NA sentinel -1 picks the trailing -1
    hit = np.flatnonzero(family >= 0)
    rows, first = np.unique(row[hit], return_index=True)  # the earliest hit of each row
    out[rows] = family[hit[first]]
    return out


@functools.cache
def rule_family_codes(rule_ids: tuple[str, ...]) -> np.ndarray:
    """Family index per rule, for rule codes numbered like ``rule_ids`` (the catalog's RULE_IDS)."""
    table = load_table()
    return np.array([table.rule_family(rule_id) for rule_id in rule_ids], dtype=np.int64)


def top_families(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per claim, the index of its most likely family and that family's probability: the first
    entry of the API's ``reasons`` (CONTRACT §7) and the worklist's ``top_reason``, one argmax over
    a (claims, families) array. Ties go to the first family in contract order, as the API's stable
    sort gives them; the worklist file, the store and the API must never disagree on a tie."""
    top = np.argmax(probabilities, axis=1)
    return top, probabilities[np.arange(probabilities.shape[0]), top]
