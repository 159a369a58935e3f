"""Payer policy files: fallbacks payer id -> payer type -> default, validation at load, env override."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from features.payer_policy import POLICY_KEYS, PolicyError, PolicySet, shipped_policy_dir, validate_directory


def test_shipped_defaults() -> None:
    policies = PolicySet.load()
    default = policies.policy_for("ANY", "other")
    assert default.filing_limit_days == 365 and default.invoice_required and default.invoice_min_charge == 0.0
    assert default.invoice_report_types == ("OZ", "04") and not default.prior_auth_required
    assert default.noc_codes == ("J3490", "J3590", "J3591", "J9999", "C9399")
    medicare = policies.policy_for("ANY", "medicare")
    assert medicare.noc_units_one and medicare.waste_modifier_required and not medicare.prior_auth_required
    medicaid = policies.policy_for("ANY", "medicaid")
    assert medicaid.documentation_required and medicaid.prior_auth_required and not medicaid.noc_units_one
    commercial = policies.policy_for("ANY", "commercial")
    assert commercial.filing_limit_days == 180 and commercial.prior_auth_required
    assert validate_directory(shipped_policy_dir()) == ["commercial.yaml", "default.yaml", "medicaid.yaml", "medicare.yaml"]


def test_payer_file_merges_over_its_payer_type(tmp_path: Path) -> None:
    (tmp_path / "EXHP1.yaml").write_text("filing_limit_days: 90\ninvoice_min_charge: 500\n")
    policies = PolicySet.load(tmp_path)
    exhp1 = policies.policy_for("EXHP1", "commercial")
    assert exhp1.filing_limit_days == 90 and exhp1.invoice_min_charge == 500.0
    assert exhp1.prior_auth_required  # still from commercial.yaml
    assert policies.policy_for("EXHP1", "medicare").noc_units_one  # and medicare's keys for a medicare plan
    assert policies.policy_for("OTHER1", "commercial").filing_limit_days == 180
    assert policies.payer_ids == ["EXHP1"]
    assert policies.digest != PolicySet.load().digest


def test_vectorized_resolution(tmp_path: Path) -> None:
    (tmp_path / "EXHP1.yaml").write_text("filing_limit_days: 90\n")
    policies = PolicySet.load(tmp_path)
    ids = np.array(["EXHP1", "X", "EXHP1", None, "Y"] * 30, dtype=object)
    types = np.array(["commercial", "medicare", "commercial", "other", "commercial"] * 30, dtype=object)
    index = policies.resolve(ids, types)
    limits = policies.column("filing_limit_days")[index]
    assert limits[:5].tolist() == [90, 365, 90, 365, 180]
    small = policies.resolve(ids[:5], types[:5])
    assert policies.column("filing_limit_days")[small].tolist() == [90, 365, 90, 365, 180]


def test_env_dir_overrides_shipped_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "commercial.yaml").write_text("filing_limit_days: 120\n")
    monkeypatch.setenv("CLAIMRISK_POLICY_DIR", str(tmp_path))
    policies = PolicySet.load()
    commercial = policies.policy_for("A", "commercial")
    assert commercial.filing_limit_days == 120
    assert not commercial.prior_auth_required  # the whole shipped commercial.yaml was replaced


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("filing_limt_days: 90\n", "filing_limt_days"),
        ("filing_limit_days: ninety\n", "filing_limit_days"),
        ("prior_auth_required: 'yes'\n", "prior_auth_required"),
        ("banned_ndc_units: [XX]\n", "banned_ndc_units"),
        ("invoice_report_types: [OZ, 4]\n", "invoice_report_types.1"),
        ("filing_limit_days: 0\n", "filing_limit_days"),
        ("noc_codes: []\n", "noc_codes"),
    ],
)
def test_invalid_file_names_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    (tmp_path / "BADPAYER.yaml").write_text(text)
    with pytest.raises(PolicyError) as caught:
        PolicySet.load(tmp_path)
    message = str(caught.value)
    assert "BADPAYER.yaml" in message and f"'{key}'" in message


def test_unreadable_yaml_and_non_mapping(tmp_path: Path) -> None:
    (tmp_path / "BROKEN.yaml").write_text("a: [1,\n")
    with pytest.raises(PolicyError, match="BROKEN.yaml"):
        PolicySet.load(tmp_path)
    (tmp_path / "BROKEN.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(PolicyError, match="expected a mapping"):
        PolicySet.load(tmp_path)


def test_incomplete_default_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "default.yaml").write_text("filing_limit_days: 365\n")
    with pytest.raises(PolicyError, match="default.yaml.*the default must set every key"):
        PolicySet.load(tmp_path)


def test_default_written_before_the_mue_key_still_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A user's own default.yaml from before ``mue`` existed: the MUE edit applies (true), and the
    policy digest is the one of the same file with ``mue: true`` written out."""
    shipped = (shipped_policy_dir() / "default.yaml").read_text()
    old_style = "".join(line + "\n" for line in shipped.splitlines() if not line.startswith("mue:"))
    assert "mue" not in old_style.replace("UNITS_EXCEED_MUE", "")
    (tmp_path / "default.yaml").write_text(old_style)
    monkeypatch.setenv("CLAIMRISK_POLICY_DIR", str(tmp_path))
    policies = PolicySet.load()
    assert all(policies.policy_for("ANY", t).mue for t in ("medicare", "medicaid", "commercial", "other"))
    assert policies.digest == PolicySet.load(shipped_policy_dir()).digest
    (tmp_path / "default.yaml").write_text(old_style + "mue: false\n")
    assert not PolicySet.load().policy_for("ANY", "other").mue
    # the other keys stay required, and unknown keys stay errors
    (tmp_path / "default.yaml").write_text(old_style.replace("filing_limit_days", "# filing_limit_days"))
    with pytest.raises(PolicyError, match="key 'filing_limit_days': the default must set every key"):
        PolicySet.load()
    (tmp_path / "default.yaml").write_text(old_style + "mue_edits: true\n")
    with pytest.raises(PolicyError, match="'mue_edits'"):
        PolicySet.load()


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="does not exist"):
        PolicySet.load(tmp_path / "nope")


