"""Drawing one batch of claims as columns: the providers' side of the history.

Each batch is drawn from its own child seed, so a history is the same whatever the machine and
however the work is split. Every defect a provider makes is recorded as a boolean column named
after the problem it causes (CONTRACT §3 rule ids where one exists), which the payers then judge.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from synthetic import catalog as cat
from synthetic import mue
from synthetic.pricing import Pricing
from synthetic.pricing import habit as _habit
from synthetic.pricing import price_lines as _price_lines
from synthetic.world import KIND_NEW_CODE, KIND_SPECIFIC, World

N_DRUG_LINES_P = np.array([0.72, 0.21, 0.07])
NOC_SHARE_BY_CLASS = np.array([0.08, 0.04, 0.10, 0.12])  # legitimately uncoded drugs, per class


@dataclass
class ClaimBatch:
    """Columns of one batch: ``claim`` arrays have one row per claim, ``line`` arrays one per line."""

    start: int
    n: int
    claim_ids: np.ndarray
    provider: np.ndarray
    payer: np.ndarray
    institutional: np.ndarray
    claim_class: np.ndarray
    service_day: np.ndarray  # datetime64[D]
    submission_day: np.ndarray
    quarter: np.ndarray
    after_change: np.ndarray  # the service date is on/after the policy change
    place_of_service: np.ndarray
    diagnoses: list[list[str]]
    prior_auth: np.ndarray  # object or None
    total_cents: np.ndarray
    has_noc: np.ndarray
    # lines
    line_claim: np.ndarray
    line_number: np.ndarray
    line_first: np.ndarray  # index of each claim's first line
    n_lines: np.ndarray
    is_admin: np.ndarray
    is_noc: np.ndarray
    product: np.ndarray  # -1 on admin lines
    procedure_code: np.ndarray
    revenue_code: np.ndarray
    units: np.ndarray
    charge_cents: np.ndarray
    description: np.ndarray
    note: np.ndarray
    modifier_jz: np.ndarray
    has_drug: np.ndarray
    ndc: np.ndarray
    quantity: np.ndarray
    drug_unit: np.ndarray
    pointers: list[list[int]]
    line_prior_auth: np.ndarray
    attachment: np.ndarray  # 0 none, 1 sent (OZ/04), 2 available on request (AA)
    attachment_type: np.ndarray  # "OZ" | "04"
    units_problem: np.ndarray  # billed units disagree with the drug given (whatever the NDC unit)
    claim_defects: dict[str, np.ndarray] = field(default_factory=dict)
    line_defects: dict[str, np.ndarray] = field(default_factory=dict)


def _categorical(rng: np.random.Generator, cum: np.ndarray) -> np.ndarray:
    """One draw per row from per-row cumulative probabilities."""
    u = rng.random(cum.shape[0]) * cum[:, -1]
    return (cum < u[:, None]).sum(axis=1)


def where_or_none(condition: np.ndarray, values: np.ndarray | str) -> np.ndarray:
    """An object column holding ``values`` where ``condition`` holds and None elsewhere."""
    out = np.full(condition.shape[0], None, dtype=object)
    out[condition] = values[condition] if isinstance(values, np.ndarray) else values
    return out


def _truncate(values: np.ndarray, width: int) -> np.ndarray:
    out = np.full(values.shape[0], None, dtype=object)
    out[:] = [v[:width] if v is not None else None for v in values.tolist()]
    return out


def _x12_dx(code: str) -> str:
    return code.replace(".", "")


def _ten_digit(ndc: np.ndarray) -> np.ndarray:
    """The bare 10-digit form a biller copies from the label (drops the padding zero)."""
    out = []
    for value in ndc.tolist():
        if value[0] == "0":
            out.append(value[1:])
        elif value[5] == "0":
            out.append(value[:5] + value[6:])
        elif value[9] == "0":
            out.append(value[:9] + value[10:])
        else:
            out.append(value[:10])
    return np.array(out, dtype=object)


def _pick(rng: np.random.Generator, pools: list[list[np.ndarray]], quarter: np.ndarray, klass: np.ndarray) -> np.ndarray:
    """A product per row from the pool of its (quarter, class); -1 where the pool is empty."""
    out = np.full(quarter.size, -1, dtype=np.int64)
    draws = rng.random(quarter.size)
    for qi in np.unique(quarter):
        for k in np.unique(klass[quarter == qi]):
            rows = np.flatnonzero((quarter == qi) & (klass == k))
            pool = pools[qi][k]
            if pool.size:
                out[rows] = pool[(draws[rows] * pool.size).astype(np.int64)]
    return out

@dataclass
class _Header:
    """Claim-level draws (who bills which payer, when, with how many lines) and the line layout."""

    provider: np.ndarray
    payer: np.ndarray
    specialty: np.ndarray
    institutional: np.ndarray
    service_day: np.ndarray
    quarter: np.ndarray
    after_change: np.ndarray
    submission_day: np.ndarray
    timely_defect: np.ndarray
    forget_admin: np.ndarray
    n_lines: np.ndarray
    line_first: np.ndarray
    line_claim: np.ndarray
    line_number: np.ndarray
    is_admin: np.ndarray
    drug: np.ndarray
    provider_l: np.ndarray  # the billing provider of each line
    inst_l: np.ndarray  # each line's claim is institutional (837I)


@dataclass
class _Coding:
    """What each line bills: drug class, product, and the HCPCS/CPT code the provider chose."""

    line_class: np.ndarray
    claim_class: np.ndarray
    product: np.ndarray  # -1 on admin lines
    pidx: np.ndarray  # product, 0 on admin lines (safe to index with)
    is_noc: np.ndarray
    specific_code_exists: np.ndarray  # billed NOC although the drug has a specific code
    c9399_prof: np.ndarray  # C9399 (hospital outpatient only) on a professional claim
    procedure: np.ndarray
    admin_fee: np.ndarray  # per claim, the administration charge before markup
    admin_rev: np.ndarray  # per claim, the administration line's revenue code


@dataclass
class _DrugBlock:
    """The NDC block (2410 loop) as sent, after the provider's mistakes in it."""

    forget_ndc: np.ndarray
    has_drug: np.ndarray
    ndc: np.ndarray
    bad_format: np.ndarray
    other_code: np.ndarray
    bad_quantity: np.ndarray
    bad_unit: np.ndarray
    quantity: np.ndarray
    drug_unit: np.ndarray
    units_problem: np.ndarray


