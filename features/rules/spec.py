"""What a rule *is*: its id, level, adjudication codes, words for the biller, parameters and decision.

A :class:`RuleSpec` is built by the :func:`rule` decorator right above the function that decides
the rule, so the flag's name, CARC/RARC, message, fix, evidence keys and tolerances are read in one
place. The spec is also the rule's semantic identity: :meth:`RuleSpec.semantics` (everything except
the Python function) is what ``rules_version()`` hashes, so renaming or reformatting a function
leaves the version alone while changing a code, a message or a tolerance changes it.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    from features.rules.facts import RuleFacts

Level = Literal["claim", "line"]
Severity = Literal["error", "warning"]

Fired = tuple[np.ndarray, np.ndarray | None, dict[str, Any]]
"""One block of fired rows: claim index per row, line number per row (None: claim level), and the
evidence as columns over those rows (a list, array or ``Lazy`` per key, or one shared scalar)."""

Decide = Callable[["RuleFacts"], list[Fired]]


@dataclass(frozen=True)
class RuleSpec:
    id: str
    level: Level
    severity: Severity
    carc: str | None
    rarc: tuple[str, ...]
    seed_reason: str
    message: str  # str.format template over the evidence keys
    fix: str
    claim_message: str | None = None  # the message when a line rule reports at claim level
    params: Mapping[str, Any] = field(default_factory=dict, compare=False)  # tolerances the decision uses
    decide: Decide | None = field(default=None, compare=False, repr=False)
    _fields: tuple[str, ...] = field(default=(), init=False, repr=False, compare=False)
    _texts: dict[tuple[object, ...], tuple[str, str]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        templates = (self.message, self.fix, self.claim_message or "")
        names = {name for t in templates for _, name, _, _ in string.Formatter().parse(t) if name}
        object.__setattr__(self, "_fields", tuple(sorted(names)))

    def __call__(self, facts: RuleFacts) -> list[Fired]:
        """The rows this rule fires on, given the frame's shared facts."""
        assert self.decide is not None, f"{self.id} has no decision function"
        return self.decide(facts)

    def semantics(self) -> dict[str, Any]:
        """The spec as JSON data without the function: what the rule means, not how it is written."""
        return {
            "id": self.id, "level": self.level, "severity": self.severity, "carc": self.carc,
            "rarc": list(self.rarc), "seed_reason": self.seed_reason, "message": self.message, "fix": self.fix,
            "claim_message": self.claim_message, "params": {k: _plain(v) for k, v in sorted(self.params.items())},
        }

    def message_for(self, evidence: dict[str, object], *, claim_level: bool) -> str:
        template = self.claim_message if claim_level and self.claim_message else self.message
        return template.format_map(_Readable(evidence))

    def texts(self, evidence: dict[str, object], *, claim_level: bool) -> tuple[str, str]:
        """(message, fix), memoised on the evidence values the templates use: a batch repeats them a lot."""
        key = (claim_level, *(_hashable(evidence.get(name)) for name in self._fields))
        found = self._texts.get(key)
        if found is None:
            if len(self._texts) > 50_000:
                self._texts.clear()
            found = self._texts[key] = (self.message_for(evidence, claim_level=claim_level), self.render_fix(evidence))
        return found

    def render(self, evidence: dict[str, object]) -> str:
        """The message with the evidence filled in; a missing key leaves its placeholder readable."""
        return self.message.format_map(_Readable(evidence))

    def render_fix(self, evidence: dict[str, object]) -> str:
        return self.fix.format_map(_Readable(evidence)) if "{" in self.fix else self.fix


def rule(
    id: str,
    level: Level,
    carc: str | None,
    rarc: tuple[str, ...],
    seed_reason: str,
    message: str,
    fix: str,
    *,
    severity: Severity = "error",
    claim_message: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> Callable[[Decide], RuleSpec]:
    """Decorator: the function below decides the rule described here; the name becomes its RuleSpec."""

    def register(decide: Decide) -> RuleSpec:
        return RuleSpec(id, level, severity, carc, rarc, seed_reason, message, fix, claim_message, params or {}, decide)

    return register


def _plain(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _hashable(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


class _Readable(dict[str, object]):
    """format_map helper: None reads as "none", lists as comma-joined, unknown keys stay visible."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"

    def __getitem__(self, key: str) -> object:
        value = super().__getitem__(key)
        if value is None:
            return "none"
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value) if value else "none"
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value
