"""Response models of the HTTP API (requests reuse ``claims.model``), with OpenAPI examples.

Handlers serialise their answers with orjson directly; these models exist to document the answers
in ``/openapi.json`` (and so let schemathesis check every response against them).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_EXAMPLE_RULE: dict[str, Any] = {
    "id": "SPECIFIC_CODE_EXISTS",
    "line_number": 1,
    "severity": "error",
    "message": "NOC code billed although the NDC maps to a specific HCPCS code",
    "evidence": {"procedure_code": "J3490", "specific_code": "J9999"},
    "carc": "189",
    "rarc": ["N657"],
    "fix": "Bill the specific HCPCS code named in the evidence",
}


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class Health(_Out):
    status: Literal["ok"]


class Readiness(_Out):
    status: Literal["ready", "not_ready"]
    model_version: str | None = None
    reason: Literal["no_model", "loading", "model_invalid"] | None = Field(
        default=None, description="why no model is served; details are in the server's log only"
    )


class FiredRule(_Out):
    """A fired rule (CONTRACT §3); ``risk_if_fixed`` only where a model scored the claim."""

    id: str
    line_number: int | None
    severity: Literal["error", "warning"]
    message: str
    evidence: dict[str, Any]
    carc: str | None
    rarc: list[str]
    fix: str | None
    risk_if_fixed: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="the claim's risk with this one problem (this rule on this line, or at claim level) corrected",
    )

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{**_EXAMPLE_RULE, "risk_if_fixed": 0.08}]})


class CheckResult(_Out):
    claim_id: str
    rules: list[FiredRule]
    rules_version: str
    reference_data_version: str


class DenialReason(_Out):
    """One reason family (CONTRACT §7) the payer may deny the claim for."""

    family: Literal[
        "ndc", "units", "description", "specific_code", "coding", "invoice", "documentation",
        "medical_necessity", "prior_auth", "timely_filing", "other",
    ]
    probability: float = Field(ge=0.0, le=1.0, description="P(denied for this reason); never above the risk")
    rules: list[str] = Field(description="ids of the fired rules of this family")


class ScoreResult(_Out):
    claim_id: str
    risk: float = Field(ge=0.0, le=1.0, description="calibrated probability that the payer denies the claim")
    decision: Literal["review", "pass"]
    threshold: float = Field(ge=0.0, le=1.0)
    expected_loss: float = Field(description="risk × total charge (sum of line charges when no total)")
    risk_if_all_fixed: float = Field(
        ge=0.0, le=1.0, description="the claim's risk with every reported problem corrected"
    )
    model_version: str
    rules_version: str
    reference_data_version: str
    rules: list[FiredRule]
    reasons: list[DenialReason] = Field(
        default_factory=list,
        description="reason families, most likely first; families under 0.01 without a fired rule are "
        "left out, and a model without reason heads answers []",
    )

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "claim_id": "PCN20260115A",
                    "risk": 0.41,
                    "decision": "review",
                    "threshold": 0.35,
                    "expected_loss": 512.5,
                    "risk_if_all_fixed": 0.08,
                    "model_version": "20260115T101500-3f2a9c1e",
                    "rules_version": "r1-0c4f2b7a",
                    "reference_data_version": "crosswalk=2024Q1..2026Q1;payment_limit=2026Q1;icd10cm=2026-04",
                    "rules": [{**_EXAMPLE_RULE, "risk_if_fixed": 0.08}],
                    "reasons": [
                        {"family": "specific_code", "probability": 0.31, "rules": ["SPECIFIC_CODE_EXISTS"]},
                        {"family": "medical_necessity", "probability": 0.07, "rules": []},
                    ],
                }
            ]
        },
    )


class BatchError(_Out):
    index: int = Field(ge=0, description="position of the claim in the submitted list")
    claim_id: str | None
    error: str = Field(description="field paths and reasons; submitted values are never echoed")


class BatchResult(_Out):
    results: list[ScoreResult]
    errors: list[BatchError]


class ModelInfo(_Out):
    model_version: str
    source: Literal["export", "registry"]
    threshold: float | None
    trained_at: str | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    data: dict[str, Any] = Field(default_factory=dict, description="training data summary")
    rules_version: str = Field(description="rules version the served answers are computed with")
    reference_data_version: str
    model_rules_version: str | None = Field(default=None, description="rules version at training time")
    model_reference_data_version: str | None = None
    sha256: str | None = None
    signed: bool = Field(default=False, description="a CLAIMRISK_MODEL_SIGNING_KEY signature was verified at load")
    drift: dict[str, Any] = Field(
        default_factory=dict,
        description="PSI of this worker's recent scored claims against the training window, per feature group "
        "(> 0.2 flagged); {available: false} for a model trained without a drift reference",
    )


class ReloadResult(_Out):
    model_version: str
    previous_model_version: str | None
    changed: bool


class ErrorDetail(_Out):
    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(_Out):
    error: str
    message: str
    detail: list[ErrorDetail] | None = None
    reason: Literal["no_model", "loading", "model_invalid"] | None = None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "missing or wrong X-API-Key (only when keys are configured)"},
    413: {"model": ErrorBody, "description": "request body or batch larger than the configured maximum"},
    422: {"model": ErrorBody, "description": "invalid input: field paths and reasons, never the values"},
}
MODEL_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    503: {"model": ErrorBody, "description": "no model is served; `reason`: no_model, loading or model_invalid"},
}
