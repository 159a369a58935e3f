"""The drug-context features: which drug, its units in mL, charges, dates, and diagnosis fit."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from features import drug_context
from features.payer_policy import PolicySet
from features.rules.engine import evaluate
from features.transformer import ClaimFeaturizer
from reference.store import load_reference

# J9035 (bevacizumab 10 mg): NDC 50242-0060-01 is a 4 mL vial of 10 billing units in every quarter we ship.
BEVACIZUMAB = {"ndc": "50242-0060-01", "quantity": 8, "unit": "ML"}


def _line(**changes: Any) -> dict[str, Any]:
    line = {
        "line_number": 1, "procedure_code": "J9035", "charge": 800.0, "units": 20, "service_date": "2026-01-10",
        "diagnosis_pointers": [1], "drug": dict(BEVACIZUMAB),
    }
    line.update(changes)
    return line


def _claim(kit: Any, claim_id: str, *lines: dict[str, Any], dx: list[str] | None = None) -> dict[str, Any]:
    lines_list = list(lines) or [_line()]
    return kit.make_claim(
        claim_id=claim_id, lines=lines_list, diagnosis_codes=dx if dx is not None else ["C18.9"],
        total_charge=sum(line["charge"] for line in lines_list), attachments=[],
    )


def _row(ft: ClaimFeaturizer, kit: Any, claim: dict[str, Any]) -> dict[str, float]:
    X = ft.transform(kit.frame_of(claim))
    return dict(zip(ft.get_feature_names_out().tolist(), X[0].tolist(), strict=True))


@pytest.fixture(scope="module")
def fitted(kit: Any) -> ClaimFeaturizer:
    # 40 bevacizumab claims for colon cancer, 40 triamcinolone (J3301) claims for back pain
    claims = [_claim(kit, f"B{i}") for i in range(40)]
    claims += [
        _claim(kit, f"M{i}", _line(procedure_code="J3301", drug={"ndc": "00003-0293-05", "quantity": 1, "unit": "UN"},
                                   units=4, charge=40.0), dx=["M54.50"])
        for i in range(40)
    ]
    return ClaimFeaturizer(min_category_count=1).fit(kit.frame_of(*claims))


def test_noc_line_is_keyed_by_the_code_its_ndc_is_listed_under(kit: Any) -> None:
    claims = [
        _claim(kit, "A", _line(procedure_code="J3490", units=1)),  # bevacizumab billed NOC
        _claim(kit, "B", _line(procedure_code="J3490", units=1, drug=None)),  # no NDC: stays J3490
        _claim(kit, "C", _line(procedure_code="J3490", units=1, drug={"ndc": "99999-0123-01", "quantity": 1, "unit": "UN"})),
    ]
    frame = kit.frame_of(*claims)
    facts = evaluate(frame, policies=PolicySet.load(), reference=load_reference()).facts
    drug = drug_context.DrugLines.of(frame, facts, drug_context.principal_diagnoses(frame, facts))
    assert drug.code_key.tolist() == ["J9035", "J3490", "J3490"]
    assert drug.ndc_key.tolist() == ["50242006001", "J3490", "99999012301"]
    assert drug.category.tolist() == ["C18", "C18", "C18"]


def test_principal_category_ignores_the_dot_and_case(kit: Any) -> None:
    frame = kit.frame_of(
        _claim(kit, "A", dx=["c50.911", "I10"]), _claim(kit, "B", dx=["C50911"]), _claim(kit, "C", dx=[])
    )
    assert drug_context.principal_categories(frame).tolist() == ["C50", "C50", ""]


def test_a_diagnosis_unusual_for_the_drug_scores_lower(kit: Any, fitted: ClaimFeaturizer) -> None:
    usual = _row(fitted, kit, _claim(kit, "U"))["diagnosis_drug_log_share_min"]
    unusual = _row(fitted, kit, _claim(kit, "X", dx=["M54.50"]))["diagnosis_drug_log_share_min"]
    no_dx = _row(fitted, kit, _claim(kit, "N", dx=[]))["diagnosis_drug_log_share_min"]
    # 40 of 40 bevacizumab claims were C18: share (40 + 10 * code share) / (40 + 10) is close to 1
    assert -0.05 < usual <= 0.0
    assert unusual < math.log(0.05)
    assert no_dx == 0.0  # no diagnosis: DIAGNOSIS_MISSING says it; this feature stays neutral


def test_the_lowest_share_over_the_drug_lines_is_kept(kit: Any, fitted: ClaimFeaturizer) -> None:
    steroid = _line(line_number=2, procedure_code="J3301", units=4, charge=40.0,
                    drug={"ndc": "00003-0293-05", "quantity": 1, "unit": "UN"})
    both = _row(fitted, kit, _claim(kit, "T", _line(), steroid))["diagnosis_drug_log_share_min"]
    steroid_alone = _row(fitted, kit, _claim(kit, "S", steroid))["diagnosis_drug_log_share_min"]
    assert both == pytest.approx(steroid_alone)
    assert both < math.log(0.05)


def test_training_rows_do_not_count_themselves(kit: Any) -> None:
    # one colon-cancer claim with a drug otherwise given for back pain: in training it must look as
    # unfamiliar as the same pairing met for the first time at scoring
    claims = [_claim(kit, f"B{i}", dx=["M54.50"]) for i in range(30)] + [_claim(kit, "odd")]
    frame = kit.frame_of(*claims)
    ft = ClaimFeaturizer(min_category_count=1)
    trained = ft.fit_transform(frame)
    col = ft.get_feature_names_out().tolist().index("diagnosis_drug_log_share_min")
    without = ClaimFeaturizer(min_category_count=1).fit(kit.frame_of(*claims[:-1]))
    fresh = _row(without, kit, claims[-1])["diagnosis_drug_log_share_min"]
    assert trained[-1, col] == pytest.approx(fresh, rel=1e-5)
    assert trained[-1, col] < math.log(0.01)
    assert ft.transform(frame)[-1, col] > trained[-1, col]  # counts itself when transformed after fit
    assert trained[0, col] == pytest.approx(ft.transform(frame)[0, col], abs=0.01)  # common pairs barely move


def test_ml_quantity_is_checked_against_package_size(kit: Any, fitted: ClaimFeaturizer) -> None:
    right = _row(fitted, kit, _claim(kit, "R"))  # 8 mL = 2 vials x 10 units = 20 units
    assert right["ml_units_mismatch_lines"] == 0 and right["ml_units_log_ratio_max"] == pytest.approx(0.0)
    edge = _row(fitted, kit, _claim(kit, "E", _line(units=22)))  # within max(1, 10 %) = 2
    assert edge["ml_units_mismatch_lines"] == 0
    wrong = _row(fitted, kit, _claim(kit, "W", _line(units=200)))
    assert wrong["ml_units_mismatch_lines"] == 1
    assert wrong["ml_units_log_ratio_max"] == pytest.approx(math.log(10.0), rel=1e-5)
    # the contract's UNITS_MISMATCH rule only reads UN quantities: it stays silent on the same line
    assert wrong["rule:UNITS_MISMATCH"] == 0
    lower = _row(fitted, kit, _claim(kit, "L", _line(units=200, drug={**BEVACIZUMAB, "unit": "ml"})))
    assert lower["drug_unit=ML"] == 1 and lower["ml_units_mismatch_lines"] == 1  # units are read case-blind


def test_units_charges_and_dates(kit: Any, fitted: ClaimFeaturizer) -> None:
    noc = _line(line_number=2, procedure_code="J3490", units=3, charge=100.0, description="DRUGX 5 MG",
                drug={"ndc": "99999-0123-01", "quantity": 2, "unit": "F2"})
    admin = {"line_number": 3, "procedure_code": "96413", "charge": 260.0, "units": 1, "service_date": "2025-07-01"}
    row = _row(fitted, kit, _claim(kit, "U", _line(), noc, admin))
    assert row["drug_unit=ML"] == 1 and row["drug_unit=F2"] == 1 and row["drug_unit=UN"] == 0
    assert row["noc_lines_units_not_one"] == 1
    assert row["drug_log_charge_sum"] == pytest.approx(math.log1p(800.0) + math.log1p(100.0), rel=1e-5)
    assert row["admin_log_charge_sum"] == pytest.approx(math.log1p(260.0), rel=1e-5)
    # the earliest service date, as a year with its fraction
    expected = 1970.0 + (np.datetime64("2025-07-01") - np.datetime64("1970-01-01")).astype(int) / 365.2425
    assert row["service_date_years"] == pytest.approx(expected, abs=1e-3)
    assert "admin_code=96413" not in row and row["admin_code=__other__"] == 1  # not among the fitted codes
    assert row["drug_code=J9035"] == 1 and row["drug_code=__other__"] == 1  # J3490 was never fitted


def test_new_columns_are_context_not_rules(fitted: ClaimFeaturizer) -> None:
    names = fitted.get_feature_names_out().tolist()
    mono = fitted.monotonic_cst()
    for name in ("diagnosis_drug_log_share_min", "ml_units_mismatch_lines", "service_date_years", "drug_unit=GR"):
        assert mono[names.index(name)] == 0


@pytest.mark.parametrize("leave_self_out", [False, True])
def test_log_shares_of_many_lines_equal_the_one_claim_path(leave_self_out: bool) -> None:
    """Large inputs look each key up once per distinct pair and do the arithmetic on arrays; the
    floats must be exactly those of the per-line path a one-claim frame takes."""
    rng = np.random.default_rng(7)
    codes = np.array(["J9035", "J3301", "J3490", "J1100"], dtype=object)
    ndcs = np.array([f"{i:011d}" for i in range(40)], dtype=object)
    cats = np.array(["C18", "M54", "C50", "E11", "Z99", drug_context.NO_DIAGNOSIS], dtype=object)

    def draw(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return (np.sort(rng.integers(0, n // 2, n)), codes[rng.integers(0, 4, n)],
                ndcs[rng.integers(0, 40, n)], cats[rng.integers(0, 6, n)])

    claim, code_key, ndc_key, category = draw(3000)
    tables = drug_context.fit_tables(claim, code_key, ndc_key, category)
    _, code_key, ndc_key, category = draw(1000)
    ndc_key[::17] = "unseen-ndc"  # keys and pairs never fitted fall back to the priors
    category[::23] = "Q99"
    many = drug_context.log_shares(code_key, ndc_key, category, tables, leave_self_out=leave_self_out)
    one_by_one = np.concatenate([
        drug_context.log_shares(code_key[i : i + 8], ndc_key[i : i + 8], category[i : i + 8], tables,
                                leave_self_out=leave_self_out)
        for i in range(0, 1000, 8)
    ])
    assert many.tobytes() == one_by_one.tobytes()
    assert np.all(many[category == drug_context.NO_DIAGNOSIS] == 0.0)
