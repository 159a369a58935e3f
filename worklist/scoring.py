"""Scoring for the worklist: the scorer is injected, and its answers become stored score rows.

The worklist sits below ``serving`` and must not import it, yet it must score exactly as the API
does (the skew test's promise). So the services take any object with the scorer's ``score`` method
(``serving.scorer.Scorer`` is one): CONTRACT §4 answers, each fired problem carrying
``risk_if_fixed`` and the answer ``risk_if_all_fixed``. Derived values are computed here once:
the best fix (the problem whose fix alone lowers the risk most), and the recoverable dollars, what
fixing every problem could win back: ``(risk - risk_if_all_fixed) * total_charge``. An answer that
lacks ``risk_if_all_fixed`` (an older scorer) stores nulls, never an invented number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import orjson

from claims.charges import total_charges
from claims.columnar import ClaimFrame


class ClaimScorer(Protocol):
    """What the worklist needs of a scorer: CONTRACT §4 answers, one per claim of the frame."""

    def score(self, frame: ClaimFrame) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class ScoreRow:
    """One claim's score as stored (``claim_scores``) and copied onto its queue row."""

    risk: float
    decision: str
    threshold: float
    expected_loss: float
    risk_if_all_fixed: float | None
    recoverable: float | None
    best_fix: str | None
    best_fix_line: int | None
    risk_if_best_fixed: float | None
    rules_json: str
    rule_ids: list[str]
    model_version: str
    rules_version: str
    reference_data_version: str

    def queue_values(self) -> dict[str, Any]:
        """The columns of ``queue_claims`` this score sets."""
        return {
            "risk": self.risk,
            "decision": self.decision,
            "expected_loss": self.expected_loss,
            "risk_if_all_fixed": self.risk_if_all_fixed,
            "recoverable": self.recoverable,
            "best_fix": self.best_fix,
            "best_fix_line": self.best_fix_line,
            "risk_if_best_fixed": self.risk_if_best_fixed,
            "model_version": self.model_version,
        }

    def score_values(self) -> dict[str, Any]:
        """The columns of ``claim_scores`` (without the revision it belongs to)."""
        return {
            "model_version": self.model_version,
            "rules_version": self.rules_version,
            "reference_data_version": self.reference_data_version,
            "risk": self.risk,
            "decision": self.decision,
            "threshold": self.threshold,
            "expected_loss": self.expected_loss,
            "risk_if_all_fixed": self.risk_if_all_fixed,
            "recoverable": self.recoverable,
            "best_fix": self.best_fix,
            "best_fix_line": self.best_fix_line,
            "risk_if_best_fixed": self.risk_if_best_fixed,
            "rules": self.rules_json,
        }


def _best_fix(rules: list[dict[str, Any]], risk: float) -> tuple[str | None, int | None, float | None]:
    """The problem whose fix alone leaves the lowest risk (ties: the engine's first), none when no
    fix lowers the risk: the same pick as ``claimrisk score --fixes`` (serving.worklist)."""
    best: dict[str, Any] | None = None
    for rule in rules:
        value = rule.get("risk_if_fixed")
        if value is not None and value < risk and (best is None or value < best["risk_if_fixed"]):
            best = rule
    if best is None:
        return None, None, None
    return str(best["id"]), best.get("line_number"), float(best["risk_if_fixed"])


def score_rows(answers: list[dict[str, Any]], charges: np.ndarray) -> list[ScoreRow]:
    """Stored rows of the scorer's answers (``charges``: each claim's total charge)."""
    out: list[ScoreRow] = []
    for answer, charge in zip(answers, charges.tolist(), strict=True):
        rules = answer["rules"]
        risk = float(answer["risk"])
        all_fixed = answer.get("risk_if_all_fixed")
        best, best_line, best_risk = _best_fix(rules, risk)
        out.append(
            ScoreRow(
                risk=risk,
                decision=str(answer["decision"]),
                threshold=float(answer["threshold"]),
                expected_loss=float(answer["expected_loss"]),
                risk_if_all_fixed=None if all_fixed is None else float(all_fixed),
                recoverable=None if all_fixed is None else (risk - float(all_fixed)) * charge,
                best_fix=best,
                best_fix_line=best_line,
                risk_if_best_fixed=best_risk,
                rules_json=orjson.dumps(rules).decode(),
                rule_ids=list(dict.fromkeys(str(r["id"]) for r in rules)),
                model_version=str(answer.get("model_version") or "unversioned"),
                rules_version=str(answer.get("rules_version") or ""),
                reference_data_version=str(answer.get("reference_data_version") or ""),
            )
        )
    return out


def score_frame(scorer: ClaimScorer, frame: ClaimFrame) -> list[ScoreRow]:
    """Score a frame and derive the stored rows (one model call for the whole frame)."""
    if frame.n_claims == 0:
        return []
    return score_rows(scorer.score(frame), total_charges(frame))
