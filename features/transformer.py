"""``ClaimFeaturizer``: one float32 row per claim, from what the biller knows before submitting.

The model learns from two kinds of columns. Rule columns (fired 0/1 and on how many lines) carry
the explanations: clearing them is how serving asks "what if this problem were fixed", so they
are listed in ``rule_columns`` and constrained monotone increasing (``monotonic_cst``). Context
columns (payer, setting, codes, charges, timing, provider history) let the model weigh a flag by
payer and situation. Nothing from a remittance is read: the 835 is the label, never an input.

Category lists (payers, places of service, diagnosis chapters) are learned in ``fit`` with an
"other" bucket, so the width is fixed once fitted and an unseen payer at serving time lands in
"other" instead of shifting columns. The billing provider is target-encoded with smoothing; in
``fit_transform`` each claim's own label is kept out of its encoding (out-of-fold), or training
would learn from a column that already contains the answer.

This module path and class name are recorded in saved models: never rename or move them.
"""

from __future__ import annotations

import weakref
from collections import Counter
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from claims.columnar import ClaimFrame
from features import drug_context
from features.payer_policy import PAYER_TYPES, PolicySet
from features.rules import _arrays as A
from features.rules.catalog import DEFAULT_NOC_CODES, RULE_CODE, RULES, is_admin_code
from features.rules.engine import FiredRules, _lookups, default_policies, default_reference, evaluate
from reference.icd10 import chapter

if TYPE_CHECKING:
    from reference.store import ReferenceData

OTHER = "__other__"
NONE = "__none__"
_RATIO_CAP = 1_000.0  # charge relative to the CMS limit; capped before float32 (no inf from tiny units)
_AMOUNT_CAP = 1e9
_DAYS_LOW, _DAYS_HIGH = -366, 3650
# the same bounds as 0-d arrays, for ufunc operands (see _arrays.constant)
_RATIO_CAP0 = A.constant(_RATIO_CAP, np.float64)
_DAYS_LOW0, _DAYS_HIGH0 = A.constant(_DAYS_LOW, np.int64), A.constant(_DAYS_HIGH, np.int64)
_DAYS_LOW_F, _DAYS_HIGH_F = A.constant(_DAYS_LOW, np.float64), A.constant(_DAYS_HIGH, np.float64)
_AMOUNT_LOW, _AMOUNT_HIGH = A.constant(-_AMOUNT_CAP, np.float64), A.constant(_AMOUNT_CAP, np.float64)
_FAMILIES = ("J", "Q", "C", "A", "other_hcpcs", "admin", "cpt_other")

# Claim columns the featurizer itself reads (the rule engine reads its own); see features.leakage.
CONTEXT_LINE_COLUMNS: tuple[str, ...] = (
    "claim_index", "payer_id", "payer_type", "claim_type", "frequency_code", "place_of_service",
    "billing_provider_npi", "total_charge", "claim_prior_authorization", "submission_date",
    "line_number", "charge", "units", "line_prior_authorization",
)


def _family(code: str) -> str:
    if is_admin_code(code):
        return "admin"
    if len(code) == 5 and code.isdigit():
        return "cpt_other"
    head = code[:1]
    if head in ("J", "Q", "C", "A"):
        return head
    return "other_hcpcs"


def _per_claim(values: np.ndarray, claim_index: np.ndarray, n_claims: int, fill: Any) -> np.ndarray:
    out = np.full(n_claims, fill, dtype=values.dtype)
    out[claim_index] = values
    return out


def _top_categories(values: list[Any], limit: int, min_count: int) -> list[str]:
    counts = Counter(v for v in values if v is not None)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return [str(v) for v, c in ranked[:limit] if c >= min_count]


