"""The simulated market drawn from the seed: products, providers and payers with their habits.

The world is built once per history and is small (hundreds of providers, a few hundred products),
so it is plain NumPy arrays that the batch generator indexes. Products come from the real CMS
crosswalk so that NDCs, billing units and payment limits are the ones the rule engine checks against.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from reference.store import ReferenceData
from synthetic import catalog as cat
from synthetic.npi import make_npis

N_PROVIDERS = 300
MAX_NDCS_PER_CODE = 4
KIND_SPECIFIC, KIND_NEW_CODE, KIND_COMPOUNDED = 0, 1, 2
_STRENGTH = re.compile(r"^\d+(\.\d+)?\s?(MG|MCG|G|GM|ML|UNITS?|IU)$", re.IGNORECASE)
_CLASS_PRICE_FALLBACK = {"oncology": 900.0, "supportive": 120.0, "immunology": 1500.0, "general": 30.0}

CAUSES: tuple[str, ...] = (
    # precedence when several problems would deny the same line: claim-level first, then the most
    # specific line-level problem, hidden causes last
    "TIMELY_FILING",
    "payer_noise",
    "DIAGNOSIS_MISSING",
    "DIAGNOSIS_INVALID",
    "CHARGE_INVALID",
    "NDC_MISSING",
    "NDC_INVALID",
    "SPECIFIC_CODE_EXISTS",
    "NDC_HCPCS_MISMATCH",
    "NDC_QUANTITY_INVALID",
    "NDC_UNIT_INVALID",
    "UNITS_EXCEED_MUE",  # an automated edit: it names the denial before the units are reviewed
    "UNITS_MISMATCH",
    "NOC_UNITS_NOT_ONE",
    "NOC_CODE_SETTING",
    "DESCRIPTION_MISSING",
    "DESCRIPTION_INCOMPLETE",
    "INVOICE_MISSING",
    "DOCUMENTATION_MISSING",
    "PRIOR_AUTH_MISSING",
    "DIAGNOSIS_POINTER_INVALID",
    "ADMIN_CODE_MISSING",
    "WASTE_MODIFIER_MISSING",
    "medical_necessity",
    "provider_history",
)
CAUSE_INDEX: dict[str, int] = {name: i for i, name in enumerate(CAUSES)}
CLAIM_LEVEL = np.array([name in cat.CLAIM_LEVEL_CAUSES or name == "payer_noise" for name in CAUSES])


@dataclass
class Products:
    """Drug products (one NDC under one code) with their per-quarter billing units."""

    hcpcs: np.ndarray  # object: the specific code (None for compounded products)
    ndc11: np.ndarray  # object
    name: np.ndarray  # object, upper case
    strength: np.ndarray  # object, e.g. "10 MG"
    pkg_size: np.ndarray  # float
    drug_class: np.ndarray  # int index into DRUG_CLASSES
    kind: np.ndarray  # int KIND_*
    entry_quarter: np.ndarray  # int: first quarter the product is under its code (n_quarters: never)
    bill_units: np.ndarray  # float (n_products, n_quarters), NaN when not in that quarter's crosswalk
    unit_price: np.ndarray  # float dollars per HCPCS billing unit (NOC: per item)
    specific_pool: list[list[np.ndarray]] = field(default_factory=list)  # [quarter][class] -> product idx
    noc_pool: list[list[np.ndarray]] = field(default_factory=list)


@dataclass
class Providers:
    npi: np.ndarray
    specialty: np.ndarray  # int index into SPECIALTIES
    volume: np.ndarray  # probability of a claim coming from this provider
    sloppy: np.ndarray  # bool
    habits: np.ndarray  # (n_providers, n_habits) probabilities
    history_logit: np.ndarray  # latent logit of payer distrust (records requests)
    markup: np.ndarray  # charge / payment limit
    payer_cum: np.ndarray  # (n_providers, n_payers) cumulative payer mix
    names_description: np.ndarray  # bool: writes the drug name on specific-code lines too


@dataclass(frozen=True)
class PolicyChange:
    """One payer's policy change on a date of service: from that date the payer requires prior
    authorisation (PA denials at ``prior_auth``), enforces invoices (``invoice``) and reviews medical
    necessity harder (``base_logit_shift`` on its logit).

    A parameter rather than a constant so that a test can put the change where it wants it (late
    in a training history, say) and check that a model refitted on the latest claims follows it.
    The default is the catalog's change, which every history has had so far."""

    payer_id: str = cat.POLICY_CHANGE_PAYER
    date: str = cat.POLICY_CHANGE_DATE
    prior_auth: float = cat.POLICY_CHANGE_PRIOR_AUTH
    invoice: float = cat.POLICY_CHANGE_INVOICE
    base_logit_shift: float = cat.POLICY_CHANGE_BASE_LOGIT_SHIFT


