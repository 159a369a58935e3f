"""``rules_version()``: which rules and payer policies produced a result.

A flag is only as good as the code and policy that raised it, so every answer carries a digest of
both: the rule code files (catalog, engine, description check, policy loader) and the effective
policy files (shipped plus ``$CLAIMRISK_POLICY_DIR``). Editing a payer's YAML changes the version
without a release, which is what an auditor comparing two answers needs to see.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from features.payer_policy import PolicySet

_PACKAGE = Path(__file__).resolve().parent
_RULE_CODE_FILES: tuple[str, ...] = (
    "rules/catalog.py",
    "rules/engine.py",
    "rules/description.py",
    "rules/_arrays.py",
    "payer_policy.py",
)


@functools.cache
def _code_digest() -> str:
    hasher = hashlib.sha256()
    for name in _RULE_CODE_FILES:
        hasher.update(name.encode())
        hasher.update((_PACKAGE / name).read_bytes())
    return hasher.hexdigest()


def rules_version(policies: PolicySet | None = None) -> str:
    """``rules-<12 hex>``: stable for the same rule code and the same effective policy files."""
    if policies is None:
        from features.rules.engine import default_policies

        policies = default_policies()
    return _combined(_code_digest(), policies.digest)


@functools.cache
def _combined(code: str, policy: str) -> str:
    return "rules-" + hashlib.sha256(f"{code}:{policy}".encode()).hexdigest()[:12]
