"""The per-request shortcuts of the serving layer give what the general code gives (metrics,
request ids, claim charges), and routing is FastAPI's own."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from prometheus_client import generate_latest

from claims.columnar import ClaimFrame, from_claims
from claims.examples import EXAMPLE_CLAIM
from claims.model import Claim
from serving.app import create_app
from serving.config import Settings
from serving.logs import request_id_from
from serving.metrics import RISK_BUCKETS, ServingMetrics
from serving.scorer import claim_charges


@pytest.mark.parametrize("otel", [False, True])
def test_routes_are_fastapis_own(otel: bool, tmp_path: object) -> None:
    """Every route is a plain ``APIRoute`` from ``include_router``: nothing re-implements the
    framework's routing, so a minor FastAPI upgrade cannot silently bypass it."""
    app = create_app(Settings(models_dir=str(tmp_path), reload_poll_seconds=0, otel=otel))
    assert {type(route).__module__.split(".")[0] for route in app.routes} <= {"fastapi", "starlette"}
    paths = app.openapi()["paths"]
    assert "/v1/queue/claims" in paths  # the worklist's REST routes (serving.routes.queue)
    assert sorted(p for p in paths if not p.startswith("/v1/queue/")) == ["/healthz", "/metrics", "/readyz", "/v1/check", "/v1/model",
                                              "/v1/score", "/v1/score/batch"]
    with_admin = create_app(Settings(models_dir=str(tmp_path), reload_poll_seconds=0, admin_keys=["admin-key-01"]))
    assert "/v1/admin/reload" in with_admin.openapi()["paths"]
    import serving.app

    assert not hasattr(serving.app, "add_routes") and not hasattr(serving.app, "RequestOnlyRoute")


def test_metrics_of_a_few_risks_equal_the_array_path() -> None:
    rng = np.random.default_rng(0)
    few, many = ServingMetrics(), ServingMetrics()
    pending: list[np.ndarray] = []
    for _ in range(2000):
        risks = rng.random(int(rng.integers(0, 9)))
        odd = rng.random(risks.shape[0]) < 0.3
        risks[odd] = rng.choice([*RISK_BUCKETS, 0.0, 1.0, np.nan, 2.0, -0.5], size=int(odd.sum()))
        few.observe_risks(risks, risks >= 0.5)
        pending.append(risks)
    for chunk in np.array_split(np.concatenate(pending), 40):  # chunks of >8: the NumPy path
        many.observe_risks(chunk, chunk >= 0.5)

    def samples(metrics: ServingMetrics) -> dict[str, float]:
        text = generate_latest(metrics.registry).decode()
        return {
            line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("claimrisk_") and "_created" not in line and "_sum" not in line
        }

    assert samples(few) == samples(many)
    assert samples(few)['claimrisk_risk_bucket{le="+Inf"}'] > 0


def test_minted_request_ids_are_random_uuid4_hex() -> None:
    ids = [request_id_from([]) for _ in range(3000)]
    assert len(set(ids)) == len(ids)
    for value in ids[:600]:
        parsed = uuid.UUID(value)
        assert parsed.hex == value and parsed.version == 4 and parsed.variant == uuid.RFC_4122
    assert request_id_from([(b"x-request-id", b"abc-123")]) == "abc-123"


def _with_charges(frame: ClaimFrame, total: float, charges: list[float]) -> ClaimFrame:
    lines = {name: np.resize(column, len(charges)) for name, column in frame.lines.items()}
    lines["claim_index"] = np.zeros(len(charges), dtype=np.int64)
    lines["charge"] = np.array(charges, dtype=np.float64)
    lines["total_charge"] = np.full(len(charges), total)
    return ClaimFrame(lines, frame.diagnoses, frame.attachments, 1, frame.claim_ids)


def test_claim_charges_alone_equal_charges_in_a_batch() -> None:
    base = from_claims([Claim.model_validate(EXAMPLE_CLAIM)])
    rng = np.random.default_rng(1)
    frames = []
    for _ in range(500):
        n = int(rng.integers(0, 80))
        charges = rng.normal(scale=10.0 ** int(rng.integers(0, 300)), size=n)
        for value, share in ((np.nan, 0.3), (np.inf, 0.05), (-np.inf, 0.05), (-0.0, 0.05)):
            charges[rng.random(n) < share] = value
        frames.append(_with_charges(base, np.nan if rng.random() < 0.7 else float(rng.normal()), charges.tolist()))
    batch = claim_charges(ClaimFrame.concat(frames))
    one = np.concatenate([claim_charges(frame) for frame in frames])
    assert one.dtype == np.float64 and one.tobytes() == batch.tobytes()