@dataclass
class Payers:
    specs: tuple[cat.PayerSpec, ...]
    ids: np.ndarray
    names: np.ndarray
    types: np.ndarray
    is_medicare: np.ndarray
    filing_limit: np.ndarray
    requires_pa: np.ndarray
    requires_docs: np.ndarray
    invoice_min_charge: np.ndarray
    fee_factor: np.ndarray
    base_logit: np.ndarray
    noise_rate: np.ndarray
    hazard: np.ndarray  # (n_payers, n_causes) before the policy change
    hazard_after: np.ndarray  # (n_payers, n_causes) on and after the change date
    base_logit_after: np.ndarray
    requires_pa_after: np.ndarray
    change_day: np.datetime64
    change_payer: str = cat.POLICY_CHANGE_PAYER  # the payer whose policy changes on change_day


@dataclass
class World:
    seed: int
    quarters: list[str]
    quarter_starts: np.ndarray  # datetime64[D]
    first_day: np.datetime64
    last_day: np.datetime64
    products: Products
    providers: Providers
    payers: Payers
    habit_names: tuple[str, ...]
    class_effect: np.ndarray  # per drug class, added to the medical-necessity logit
    reference: ReferenceData = field(repr=False)  # the MUE tables providers dose by (synthetic/mue.py)

    def quarter_of(self, days: np.ndarray) -> np.ndarray:
        return np.clip(np.searchsorted(self.quarter_starts, days, side="right") - 1, 0, len(self.quarters) - 1)


def _upper(values: pd.Series) -> np.ndarray:
    return values.astype(str).str.strip().str.upper().str.replace(r"\s+", " ", regex=True).to_numpy(dtype=object)


def _crosswalk_products(reference: ReferenceData, quarters: list[str]) -> pd.DataFrame:
    """Specific-code products of the curated classes plus products of codes created during the history."""
    cw = reference.crosswalk
    q_of = {q: i for i, q in enumerate(quarters)}
    cw = cw.assign(qi=cw["quarter"].map(q_of).astype(int))
    code_class = {code: k for k, name in enumerate(cat.DRUG_CLASSES) for code in cat.CLASS_CODES[name]}
    first_code_q = cw.groupby("hcpcs")["qi"].min()
    first_ndc_q = cw.groupby("ndc11")["qi"].min()
    new_codes = first_code_q[(first_code_q > 0) & first_code_q.index.str.match(r"^[JQ]\d{4}$")]
    curated = cw[cw["hcpcs"].isin(code_class)]
    fresh = cw[cw["hcpcs"].isin(new_codes.index)]
    fresh = fresh[fresh["hcpcs_dosage"].astype(str).str.strip().str.match(_STRENGTH)]
    # a new code's NDC must be new too: before the code existed it was in no crosswalk (so NOC was right)
    fresh = fresh[first_ndc_q.reindex(fresh["ndc11"]).to_numpy() == new_codes.reindex(fresh["hcpcs"]).to_numpy()]
    frames = []
    for kind, rows in ((KIND_SPECIFIC, curated), (KIND_NEW_CODE, fresh)):
        pairs = rows.groupby(["hcpcs", "ndc11"], sort=True).agg(
            n_q=("qi", "nunique"), last=("qi", "max"), first=("qi", "min"),
            drug_name=("drug_name", "last"), dosage=("hcpcs_dosage", "last"), pkg_size=("pkg_size", "last"),
        ).reset_index()
        pairs = pairs.sort_values(["hcpcs", "n_q", "ndc11"], ascending=[True, False, True])
        pairs = pairs.groupby("hcpcs", sort=True).head(MAX_NDCS_PER_CODE if kind == KIND_SPECIFIC else 2)
        pairs["kind"] = kind
        frames.append(pairs)
    products = pd.concat(frames, ignore_index=True)
    klass = products["hcpcs"].map(code_class)
    new_class = np.where(
        products["hcpcs"].str.startswith("J9"), 0,
        np.where(products["hcpcs"].isin(cat.NEW_IMMUNOLOGY_CODES) | products["hcpcs"].str.startswith("Q5"), 2, 3),
    )
    products["drug_class"] = np.where(klass.isna(), new_class, klass.fillna(0)).astype(int)
    return products.reset_index(drop=True)