def test_policy_keys_cover_policy_dependent_rules() -> None:
    assert set(POLICY_KEYS) == {
        "noc_codes", "noc_units_one", "invoice_required", "invoice_min_charge", "invoice_report_types",
        "documentation_required", "prior_auth_required", "waste_modifier_required", "filing_limit_days",
        "banned_ndc_units", "mue",
    }


# ------------------------------------------------------------------ rules follow the policy files
def _drug_claim(kit: Any, **changes: Any) -> dict[str, Any]:
    return kit.make_claim(**changes)


def test_payer_specific_rules(kit: Any, tmp_path: Path) -> None:
    (tmp_path / "EXHP1.yaml").write_text(
        "prior_auth_required: false\ninvoice_min_charge: 5000\nbanned_ndc_units: [ML]\nnoc_units_one: true\n"
        "waste_modifier_required: true\n"
    )
    policies = PolicySet.load(tmp_path)
    claim = kit.make_claim(prior_authorization=None, attachments=[])
    claim["lines"][0]["units"] = 2
    assert kit.fired(claim, policies) == {
        ("NDC_UNIT_INVALID", 1), ("NOC_UNITS_NOT_ONE", 1), ("WASTE_MODIFIER_MISSING", 1)
    }
    assert kit.fired(claim) == {("PRIOR_AUTH_MISSING", 1), ("INVOICE_MISSING", 1)}
    other_payer = kit.make_claim(prior_authorization=None, attachments=[], payer={"id": "ZZ", "type": "commercial"})
    assert kit.fired(other_payer, policies) == {("PRIOR_AUTH_MISSING", 1), ("INVOICE_MISSING", 1)}


@pytest.mark.parametrize(("charge", "fires"), [(499.99, False), (500.0, True)])
def test_invoice_min_charge_boundary(kit: Any, tmp_path: Path, charge: float, fires: bool) -> None:
    (tmp_path / "EXHP1.yaml").write_text("invoice_min_charge: 500\n")
    claim = kit.make_claim(attachments=[], total_charge=charge + 250.0)
    claim["lines"][0]["charge"] = charge
    assert (("INVOICE_MISSING", 1) in kit.fired(claim, PolicySet.load(tmp_path))) is fires


def test_invoice_not_required_and_custom_noc_list(kit: Any, tmp_path: Path) -> None:
    (tmp_path / "EXHP1.yaml").write_text("invoice_required: false\nnoc_codes: [J3490, J7999]\n")
    policies = PolicySet.load(tmp_path)
    claim = kit.make_claim(attachments=[])
    assert kit.fired(claim, policies) == set()
    claim["lines"][0]["procedure_code"] = "J7999"
    claim["lines"][0]["description"] = None
    assert kit.fired(claim, policies) == {("DESCRIPTION_MISSING", 1)}
    assert ("DESCRIPTION_MISSING", 1) not in kit.fired(claim)  # J7999 is no NOC code by default
