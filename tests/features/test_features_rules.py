"""Every rule of CONTRACT §3 fires at its boundary and not just inside it, on the exact line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from features.rules.catalog import RULES
from tests.features.rules.conftest import admin_line, drug_line, with_lines  # the per-rule tests' builders


def test_base_claim_is_clean(kit: Any) -> None:
    assert kit.fired(kit.BASE_CLAIM) == set()


def test_catalog_covers_contract_rules() -> None:
    contract = {
        "NDC_MISSING", "NDC_INVALID", "NDC_QUANTITY_INVALID", "NDC_UNIT_INVALID", "UNITS_INVALID",
        "NOC_UNITS_NOT_ONE", "UNITS_MISMATCH", "UNITS_EXCEED_MUE", "SPECIFIC_CODE_EXISTS", "NDC_HCPCS_MISMATCH",
        "DESCRIPTION_MISSING", "DESCRIPTION_INCOMPLETE", "INVOICE_MISSING", "DOCUMENTATION_MISSING",
        "DIAGNOSIS_MISSING", "DIAGNOSIS_INVALID", "DIAGNOSIS_POINTER_INVALID", "PRIOR_AUTH_MISSING",
        "ADMIN_CODE_MISSING", "WASTE_MODIFIER_MISSING", "NOC_CODE_SETTING", "TIMELY_FILING", "CHARGE_INVALID",
    }
    assert set(RULES) == contract
    assert RULES["ADMIN_CODE_MISSING"].severity == "warning" and RULES["ADMIN_CODE_MISSING"].carc is None
    assert RULES["WASTE_MODIFIER_MISSING"].severity == "warning" and RULES["WASTE_MODIFIER_MISSING"].carc == "4"
    assert (RULES["SPECIFIC_CODE_EXISTS"].carc, RULES["SPECIFIC_CODE_EXISTS"].rarc) == ("189", ("N657",))
    assert (RULES["TIMELY_FILING"].carc, RULES["TIMELY_FILING"].rarc) == ("29", ())
    assert (RULES["DOCUMENTATION_MISSING"].carc, RULES["DOCUMENTATION_MISSING"].rarc) == ("252", ("N706",))
    assert (RULES["UNITS_EXCEED_MUE"].carc, RULES["UNITS_EXCEED_MUE"].rarc) == ("151", ("N362",))
    ids = list(RULES)
    assert ids.index("UNITS_EXCEED_MUE") == ids.index("UNITS_MISMATCH") + 1  # CONTRACT §3 order


def test_result_objects_follow_the_contract(kit: Any) -> None:
    claim = with_lines(kit, drug_line(line_number=3, units=0), diagnosis_codes=[])
    results = kit.run_rules(claim).for_claim(0)
    keys = {"id", "line_number", "severity", "message", "evidence", "carc", "rarc", "fix"}
    assert all(set(r) == keys for r in results)
    assert [(r["line_number"] or 0, r["id"]) for r in results] == sorted((r["line_number"] or 0, r["id"]) for r in results)
    units = next(r for r in results if r["id"] == "UNITS_INVALID")
    assert units["line_number"] == 3 and units["evidence"] == {"units": 0.0} and units["rarc"] == ["M53"]
    assert "0" in units["message"]
    missing = next(r for r in results if r["id"] == "DIAGNOSIS_MISSING")
    assert missing["line_number"] is None


def test_line_numbers_are_reported_as_sent(kit: Any) -> None:
    claim = with_lines(kit, admin_line(7), drug_line(line_number=12, units=0, drug=None))
    assert {("UNITS_INVALID", 12), ("NDC_MISSING", 12)} <= kit.fired(claim)
    assert all(line in (12, None) for _, line in kit.fired(claim))


def test_every_rule_has_its_own_test_file() -> None:
    """A newcomer who reads a rule id in an answer finds its tests at tests/features/rules/test_<id>.py."""
    folder = Path(__file__).parent / "rules"
    missing = [rule_id for rule_id in RULES if not (folder / f"test_{rule_id.lower()}.py").is_file()]
    assert not missing


def test_every_rule_is_decided_by_one_function_in_its_family_module() -> None:
    for spec in RULES.values():
        assert spec.decide is not None and spec.decide.__name__ == spec.id.lower()
        assert spec.decide.__module__.startswith("features.rules.")