def _build_products(rng: np.random.Generator, reference: ReferenceData, quarters: list[str]) -> Products:
    frame = _crosswalk_products(reference, quarters)
    n_q = len(quarters)
    cw = reference.crosswalk
    keyed = cw.assign(qi=cw["quarter"].map({q: i for i, q in enumerate(quarters)}).astype(int))
    units = keyed.drop_duplicates(["hcpcs", "ndc11", "qi"]).set_index(["hcpcs", "ndc11", "qi"])["bill_units"]
    n_cw = len(frame)
    bill_units = np.full((n_cw, n_q), np.nan)
    for qi in range(n_q):
        index = pd.MultiIndex.from_arrays([frame["hcpcs"], frame["ndc11"], np.full(n_cw, qi)])
        bill_units[:, qi] = units.reindex(index).to_numpy(dtype=float)
    bill_units[~(bill_units > 0)] = np.nan
    limit = reference.payment_limit(frame["hcpcs"].to_numpy(dtype=object))
    fallback = np.array([_CLASS_PRICE_FALLBACK[cat.DRUG_CLASSES[k]] for k in frame["drug_class"]])
    per_unit_fallback = fallback * rng.lognormal(0.0, 0.5, n_cw) / np.nan_to_num(np.nanmax(bill_units, axis=1), nan=1.0)
    unit_price = np.where(np.isfinite(limit) & (limit > 0), limit, per_unit_fallback)

    # compounded products: NDCs under labeler codes that no crosswalk quarter uses
    used_labelers = set(cw["ndc11"].str[:5])
    free = [f"{code:05d}" for code in range(70000, 80000) if f"{code:05d}" not in used_labelers]
    n_comp = len(cat.COMPOUNDED_PRODUCTS)
    labelers = rng.choice(np.array(free, dtype=object), size=n_comp, replace=False)
    comp_ndc = np.array(
        [f"{lab}{int(p):04d}{int(k):02d}" for lab, p, k in zip(
            labelers, rng.integers(1, 9999, n_comp), rng.integers(1, 99, n_comp), strict=True)],
        dtype=object,
    )
    comp = cat.COMPOUNDED_PRODUCTS
    class_of = {name: k for k, name in enumerate(cat.DRUG_CLASSES)}

    products = Products(
        hcpcs=np.concatenate([frame["hcpcs"].to_numpy(dtype=object), np.full(n_comp, None, dtype=object)]),
        ndc11=np.concatenate([frame["ndc11"].to_numpy(dtype=object), comp_ndc]),
        name=np.concatenate([_upper(frame["drug_name"]), np.array([c[0] for c in comp], dtype=object)]),
        strength=np.concatenate([_upper(frame["dosage"]), np.array([c[1] for c in comp], dtype=object)]),
        pkg_size=np.concatenate([frame["pkg_size"].to_numpy(dtype=float), np.ones(n_comp)]),
        drug_class=np.concatenate([frame["drug_class"].to_numpy(dtype=np.int64), [class_of[c[2]] for c in comp]]),
        kind=np.concatenate([frame["kind"].to_numpy(dtype=np.int64), np.full(n_comp, KIND_COMPOUNDED)]),
        entry_quarter=np.concatenate([frame["first"].to_numpy(dtype=np.int64), np.full(n_comp, n_q)]),
        bill_units=np.vstack([bill_units, np.ones((n_comp, n_q))]),
        unit_price=np.concatenate([unit_price, np.array([c[3] for c in comp])]),
    )
    # legacy codes (present early, gone later) simply drop out of the later quarters' pools
    for qi in range(n_q):
        specific_row, noc_row = [], []
        for k in range(len(cat.DRUG_CLASSES)):
            in_class = products.drug_class == k
            coded = in_class & (products.kind != KIND_COMPOUNDED) & np.isfinite(products.bill_units[:, qi])
            uncoded = in_class & (
                (products.kind == KIND_COMPOUNDED) | ((products.kind == KIND_NEW_CODE) & (products.entry_quarter > qi))
            )
            specific_row.append(np.flatnonzero(coded))
            noc_row.append(np.flatnonzero(uncoded))
        products.specific_pool.append(specific_row)
        products.noc_pool.append(noc_row)
    return products