@dataclass
class _Narrative:
    """Free-text description and note of each line, and the JW/JZ waste modifier."""

    description: np.ndarray
    note: np.ndarray
    no_description: np.ndarray
    short_description: np.ndarray
    modifier_jz: np.ndarray
    forget_jz: np.ndarray


@dataclass
class _Paperwork:
    """Invoices and records attached to NOC lines, and prior authorisation at claim or line level."""

    attachment: np.ndarray
    attachment_type: np.ndarray
    pointer_draw: np.ndarray  # uniforms drawn with the attachments, used for diagnosis pointers
    has_noc: np.ndarray
    prior_auth: np.ndarray
    line_prior_auth: np.ndarray
    pa_missing: np.ndarray


@dataclass
class _Diagnoses:
    """Diagnosis codes of each claim and the pointers of each line."""

    diagnoses: list[list[str]]
    mismatch: np.ndarray  # a diagnosis of another drug class (medical necessity)
    bad_dx: np.ndarray
    no_dx: np.ndarray
    bad_pointer: np.ndarray
    pointers: list[list[int]]


def _draw_header(world: World, rng: np.random.Generator, n: int) -> _Header:
    """Provider, payer, dates and the number of lines of each claim."""
    prov, pay = world.providers, world.payers
    provider = rng.choice(prov.npi.size, size=n, p=prov.volume)
    payer = _categorical(rng, prov.payer_cum[provider])
    specialty = prov.specialty[provider]
    institutional = specialty == cat.SPECIALTIES.index("hospital_outpatient")
    span = int((world.last_day - world.first_day).astype(int)) + 1
    service_day = world.first_day + rng.integers(0, span, n).astype("timedelta64[D]")

    late = rng.random(n) < _habit(world, provider, "late_filing")
    lag = np.where(late, rng.integers(120, 480, n), 1 + rng.geometric(0.12, n))

    n_drug = rng.choice(3, size=n, p=N_DRUG_LINES_P) + 1
    forget_admin = rng.random(n) < _habit(world, provider, "forget_admin")
    n_lines = n_drug + ~forget_admin
    line_first = np.concatenate([[0], np.cumsum(n_lines)[:-1]])
    line_claim = np.repeat(np.arange(n), n_lines)
    line_pos = np.arange(int(n_lines.sum())) - line_first[line_claim]
    is_admin = ~forget_admin[line_claim] & (line_pos == 0)
    return _Header(
        provider=provider, payer=payer, specialty=specialty, institutional=institutional,
        service_day=service_day, quarter=world.quarter_of(service_day), after_change=service_day >= pay.change_day,
        submission_day=service_day + lag.astype("timedelta64[D]"), timely_defect=lag > pay.filing_limit[payer],
        forget_admin=forget_admin, n_lines=n_lines, line_first=line_first, line_claim=line_claim,
        line_number=line_pos + 1, is_admin=is_admin, drug=~is_admin, provider_l=provider[line_claim],
        inst_l=institutional[line_claim],
    )


