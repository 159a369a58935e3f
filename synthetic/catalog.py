"""The fixed description of the simulated world: drug classes, codes, diagnoses, payers, signatures.

Everything a reader of ``data/synthetic/README.md`` needs to know about *what* the generator
simulates lives here as plain data, so the story and the code cannot drift apart. Random draws
(which provider is sloppy, how strict each payer is) happen in ``world.py`` from the seed.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- drug classes and the real HCPCS codes each class bills (filtered to the crosswalk at build) ----------

DRUG_CLASSES: tuple[str, ...] = ("oncology", "supportive", "immunology", "general")

CLASS_CODES: dict[str, tuple[str, ...]] = {
    "oncology": (
        "J9035", "J9271", "J9299", "J9312", "J9355", "J9045", "J9267", "J9171", "J9060", "J9190",
        "J9201", "J9263", "J9305", "J9041", "J9022", "J9173", "J9306", "J9264", "J9145", "Q5107",
        "Q5112", "Q5115",
    ),
    "supportive": (
        "J2405", "J1100", "J1442", "J1626", "J0897", "J3489", "J1453", "J2469", "J1200", "J0881",
        "J0885", "Q5111", "J1439", "J1756",
    ),
    "immunology": (
        "J1745", "J0129", "J3262", "J0717", "J1602", "J3357", "J2323", "J2350", "Q5103", "Q5104",
        "Q5121", "J0490", "J3380", "J0585",
    ),
    "general": (
        "J3301", "J1030", "J1040", "J1010", "J2919", "J0696", "J3420", "J1885", "J2550", "J0561",
        "J2001", "J1071", "J0702", "J2795", "J2270", "J0690",
    ),
}

# HCPCS codes whose drugs are biologics of immunology use. A code first published after the history
# starts (world.py finds those in the crosswalk) is classed by this list or its prefix: these and Q5
# biosimilars immunology, J9 oncology, the rest general; before the code existed its drug was billed
# under the class's NOC code (J3590, unclassified biologics, for immunology).
NEW_IMMUNOLOGY_CODES: frozenset[str] = frozenset({"J1628", "J2267", "J3247", "J1748", "Q0249"})

# The NOC code a provider uses for an uncoded drug of each class (professional claims; hospital
# outpatient claims use C9399).
CLASS_NOC_CODE: dict[str, str] = {
    "oncology": "J9999",
    "supportive": "J3490",
    "immunology": "J3590",
    "general": "J3490",
}
OPPS_NOC_CODE = "C9399"

# Compounded and repackaged products: NDCs outside every crosswalk quarter, billed with a NOC code
# legitimately. Names are generic descriptions, strengths are the ones written on the label.
COMPOUNDED_PRODUCTS: tuple[tuple[str, str, str, float], ...] = (
    # (drug name, strength, class, typical price per item in dollars)
    ("TRIAMCINOLONE MOXIFLOXACIN", "15 MG/ML", "general", 95.0),
    ("PAPAVERINE PHENTOLAMINE ALPROSTADIL", "30 MG/ML", "general", 140.0),
    ("BUPIVACAINE KETOROLAC KETAMINE", "10 ML", "general", 60.0),
    ("MITOMYCIN OPHTHALMIC", "0.2 MG", "general", 180.0),
    ("CEFUROXIME INTRACAMERAL", "1 MG", "general", 45.0),
    ("METHYLCOBALAMIN", "5000 MCG", "general", 25.0),
    ("BEVACIZUMAB REPACKAGED", "1.25 MG", "immunology", 120.0),
    ("LIDOCAINE EPINEPHRINE TETRACAINE", "4 ML", "general", 35.0),
    ("GLUTATHIONE", "200 MG/ML", "general", 30.0),
    ("ASCORBIC ACID PRESERVATIVE FREE", "500 MG/ML", "supportive", 55.0),
    ("FLUOROURACIL OPHTHALMIC", "1 MG", "oncology", 150.0),
    ("METHOTREXATE PRESERVATIVE FREE", "25 MG/ML", "oncology", 70.0),
)

# Administration codes: (CPT, charge in dollars before markup, institutional revenue code).
ADMIN_BY_CLASS: dict[str, tuple[tuple[str, float, str], ...]] = {
    "oncology": (("96413", 260.0, "0335"), ("96409", 150.0, "0335")),
    "supportive": (("96374", 95.0, "0260"), ("96372", 40.0, "0510")),
    "immunology": (("96365", 180.0, "0260"), ("96372", 40.0, "0510")),
    "general": (("96372", 40.0, "0510"), ("96374", 95.0, "0260")),
}
DRUG_REVENUE_CODE = "0636"  # drugs requiring detailed coding

# --- diagnoses (all verified billable ICD-10-CM, April 2026 release; see tests) ------------------------

CLASS_DIAGNOSES: dict[str, tuple[str, ...]] = {
    "oncology": (
        "C50.911", "C50.912", "C34.90", "C34.11", "C18.9", "C61", "C20", "C25.9", "C90.00", "C83.30",
        "C85.90", "C56.9", "C67.9", "C92.00",
    ),
    "supportive": ("D70.1", "R11.2", "D63.0", "D64.9", "D50.9", "N18.6", "C50.911", "C34.90", "M81.0"),
    "immunology": ("M06.9", "M05.79", "M06.09", "L40.50", "K50.90", "K51.90", "M45.9", "M32.9", "L40.0", "M35.3"),
    "general": (
        "J06.9", "E53.8", "D51.0", "M54.50", "J45.909", "L30.9", "R51.9", "M25.561", "N39.0", "J02.9",
        "J01.90", "M17.11", "M75.101", "E55.9", "L50.9",
    ),
}
# Secondary diagnoses any claim may carry.
SECONDARY_DIAGNOSES: tuple[str, ...] = ("Z79.899", "I10", "E11.9", "Z51.11")
# Defects: category headers that are valid but not billable, and strings that are not codes at all.
NON_BILLABLE_DIAGNOSES: tuple[str, ...] = ("C50", "M06", "E11", "C34.9", "M05.7", "Z51", "K50.9")
INVALID_DIAGNOSES: tuple[str, ...] = ("C50.99", "M069X", "Z99.999", "R11.9X", "K50.0")

# --- providers ---------------------------------------------------------------------------------------

SPECIALTIES: tuple[str, ...] = ("oncology_infusion", "rheumatology", "hospital_outpatient", "primary_care")
SPECIALTY_SHARE: tuple[float, ...] = (0.30, 0.20, 0.15, 0.35)
# Probability of each drug class (DRUG_CLASSES order) per specialty.
SPECIALTY_CLASS_MIX: dict[str, tuple[float, float, float, float]] = {
    "oncology_infusion": (0.55, 0.35, 0.05, 0.05),
    "rheumatology": (0.0, 0.05, 0.75, 0.20),
    "hospital_outpatient": (0.30, 0.25, 0.20, 0.25),
    "primary_care": (0.0, 0.05, 0.10, 0.85),
}
SPECIALTY_POS: dict[str, tuple[str, ...]] = {
    "oncology_infusion": ("11", "11", "11", "19", "22"),
    "rheumatology": ("11",),
    "hospital_outpatient": ("13",),  # 837I: facility type code
    "primary_care": ("11",),
}

# --- payers ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PayerSpec:
    """One payer of the simulated market; the numbers are its hidden habits."""

    payer_id: str
    name: str
    payer_type: str  # medicare | medicaid | commercial
    share: float  # share of claims
    base_logit: float  # background (medical necessity) denial logit
    noise_rate: float  # denials no claim field explains (eligibility, benefit exclusions)
    filing_limit_days: int
    requires_prior_auth: bool  # NOC lines need prior authorization
    requires_documentation: bool  # NOC lines need records actually sent (not "available on request")
    invoice_min_charge: float  # NOC lines need an invoice at or above this charge; inf: never
    fee_factor: float  # allowed amount relative to the payment limit
    strictness: float  # overall multiplier on how often a defect leads to a denial


PAYERS: tuple[PayerSpec, ...] = (
    PayerSpec("MCRJF", "MEDICARE PART B JURISDICTION F", "medicare", 0.12, -4.2, 0.004, 365, False, False, 0.0, 1.0, 1.0),
    PayerSpec("MCRJH", "MEDICARE PART B JURISDICTION H", "medicare", 0.10, -4.0, 0.004, 365, False, False, 0.0, 1.0, 1.1),
    PayerSpec("MCRJ15", "MEDICARE PART B JURISDICTION 15", "medicare", 0.07, -4.4, 0.003, 365, False, False, 0.0, 1.0, 0.8),
    PayerSpec("MCDSTA", "STATE A MEDICAID", "medicaid", 0.07, -3.6, 0.010, 365, True, True, 0.0, 0.85, 1.1),
    PayerSpec("MCDSTB", "STATE B MEDICAID", "medicaid", 0.05, -3.4, 0.012, 365, True, True, 0.0, 0.80, 1.3),
    PayerSpec("MCDMCO", "STATE C MEDICAID MANAGED CARE", "medicaid", 0.05, -3.8, 0.008, 180, True, False, 0.0, 0.90, 0.9),
    PayerSpec("NSTAR", "NORTHSTAR HEALTH PLAN", "commercial", 0.10, -3.9, 0.006, 180, True, False, 0.0, 1.35, 1.0),
    PayerSpec("BLUEV", "BLUE VALLEY ASSURANCE", "commercial", 0.09, -3.7, 0.006, 180, True, False, 0.0, 1.30, 1.0),
    PayerSpec("SUMMT", "SUMMIT MUTUAL HEALTH", "commercial", 0.08, -4.3, 0.005, 365, False, False, float("inf"), 1.45, 0.7),
    PayerSpec("CRSTL", "CRESTLINE CARE", "commercial", 0.07, -3.5, 0.008, 90, True, False, 1000.0, 1.25, 1.2),
    PayerSpec("HARBR", "HARBOR POINT HEALTH", "commercial", 0.06, -3.9, 0.006, 180, True, False, 0.0, 1.30, 1.0),
    PayerSpec("PIONR", "PIONEER BENEFIT TRUST", "commercial", 0.05, -4.1, 0.007, 180, False, False, 0.0, 1.40, 0.9),
    PayerSpec("LAKES", "GREAT LAKES HEALTH ALLIANCE", "commercial", 0.05, -3.8, 0.006, 180, True, False, 0.0, 1.30, 1.0),
    PayerSpec("MERID", "MERIDIAN COMMUNITY PLAN", "commercial", 0.04, -3.6, 0.009, 180, True, True, 0.0, 1.20, 1.1),
)

# The payer whose policy changes partway through the history (by date of service), and how.
POLICY_CHANGE_PAYER = "PIONR"
POLICY_CHANGE_DATE = "2025-07-01"
# From that date: NOC lines need prior authorization (denied almost surely without), invoices are
# enforced, and medical-necessity review tightens.
POLICY_CHANGE_PRIOR_AUTH = 0.97
POLICY_CHANGE_INVOICE = 0.90
POLICY_CHANGE_BASE_LOGIT_SHIFT = 0.8
# The payer that denies almost every NOC line without prior authorization (hazard 0.97, the cap),
# whatever else is right.
NOC_PA_HAWK = "MCDSTB"

# --- how payers answer each problem: base probability that a payer denies the line for it ------------
# (scaled per payer by PayerSpec.strictness and a per-payer random factor, capped at 0.97; zero where
# the payer has no such policy: the waste modifier outside Medicare, NOC units at commercial payers,
# prior auth, documentation and invoices where PayerSpec does not require them; timely filing is
# held between 0.9 and 0.97; see world._build_payers)

DEFECT_BASE_HAZARD: dict[str, float] = {
    "NDC_MISSING": 0.85,
    "NDC_INVALID": 0.75,
    "NDC_QUANTITY_INVALID": 0.55,
    "NDC_UNIT_INVALID": 0.45,
    "UNITS_MISMATCH": 0.50,
    "NOC_UNITS_NOT_ONE": 0.45,
    "SPECIFIC_CODE_EXISTS": 0.80,
    "NDC_HCPCS_MISMATCH": 0.60,
    "DESCRIPTION_MISSING": 0.70,
    "DESCRIPTION_INCOMPLETE": 0.35,
    "INVOICE_MISSING": 0.60,
    "DOCUMENTATION_MISSING": 0.55,
    "PRIOR_AUTH_MISSING": 0.70,
    "DIAGNOSIS_MISSING": 0.90,
    "DIAGNOSIS_INVALID": 0.65,
    "DIAGNOSIS_POINTER_INVALID": 0.40,
    "ADMIN_CODE_MISSING": 0.20,
    "WASTE_MODIFIER_MISSING": 0.35,
    "NOC_CODE_SETTING": 0.55,
    "TIMELY_FILING": 0.95,
    "CHARGE_INVALID": 0.60,
    "medical_necessity": 0.55,  # diagnosis does not support the drug (no rule sees it)
    "UNITS_EXCEED_MUE": 0.92,  # an automated edit: × LogNormal(0, 0.05) per payer, strictness aside
}
CLAIM_LEVEL_CAUSES: frozenset[str] = frozenset(
    {"TIMELY_FILING", "DIAGNOSIS_MISSING", "DIAGNOSIS_INVALID", "CHARGE_INVALID"}
)
# Causes added after histories were in use: their provider habits and payer hazards are drawn from
# streams of their own (synthetic/mue.py), so every other draw of a seed's history stays where it was.
OWN_STREAM_CAUSES: frozenset[str] = frozenset({"UNITS_EXCEED_MUE"})
OWN_STREAM_KEY = 5  # SeedSequence([seed, 5, ...]), after the world (0), batches (1) and remit status (2)

# --- CMS Medically Unlikely Edits (synthetic/mue.py) ---------------------------------------------------
# Careful providers dose within a code's MUE (the per-day sum for indicators 2 and 3). Per drug line
# whose code has an MUE, a provider bills past it at its own rate: MUE_HABIT × LogNormal(0, 0.5),
# × SLOPPY_FACTOR for sloppy providers (capped at 0.8); 1.25-3 × the MUE on one line, or, for a
# date-of-service edit (indicator 2/3) with a next drug line on the claim, MUE_SPLIT_SHARE of the time
# 1.2-1.9 × the MUE split over that line and the next, which then bills the same drug (each line
# within the MUE, their sum past it).
MUE_HABIT = 0.01
MUE_SPLIT_SHARE = 0.4
# Payers whose policy does not apply the MUEs (hazard 0): the rule fires, the payer pays, and only a
# model that sees the payer learns it (the shipped policy files keep `mue: true` for every type).
MUE_OFF_PAYERS: tuple[str, ...] = ("SUMMT",)

# --- the 835 signature of each cause: (group, CARC, RARCs) ----------------------------------------------

SIGNATURES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "NDC_MISSING": ("CO", "16", ("M119",)),
    "NDC_INVALID": ("CO", "16", ("M119",)),
    "NDC_QUANTITY_INVALID": ("CO", "16", ("N815",)),
    "NDC_UNIT_INVALID": ("CO", "16", ("N816",)),
    "UNITS_MISMATCH": ("CO", "16", ("N430",)),
    "NOC_UNITS_NOT_ONE": ("CO", "16", ("M53",)),
    "SPECIFIC_CODE_EXISTS": ("CO", "189", ("N657",)),
    "NDC_HCPCS_MISMATCH": ("CO", "16", ("N846",)),
    "DESCRIPTION_MISSING": ("CO", "16", ("N350",)),
    "DESCRIPTION_INCOMPLETE": ("CO", "16", ("M123",)),
    "INVOICE_MISSING": ("CO", "16", ("M23",)),
    "DOCUMENTATION_MISSING": ("CO", "252", ("N706",)),
    "PRIOR_AUTH_MISSING": ("CO", "197", ("M62",)),
    "DIAGNOSIS_MISSING": ("CO", "16", ("MA63",)),
    "DIAGNOSIS_INVALID": ("CO", "16", ("M76",)),
    "DIAGNOSIS_POINTER_INVALID": ("CO", "16", ("M76",)),
    "ADMIN_CODE_MISSING": ("CO", "16", ("M51",)),
    "WASTE_MODIFIER_MISSING": ("CO", "4", ()),
    "NOC_CODE_SETTING": ("CO", "16", ("M20",)),
    "TIMELY_FILING": ("CO", "29", ()),
    "CHARGE_INVALID": ("CO", "16", ("M79",)),
    "medical_necessity": ("CO", "50", ("N115",)),
    "provider_history": ("CO", "226", ("N706",)),
    "payer_noise": ("CO", "204", ("N130",)),
    "UNITS_EXCEED_MUE": ("CO", "151", ("N362",)),  # CONTRACT §3; §7 maps 151 + N362 to the units family
}
# Medicare payers deny a UNITS_MISMATCH line as a medically-unlikely-edit (CO-151 + N362) instead of
# the CO-16 + N430 above (remits.build_remits): the same family (units) as a true MUE denial.
UNITS_MUE_SIGNATURE: tuple[str, str, tuple[str, ...]] = ("CO", "151", ("N362",))
# A paid line the payer cuts back (remits.REDUCED_SHARE, more often after a units problem).
REDUCTION_SIGNATURE: tuple[str, str, tuple[str, ...]] = ("CO", "151", ("N362",))
# A pended claim: every line adjusted OA-133 for its whole charge, nothing paid yet.
PENDING_SIGNATURE: tuple[str, str, tuple[str, ...]] = ("OA", "133", ())
# The contractual write-off (CO-45) of charge above the allowed amount on every paid line.
CONTRACTUAL_REASON = "45"

# Provider habits: base rate per opportunity. world._build_providers spreads each provider's rate
# around it (log-normal, sd 0.5), multiplies it by SLOPPY_FACTOR for the SLOPPY_SHARE of sloppy
# providers, caps it at 0.8, and makes a few late filers file late six times as often.
HABITS: dict[str, float] = {
    "forget_ndc": 0.008,  # no drug block at all
    "bad_ndc_format": 0.006,  # bare 10-digit NDC
    "bad_quantity": 0.005,  # CTP04 0
    "bad_unit": 0.005,  # CTP05 a valid unit wrong for the drug (F2 or GR); the rules see it only where banned
    "wrong_units": 0.015,  # SV104 not what the NDC quantity implies
    "noc_for_coded": 0.006,  # NOC code for a drug that has a specific code
    "stale_noc": 0.15,  # keeps billing NOC after a new drug got its code (fading: e^(-quarters since / 2))
    "ndc_other_code": 0.005,  # NDC of another HCPCS code
    "no_description": 0.03,
    "short_description": 0.05,  # drug name without strength
    "forget_invoice": 0.06,
    "invoice_on_request": 0.03,  # PWK transmission AA: nothing was sent
    "forget_prior_auth": 0.05,
    "bad_diagnosis": 0.007,
    "no_diagnosis": 0.003,
    "bad_pointer": 0.006,
    "forget_admin": 0.04,
    "c9399_professional": 0.10,  # on NOC lines of professional claims
    "late_filing": 0.008,
    "charge_mismatch": 0.003,
    "forget_waste_modifier": 0.04,
    "noc_units": 0.15,  # NOC line billed in dose units rather than 1
    "diagnosis_mismatch": 0.02,  # principal diagnosis of another drug class (medical necessity)
}
SLOPPY_SHARE = 0.10
SLOPPY_FACTOR = 5.0
