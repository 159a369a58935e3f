"""The committed sample: reproducible from its seed, and its X12 copy reads back as the same records."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from claims.model import Claim
from claims.remittance import RemitRow
from edi.claims837 import iter_837
from edi.remits835 import iter_835
from edi.writer import write_837
from synthetic.commands import synth

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "synthetic" / "sample"
SAMPLE_CLAIMS, SAMPLE_SEED = 300, 2026  # as documented in data/synthetic/README.md


def _records(path: Path) -> list[dict]:
    with open(path, "rb") as handle:
        return [orjson.loads(line) for line in handle]


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    assert synth(n_claims=SAMPLE_CLAIMS, seed=SAMPLE_SEED, out=out, x12=True) == 0
    return out


def test_sample_regenerates_byte_for_byte(regenerated: Path) -> None:
    for name in ("claims.jsonl", "remits.jsonl", "truth.jsonl", "claims.837", "remits.835"):
        assert (regenerated / name).read_bytes() == (SAMPLE / name).read_bytes(), name


def test_837_reads_back_as_the_same_claims() -> None:
    expected = [Claim.model_validate(record) for record in _records(SAMPLE / "claims.jsonl")]
    read = list(iter_837(SAMPLE / "claims.837"))
    assert all(isinstance(item, Claim) for item in read), [str(i) for i in read if not isinstance(i, Claim)][:3]
    assert sorted(read, key=lambda c: c.claim_id) == sorted(expected, key=lambda c: c.claim_id)
    assert {c.claim_type for c in expected} == {"professional", "institutional"}


def test_835_reads_back_as_the_same_rows() -> None:
    expected = [RemitRow.model_validate(record) for record in _records(SAMPLE / "remits.jsonl")]
    read = list(iter_835(SAMPLE / "remits.835"))
    assert all(isinstance(item, dict) for item in read), [str(i) for i in read if not isinstance(i, dict)][:3]
    assert [RemitRow.model_validate(row) for row in read] == expected
    assert {row.claim_status for row in expected} >= {"1", "22"}


def _pyx12_valid(path: Path) -> bool:
    import pyx12.params
    import pyx12.x12n_document

    return bool(pyx12.x12n_document.x12n_document(
        param=pyx12.params.params(), src_file=str(path), fd_997=None, fd_html=None
    ))


@pytest.mark.slow
def test_pyx12_accepts_the_sample_835() -> None:
    assert _pyx12_valid(SAMPLE / "remits.835")


@pytest.mark.slow
def test_pyx12_accepts_the_sample_837_professional(tmp_path: Path) -> None:
    # pyx12 ships the 837P map (X222A1) but not the 837I errata the writer uses (X223A2). A claim
    # without any diagnosis (the DIAGNOSIS_MISSING defect) cannot be valid X12: HI is mandatory.
    claims = [Claim.model_validate(r) for r in _records(SAMPLE / "claims.jsonl")]
    professional = [c for c in claims if c.claim_type == "professional" and c.diagnosis_codes]
    assert len(professional) > 200
    write_837(sorted(professional, key=lambda c: c.submission_date), tmp_path / "p.837")
    assert _pyx12_valid(tmp_path / "p.837")