class ClaimFeaturizer(TransformerMixin, BaseEstimator):
    """ClaimFrame -> (n_claims, n_features) float32. See the module docstring for the why."""

    def __init__(
        self,
        *,
        max_payers: int = 30,
        max_places_of_service: int = 15,
        max_chapters: int = 22,
        max_admin_codes: int = 12,
        max_drug_codes: int = 60,
        min_category_count: int = 5,
        provider_smoothing: float = 20.0,
        n_folds: int = 5,
        random_state: int = 0,
    ) -> None:
        self.max_payers = max_payers
        self.max_places_of_service = max_places_of_service
        self.max_chapters = max_chapters
        self.max_admin_codes = max_admin_codes
        self.max_drug_codes = max_drug_codes
        self.min_category_count = min_category_count
        self.provider_smoothing = provider_smoothing
        self.n_folds = n_folds
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def fit(self, X: ClaimFrame, y: Any = None) -> ClaimFeaturizer:
        frame = _as_frame(X)
        self._fit(frame, y, evaluate(frame, policies=default_policies(), reference=default_reference()))
        return self

    def _fit(self, frame: ClaimFrame, y: Any, fired: FiredRules) -> None:
        L = frame.lines
        n = frame.n_claims
        ci = L["claim_index"]
        payer = _per_claim(L["payer_id"], ci, n, None).tolist()
        pos = _per_claim(L["place_of_service"], ci, n, None).tolist()
        self.payers_ = _top_categories(payer, self.max_payers, self.min_category_count)
        self.places_of_service_ = _top_categories(pos, self.max_places_of_service, self.min_category_count)
        facts = fired.facts
        assert facts is not None
        principal = drug_context.principal_diagnoses(frame, facts)
        chapters = _principal_chapters(frame, principal).tolist()
        self.chapters_ = _top_categories(chapters, self.max_chapters, self.min_category_count)
        self.rule_ids_ = list(RULES)
        self.noc_codes_ = list(DEFAULT_NOC_CODES)

        npi = _per_claim(L["billing_provider_npi"], ci, n, None)
        codes, uniques = A.factorize(npi)
        counts: np.ndarray = np.bincount(codes, minlength=len(uniques)).astype(np.float64)
        sums: np.ndarray
        if y is not None:
            target = _as_target(y, n)
            sums = np.bincount(codes, weights=target, minlength=len(uniques))
            self.provider_prior_ = float(target.mean()) if n else 0.0
        else:
            sums = np.zeros(len(uniques))
            self.provider_prior_ = 0.0
        keep = [i for i, u in enumerate(uniques) if u is not None]
        self.provider_stats_ = {uniques[i]: (float(counts[i]), float(sums[i])) for i in keep}
        self.provider_target_fitted_ = y is not None

        admin_rows = A.rows_where(facts.is_admin)
        self.admin_codes_ = _top_categories(facts.code[admin_rows].tolist(), self.max_admin_codes, self.min_category_count)
        drug = _DrugLines.of(frame, facts, principal)
        self.drug_codes_ = _top_categories(drug.code_key.tolist(), self.max_drug_codes, self.min_category_count)
        self.diagnosis_drug_tables_ = drug_context.fit_tables(drug.claim, drug.code_key, drug.ndc_key, drug.category)

        self.feature_names_out_ = np.asarray(self._feature_names(), dtype=object)
        self.n_features_out_ = len(self.feature_names_out_)
        self._index = {name: i for i, name in enumerate(self.feature_names_out_.tolist())}

    def fit_transform(self, X: ClaimFrame, y: Any = None, **fit_params: Any) -> np.ndarray:
        """Fit and transform with one rule pass; label- and count-based encodings of each row leave
        that row out (out-of-fold provider target, leave-self-out diagnosis/drug shares)."""
        frame = _as_frame(X)
        fired = evaluate(frame, policies=default_policies(), reference=default_reference())
        self._fit(frame, y, fired)
        matrix = self._build(frame, fired, default_reference(), leave_self_out=True)
        if y is not None:
            matrix[:, self._index["provider_target"]] = self._out_of_fold_provider(frame, _as_target(y, frame.n_claims))
        return matrix

    def _out_of_fold_provider(self, frame: ClaimFrame, target: np.ndarray) -> np.ndarray:
        n = frame.n_claims
        npi = _per_claim(frame.lines["billing_provider_npi"], frame.lines["claim_index"], n, None)
        codes, uniques = A.factorize(npi)
        k = max(2, int(self.n_folds))
        fold = np.random.default_rng(self.random_state).integers(0, k, size=n)
        width = len(uniques)
        total_n = np.bincount(codes, minlength=width).astype(np.float64)
        total_s = np.bincount(codes, weights=target, minlength=width)
        flat = fold * width + codes
        fold_n = np.bincount(flat, minlength=k * width).astype(np.float64)
        fold_s = np.bincount(flat, weights=target, minlength=k * width)
        m = float(self.provider_smoothing)
        prior = self.provider_prior_
        count = total_n[codes] - fold_n[flat]
        enc = (total_s[codes] - fold_s[flat] + m * prior) / (count + m)
        none = np.asarray([u is None for u in uniques], dtype=bool)[codes] if width else np.zeros(n, dtype=bool)
        return np.where(none, prior, enc).astype(np.float32)

    # ------------------------------------------------------------------ names
    def _feature_names(self) -> list[str]:
        names: list[str] = []
        for rule_id in self.rule_ids_:
            names.append(f"rule:{rule_id}")
            if RULES[rule_id].level == "line":
                names.append(f"rule:{rule_id}:lines")
        names += [f"payer_type={t}" for t in PAYER_TYPES]
        names += ["claim_type=institutional", "frequency=replacement", "frequency=void"]
        names += [f"payer_id={p}" for p in self.payers_] + [f"payer_id={OTHER}"]
        names += [f"place_of_service={p}" for p in self.places_of_service_] + [f"place_of_service={OTHER}"]
        names += [f"noc_code={c}" for c in self.noc_codes_] + [f"noc_code={OTHER}"]
        names += [f"code_family={f}" for f in _FAMILIES]
        names += ["n_lines", "n_drug_lines", "n_noc_lines", "n_ndc_lines"]
        names += ["total_charge", "log_total_charge", "max_line_charge", "drug_charge"]
        names += ["charge_to_limit_max", "n_lines_with_limit", "units_total", "units_max"]
        names += ["days_to_submission_max", "days_to_submission_min"]
        names += [f"dx_chapter={c}" for c in self.chapters_] + [f"dx_chapter={OTHER}", f"dx_chapter={NONE}"]
        names += ["n_diagnoses", "provider_target", "provider_log_count"]
        names += ["modifier_jw_lines", "modifier_jz_lines"]
        names += ["attachments", "attachments_claim_level", "attachments_invoice", "attachments_not_sent"]
        names += ["prior_authorization"]
        names += [f"admin_code={c}" for c in self.admin_codes_] + [f"admin_code={OTHER}"]
        names += [f"drug_code={c}" for c in self.drug_codes_] + [f"drug_code={OTHER}"]
        names += [f"drug_unit={u}" for u in _DRUG_UNITS] + [f"drug_unit={OTHER}"]
        names += ["noc_lines_units_not_one", "ml_units_mismatch_lines", "ml_units_log_ratio_max"]
        names += ["drug_log_charge_sum", "admin_log_charge_sum", "service_date_years"]
        names += ["diagnosis_drug_log_share_min"]
        return names

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_.copy()

    @property
    def rule_columns(self) -> dict[str, list[int]]:
        """Rule id -> the columns to clear when that problem is fixed (its flag and its line count)."""
        check_is_fitted(self, "feature_names_out_")
        out: dict[str, list[int]] = {}
        for rule_id in self.rule_ids_:
            cols = [self._index[f"rule:{rule_id}"]]
            if f"rule:{rule_id}:lines" in self._index:
                cols.append(self._index[f"rule:{rule_id}:lines"])
            out[rule_id] = cols
        return out

    def monotonic_cst(self) -> list[int]:
        """+1 for rule columns (a flag never lowers risk), 0 for the rest; for LightGBM/HGB."""
        check_is_fitted(self, "feature_names_out_")
        return [1 if name.startswith("rule:") else 0 for name in self.feature_names_out_.tolist()]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        tags.requires_fit = True
        return tags

    # ------------------------------------------------------------------ transform
    def transform(self, X: ClaimFrame) -> np.ndarray:
        matrix, _ = self.transform_with_rules(X)
        return matrix

    def transform_with_rules(
        self, frame: ClaimFrame, *, policies: PolicySet | None = None, reference: ReferenceData | None = None
    ) -> tuple[np.ndarray, FiredRules]:
        """Features and the fired rules in one pass, so serving evaluates the rules once."""
        if "feature_names_out_" not in self.__dict__:  # check_is_fitted costs ~10 µs (it builds the tags)
            check_is_fitted(self, "feature_names_out_")
        frame = _as_frame(frame)
        policies = policies if policies is not None else default_policies()
        reference = reference if reference is not None else default_reference()
        fired = evaluate(frame, policies=policies, reference=reference)
        return self._build(frame, fired, reference), fired

    def _build(
        self, frame: ClaimFrame, fired: FiredRules, reference: ReferenceData, *, leave_self_out: bool = False
    ) -> np.ndarray:
        idx = self._index
        n = frame.n_claims
        if n == 0:
            return np.zeros((0, self.n_features_out_), dtype=np.float32)
        # Built feature-major, so that each column is one contiguous write, and handed back as its
        # (claims, features) transpose without a copy: a Fortran-order matrix, as pandas stores a
        # frame. LightGBM predicts from it as fast as from C order (it reads either layout), and the
        # copy to C order cost 0.13-0.25 s per million lines, a tenth of the whole build.
        XT = np.zeros((self.n_features_out_, n), dtype=np.float32)
        L = frame.lines
        facts = fired.facts
        assert facts is not None
        ci = L["claim_index"]

        # rule columns: counted rule by rule, written with one gather per kind of column
        layout = self._rule_layout()
        on_lines, at_claim = fired.rule_counts_by_rule()
        XT[layout.flag_cols] = (on_lines[layout.flag_codes] > A.I0) | at_claim[layout.flag_codes]
        XT[layout.line_cols] = on_lines[layout.line_codes]

        # payer, setting, claim shape: claim fields are read once per claim
        first = facts.claim_first_row if facts.claim_first_row is not None else A.first_rows(ci, n)
        payer_type = _per_claim_at(L["payer_type"], first, None, ci, n)
        _one_hot(XT, self._category_cols("payer_type", PAYER_TYPES, "payer_type=other"), payer_type)
        claim_type = _per_claim_at(L["claim_type"], first, None, ci, n)
        XT[idx["claim_type=institutional"]] = claim_type == "institutional"
        frequency = _per_claim_at(L["frequency_code"], first, None, ci, n)
        XT[idx["frequency=replacement"]] = frequency == "7"
        XT[idx["frequency=void"]] = frequency == "8"
        _one_hot(XT, self._category_cols("payer_id", self.payers_, f"payer_id={OTHER}"), _per_claim_at(L["payer_id"], first, None, ci, n))
        _one_hot(XT, self._category_cols("place_of_service", self.places_of_service_, f"place_of_service={OTHER}"),
            _per_claim_at(L["place_of_service"], first, None, ci, n),
        )

        # codes: per-claim counts by column, as one bincount over (claim, column) pairs
        code_idx = facts.code_index
        uniques = facts.code_uniques
        tables = self._code_tables(uniques)
        noc_rows = A.rows_where(facts.is_noc)
        noc_local = tables.noc_local[code_idx[noc_rows]]
        _add_counts(XT, ci[noc_rows], noc_local, layout.noc_cols, n)
        _add_counts(XT, ci, tables.family_local[code_idx], layout.family_cols, n)
        XT[idx["n_lines"]] = np.bincount(ci, minlength=n)
        XT[idx["n_drug_lines"]] = np.bincount(ci[facts.is_drug], minlength=n)
        XT[idx["n_noc_lines"]] = np.bincount(ci[noc_rows], minlength=n)
        XT[idx["n_ndc_lines"]] = np.bincount(ci[facts.ndc_present], minlength=n)

        # money and units (capped before the float32 cast)
        charge = _capped(L["charge"])
        total = _capped(_per_claim_at(L["total_charge"], first, np.nan, ci, n))
        XT[idx["total_charge"]] = total
        XT[idx["log_total_charge"]] = np.log1p(np.maximum(total, A.F0))
        XT[idx["max_line_charge"]] = _group_max(charge, ci, first, n, A.F0)
        XT[idx["drug_charge"]] = np.bincount(ci, weights=np.where(facts.is_drug, charge, A.F0), minlength=n)
        units = _capped(L["units"])
        limit = _payment_limits(reference, uniques)[code_idx]
        priced = np.isfinite(limit) & (limit > A.F0) & (units > A.F0)
        allowed = np.where(priced, limit * np.where(priced, units, A.F1), A.F1)
        ratio = np.where(priced, np.minimum(np.maximum(charge, A.F0) / allowed, _RATIO_CAP0), A.F0)
        XT[idx["charge_to_limit_max"]] = _group_max(ratio, ci, first, n, A.F0)
        XT[idx["n_lines_with_limit"]] = np.bincount(ci[priced], minlength=n)
        XT[idx["units_total"]] = np.bincount(ci, weights=units, minlength=n)
        XT[idx["units_max"]] = _group_max(units, ci, first, n, A.F0)

        # timing: days from service (or submission when missing) to submission
        days = (L["submission_date"] - facts.service_date).astype(np.int64)
        days = np.where(np.isnat(L["submission_date"]) | np.isnat(facts.service_date), A.I0, days)
        # np.minimum/np.maximum rather than np.clip: same values, a tenth of the call overhead
        days = np.minimum(np.maximum(days, _DAYS_LOW0), _DAYS_HIGH0).astype(np.float64)
        XT[idx["days_to_submission_max"]] = _group_max(days, ci, first, n, _DAYS_LOW_F)
        XT[idx["days_to_submission_min"]] = _group_min(days, ci, first, n, _DAYS_HIGH_F)

        # diagnoses, provider, modifiers, attachments, prior auth
        principal = drug_context.principal_diagnoses(frame, facts)
        chapters = _principal_chapters(frame, principal)
        chapter_cols, other_chapter = self._chapter_cols()
        _one_hot(XT, chapter_cols, chapters, other_chapter)
        XT[idx["n_diagnoses"]] = np.bincount(frame.diagnoses["claim_index"], minlength=n)
        npi = _per_claim_at(L["billing_provider_npi"], first, None, ci, n)
        encoded, p_codes = self._provider_encoding(npi)
        XT[idx["provider_target"]] = encoded[p_codes, 0]
        XT[idx["provider_log_count"]] = encoded[p_codes, 1]
        XT[idx["modifier_jw_lines"]] = np.bincount(ci[facts.modifier_jw], minlength=n)
        XT[idx["modifier_jz_lines"]] = np.bincount(ci[facts.modifier_jz], minlength=n)
        att = frame.attachments
        a_ci = att["claim_index"]
        if a_ci.shape[0]:
            XT[idx["attachments"]] = np.bincount(a_ci, minlength=n)
            XT[idx["attachments_claim_level"]] = np.bincount(a_ci[att["line_number"] < A.I0], minlength=n)
            XT[idx["attachments_invoice"]] = np.bincount(a_ci[facts.attachment_is_invoice], minlength=n)
            not_sent = A.map_unique(att["transmission"], _not_sent, np.bool_)
            XT[idx["attachments_not_sent"]] = np.bincount(a_ci[not_sent], minlength=n)
        has_pa = facts.prior_authorization
        if has_pa is None:  # facts from an engine that did not record it
            has_pa = ~(A.is_blank(L["claim_prior_authorization"]) & A.is_blank(L["line_prior_authorization"]))
        XT[idx["prior_authorization"]] = np.bincount(ci[has_pa], minlength=n) > A.I0

        self._drug_context(XT, frame, facts, reference, first, n, leave_self_out, principal, charge)
        return XT.T

    def _drug_context(
        self, XT: np.ndarray, frame: ClaimFrame, facts: Any, reference: ReferenceData,
        first: np.ndarray | None, n: int, leave_self_out: bool, principal: tuple[np.ndarray, list[Any]],
        charge: np.ndarray,
    ) -> None:
        """Which drugs and administrations, their units and charges, when, and how well the
        diagnosis fits the drug (see features.drug_context for the why)."""
        idx = self._index
        L = frame.lines
        ci = L["claim_index"]
        layout = self._rule_layout()
        admin_rows = A.rows_where(facts.is_admin)
        if admin_rows.size:
            admin_local, admin_other = layout.admin_local, len(self.admin_codes_)
            local = A.map_unique(facts.code[admin_rows], lambda c: admin_local.get(c, admin_other), np.int64)
            _add_counts(XT, ci[admin_rows], local, layout.admin_cols, n)
        drug = _DrugLines.of(frame, facts, principal)
        if drug.rows.size:
            drug_local, drug_other = layout.drug_local, len(self.drug_codes_)
            local = A.map_unique(drug.code_key, lambda c: drug_local.get(c, drug_other), np.int64)
            _add_counts(XT, drug.claim, local, layout.drug_cols, n)
            share = drug_context.log_shares(
                drug.code_key, drug.ndc_key, drug.category, self.diagnosis_drug_tables_, leave_self_out=leave_self_out
            )
            lowest = np.zeros(n)
            np.minimum.at(lowest, drug.claim, share)
            XT[idx["diagnosis_drug_log_share_min"]] = lowest

        # units: the NDC's unit of measure, NOC units, and mL quantities the UN-only rule cannot check
        ndc_rows = A.rows_where(facts.ndc_present & facts.is_drug)
        unit = A.map_unique(L["drug_unit"], _unit_local, np.int64)  # normalised: " ml" is ML
        if ndc_rows.size:
            _add_counts(XT, ci[ndc_rows], unit[ndc_rows], layout.unit_cols, n)
        units = L["units"]
        noc_off = facts.is_noc & ~(np.abs(units - A.F1) <= _UNIT_EPS)
        XT[idx["noc_lines_units_not_one"]] = np.bincount(ci[noc_off], minlength=n)
        xw = facts.crosswalk_rows
        if xw is not None and xw.size:
            quantity = L["drug_quantity"][xw]
            sel = A.rows_where(
                facts.is_specific_drug[xw] & (unit[xw] == _ML) & (quantity > A.F0) & np.isfinite(units[xw])
            )
            if sel.size:
                rows = xw[sel]
                bill_units, package = _lookups(reference).bill_units_and_package_size(
                    facts.crosswalk_quarter[sel], facts.ndc11[rows], facts.code[rows]
                )
                expected = quantity[sel] / package * bill_units
                known = np.isfinite(expected) & (expected > 0)
                billed = units[rows]
                off = known & (np.abs(billed - expected) > np.maximum(1.0, 0.1 * expected) + 1e-6)
                XT[idx["ml_units_mismatch_lines"]] = np.bincount(ci[rows[off]], minlength=n)
                ratio = np.where(known & (billed > 0), np.abs(np.log(np.maximum(billed, 1e-9) / np.where(known, expected, 1.0))), 0.0)
                worst = np.zeros(n)
                np.maximum.at(worst, ci[rows], np.minimum(ratio, 20.0))
                XT[idx["ml_units_log_ratio_max"]] = worst

        # charges as the payer's reviewers see them: per line, on a log scale (``charge`` is capped)
        log_charge = np.log1p(np.maximum(charge, A.F0))
        XT[idx["drug_log_charge_sum"]] = np.bincount(ci, weights=np.where(facts.is_drug, log_charge, A.F0), minlength=n)
        XT[idx["admin_log_charge_sum"]] = np.bincount(ci, weights=np.where(facts.is_admin, log_charge, A.F0), minlength=n)

        # when: payers change policy on dates (a tree splits on it; later dates fall in the last bin)
        service = facts.service_date
        days = np.where(np.isnat(service), _NO_DAY, service.astype(np.float64))
        earliest = _group_min(days, ci, first, n, _NO_DAY)
        XT[idx["service_date_years"]] = np.where(earliest < _NO_DAY, _EPOCH_YEAR + earliest / _DAYS_PER_YEAR, _NAN)

    # ------------------------------------------------------------------ cached layouts
    # Derived from the fitted state only, so they are rebuilt lazily (also after unpickling a model
    # saved before they existed) and never change what transform returns.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop("_layout_cache", None)  # derived; never part of a saved model
        return state

    def _cache(self) -> dict[str, Any]:
        cache: dict[str, Any] | None = self.__dict__.get("_layout_cache")
        if cache is None or cache.get("names") is not self.feature_names_out_:
            cache = {"names": self.feature_names_out_}
            self.__dict__["_layout_cache"] = cache
        return cache

    def _rule_layout(self) -> _Layout:
        cache = self._cache()
        layout: _Layout | None = cache.get("layout")
        if layout is None:
            idx = self._index
            with_lines = [r for r in self.rule_ids_ if f"rule:{r}:lines" in idx]
            layout = cache["layout"] = _Layout(
                flag_cols=np.array([idx[f"rule:{r}"] for r in self.rule_ids_], dtype=np.int64),
                flag_codes=np.array([RULE_CODE[r] for r in self.rule_ids_], dtype=np.int64),
                line_cols=np.array([idx[f"rule:{r}:lines"] for r in with_lines], dtype=np.int64),
                line_codes=np.array([RULE_CODE[r] for r in with_lines], dtype=np.int64),
                noc_cols=np.array([idx[f"noc_code={c}"] for c in [*self.noc_codes_, OTHER]], dtype=np.int64),
                family_cols=np.array([idx[f"code_family={f}"] for f in _FAMILIES], dtype=np.int64),
                admin_cols=np.array([idx[f"admin_code={c}"] for c in [*self.admin_codes_, OTHER]], dtype=np.int64),
                admin_local={c: k for k, c in enumerate(self.admin_codes_)},
                drug_cols=np.array([idx[f"drug_code={c}"] for c in [*self.drug_codes_, OTHER]], dtype=np.int64),
                drug_local={c: k for k, c in enumerate(self.drug_codes_)},
                unit_cols=np.array([idx[f"drug_unit={u}"] for u in [*_DRUG_UNITS, OTHER]], dtype=np.int64),
            )
        return layout

    def _code_tables(self, uniques: list[str]) -> _CodeTables:
        """Per distinct code: its position among the NOC columns and among the family columns."""
        cache = self._cache()
        by_list: dict[tuple[str, ...], _CodeTables] = cache.setdefault("code_lists", {})
        key = tuple(uniques)
        found = by_list.get(key)  # one claim's few codes recur request after request
        if found is not None:
            return found
        memo: dict[str, tuple[int, int]] = cache.setdefault("codes", {})
        if len(memo) > _MEMO_MAX:
            memo.clear()
        missing = [c for c in uniques if c not in memo]
        if missing:
            noc_index = {c: k for k, c in enumerate(self.noc_codes_)}
            other = len(self.noc_codes_)
            for code in missing:
                memo[code] = (noc_index.get(code, other), _FAMILY_INDEX[_family(code)])
        table = np.array([memo[c] for c in uniques], dtype=np.int64).reshape(len(uniques), 2)
        tables = _CodeTables(noc_local=table[:, 0], family_local=table[:, 1])
        if len(by_list) >= _LIST_MEMO_MAX:
            by_list.clear()
        by_list[key] = tables
        return tables

    def _category_cols(self, prefix: str, known: Any, fallback: str) -> dict[Any, int]:
        cache = self._cache()
        key = f"cat:{prefix}"
        found: dict[Any, int] | None = cache.get(key)
        if found is None:
            idx = self._index
            found = cache[key] = {v: idx[f"{prefix}={v}"] for v in known}
            found[None] = idx[fallback]  # missing values and unknown ones share the "other" column
        return found

    def _chapter_cols(self) -> tuple[dict[Any, int], int]:
        """(column per chapter with None -> the no-diagnosis column, the column of other chapters)."""
        cache = self._cache()
        found: tuple[dict[Any, int], int] | None = cache.get("chapter_cols")
        if found is None:
            cols = dict(self._category_cols("dx_chapter", self.chapters_, f"dx_chapter={OTHER}"))
            other = cols[None]
            cols[None] = self._index[f"dx_chapter={NONE}"]
            found = cache["chapter_cols"] = (cols, other)
        return found

    def _provider_encoding(self, npi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(per distinct provider: target encoding and log count, code per claim); memoised per NPI."""
        memo: dict[Any, tuple[float, float]] = self._cache().setdefault("providers", {})
        if len(memo) > _MEMO_MAX:
            memo.clear()
        p_codes, p_uniques = A.factorize(npi)
        missing = [u for u in p_uniques if u not in memo]
        if missing:
            m = float(self.provider_smoothing)
            prior = self.provider_prior_
            stats = self.provider_stats_
            fitted = self.provider_target_fitted_
            for value in missing:
                count, total_y = stats.get(value, (0.0, 0.0))
                target = (total_y + m * prior) / (count + m) if fitted else 0.0
                memo[value] = (target, float(np.log1p(count)))
        encoded = np.array([memo[u] for u in p_uniques], dtype=np.float64).reshape(len(p_uniques), 2)
        return encoded, p_codes


_FAMILY_INDEX = {f: k for k, f in enumerate(_FAMILIES)}
_MEMO_MAX = 100_000
_LIST_MEMO_MAX = 10_000  # distinct code lists remembered (a big frame's list is one entry)


class _Layout(NamedTuple):
    flag_cols: np.ndarray
    flag_codes: np.ndarray
    line_cols: np.ndarray
    line_codes: np.ndarray
    noc_cols: np.ndarray
    family_cols: np.ndarray
    admin_cols: np.ndarray
    admin_local: dict[str, int]
    drug_cols: np.ndarray
    drug_local: dict[str, int]
    unit_cols: np.ndarray


_FEW_CLAIMS = 8
_NO_DAY = A.constant(1e18, np.float64)  # stands for a missing service date while taking the earliest one
_UNIT_EPS = A.constant(1e-6, np.float64)
_DAYS_PER_YEAR = A.constant(365.2425, np.float64)
_EPOCH_YEAR = A.constant(1970.0, np.float64)
_NAN = A.constant(np.nan, np.float64)
_ONE32 = A.constant(1.0, np.float32)  # XT is float32
_DRUG_UNITS = ("UN", "ML", "GR", "F2", "ME")  # the N4 units of measure X12 allows for an NDC quantity
_UNIT_INDEX = {u: k for k, u in enumerate(_DRUG_UNITS)}
_ML = A.constant(_UNIT_INDEX["ML"], np.int64)


def _unit_local(unit: Any) -> int:
    """Position among ``_DRUG_UNITS``; anything else (missing, unknown) is the "other" column."""
    return _UNIT_INDEX.get(unit.strip().upper(), len(_DRUG_UNITS)) if isinstance(unit, str) else len(_DRUG_UNITS)


class _DrugLines(NamedTuple):
    """The drug lines of a frame with what the diagnosis/drug features key on."""

    rows: np.ndarray
    claim: np.ndarray
    code_key: np.ndarray  # HCPCS, or the crosswalk code of a NOC line's NDC
    ndc_key: np.ndarray  # the NDC when present, else the code key
    category: np.ndarray  # the claim's principal diagnosis category, "" when none

    @classmethod
    def of(cls, frame: ClaimFrame, facts: Any, principal: tuple[np.ndarray, list[Any]] | None = None) -> _DrugLines:
        rows = A.rows_where(facts.is_drug)
        claim = frame.lines["claim_index"][rows]
        code_key = drug_context.drug_keys(facts)[rows]
        ndc_key = np.where(facts.ndc_present[rows], facts.ndc11[rows], code_key)
        index, uniques = principal if principal is not None else drug_context.principal_diagnoses(frame, facts)
        category = drug_context.categories(uniques)[index[claim]]
        return cls(rows=rows, claim=claim, code_key=code_key, ndc_key=ndc_key, category=category)


class _CodeTables(NamedTuple):
    noc_local: np.ndarray
    family_local: np.ndarray


def _not_sent(transmission: Any) -> bool:
    return isinstance(transmission, str) and transmission.strip().upper() == "AA"


def _one_hot(XT: np.ndarray, cols: dict[Any, int], values: np.ndarray, other: int | None = None) -> None:
    """XT[column of each claim's value, claim] = 1; values not in ``cols`` go to ``other``
    (by default the column of ``None``, where missing values go too)."""
    other = cols[None] if other is None else other
    if values.shape[0] <= _FEW_CLAIMS:  # the API's one claim: scalar writes, a fifth of a fancy-index write
        for j, v in enumerate(values.tolist()):
            XT[cols.get(v, other), j] = 1.0
        return
    picked = A.map_unique(values, lambda v: cols.get(v, other), np.int64)
    XT[picked, np.arange(values.shape[0])] = 1.0


def _capped(values: np.ndarray) -> np.ndarray:
    """NaN -> 0, then limited to [-_AMOUNT_CAP, _AMOUNT_CAP] (np.clip(np.where(isnan, 0, v), ...))."""
    return np.minimum(np.maximum(np.where(np.isnan(values), A.F0, values), _AMOUNT_LOW), _AMOUNT_HIGH)


def _add_counts(XT: np.ndarray, claims: np.ndarray, local: np.ndarray, cols: np.ndarray, n: int) -> None:
    """XT[cols[local], claim] = how many rows have that (claim, local) pair (XT's block is still zero):
    one bincount, or for a request's few rows an unbuffered add (half the calls)."""
    if claims.shape[0] <= A.SMALL:
        np.add.at(XT, (cols[local], claims), _ONE32)
        return
    width = cols.shape[0]
    XT[cols] = np.bincount(local * n + claims, minlength=width * n).reshape(width, n)


def _per_claim_at(
    values: np.ndarray, first: np.ndarray | None, fill: Any, claim_index: np.ndarray, n: int
) -> np.ndarray:
    """A claim field repeated on its lines -> one value per claim (a take at each claim's first line)."""
    return values[first] if first is not None else _per_claim(values, claim_index, n, fill)


def _group_max(values: np.ndarray, ci: np.ndarray, first: np.ndarray | None, n: int, floor: np.ndarray) -> np.ndarray:
    if first is not None:
        return np.maximum(np.maximum.reduceat(values, first), floor)
    out = np.full(n, floor)
    np.maximum.at(out, ci, values)
    return out


def _group_min(values: np.ndarray, ci: np.ndarray, first: np.ndarray | None, n: int, ceiling: np.ndarray) -> np.ndarray:
    if first is not None:
        return np.minimum(np.minimum.reduceat(values, first), ceiling)
    out = np.full(n, ceiling)
    np.minimum.at(out, ci, values)
    return out


_LIMITS: weakref.WeakKeyDictionary[Any, dict[str, float]] = weakref.WeakKeyDictionary()


def _payment_limits(reference: ReferenceData, codes: list[str]) -> np.ndarray:
    """CMS payment limit per distinct code, memoised per reference (the look-up factorizes with pandas)."""
    if not codes:
        return np.zeros(0)
    memo = _LIMITS.get(reference)
    if memo is None:
        memo = _LIMITS[reference] = {}
    missing = [c for c in codes if c not in memo]
    if missing:
        if len(memo) + len(missing) > _MEMO_MAX:
            memo.clear()
        values = np.empty(len(missing), dtype=object)
        values[:] = missing
        memo.update(zip(missing, reference.payment_limit(values).tolist(), strict=True))
    return np.array([memo[c] for c in codes], dtype=np.float64)


def _principal_chapters(frame: ClaimFrame, principal: tuple[np.ndarray, list[Any]] | None = None) -> np.ndarray:
    """ICD-10-CM chapter of each claim's principal (first) diagnosis; None when absent or invalid."""
    index, uniques = principal if principal is not None else drug_context.principal_diagnoses(frame)
    missing = [u for u in uniques if u not in _CHAPTERS]
    if missing:  # the same few thousand codes recur: each is looked up once per process
        values = np.empty(len(missing), dtype=object)
        values[:] = missing
        if len(_CHAPTERS) + len(missing) > _MEMO_MAX:
            _CHAPTERS.clear()
        _CHAPTERS.update(zip(missing, chapter(values).tolist(), strict=True))
    table = np.empty(len(uniques) + 1, dtype=object)  # the last entry answers index -1: no diagnosis
    table[:] = [*(_CHAPTERS[u] for u in uniques), None]
    return table[index]


_CHAPTERS: dict[Any, Any] = {}


def _as_frame(X: Any) -> ClaimFrame:
    if not isinstance(X, ClaimFrame):
        raise TypeError(f"ClaimFeaturizer expects a claims.columnar.ClaimFrame, got {type(X).__name__}")
    return X


def _as_target(y: Any, n: int) -> np.ndarray:
    target = np.asarray(y, dtype=np.float64).ravel()
    if target.shape[0] != n:
        raise ValueError(f"y has {target.shape[0]} values but the frame has {n} claims")
    return target
