"""Description rules: a NOC line must describe the drug (name and strength/dose) for a payer to
price it. The verdict per line comes from :func:`features.rules.description.description_verdicts`."""

from __future__ import annotations

from features.rules import _arrays as A
from features.rules.description import NOT_A_DRUG_NAME, STRENGTH_PATTERN, WORD_PATTERN
from features.rules.evidence import Lazy
from features.rules.facts import RuleFacts
from features.rules.spec import Fired, rule

_DESCRIPTION_GAPS = ("a drug name and a strength or dose", "a drug name", "a strength or dose", "nothing")


@rule(
    "DESCRIPTION_MISSING", "line", "16", ("N350",), "Missing drug description",
    "Unclassified code {procedure_code} has no drug description and no line note.",
    "Describe the drug in SV101-7/SV202-7 or the line note: name, strength, dose given and route.",
)
def description_missing(f: RuleFacts) -> list[Fired]:
    """A NOC line whose description and line note are both blank."""
    rows = f.noc_rows[f.description_verdict < 0]
    return [(f.claim_index[rows], f.line_number[rows], {"procedure_code": f.code[rows]})] if rows.size else []


@rule(
    "DESCRIPTION_INCOMPLETE", "line", "16", ("M123",), "Missing drug description",
    "The description of unclassified code {procedure_code} lacks {missing}.",
    "Give the drug name and the strength/dose with its unit (e.g. '<DRUG NAME> 100 MG IV').",
    params={"word": WORD_PATTERN, "strength": STRENGTH_PATTERN, "not_a_drug_name": NOT_A_DRUG_NAME,
            "gaps": _DESCRIPTION_GAPS},
)
def description_incomplete(f: RuleFacts) -> list[Fired]:
    """A NOC line with a description or note that lacks a drug name or a strength/dose."""
    present = A.rows_where(f.description_verdict >= 0)
    if not present.size:
        return []
    verdict = f.description_verdict[present]
    name_ok = verdict >= 2
    strength_ok = (verdict & 1).astype(bool)
    sel = A.rows_where(~(name_ok & strength_ok))
    if not sel.size:
        return []
    rows = f.noc_rows[present[sel]]
    evidence = {
        "procedure_code": f.code[rows],
        "has_drug_name": name_ok[sel],
        "has_strength": strength_ok[sel],
        "missing": Lazy(name_ok[sel] * 2 + strength_ok[sel], _DESCRIPTION_GAPS.__getitem__),
    }
    return [(f.claim_index[rows], f.line_number[rows], evidence)]
