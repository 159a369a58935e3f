"""What a drug line says beyond the rule flags: which drug it is, and whether the diagnosis fits it.

Payers review physician-administered drugs for medical necessity: an oncology drug billed with a
sprain, or a steroid with a cancer code, draws a records request or a denial even when every field
is filled in. No rule of CONTRACT §3 can judge that (coverage policies are per payer and per drug),
but the claims themselves can: among the claims a practice has sent, each drug keeps company with a
small set of diagnosis categories, and a pairing seen rarely or never is worth a feature.

The *drug key* of a line is its HCPCS code; a NOC line (J3490, J3590, J9999, C9399) is keyed by the
code CMS lists its NDC under when there is one, since "J3490 + that NDC" is that drug. The
diagnosis side is the principal diagnosis's ICD-10-CM category (its first three characters).

The counts are of *claims*, not labels: nothing here reads an outcome, so it needs no out-of-fold
care against label leakage. A claim still must not count itself when the training slice is
featurized (``leave_self_out``), or a one-off pairing would look familiar only in training.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from claims.columnar import ClaimFrame
from features.rules import _arrays as A

NO_DIAGNOSIS = ""
# Smoothing, in claims: a drug code with few claims borrows from the diagnosis mix overall, an NDC
# with few claims from its drug code's mix. Chosen on a 200k-claim history (ROC-AUC, time split).
CODE_SMOOTHING = 5.0
NDC_SMOOTHING = 10.0


def drug_keys(facts: Any) -> np.ndarray:
    """Per line: the procedure code, or for a NOC line the first HCPCS CMS lists its NDC under
    (``facts``: the rule engine's LineFacts, which carry the crosswalk look-up it already made)."""
    keys = facts.code.copy()
    rows = facts.crosswalk_rows
    if rows is None or rows.shape[0] == 0:
        return keys
    noc = facts.is_noc[rows]
    if not A.any_true(noc):
        return keys
    listed = facts.crosswalk_listed[noc]
    first = A.map_unique(listed, lambda codes: codes[0] if codes else None, object)
    found = first != None  # noqa: E711 (element-wise)
    keys[rows[noc][found]] = first[found]
    return keys


class DrugLines(NamedTuple):
    """The drug lines of a frame with what the diagnosis/drug features key on."""

    rows: np.ndarray
    claim: np.ndarray
    code_key: np.ndarray  # HCPCS, or the crosswalk code of a NOC line's NDC
    ndc_key: np.ndarray  # the NDC when present, else the code key
    category: np.ndarray  # the claim's principal diagnosis category, "" when none

    @classmethod
    def of(cls, frame: ClaimFrame, facts: Any, principal: tuple[np.ndarray, list[Any]]) -> DrugLines:
        """``principal``: what :func:`principal_diagnoses` gives for the frame."""
        rows = A.rows_where(facts.is_drug)
        claim = frame.lines["claim_index"][rows]
        code_key = drug_keys(facts)[rows]
        ndc_key = np.where(facts.ndc_present[rows], facts.ndc11[rows], code_key)
        index, uniques = principal
        category = categories(uniques)[index[claim]]
        return cls(rows=rows, claim=claim, code_key=code_key, ndc_key=ndc_key, category=category)


def lowest_log_share(drug: DrugLines, tables: dict[str, Any], n_claims: int, *, leave_self_out: bool) -> np.ndarray:
    """Per claim: the least usual diagnosis/drug pairing among its drug lines (0 without drug lines)."""
    lowest = np.zeros(n_claims)
    if drug.rows.size:
        share = log_shares(drug.code_key, drug.ndc_key, drug.category, tables, leave_self_out=leave_self_out)
        np.minimum.at(lowest, drug.claim, share)
    return lowest


def principal_diagnoses(frame: ClaimFrame, facts: Any = None) -> tuple[np.ndarray, list[Any]]:
    """(per claim: index of its principal (first) diagnosis into the distinct codes, -1 when it has
    none; the distinct codes). Reuses the rule engine's factorization when ``facts`` carry it."""
    dx = frame.diagnoses
    if facts is not None and facts.diagnosis_index is not None:
        codes, uniques = facts.diagnosis_index, facts.diagnosis_uniques
    else:
        codes, uniques = A.factorize(dx["code"])
    principal = np.full(frame.n_claims, -1, dtype=np.int64)
    first = A.rows_where(dx["position"] == 1)
    principal[dx["claim_index"][first]] = codes[first]
    return principal, uniques


def principal_categories(frame: ClaimFrame) -> np.ndarray:
    """Per claim: the principal diagnosis's category ("C50" of C50.911), "" when there is none."""
    index, uniques = principal_diagnoses(frame)
    return categories(uniques)[index]


def categories(codes: list[Any]) -> np.ndarray:
    """The category of each distinct diagnosis code, plus a last entry "" (no diagnosis) that an
    index of -1 picks."""
    table = np.empty(len(codes) + 1, dtype=object)
    table[:] = [*(_category(c) for c in codes), NO_DIAGNOSIS]
    return table


def _category(code: Any) -> str:
    if not isinstance(code, str):
        return NO_DIAGNOSIS
    return code.strip().replace(".", "").upper()[:3]


def count_pairs(claim: np.ndarray, key: np.ndarray, category: np.ndarray) -> dict[Any, int]:
    """Claims per (key, category) and per key (as ``(key, None)``): one count per claim, however
    many of its lines share the key."""
    per_claim = A.factorize_pairs(claim, key)[0]
    _, first = np.unique(per_claim, return_index=True)
    codes, pairs = A.factorize_pairs(key[first], category[first])
    counts = np.bincount(codes, minlength=len(pairs))
    table: dict[Any, int] = {}
    for (k, c), count in zip(pairs, counts.tolist(), strict=True):
        table[(k, c)] = count
        table[(k, None)] = table.get((k, None), 0) + count
    return table


def log_shares(
    code_key: np.ndarray,
    ndc_key: np.ndarray,
    category: np.ndarray,
    tables: dict[str, Any],
    *,
    leave_self_out: bool = False,
) -> np.ndarray:
    """Per drug line: log of the smoothed share of the line's drug claims that carry its diagnosis
    category (NDC level, shrunk towards the drug code's share, shrunk towards the overall mix).
    Computed once per distinct (code, NDC, category); lines without a diagnosis get 0 (no evidence)."""
    n = code_key.shape[0]
    self_count = 1.0 if leave_self_out else 0.0
    if n <= A.SMALL:  # one claim's lines: a dict look-up each beats factorizing three columns
        return np.fromiter(
            (_log_share(c, k, g, tables, self_count)
             for c, k, g in zip(code_key.tolist(), ndc_key.tolist(), category.tolist(), strict=True)),
            dtype=np.float64, count=n,
        )
    c_idx, c_uniq = A.factorize(code_key)
    k_idx, k_uniq = A.factorize(ndc_key)
    g_idx, g_uniq = A.factorize(category)
    width_k, width_g = max(len(k_uniq), 1), max(len(g_uniq), 1)
    triple_idx, triples = A.factorize((c_idx * width_k + k_idx) * width_g + g_idx)
    triple = np.asarray(triples, dtype=np.int64)
    c, k, g = triple // (width_k * width_g), triple // width_g % width_k, triple % width_g
    # The same look-ups and arithmetic as ``_log_share``, a dict look-up per distinct key or pair
    # instead of a Python call per distinct triple (floats in the same order: identical results).
    by_code: dict[Any, int] = tables["code"]
    by_ndc: dict[Any, int] = tables["ndc"]
    overall, unseen = tables["overall"], tables["unseen"]
    prior = np.array([overall.get(u, unseen) for u in g_uniq], dtype=np.float64)[g]
    code_total = np.array([by_code.get((u, None), 0) for u in c_uniq], dtype=np.float64)[c]
    ndc_total = np.array([by_ndc.get((u, None), 0) for u in k_uniq], dtype=np.float64)[k]
    code_pair = _pair_counts(by_code, c_uniq, c, g_uniq, g)
    ndc_pair = _pair_counts(by_ndc, k_uniq, k, g_uniq, g)
    code_share = _shrunk_array(code_pair - self_count, code_total - self_count, prior, CODE_SMOOTHING)
    share = _shrunk_array(ndc_pair - self_count, ndc_total - self_count, code_share, NDC_SMOOTHING)
    values = np.fromiter(map(math.log, share.tolist()), dtype=np.float64, count=share.shape[0])
    values[np.asarray([u == NO_DIAGNOSIS for u in g_uniq], dtype=bool)[g]] = 0.0
    return values[triple_idx]


def _pair_counts(table: dict[Any, int], keys: list[Any], key: np.ndarray, cats: list[Any], cat: np.ndarray) -> np.ndarray:
    """``table[(keys[key[i]], cats[cat[i]])]`` (0 when absent) per i, one look-up per distinct pair."""
    pair_idx, pairs = A.factorize(key * max(len(cats), 1) + cat)
    width = max(len(cats), 1)
    counts = [table.get((keys[p // width], cats[p % width]), 0) for p in pairs]
    return np.asarray(counts, dtype=np.float64)[pair_idx]


def _shrunk_array(pair: np.ndarray, key: np.ndarray, prior: np.ndarray, smoothing: float) -> np.ndarray:
    """``_shrunk`` element-wise, in the same order of float operations."""
    return (np.maximum(pair, 0.0) + smoothing * prior) / (np.maximum(key, 0.0) + smoothing)


def _log_share(code: Any, ndc: Any, category: Any, tables: dict[str, Any], self_count: float) -> float:
    if category == NO_DIAGNOSIS:
        return 0.0
    by_code: dict[Any, int] = tables["code"]
    by_ndc: dict[Any, int] = tables["ndc"]
    prior = tables["overall"].get(category, tables["unseen"])
    code_share = _shrunk(
        by_code.get((code, category), 0) - self_count, by_code.get((code, None), 0) - self_count, prior, CODE_SMOOTHING
    )
    share = _shrunk(
        by_ndc.get((ndc, category), 0) - self_count, by_ndc.get((ndc, None), 0) - self_count, code_share, NDC_SMOOTHING
    )
    return math.log(share)


def _shrunk(pair: float, key: float, prior: float, smoothing: float) -> float:
    return (max(pair, 0.0) + smoothing * prior) / (max(key, 0.0) + smoothing)


def fit_tables(claim: np.ndarray, code_key: np.ndarray, ndc_key: np.ndarray, category: np.ndarray) -> dict[str, Any]:
    """The counts ``log_shares`` needs, from the drug lines of the fitting claims."""
    with_dx = category != NO_DIAGNOSIS
    cat_codes, cat_uniques = A.factorize(category[with_dx])
    # the overall mix: share of drug claims per category (each claim counted once, at its first line)
    first_line = np.unique(claim[with_dx], return_index=True)[1]
    mix = np.bincount(cat_codes[first_line], minlength=len(cat_uniques)).astype(np.float64)
    total = max(float(first_line.shape[0]), 1.0)
    return {
        "overall": {c: float(m) / total for c, m in zip(cat_uniques, mix.tolist(), strict=True)},
        "unseen": 1.0 / (total + max(len(cat_uniques), 1)),
        "code": count_pairs(claim[with_dx], code_key[with_dx], category[with_dx]),
        "ndc": count_pairs(claim[with_dx], ndc_key[with_dx], category[with_dx]),
    }
