"""The feature columns: their names, their order, and where each kind of value is written.

The order of the columns is part of a fitted model (the booster learned column positions), so it
is defined once, here, from the featurizer's fitted category lists. ``ColumnLayout`` turns those
names into the integer positions the column writers need; it is derived data, rebuilt whenever the
fitted state is set (after ``fit`` and after unpickling) and never saved with a model.

Category lists (payers, places of service, diagnosis chapters, administration and drug codes) are
learned in ``fit`` with an "other" bucket, so the width is fixed once fitted and an unseen value at
serving time lands in "other" instead of shifting columns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from features.payer_policy import PAYER_TYPES
from features.rules.catalog import RULE_CODE, RULES

OTHER = "__other__"
NONE = "__none__"
FAMILIES = ("J", "Q", "C", "A", "other_hcpcs", "admin", "cpt_other")
DRUG_UNITS = ("UN", "ML", "GR", "F2", "ME")  # the N4 units of measure X12 allows for an NDC quantity


@dataclass(frozen=True)
class FittedCategories:
    """What ``fit`` learned that decides the columns (the featurizer's fitted list attributes)."""

    rule_ids: Sequence[str]
    payers: Sequence[str]
    places_of_service: Sequence[str]
    noc_codes: Sequence[str]
    chapters: Sequence[str]
    admin_codes: Sequence[str]
    drug_codes: Sequence[str]


def top_categories(values: list[Any], limit: int, min_count: int) -> list[str]:
    """The ``limit`` most frequent values seen at least ``min_count`` times (ties by name), so that
    the same history always gives the same columns."""
    counts = Counter(v for v in values if v is not None)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return [str(v) for v, c in ranked[:limit] if c >= min_count]


def feature_names(fitted: FittedCategories) -> list[str]:
    """All column names, in column order. Rule columns first: serving clears them to ask "what if
    this problem were fixed"; a line-level rule also has a column counting its lines."""
    names: list[str] = []
    for rule_id in fitted.rule_ids:
        names.append(f"rule:{rule_id}")
        if RULES[rule_id].level == "line":
            names.append(f"rule:{rule_id}:lines")
    names += [f"payer_type={t}" for t in PAYER_TYPES]
    names += ["claim_type=institutional", "frequency=replacement", "frequency=void"]
    names += [f"payer_id={p}" for p in fitted.payers] + [f"payer_id={OTHER}"]
    names += [f"place_of_service={p}" for p in fitted.places_of_service] + [f"place_of_service={OTHER}"]
    names += [f"noc_code={c}" for c in fitted.noc_codes] + [f"noc_code={OTHER}"]
    names += [f"code_family={f}" for f in FAMILIES]
    names += ["n_lines", "n_drug_lines", "n_noc_lines", "n_ndc_lines"]
    names += ["total_charge", "log_total_charge", "max_line_charge", "drug_charge"]
    names += ["charge_to_limit_max", "n_lines_with_limit", "units_total", "units_max"]
    names += ["days_to_submission_max", "days_to_submission_min"]
    names += [f"dx_chapter={c}" for c in fitted.chapters] + [f"dx_chapter={OTHER}", f"dx_chapter={NONE}"]
    names += ["n_diagnoses", "provider_target", "provider_log_count"]
    names += ["modifier_jw_lines", "modifier_jz_lines"]
    names += ["attachments", "attachments_claim_level", "attachments_invoice", "attachments_not_sent"]
    names += ["prior_authorization"]
    names += [f"admin_code={c}" for c in fitted.admin_codes] + [f"admin_code={OTHER}"]
    names += [f"drug_code={c}" for c in fitted.drug_codes] + [f"drug_code={OTHER}"]
    names += [f"drug_unit={u}" for u in DRUG_UNITS] + [f"drug_unit={OTHER}"]
    names += ["noc_lines_units_not_one", "ml_units_mismatch_lines", "ml_units_log_ratio_max"]
    names += ["drug_log_charge_sum", "admin_log_charge_sum", "service_date_years"]
    names += ["diagnosis_drug_log_share_min"]
    return names


@dataclass(frozen=True)
class ColumnLayout:
    """Column positions by kind, from the names. ``*_cols`` arrays list a block's columns with its
    "other" column last; ``*_local`` maps a value to its position in that block; the category dicts
    map a value straight to its column, ``None`` (missing or unknown) to the "other" column."""

    index: dict[str, int]
    flag_cols: np.ndarray  # one per rule, with the rule's code in FiredRules
    flag_codes: np.ndarray
    line_cols: np.ndarray  # one per line-level rule
    line_codes: np.ndarray
    noc_cols: np.ndarray
    noc_local: dict[str, int]
    family_cols: np.ndarray
    admin_cols: np.ndarray
    admin_local: dict[str, int]
    drug_cols: np.ndarray
    drug_local: dict[str, int]
    unit_cols: np.ndarray
    payer_type_cols: dict[Any, int]
    payer_cols: dict[Any, int]
    place_cols: dict[Any, int]
    chapter_cols: dict[Any, int]  # None -> the no-diagnosis column
    other_chapter: int

    @classmethod
    def of(cls, fitted: FittedCategories, names: Sequence[str]) -> ColumnLayout:
        """Positions of ``names`` (the fitted ``feature_names(fitted)``) by kind."""
        idx = {name: i for i, name in enumerate(names)}
        with_lines = [r for r in fitted.rule_ids if f"rule:{r}:lines" in idx]
        chapter_cols = _category_cols(idx, "dx_chapter", fitted.chapters, f"dx_chapter={OTHER}")
        other_chapter = chapter_cols[None]
        chapter_cols[None] = idx[f"dx_chapter={NONE}"]
        return cls(
            index=idx,
            flag_cols=_cols(idx, [f"rule:{r}" for r in fitted.rule_ids]),
            flag_codes=np.array([RULE_CODE[r] for r in fitted.rule_ids], dtype=np.int64),
            line_cols=_cols(idx, [f"rule:{r}:lines" for r in with_lines]),
            line_codes=np.array([RULE_CODE[r] for r in with_lines], dtype=np.int64),
            noc_cols=_cols(idx, [f"noc_code={c}" for c in [*fitted.noc_codes, OTHER]]),
            noc_local={c: k for k, c in enumerate(fitted.noc_codes)},
            family_cols=_cols(idx, [f"code_family={f}" for f in FAMILIES]),
            admin_cols=_cols(idx, [f"admin_code={c}" for c in [*fitted.admin_codes, OTHER]]),
            admin_local={c: k for k, c in enumerate(fitted.admin_codes)},
            drug_cols=_cols(idx, [f"drug_code={c}" for c in [*fitted.drug_codes, OTHER]]),
            drug_local={c: k for k, c in enumerate(fitted.drug_codes)},
            unit_cols=_cols(idx, [f"drug_unit={u}" for u in [*DRUG_UNITS, OTHER]]),
            payer_type_cols=_category_cols(idx, "payer_type", PAYER_TYPES, "payer_type=other"),
            payer_cols=_category_cols(idx, "payer_id", fitted.payers, f"payer_id={OTHER}"),
            place_cols=_category_cols(idx, "place_of_service", fitted.places_of_service, f"place_of_service={OTHER}"),
            chapter_cols=chapter_cols,
            other_chapter=other_chapter,
        )


def _cols(idx: dict[str, int], names: list[str]) -> np.ndarray:
    return np.array([idx[name] for name in names], dtype=np.int64)


def _category_cols(idx: dict[str, int], prefix: str, known: Sequence[Any], fallback: str) -> dict[Any, int]:
    cols: dict[Any, int] = {v: idx[f"{prefix}={v}"] for v in known}
    cols[None] = idx[fallback]  # missing values and unknown ones share the "other" column
    return cols
