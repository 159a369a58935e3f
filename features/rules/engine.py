"""The rule engine: compute the frame's shared facts once, run every rule of the catalog, collect.

One code path serves a million-line batch and a single API claim. Each rule
(:mod:`features.rules.catalog` lists them; each lives in its family's module) is a boolean mask over
lines or claims built from NumPy operations on :class:`~features.rules.facts.RuleFacts`; only the
rows that fire get evidence, so the cost of explanation scales with the problems found.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from claims.columnar import ClaimFrame
from features.payer_policy import PolicySet
from features.rules.catalog import RULES
from features.rules.evidence import EvidenceBlock, Lazy
from features.rules.facts import RuleFacts, compute_facts
from features.rules.fired import Collector, FiredRules
from features.rules.lookups import lookups_for
from reference.store import load_reference

if TYPE_CHECKING:
    from reference.store import ReferenceData

__all__ = ["EvidenceBlock", "FiredRules", "Lazy", "LineFacts", "RuleFacts", "default_policies", "default_reference", "evaluate"]

LineFacts = RuleFacts
"""The former name of the facts ``FiredRules.facts`` carries (the featurizer reads them)."""

_lookups = lookups_for  # the featurizer's crosswalk package-size look-up (features/transformer.py)

_RULES = tuple(enumerate(RULES.values()))  # (code, spec) in catalog order


@functools.cache
def default_policies() -> PolicySet:
    return PolicySet.load()


def default_reference() -> ReferenceData:
    return load_reference()


def evaluate(
    frame: ClaimFrame, *, policies: PolicySet | None = None, reference: ReferenceData | None = None
) -> FiredRules:
    """All rules on all claims of ``frame``. ``policies``/``reference`` default to the shipped ones."""
    facts = compute_facts(
        frame,
        policies if policies is not None else default_policies(),
        reference if reference is not None else default_reference(),
    )
    out = Collector()
    for code, spec in _RULES:
        for fired in spec(facts):
            out.add(code, fired)
    return out.finish(frame.n_claims, frame.claim_ids, facts)
