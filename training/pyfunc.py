"""The MLflow pyfunc flavour of the model: raw contract claims in, risk out.

Input: a DataFrame with one string column ``claim`` (one CONTRACT §2 claim as JSON per row), the
shape a Spark table of claims takes with ``mlflow.pyfunc.spark_udf``. Output: a DataFrame
(claim_id, risk, decision, expected_loss). A row that is not a valid claim gets risk NaN and
decision "invalid" instead of failing the whole batch. The RiskModel itself is a joblib artifact
(``artifacts={"model": ...}``); loading needs the installed claimrisk packages and nothing from
the network or ``../shared``.
"""

from __future__ import annotations

from typing import Any

import joblib
import numpy as np
import orjson
import pandas as pd
from mlflow.pyfunc import PythonModel
from pydantic import ValidationError

from claims.charges import total_charges
from claims.columnar import from_claims
from claims.model import Claim

INPUT_COLUMN = "claim"
OUTPUT_COLUMNS = ["claim_id", "risk", "decision", "expected_loss"]


def _claim_id(raw: Any) -> str | None:
    try:
        value = orjson.loads(raw).get("claim_id")
    except (orjson.JSONDecodeError, AttributeError, TypeError):
        return None
    return value if isinstance(value, str) else None


def score_claims_json(model: Any, raw_claims: list[Any], threshold: float | None = None) -> pd.DataFrame:
    """Score contract claims given as JSON strings; invalid ones come back as risk NaN, "invalid"."""
    claims: list[Claim] = []
    valid_rows: list[int] = []
    claim_ids: list[str | None] = []
    for row, raw in enumerate(raw_claims):
        try:
            claim = Claim.model_validate_json(raw)
        except (ValidationError, ValueError, TypeError):
            claim_ids.append(_claim_id(raw))
            continue
        claims.append(claim)
        valid_rows.append(row)
        claim_ids.append(claim.claim_id)
    n = len(raw_claims)
    risk = np.full(n, np.nan)
    charge = np.full(n, np.nan)
    decision = np.full(n, "invalid", dtype=object)
    if claims:
        frame = from_claims(claims)
        scored = model.predict_risk(frame)
        rows = np.asarray(valid_rows)
        risk[rows] = scored
        charge[rows] = total_charges(frame)  # the one meaning of a missing total: the line sum
        decision[rows] = model.decide(scored, threshold)
    return pd.DataFrame(
        {"claim_id": claim_ids, "risk": risk, "decision": decision, "expected_loss": risk * charge},
        columns=OUTPUT_COLUMNS,
    )


class ClaimRiskPyfunc(PythonModel):
    """pyfunc wrapper around a joblib RiskModel artifact."""

    def load_context(self, context: Any) -> None:
        self.model = joblib.load(context.artifacts["model"])

    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        # No type hints on purpose: MLflow derives a schema from them and would ignore the signature.
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        if INPUT_COLUMN not in frame.columns:
            raise ValueError(
                f"expected a DataFrame with a string column {INPUT_COLUMN!r} (one claim JSON per row)"
            )
        threshold = (params or {}).get("threshold")
        return score_claims_json(self.model, frame[INPUT_COLUMN].tolist(), threshold)