def _build_providers(rng: np.random.Generator, n_payers: int, payer_share: np.ndarray) -> Providers:
    n = N_PROVIDERS
    specialty = rng.choice(len(cat.SPECIALTIES), size=n, p=np.array(cat.SPECIALTY_SHARE))
    sloppy = rng.random(n) < cat.SLOPPY_SHARE
    base = np.array(list(cat.HABITS.values()))
    spread = rng.lognormal(0.0, 0.5, size=(n, base.size))
    habits = np.clip(base * spread * np.where(sloppy, cat.SLOPPY_FACTOR, 1.0)[:, None], 0.0, 0.8)
    late_filer = rng.random(n) < 0.05  # a few offices file late much more often
    habits[late_filer, list(cat.HABITS).index("late_filing")] *= 6.0
    mix = rng.dirichlet(payer_share * 30.0, size=n)
    medicare = np.array([p.payer_type == "medicare" for p in cat.PAYERS])
    oncology = specialty == cat.SPECIALTIES.index("oncology_infusion")
    mix[np.ix_(oncology, medicare)] *= 1.6  # oncology patients are older
    mix /= mix.sum(axis=1, keepdims=True)
    return Providers(
        npi=make_npis(rng, n),
        specialty=specialty,
        volume=(volume := rng.lognormal(0.0, 0.8, n)) / volume.sum(),
        sloppy=sloppy,
        habits=habits,
        history_logit=-5.8 + rng.normal(0.0, 0.9, n) + np.where(sloppy, 1.3, 0.0),
        markup=rng.uniform(1.3, 3.2, n),
        payer_cum=np.cumsum(mix, axis=1),
        names_description=rng.random(n) < 0.25,
    )


