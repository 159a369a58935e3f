"""``ClaimFeaturizer``: one float32 row per claim, from what the biller knows before submitting.

The model learns from two kinds of columns. Rule columns (fired 0/1 and on how many lines) carry
the explanations: clearing them is how serving asks "what if this problem were fixed", so they
are listed in ``rule_columns`` and constrained monotone increasing (``monotonic_cst``). Context
columns (payer, setting, codes, charges, timing, provider history) let the model weigh a flag by
payer and situation. Nothing from a remittance is read: the 835 is the label, never an input
(``features.leakage`` proves it).

This class is the scikit-learn face and the order of work; each group of columns is written by the
module that knows why it exists: ``layout`` (names and positions), ``code_columns``,
``context_columns``, ``provider_encoding``, ``drug_context`` and ``drug_units``.

This module path and class name are recorded in saved models: never rename or move them. A saved
featurizer's ``__dict__`` holds the constructor parameters and the fitted attributes set in
``_fit`` (``payers_``, ``provider_stats_``, ``diagnosis_drug_tables_``, ``feature_names_out_``,
``_index``, ...): their names and meaning are part of every saved model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from claims.columnar import ClaimFrame
from features import drug_context, provider_encoding
from features.code_columns import write_code_counts, write_drug_code_counts
from features.context_columns import (
    principal_chapters,
    write_claim_shape,
    write_diagnoses,
    write_money,
    write_paperwork,
    write_timing,
)
from features.drug_units import write_unit_columns
from features.layout import ColumnLayout, FittedCategories, feature_names, top_categories
from features.payer_policy import PolicySet
from features.per_claim import ClaimRows, per_claim
from features.recency import REASON_SUFFIX
from features.recency import RULE_SUFFIX as RECENCY_SUFFIX
from features.rules import _arrays as A
from features.rules.catalog import DEFAULT_NOC_CODES, RULES
from features.rules.engine import FiredRules, default_policies, default_reference, evaluate

if TYPE_CHECKING:
    from reference.store import ReferenceData


class ClaimFeaturizer(TransformerMixin, BaseEstimator):
    """ClaimFrame -> (n_claims, n_features) float32. See the module docstring for the why."""

    # The frozen outcome history of the recency columns (features.recency), set by training after
    # fit with ``set_recency``. A class-level None means "off": models saved before it existed load
    # with the columns they were fitted with and featurize exactly as before.
    recency_: Any = None

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
        """Learn the category lists, the provider statistics and the diagnosis/drug counts."""
        facts = fired.facts
        assert facts is not None
        n, keep = frame.n_claims, self.min_category_count
        lines, ci = frame.lines, frame.lines["claim_index"]
        self.payers_ = top_categories(per_claim(lines["payer_id"], ci, n, None).tolist(), self.max_payers, keep)
        places = per_claim(lines["place_of_service"], ci, n, None).tolist()
        self.places_of_service_ = top_categories(places, self.max_places_of_service, keep)
        principal = drug_context.principal_diagnoses(frame, facts)
        self.chapters_ = top_categories(principal_chapters(principal).tolist(), self.max_chapters, keep)
        self.__dict__.pop("recency_", None)  # a refit starts without recency columns
        self.rule_ids_ = list(RULES)
        self.noc_codes_ = list(DEFAULT_NOC_CODES)

        npi = per_claim(lines["billing_provider_npi"], ci, n, None)
        provider = provider_encoding.fit_stats(npi, _as_target(y, n) if y is not None else None)
        self.provider_stats_, self.provider_prior_ = provider.stats, provider.prior
        self.provider_target_fitted_ = provider.fitted

        admin_codes = facts.code[A.rows_where(facts.is_admin)].tolist()
        self.admin_codes_ = top_categories(admin_codes, self.max_admin_codes, keep)
        drug = drug_context.DrugLines.of(frame, facts, principal)
        self.drug_codes_ = top_categories(drug.code_key.tolist(), self.max_drug_codes, keep)
        self.diagnosis_drug_tables_ = drug_context.fit_tables(drug.claim, drug.code_key, drug.ndc_key, drug.category)

        self.feature_names_out_ = np.asarray(feature_names(self._categories()), dtype=object)
        self.n_features_out_ = len(self.feature_names_out_)
        self._index = {name: i for i, name in enumerate(self.feature_names_out_.tolist())}
        self._set_layout()

    def fit_transform(self, X: ClaimFrame, y: Any = None, **fit_params: Any) -> np.ndarray:
        """Fit and transform with one rule pass; label- and count-based encodings of each row leave
        that row out (out-of-fold provider target, leave-self-out diagnosis/drug shares)."""
        frame = _as_frame(X)
        fired = evaluate(frame, policies=default_policies(), reference=default_reference())
        self._fit(frame, y, fired)
        matrix = self._build(frame, fired, default_reference(), leave_self_out=True)
        if y is not None:
            npi = per_claim(frame.lines["billing_provider_npi"], frame.lines["claim_index"], frame.n_claims, None)
            matrix[:, self._index["provider_target"]] = provider_encoding.out_of_fold(
                npi, _as_target(y, frame.n_claims), smoothing=self.provider_smoothing,
                prior=self.provider_prior_, n_folds=self.n_folds, seed=self.random_state,
            )
        return matrix

    def _categories(self) -> FittedCategories:
        """The fitted lists that decide the columns (kept as separate attributes: saved models carry them)."""
        return FittedCategories(
            rule_ids=self.rule_ids_, payers=self.payers_, places_of_service=self.places_of_service_,
            noc_codes=self.noc_codes_, chapters=self.chapters_, admin_codes=self.admin_codes_,
            drug_codes=self.drug_codes_,
        )

    # ------------------------------------------------------------------ the derived column layout
    # Integer column positions derived from the fitted names. Building them takes longer than
    # featurizing one claim, so they are built once whenever the fitted state is set (here and on
    # unpickling) and never saved: a model saved before the layout existed loads the same way.
    def _set_layout(self) -> None:
        self.__dict__["_layout"] = ColumnLayout.of(self._categories(), self.feature_names_out_.tolist())

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop("_layout", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        if "feature_names_out_" in self.__dict__:
            self._set_layout()

    def set_recency(self, history: Any) -> None:
        """Append the recency columns of ``history`` (a ``features.recency.OutcomeHistory`` built
        from the labelled claims, frozen here for serving). Their per-rule columns are named
        ``rule:<RULE>:...``: monotone and cleared with the rule when its problem is fixed."""
        check_is_fitted(self, "feature_names_out_")
        names = [*self.feature_names_out_.tolist(), *history.names]
        self.recency_ = history
        self.feature_names_out_ = np.asarray(names, dtype=object)
        self.n_features_out_ = len(names)
        self._index = {name: i for i, name in enumerate(names)}
        self._set_layout()

    # ------------------------------------------------------------------ names
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
            for suffix in ("lines", RECENCY_SUFFIX, REASON_SUFFIX):
                if f"rule:{rule_id}:{suffix}" in self._index:
                    cols.append(self._index[f"rule:{rule_id}:{suffix}"])
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
        check_is_fitted(self, "feature_names_out_")
        frame = _as_frame(frame)
        policies = policies if policies is not None else default_policies()
        reference = reference if reference is not None else default_reference()
        fired = evaluate(frame, policies=policies, reference=reference)
        return self._build(frame, fired, reference), fired

    def _build(
        self, frame: ClaimFrame, fired: FiredRules, reference: ReferenceData, *, leave_self_out: bool = False
    ) -> np.ndarray:
        """The matrix, group by group. Built feature-major, so that each column is one contiguous
        write, and handed back as its (claims, features) transpose without a copy: a Fortran-order
        matrix, as pandas stores a frame. LightGBM predicts from it as fast as from C order (it reads
        either layout), and the copy to C order cost 0.13-0.25 s per million lines."""
        n = frame.n_claims
        if n == 0:
            return np.zeros((0, self.n_features_out_), dtype=np.float32)
        XT = np.zeros((self.n_features_out_, n), dtype=np.float32)
        layout: ColumnLayout = self.__dict__["_layout"]
        facts = fired.facts
        assert facts is not None
        rows = ClaimRows.of(frame, facts)
        on_lines, at_claim = fired.rule_counts_by_rule()  # one gather per kind of rule column
        XT[layout.flag_cols] = (on_lines[layout.flag_codes] > 0) | at_claim[layout.flag_codes]
        XT[layout.line_cols] = on_lines[layout.line_codes]
        write_claim_shape(XT, rows, layout)
        write_code_counts(XT, rows, layout)
        write_money(XT, rows, layout, reference)
        write_timing(XT, rows, layout)
        principal = drug_context.principal_diagnoses(frame, facts)
        write_diagnoses(XT, rows, layout, principal)
        target, log_count = provider_encoding.encode(
            rows.claim_value("billing_provider_npi"), self._provider(), self.provider_smoothing
        )
        XT[layout.index["provider_target"]] = target
        XT[layout.index["provider_log_count"]] = log_count
        write_paperwork(XT, rows, layout)
        drug = drug_context.DrugLines.of(frame, facts, principal)
        write_drug_code_counts(XT, drug.claim, drug.code_key, layout, n)
        XT[layout.index["diagnosis_drug_log_share_min"]] = drug_context.lowest_log_share(
            drug, self.diagnosis_drug_tables_, n, leave_self_out=leave_self_out
        )
        write_unit_columns(XT, rows, layout, reference)
        if self.recency_ is not None:  # outcomes paid before each submission (features.recency)
            flags = XT[layout.flag_cols].T > 0
            recency = self.recency_.columns(rows.claim_value("payer_id"), rows.claim_value("submission_date"), flags)
            XT[self.n_features_out_ - recency.shape[1] :] = recency.T
        return XT.T

    def _provider(self) -> provider_encoding.ProviderStats:
        """The fitted provider statistics, from the attribute names saved models carry."""
        return provider_encoding.ProviderStats(self.provider_stats_, self.provider_prior_, self.provider_target_fitted_)


def _as_frame(X: Any) -> ClaimFrame:
    if not isinstance(X, ClaimFrame):
        raise TypeError(f"ClaimFeaturizer expects a claims.columnar.ClaimFrame, got {type(X).__name__}")
    return X


def _as_target(y: Any, n: int) -> np.ndarray:
    target = np.asarray(y, dtype=np.float64).ravel()
    if target.shape[0] != n:
        raise ValueError(f"y has {target.shape[0]} values but the frame has {n} claims")
    return target