def _draw_products(
    world: World, rng: np.random.Generator, head: _Header
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drug class of each line and the product given: legitimately uncoded drugs (compounded, or a
    new drug before its code) are NOC, the rest come from the specific-code pool of their quarter.

    Returns ``line_class``, ``claim_class`` and ``product`` (-1 on admin lines)."""
    prod_ = world.products
    n_total = head.line_claim.size
    drug = head.drug
    class_mix = np.array([cat.SPECIALTY_CLASS_MIX[s] for s in cat.SPECIALTIES])
    line_class = _categorical(rng, np.cumsum(class_mix[head.specialty[head.line_claim]], axis=1))
    claim_class = line_class[head.line_first + ~head.forget_admin]  # the class of each claim's first drug
    line_class[drug] = np.where(  # later drugs on a claim follow the first (oncology adds supportive care)
        (claim_class[head.line_claim] == 0) & (rng.random(n_total) < 0.5), 1, claim_class[head.line_claim]
    )[drug]
    lq = head.quarter[head.line_claim]
    wants_noc = drug & (rng.random(n_total) < NOC_SHARE_BY_CLASS[line_class])
    noc_product = _pick(rng, prod_.noc_pool, lq, line_class)
    specific_product = _pick(rng, prod_.specific_pool, lq, line_class)
    product = np.where(wants_noc & (noc_product >= 0), noc_product, specific_product)
    product = np.where(drug & (product < 0), np.maximum(noc_product, specific_product), product)
    product[~drug] = -1
    return line_class, claim_class, product


def _code_lines(
    world: World,
    rng: np.random.Generator,
    head: _Header,
    drawn: tuple[np.ndarray, np.ndarray, np.ndarray],
    u: np.ndarray,
) -> _Coding:
    """The code each line is billed under, with the coding errors providers make (``u`` rows 0-2):
    a stale NOC code after a new drug got its code, NOC for a coded drug, C9399 on a professional
    claim; administration lines take the CPT code of their claim's drug class."""
    prod_ = world.products
    line_class, claim_class, product = drawn
    pidx = np.maximum(product, 0)
    kind = prod_.kind[pidx]
    lq = head.quarter[head.line_claim]
    legit_noc = head.drug & (kind != KIND_SPECIFIC) & (prod_.entry_quarter[pidx] > lq)
    coded = head.drug & ~legit_noc
    stale = coded & (kind == KIND_NEW_CODE) & (
        u[0] < _habit(world, head.provider_l, "stale_noc") * np.exp(-(lq - prod_.entry_quarter[pidx]) / 2.0)
    )
    noc_for_coded = coded & ~stale & (u[1] < _habit(world, head.provider_l, "noc_for_coded"))
    specific_code_exists = stale | noc_for_coded
    is_noc = legit_noc | specific_code_exists

    c9399_prof = is_noc & ~head.inst_l & (u[2] < _habit(world, head.provider_l, "c9399_professional"))
    noc_code = np.array([cat.CLASS_NOC_CODE[c] for c in cat.DRUG_CLASSES], dtype=object)[line_class]
    noc_code = np.where(head.inst_l | c9399_prof, cat.OPPS_NOC_CODE, noc_code)
    procedure = np.where(is_noc, noc_code, prod_.hcpcs[pidx])

    n = head.provider.size
    admin_choice = (rng.random(n) < 0.75).astype(np.int64)  # first option most of the time
    admin_code = np.empty(n, dtype=object)
    admin_fee = np.empty(n)
    admin_rev = np.empty(n, dtype=object)
    for k, name in enumerate(cat.DRUG_CLASSES):
        options = cat.ADMIN_BY_CLASS[name]
        rows = claim_class == k
        pick = np.where(admin_choice[rows] == 1, 0, 1)
        admin_code[rows] = np.array([o[0] for o in options], dtype=object)[pick]
        admin_fee[rows] = np.array([o[1] for o in options])[pick]
        admin_rev[rows] = np.array([o[2] for o in options], dtype=object)[pick]
    procedure[head.is_admin] = admin_code[head.line_claim[head.is_admin]]
    return _Coding(
        line_class=line_class, claim_class=claim_class, product=product, pidx=pidx, is_noc=is_noc,
        specific_code_exists=specific_code_exists, c9399_prof=c9399_prof, procedure=procedure,
        admin_fee=admin_fee, admin_rev=admin_rev,
    )


def _fill_drug_block(
    world: World, rng: np.random.Generator, head: _Header, code: _Coding, price: Pricing
) -> _DrugBlock:
    """The NDC block with its defects: missing, a bare 10-digit NDC, the NDC of another code, a zero
    quantity, a unit of measure that does not fit the drug."""
    prod_, provider_l = world.products, head.provider_l
    v = rng.random((6, head.line_claim.size))
    forget_ndc = head.drug & (v[0] < _habit(world, provider_l, "forget_ndc"))
    has_drug = head.drug & ~forget_ndc
    ndc = where_or_none(has_drug, prod_.ndc11[code.pidx])
    bad_format = has_drug & (v[1] < _habit(world, provider_l, "bad_ndc_format"))
    if bad_format.any():
        ndc[bad_format] = _ten_digit(ndc[bad_format])
    other = _pick(rng, prod_.specific_pool, head.quarter[head.line_claim], code.line_class)
    other_code = (
        has_drug & ~bad_format & ~code.is_noc & (other >= 0)
        & (prod_.hcpcs[np.maximum(other, 0)] != code.procedure) & (v[2] < _habit(world, provider_l, "ndc_other_code"))
    )
    ndc[other_code] = prod_.ndc11[other[other_code]]
    bad_quantity = has_drug & (v[3] < _habit(world, provider_l, "bad_quantity"))
    bad_unit = has_drug & (v[4] < _habit(world, provider_l, "bad_unit"))
    drug_unit = price.drug_unit
    drug_unit[bad_unit] = np.where(v[5][bad_unit] < 0.5, "F2", "GR")
    return _DrugBlock(
        forget_ndc=forget_ndc, has_drug=has_drug, ndc=ndc, bad_format=bad_format, other_code=other_code,
        bad_quantity=bad_quantity, bad_unit=bad_unit, quantity=np.where(bad_quantity, 0.0, price.quantity),
        drug_unit=drug_unit, units_problem=price.wrong_units & has_drug,
    )


def _write_narrative(
    world: World, rng: np.random.Generator, head: _Header, code: _Coding, block: _DrugBlock
) -> _Narrative:
    """Descriptions (required on NOC lines, missing or without strength by mistake), notes, and the
    JW/JZ modifier Medicare wants on every drug line."""
    prod_, provider_l, pidx, is_noc = world.products, head.provider_l, code.pidx, code.is_noc
    w = rng.random((4, head.line_claim.size))
    full_text = prod_.name[pidx] + " " + prod_.strength[pidx]
    no_description = is_noc & (w[0] < _habit(world, provider_l, "no_description"))
    short_description = is_noc & ~no_description & (w[1] < _habit(world, provider_l, "short_description"))
    describe = is_noc | (head.drug & world.providers.names_description[provider_l])
    description = where_or_none(describe, full_text)
    description[short_description] = prod_.name[pidx][short_description]
    description[no_description] = None
    note = where_or_none(
        is_noc & ~no_description & ~short_description & (w[2] < 0.3),
        full_text + " " + np.char.mod("%g", block.quantity).astype(object) + " " + block.drug_unit,
    )
    medicare_l = world.payers.is_medicare[head.payer[head.line_claim]]
    forget_jz = head.drug & medicare_l & (w[3] < _habit(world, provider_l, "forget_waste_modifier"))
    return _Narrative(
        description=_truncate(description, 80), note=_truncate(note, 80), no_description=no_description,
        short_description=short_description, modifier_jz=head.drug & medicare_l & ~forget_jz, forget_jz=forget_jz,
    )


def _attach_paperwork(world: World, rng: np.random.Generator, head: _Header, code: _Coding) -> _Paperwork:
    """Invoices for NOC lines (sent, only available on request, or forgotten) and prior authorisation,
    which providers learn over about six months after the policy-change payer starts requiring it."""
    pay, is_noc, n = world.payers, code.is_noc, head.provider.size
    x = rng.random((5, head.line_claim.size))
    attachment = np.zeros(head.line_claim.size, dtype=np.int8)
    attachment[is_noc] = 1
    on_request = is_noc & (x[0] < _habit(world, head.provider_l, "invoice_on_request"))
    forget_invoice = is_noc & ~on_request & (x[1] < _habit(world, head.provider_l, "forget_invoice"))
    attachment[on_request] = 2
    attachment[forget_invoice] = 0

    has_noc = np.bincount(head.line_claim, weights=is_noc, minlength=n) > 0
    after_change = head.after_change
    requires_pa = np.where(after_change, pay.requires_pa_after[head.payer], pay.requires_pa[head.payer])
    learned = np.clip((head.service_day - pay.change_day).astype(int) / 180.0, 0.0, 1.0)
    learning = (pay.ids[head.payer] == pay.change_payer) & after_change
    y = rng.random((3, n))
    sends_pa = np.where(requires_pa, y[0] >= _habit(world, head.provider, "forget_prior_auth"), y[0] < 0.15)
    sends_pa = np.where(learning, y[1] < 0.15 + 0.8 * learned, sends_pa)
    pa_numbers = np.char.add("PA", np.char.zfill(rng.integers(0, 10**8, n).astype(str), 8)).astype(object)
    on_line = has_noc & sends_pa & ~head.institutional & (y[2] < 0.2)  # 837I has no line-level REF*G1
    prior_auth = where_or_none(sends_pa & ~on_line, pa_numbers)
    first_noc = np.full(n, -1, dtype=np.int64)
    noc_rows = np.flatnonzero(is_noc)
    first_noc[head.line_claim[noc_rows[::-1]]] = noc_rows[::-1]
    line_prior_auth = np.full(head.line_claim.size, None, dtype=object)
    line_prior_auth[first_noc[on_line]] = pa_numbers[on_line]
    # a line-level PA covers only its line: other NOC lines of that claim lack one
    pa_on_line = np.zeros(head.line_claim.size, dtype=bool)
    pa_on_line[first_noc[on_line]] = True
    no_claim_pa = prior_auth[head.line_claim] == None  # noqa: E711
    return _Paperwork(
        attachment=attachment, attachment_type=np.where(x[2] < 0.7, "OZ", "04").astype(object),
        pointer_draw=x[3], has_noc=has_noc, prior_auth=prior_auth, line_prior_auth=line_prior_auth,
        pa_missing=is_noc & requires_pa[head.line_claim] & no_claim_pa & ~pa_on_line,
    )


def _draw_diagnoses(
    world: World, rng: np.random.Generator, head: _Header, code: _Coding, pointer_draw: np.ndarray
) -> _Diagnoses:
    """Principal and secondary diagnoses (one of another drug class, not billable, invalid, or none
    by mistake) and the line pointers to them (out of range by mistake)."""
    n = head.provider.size
    z = rng.random((6, n))
    mismatch = z[0] < _habit(world, head.provider, "diagnosis_mismatch")
    dx_class = np.where(mismatch, np.where(code.claim_class == 3, 0, 3), code.claim_class)
    # X12 carries diagnosis codes without the dot; the claims do too, so both forms are identical
    lists = [np.array([_x12_dx(d) for d in cat.CLASS_DIAGNOSES[c]], dtype=object) for c in cat.DRUG_CLASSES]
    principal = np.empty(n, dtype=object)
    for k in range(len(cat.DRUG_CLASSES)):
        rows = dx_class == k
        principal[rows] = lists[k][(z[1][rows] * lists[k].size).astype(np.int64)]
    secondary_pool = np.array([_x12_dx(d) for d in cat.SECONDARY_DIAGNOSES], dtype=object)
    secondary = secondary_pool[(z[2] * secondary_pool.size).astype(np.int64)]
    n_dx = np.where(z[3] < 0.55, 2, 1)
    bad_dx = z[4] < _habit(world, head.provider, "bad_diagnosis")
    wrong_pool = np.array([_x12_dx(d) for d in cat.NON_BILLABLE_DIAGNOSES + cat.INVALID_DIAGNOSES], dtype=object)
    principal = np.where(bad_dx, wrong_pool[(z[5] * wrong_pool.size).astype(np.int64)], principal)
    no_dx = rng.random(n) < _habit(world, head.provider, "no_diagnosis")
    n_dx = np.where(no_dx, 0, n_dx)
    diagnoses = [
        [] if k == 0 else ([p] if k == 1 else [p, s])
        for p, s, k in zip(principal.tolist(), secondary.tolist(), n_dx.tolist(), strict=True)
    ]
    n_dx_l = n_dx[head.line_claim]
    inst_l = head.inst_l
    bad_pointer = (
        head.drug & ~inst_l & (n_dx_l > 0) & (pointer_draw < _habit(world, head.provider_l, "bad_pointer"))
    )
    pointer_kind = np.where(inst_l | (n_dx_l == 0), 0, np.where(bad_pointer, 3, np.where(n_dx_l == 2, 2, 1)))
    pointer_lists: dict[int, list[int]] = {0: [], 1: [1], 2: [1, 2], 3: [3]}
    return _Diagnoses(
        diagnoses=diagnoses, mismatch=mismatch, bad_dx=bad_dx, no_dx=no_dx, bad_pointer=bad_pointer,
        pointers=[pointer_lists[k] for k in pointer_kind.tolist()],
    )


def _places_of_service(rng: np.random.Generator, head: _Header) -> np.ndarray:
    """Place of service by specialty (837I: the facility type code)."""
    pos = np.empty(head.provider.size, dtype=object)
    for s, name in enumerate(cat.SPECIALTIES):
        rows = head.specialty == s
        pos_options = np.array(cat.SPECIALTY_POS[name], dtype=object)
        pos[rows] = pos_options[rng.integers(0, pos_options.size, int(rows.sum()))]
    return pos


def _line_defects(
    world: World, head: _Header, code: _Coding, price: Pricing, block: _DrugBlock, text: _Narrative,
    paper: _Paperwork, dx: _Diagnoses,
) -> dict[str, np.ndarray]:
    """Each line defect under the cause the payers judge it as. The order is the order in which
    ``adjudicate`` draws the hazards, so it is part of what makes a seed's history what it is."""
    pay = world.payers
    payer_l = head.payer[head.line_claim]
    is_noc = code.is_noc
    invoice_needed = is_noc & (price.charge_cents >= pay.invoice_min_charge[payer_l] * 100.0)
    return {
        "NDC_MISSING": block.forget_ndc,
        "NDC_INVALID": block.bad_format,
        "SPECIFIC_CODE_EXISTS": code.specific_code_exists,
        "NDC_HCPCS_MISMATCH": block.other_code,
        "NDC_QUANTITY_INVALID": block.bad_quantity,
        "NDC_UNIT_INVALID": block.bad_unit,
        "UNITS_MISMATCH": block.units_problem,
        "NOC_UNITS_NOT_ONE": price.noc_units & (pay.types[payer_l] != "commercial"),
        "NOC_CODE_SETTING": code.c9399_prof,
        "DESCRIPTION_MISSING": text.no_description,
        "DESCRIPTION_INCOMPLETE": text.short_description,
        "INVOICE_MISSING": invoice_needed & (paper.attachment != 1),
        "DOCUMENTATION_MISSING": is_noc & (paper.attachment != 1) & pay.requires_docs[payer_l],
        "PRIOR_AUTH_MISSING": paper.pa_missing,
        "DIAGNOSIS_POINTER_INVALID": dx.bad_pointer,
        "ADMIN_CODE_MISSING": is_noc & ~head.inst_l & head.forget_admin[head.line_claim],
        "WASTE_MODIFIER_MISSING": text.forget_jz,
        "medical_necessity": head.drug & dx.mismatch[head.line_claim],
        "UNITS_EXCEED_MUE": price.mue_excess,  # payers judge it from a stream of its own (adjudicate)
    }


def generate_batch(world: World, rng: np.random.Generator, start: int, n: int) -> ClaimBatch:
    """Claims ``start .. start + n - 1`` of the history, with every defect their providers made.

    The steps draw from ``rng`` in a fixed order: a seed's history depends on it, so a new draw
    goes after the existing ones (or on a stream of its own), never between them.
    """
    head = _draw_header(world, rng, n)
    drawn = _draw_products(world, rng, head)
    # eight uniforms per line: rows 0-2 for coding errors, 3-6 for units; row 7 is unused but drawn,
    # as it always was, so that the draws after it (and so every history) stay the same
    u = rng.random((8, head.line_claim.size))
    code = _code_lines(world, rng, head, drawn, u)
    limits = mue.lookup(world, head.inst_l, code.procedure, head.service_day[head.line_claim], head.drug & ~code.is_noc)
    (product, procedure), limits, plan = mue.plan_excess(
        world, start, head.line_claim, head.provider_l, (code.product, code.procedure), limits
    )
    code = replace(code, product=product, pidx=np.maximum(product, 0), procedure=procedure)
    price = _price_lines(world, rng, head, code, u, (limits, plan))
    block = _fill_drug_block(world, rng, head, code, price)
    text = _write_narrative(world, rng, head, code, block)
    paper = _attach_paperwork(world, rng, head, code)
    dx = _draw_diagnoses(world, rng, head, code, paper.pointer_draw)
    place_of_service = _places_of_service(rng, head)
    revenue = where_or_none(
        head.inst_l, np.where(head.is_admin, code.admin_rev[head.line_claim], cat.DRUG_REVENUE_CODE)
    )
    seed_tag = f"S{world.seed % 100000:05d}C"
    claim_defects = {
        "TIMELY_FILING": head.timely_defect,
        "DIAGNOSIS_MISSING": dx.no_dx,
        "DIAGNOSIS_INVALID": dx.bad_dx & ~dx.no_dx,
        "CHARGE_INVALID": price.charge_mismatch,
    }
    return ClaimBatch(
        start=start, n=n, claim_ids=np.array([f"{seed_tag}{i:09d}" for i in range(start, start + n)], dtype=object),
        provider=head.provider, payer=head.payer, institutional=head.institutional, claim_class=code.claim_class,
        service_day=head.service_day, submission_day=head.submission_day, quarter=head.quarter,
        after_change=head.after_change, place_of_service=place_of_service, diagnoses=dx.diagnoses,
        prior_auth=paper.prior_auth, total_cents=price.total_cents, has_noc=paper.has_noc,
        line_claim=head.line_claim, line_number=head.line_number, line_first=head.line_first,
        n_lines=head.n_lines, is_admin=head.is_admin, is_noc=code.is_noc, product=code.product,
        procedure_code=code.procedure, revenue_code=revenue, units=price.units, charge_cents=price.charge_cents,
        description=text.description, note=text.note, modifier_jz=text.modifier_jz, has_drug=block.has_drug,
        ndc=block.ndc, quantity=block.quantity, drug_unit=block.drug_unit, pointers=dx.pointers,
        line_prior_auth=paper.line_prior_auth, attachment=paper.attachment, attachment_type=paper.attachment_type,
        units_problem=block.units_problem, claim_defects=claim_defects,
        line_defects=_line_defects(world, head, code, price, block, text, paper, dx),
    )