def _build_payers(rng: np.random.Generator, change: PolicyChange) -> Payers:
    specs = cat.PAYERS
    n = len(specs)
    hazard = np.zeros((n, len(CAUSES)))
    for name, base in cat.DEFECT_BASE_HAZARD.items():
        if name in cat.OWN_STREAM_CAUSES:
            continue  # drawn in build_world from its own stream
        factor = rng.lognormal(0.0, 0.3, n) * np.array([p.strictness for p in specs])
        hazard[:, CAUSE_INDEX[name]] = np.clip(base * factor, 0.0, 0.97)
    types = np.array([p.payer_type for p in specs], dtype=object)
    ids = np.array([p.payer_id for p in specs], dtype=object)
    medicare = types == "medicare"
    col = CAUSE_INDEX
    hazard[~medicare, col["WASTE_MODIFIER_MISSING"]] = 0.0  # JW/JZ is a Medicare policy
    hazard[types == "commercial", col["NOC_UNITS_NOT_ONE"]] = 0.0
    hazard[types == "medicaid", col["NOC_UNITS_NOT_ONE"]] *= 0.5
    requires_pa = np.array([p.requires_prior_auth for p in specs])
    requires_docs = np.array([p.requires_documentation for p in specs])
    invoice_min = np.array([p.invoice_min_charge for p in specs])
    hazard[~requires_pa, col["PRIOR_AUTH_MISSING"]] = 0.0
    hazard[~requires_docs, col["DOCUMENTATION_MISSING"]] = 0.0
    hazard[~np.isfinite(invoice_min), col["INVOICE_MISSING"]] = 0.0
    hazard[ids == cat.NOC_PA_HAWK, col["PRIOR_AUTH_MISSING"]] = 0.97
    hazard[:, col["TIMELY_FILING"]] = np.clip(hazard[:, col["TIMELY_FILING"]], 0.9, 0.97)

    base_logit = np.array([p.base_logit for p in specs])
    after = hazard.copy()
    if change.payer_id not in set(ids.tolist()):
        raise ValueError(f"policy change for unknown payer {change.payer_id!r}")
    changer = ids == change.payer_id
    after[changer, col["PRIOR_AUTH_MISSING"]] = change.prior_auth
    after[changer, col["INVOICE_MISSING"]] = change.invoice
    requires_pa_after = requires_pa | changer
    return Payers(
        specs=specs,
        ids=ids,
        names=np.array([p.name for p in specs], dtype=object),
        types=types,
        is_medicare=medicare,
        filing_limit=np.array([p.filing_limit_days for p in specs], dtype=np.int64),
        requires_pa=requires_pa,
        requires_docs=requires_docs,
        invoice_min_charge=invoice_min,
        fee_factor=np.array([p.fee_factor for p in specs]),
        base_logit=base_logit,
        noise_rate=np.array([p.noise_rate for p in specs]),
        hazard=hazard,
        hazard_after=after,
        base_logit_after=base_logit + np.where(changer, change.base_logit_shift, 0.0),
        requires_pa_after=requires_pa_after,
        change_day=np.datetime64(change.date, "D"),
        change_payer=change.payer_id,
    )


def own_stream(seed: int, *key: int) -> np.random.Generator:
    """The random stream of one use of the draws added after histories were in use
    (``catalog.OWN_STREAM_CAUSES``): drawing there leaves every older draw of the seed where it was."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, cat.OWN_STREAM_KEY, *key])))


def _mue_hazard(seed: int, payer_ids: np.ndarray) -> np.ndarray:
    """Per payer, the probability it denies a line past the MUE: an automated edit, so near-certain
    (the catalog base × LogNormal(0, 0.05), at most 0.97), and 0 where its policy does not apply it."""
    spread = own_stream(seed, 1).lognormal(0.0, 0.05, payer_ids.size)
    hazard = np.clip(cat.DEFECT_BASE_HAZARD["UNITS_EXCEED_MUE"] * spread, 0.0, 0.97)
    return np.where(np.isin(payer_ids, np.asarray(cat.MUE_OFF_PAYERS, dtype=object)), 0.0, hazard)


def build_world(seed: int, reference: ReferenceData, policy_change: PolicyChange | None = None) -> World:
    """The market for one history; the same seed, reference data and policy change give the same
    world (``None``: the catalog's change)."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 0])))
    quarters = list(reference.quarters)
    cw = reference.crosswalk
    starts = cw.groupby("quarter")["effective_start"].min().reindex(quarters).to_numpy().astype("datetime64[D]")
    ends = cw.groupby("quarter")["effective_end"].max().reindex(quarters).to_numpy().astype("datetime64[D]")
    payers = _build_payers(rng, policy_change if policy_change is not None else PolicyChange())
    mue = CAUSE_INDEX["UNITS_EXCEED_MUE"]
    payers.hazard[:, mue] = payers.hazard_after[:, mue] = _mue_hazard(seed, payers.ids)
    share = np.array([p.share for p in cat.PAYERS])
    return World(
        seed=seed,
        quarters=quarters,
        quarter_starts=starts,
        first_day=starts[0],
        last_day=ends[-1],
        products=_build_products(rng, reference, quarters),
        providers=_build_providers(rng, len(cat.PAYERS), share / share.sum()),
        payers=payers,
        habit_names=tuple(cat.HABITS),
        class_effect=np.array([0.5, -0.3, 0.6, -0.6]),
        reference=reference,
    )
