"""``rules_version()``: which rule semantics and payer policies produced a result.

A flag is only as good as the rule and policy that raised it, so every answer carries a digest of
both. The digest covers what the rules *mean* — the catalog's specs (ids, levels, codes, messages,
fixes, parameters), the contract terms they share, and the effective policy files (shipped plus
``$CLAIMRISK_POLICY_DIR``) — not the Python source: a refactor that changes no decision keeps the
version, so saved models do not report a spurious mismatch, while editing a payer's YAML or a
tolerance changes it. The reference data's own version is reported beside it in every answer.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from features.payer_policy import PolicySet


def rule_semantics() -> dict[str, Any]:
    """The catalog and terms as canonical JSON data (the input of the version digest)."""
    from features.rules.catalog import RULES
    from features.rules.terms import semantics

    return {"rules": [spec.semantics() for spec in RULES.values()], "terms": semantics()}


def semantics_digest(semantics: dict[str, Any]) -> str:
    canonical = json.dumps(semantics, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


@functools.cache
def _catalog_digest() -> str:
    return semantics_digest(rule_semantics())


def rules_version(policies: PolicySet | None = None) -> str:
    """``rules-<12 hex>``: stable for the same rule semantics and the same effective policy files."""
    if policies is None:
        from features.rules.engine import default_policies

        policies = default_policies()
    return _combined(_catalog_digest(), policies.digest)


@functools.cache
def _combined(catalog: str, policy: str) -> str:
    return "rules-" + hashlib.sha256(f"{catalog}:{policy}".encode()).hexdigest()[:12]
