"""rules_version() follows what the rules mean, not how their code is written."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from features import version
from features.payer_policy import PolicySet
from features.rules.catalog import RULES
from features.rules.spec import Fired
from features.version import rule_semantics, rules_version, semantics_digest


def _digest_with(replace: dict[str, Any]) -> str:
    semantics = rule_semantics()
    semantics["rules"] = [
        dataclasses.replace(spec, **replace[spec.id]).semantics() if spec.id in replace else spec.semantics()
        for spec in RULES.values()
    ]
    return semantics_digest(semantics)


def test_a_rewritten_decision_function_keeps_the_version() -> None:
    spec = RULES["UNITS_MISMATCH"]

    def renamed_and_reformatted(facts: Any) -> list[Fired]:
        return spec.decide(facts) if spec.decide else []

    assert _digest_with({"UNITS_MISMATCH": {"decide": renamed_and_reformatted}}) == semantics_digest(rule_semantics())


@pytest.mark.parametrize(
    "change",
    [
        {"params": {**RULES["UNITS_MISMATCH"].params, "tolerance_share": 0.2}},
        {"carc": "151"},
        {"message": RULES["UNITS_MISMATCH"].message + " "},
    ],
)
def test_a_changed_parameter_code_or_message_changes_the_version(change: dict[str, Any]) -> None:
    assert _digest_with({"UNITS_MISMATCH": change}) != semantics_digest(rule_semantics())


def test_the_digest_is_canonical_json_of_the_catalog() -> None:
    semantics = rule_semantics()
    assert [r["id"] for r in semantics["rules"]] == list(RULES)
    assert json.loads(json.dumps(semantics)) == semantics  # plain JSON data, no sets or functions
    assert rules_version().startswith("rules-") and rules_version() == rules_version(PolicySet.load())


def test_a_changed_policy_changes_the_version(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = PolicySet.load()
    (tmp_path / "commercial.yaml").write_text("filing_limit_days: 90\n")
    monkeypatch.setenv("CLAIMRISK_POLICY_DIR", str(tmp_path))
    edited = PolicySet.load()
    assert edited.digest != shipped.digest
    assert rules_version(edited) != rules_version(shipped)
    assert version._catalog_digest() == semantics_digest(rule_semantics())
