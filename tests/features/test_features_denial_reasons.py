"""The CARC/RARC -> reason family table (CONTRACT §7) and the rule -> family table, as shipped.

The expected families below are typed from the contract's §7 table, not read from the CSV, so a
wrong or missing row in the data fails here."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from features.denial_reasons import FAMILIES, ReasonTableError, first_family, load_table, parse_table
from features.rules.catalog import RULE_IDS

ROOT = Path(__file__).resolve().parents[2]

# (RARCs in reading order, CARCs in reading order, family): every signature of CONTRACT §7
CONTRACT_SIGNATURES = [
    *[([r], ["16"], "ndc") for r in ("M119", "N846", "N847", "N848")],
    *[([r], ["16"], "units") for r in ("M53", "N430", "N815", "N816")],
    (["N362"], ["151"], "units"),
    (["N350"], ["16"], "description"),
    (["M123"], ["16"], "description"),
    ([], ["189"], "specific_code"),
    (["N657"], ["189"], "specific_code"),
    ([], ["4"], "coding"),
    (["M20"], ["16"], "coding"),
    (["M51"], ["16"], "coding"),
    (["M23"], ["16"], "invoice"),
    (["M23"], ["252"], "invoice"),
    *[([r], [c], "documentation") for c in ("252", "251", "250", "226") for r in ("N706", "N705", "M127", "N729")],
    *[([], [c], "medical_necessity") for c in ("50", "11", "167", "146", "55", "188")],
    (["MA63"], ["16"], "medical_necessity"),
    (["M76"], ["16"], "medical_necessity"),
    *[([], [c], "prior_auth") for c in ("197", "198", "284", "15")],
    (["M62"], ["197"], "prior_auth"),
    (["M62"], ["284"], "prior_auth"),
    ([], ["29"], "timely_filing"),
    (["M79"], ["16"], "other"),  # a charge problem
    ([], ["18"], "other"),  # duplicate
    ([], ["27"], "other"),  # eligibility: coverage ended
    (["N130"], ["204"], "other"),
    ([], ["16"], "other"),  # CARC 16 needs a remark to say anything
    ([], [], "other"),
]

CONTRACT_RULE_FAMILIES = {
    "ndc": ["NDC_MISSING", "NDC_INVALID", "NDC_HCPCS_MISMATCH"],
    "units": ["NDC_QUANTITY_INVALID", "NDC_UNIT_INVALID", "UNITS_INVALID", "NOC_UNITS_NOT_ONE", "UNITS_MISMATCH",
              "UNITS_EXCEED_MUE"],
    "description": ["DESCRIPTION_MISSING", "DESCRIPTION_INCOMPLETE"],
    "specific_code": ["SPECIFIC_CODE_EXISTS"],
    "coding": ["NOC_CODE_SETTING", "WASTE_MODIFIER_MISSING", "ADMIN_CODE_MISSING"],
    "invoice": ["INVOICE_MISSING"],
    "documentation": ["DOCUMENTATION_MISSING"],
    "medical_necessity": ["DIAGNOSIS_MISSING", "DIAGNOSIS_INVALID", "DIAGNOSIS_POINTER_INVALID"],
    "prior_auth": ["PRIOR_AUTH_MISSING"],
    "timely_filing": ["TIMELY_FILING"],
    "other": ["CHARGE_INVALID"],
}


def test_the_eleven_families_in_contract_order() -> None:
    assert FAMILIES == tuple(CONTRACT_RULE_FAMILIES)


@pytest.mark.parametrize(("rarcs", "carcs", "family"), CONTRACT_SIGNATURES)
def test_every_contract_signature_maps_to_its_family(rarcs: list[str], carcs: list[str], family: str) -> None:
    assert load_table().family_of_codes(rarcs, carcs) == family


def test_the_remark_is_read_before_the_adjustment_and_the_first_remark_wins() -> None:
    table = load_table()
    assert table.family_of_codes(["M119"], ["189"]) == "ndc"  # RARC first, CARC second
    assert table.family_of_codes(["MA130", "N706", "M119"], ["16"]) == "documentation"  # first match wins
    assert table.family_of_codes(["MA130"], ["50", "29"]) == "medical_necessity"  # no remark known: first CARC


def test_every_rule_has_its_contract_family() -> None:
    table = load_table()
    for family, rules in CONTRACT_RULE_FAMILIES.items():
        for rule_id in rules:
            assert FAMILIES[table.rule[rule_id]] == family, rule_id
    assert set(RULE_IDS) <= set(table.rule), "a catalog rule is missing from the table"
    assert table.rule_family("A_RULE_FROM_THE_FUTURE") == FAMILIES.index("other")


def test_the_vectorized_reading_matches_the_one_combination_reading() -> None:
    table = load_table()
    rng = np.random.default_rng(0)
    pool = np.array([*table.rarc, "MA130", "N130", "M79", None, "", " M119 "], dtype=object)
    n = 500
    per_row = rng.integers(0, 4, n)
    codes = pool[rng.integers(0, pool.size, per_row.sum())]
    row = np.repeat(np.arange(n), per_row)
    got = first_family(codes, row, n, table.rarc)
    for i in range(n):
        mine = [str(c).strip() for c in codes[row == i] if c is not None]
        expected = table.family_of_codes(mine, [])
        assert (FAMILIES[got[i]] if got[i] >= 0 else "other") == expected


def test_a_malformed_table_is_refused() -> None:
    with pytest.raises(ReasonTableError, match="unknown family"):
        parse_table("kind,code,family\nrarc,M119,drugs\n")
    with pytest.raises(ReasonTableError, match="listed twice"):
        parse_table("kind,code,family\nrarc,M119,ndc\nrarc,M119,units\n")
    with pytest.raises(ReasonTableError, match="unknown kind"):
        parse_table("kind,code,family\ngroup,CO,other\n")
    with pytest.raises(ReasonTableError, match="header"):
        parse_table("a,b\n1,2\n")


def test_the_table_ships_as_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "denial_reasons.csv" in config["tool"]["setuptools"]["package-data"]["features"]
    assert (ROOT / "features" / "denial_reasons.csv").is_file()
    assert len(load_table().version) == 12
