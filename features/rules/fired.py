"""Fired rules as parallel arrays: what the engine returns and every caller reads.

Rows are sorted by claim, then line (claim level first), then rule id; evidence stays in per-rule
column blocks (:mod:`features.rules.evidence`) until a result is rendered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from features.rules.catalog import RULE_IDS, RULES
from features.rules.evidence import EvidenceBlock
from features.rules.facts import LINE_KEY as _LINE_KEY

if TYPE_CHECKING:
    from features.rules.facts import RuleFacts
    from features.rules.spec import Fired

# Alphabetical rank of each rule code: results are sorted by line, then rule id.
_ALPHA_RANK = np.argsort(np.argsort(np.array(RULE_IDS, dtype=object)))


class FiredRules:
    """Fired rules as parallel arrays, sorted by claim, then line (claim level first), then rule id.

    Evidence is kept as per-rule column blocks and turned into dicts only when a result is asked
    for: training and batch scoring need the arrays, not a million small dicts. The engine hands
    over its rows rule by rule and the sort into claim order happens on first use of the row
    arrays: the featurizer only counts flags per claim, which needs no order, and a million-line
    batch has millions of fired rows whose sort and gathers would cost more than the rules.
    """

    def __init__(
        self,
        n_claims: int,
        claim_ids: np.ndarray,
        claim_index: np.ndarray,  # int64
        rule: np.ndarray,  # int64 code into RULE_IDS
        line_number: np.ndarray,  # int64, -1 at claim level
        evidence_block: np.ndarray,  # int64 index into blocks, per fired row
        evidence_row: np.ndarray,  # int64 row within that block
        blocks: list[EvidenceBlock] | None = None,
        facts: RuleFacts | None = None,
    ) -> None:
        self.n_claims = n_claims
        self.claim_ids = claim_ids
        self.blocks: list[EvidenceBlock] = blocks if blocks is not None else []
        self.facts = facts
        self._sorted: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = (
            claim_index, rule, line_number, evidence_block, evidence_row,
        )
        self._pending: Collector | None = None
        self._offsets: np.ndarray | None = None

    @classmethod
    def _from_collector(cls, n_claims: int, claim_ids: np.ndarray, collector: Collector, facts: RuleFacts) -> FiredRules:
        empty = np.empty(0, dtype=np.int64)
        fired = cls(n_claims, claim_ids, empty, empty, empty, empty, empty, collector.blocks, facts)
        if collector.claims:
            fired._sorted = None
            fired._pending = collector
        return fired

    def _rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if self._sorted is None:
            assert self._pending is not None
            self._sorted = self._pending.sorted_rows()
            self._pending = None
        return self._sorted

    @property
    def claim_index(self) -> np.ndarray:
        return self._rows()[0]

    @property
    def rule(self) -> np.ndarray:
        return self._rows()[1]

    @property
    def line_number(self) -> np.ndarray:
        return self._rows()[2]

    @property
    def evidence_block(self) -> np.ndarray:
        return self._rows()[3]

    @property
    def evidence_row(self) -> np.ndarray:
        return self._rows()[4]

    def __repr__(self) -> str:
        return f"FiredRules(n_claims={self.n_claims}, fired={len(self)})"

    def __len__(self) -> int:
        if self._pending is not None:
            return self._pending.n_rows
        return int(self._rows()[0].shape[0])

    @property
    def rule_ids(self) -> np.ndarray:
        return np.asarray(RULE_IDS, dtype=object)[self.rule]

    @property
    def offsets(self) -> np.ndarray:
        if self._offsets is None:
            counts = np.bincount(self.claim_index, minlength=self.n_claims)
            self._offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        return self._offsets

    def evidence(self, row: int) -> dict[str, Any]:
        return self.blocks[int(self.evidence_block[row])].row(int(self.evidence_row[row]))

    def _results(self, start: int, stop: int) -> list[dict[str, Any]]:
        out = []
        rules = self.rule[start:stop].tolist()
        lines = self.line_number[start:stop].tolist()
        blocks = self.evidence_block[start:stop].tolist()
        rows = self.evidence_row[start:stop].tolist()
        for code, line, b, r in zip(rules, lines, blocks, rows, strict=True):
            out.append(self._result(code, line, self.blocks[b].row(r)))
        return out

    def for_claim(self, i: int) -> list[dict[str, Any]]:
        """CONTRACT §3 objects for claim ``i`` (without ``risk_if_fixed``, which needs a model)."""
        return self._results(int(self.offsets[i]), int(self.offsets[i + 1]))

    def results(self) -> list[list[dict[str, Any]]]:
        offsets = self.offsets.tolist()
        flat = self._results(0, len(self))
        return [flat[offsets[i] : offsets[i + 1]] for i in range(self.n_claims)]

    def results_json(self, memo: dict[Any, bytes] | None = None) -> list[bytes]:
        """Per claim, ``orjson.dumps(self.for_claim(i))`` without building the dicts.

        A batch repeats the same (rule, line, evidence) many times, so each distinct one is
        serialised once and reused; ``memo`` may be shared across calls with the same catalog."""
        fragments, bounds = self.results_json_fragments(memo)
        offsets = bounds.tolist()
        return [b"[" + b",".join(fragments[offsets[i] : offsets[i + 1]]) + b"]" for i in range(self.n_claims)]

    def results_json_fragments(self, memo: dict[Any, bytes] | None = None) -> tuple[list[bytes], np.ndarray]:
        """(JSON of each fired row's result object in claim order, per-claim offsets into them):
        claim ``i``'s ``results_json`` is ``b"[" + b",".join(fragments[o[i]:o[i + 1]]) + b"]"``.
        For callers that assemble the output of many claims at once (``claimrisk check`` joins
        them in Arrow instead of building a bytes object per claim)."""
        import orjson

        memo = memo if memo is not None else {}
        rules = self.rule.tolist()
        lines = self.line_number.tolist()
        blocks = self.evidence_block.tolist()
        rows = self.evidence_row.tolist()
        block_objects = self.blocks
        fragments: list[bytes] = []
        append = fragments.append
        for code, line, b, r in zip(rules, lines, blocks, rows, strict=True):
            block = block_objects[b]
            key = (code, line, block.keys, block.row_key(r))
            found = memo.get(key)
            if found is None:
                if len(memo) >= _JSON_MEMO_MAX:
                    memo.clear()
                found = memo[key] = orjson.dumps(self._result(code, line, block.row(r)))
            append(found)
        return fragments, self.offsets

    @staticmethod
    def _result(code: int, line: int, evidence: dict[str, Any]) -> dict[str, Any]:
        spec = _SPECS_BY_CODE[code]
        message, fix = spec.texts(evidence, claim_level=line < 0)
        return {
            "id": spec.id,
            "line_number": None if line < 0 else line,
            "severity": spec.severity,
            "message": message,
            "evidence": evidence,
            "carc": spec.carc,
            "rarc": list(spec.rarc),
            "fix": fix,
        }

    def rule_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """(line_counts, claim_flags), both (n_claims, n_rules): lines each rule fired on, and
        whether it fired at claim level. Counted rule by rule, so the row order is never needed."""
        on_lines, at_claim = self.rule_counts_by_rule()
        return on_lines.T, at_claim.T

    def rule_counts_by_rule(self) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`rule_counts` as (n_rules, n_claims) C-order arrays (one contiguous row per rule)."""
        n_rules = len(RULE_IDS)
        on_lines = np.zeros((n_rules, self.n_claims), dtype=np.int64)
        at_claim = np.zeros((n_rules, self.n_claims), dtype=bool)
        if self._pending is not None and self.n_claims == 1:  # the API's one claim: plain counting
            for claims, code, line_level in zip(
                self._pending.claims, self._pending.rules, self._pending.line_level, strict=True
            ):
                if line_level:
                    on_lines[code, 0] += claims.shape[0]
                else:
                    at_claim[code, 0] = True
        elif self._pending is not None:
            parts = zip(self._pending.claims, self._pending.rules, self._pending.line_level, strict=True)
            for claims, code, line_level in parts:
                if line_level:
                    on_lines[code] += np.bincount(claims, minlength=self.n_claims)
                else:
                    at_claim[code, claims] = True
        else:
            ci, rule, line_number = self._rows()[:3]
            on_line = line_number >= 0
            flat = rule[on_line] * self.n_claims + ci[on_line]
            on_lines = np.bincount(flat, minlength=n_rules * self.n_claims).reshape(n_rules, self.n_claims)
            at_claim[rule[~on_line], ci[~on_line]] = True
        return on_lines, at_claim

    def flag_counts(self) -> np.ndarray:
        """(n_claims, n_rules) int64: how many times each rule fired on each claim (lines, or 1 at claim level)."""
        on_lines, at_claim = self.rule_counts()
        return on_lines + at_claim

    def line_counts(self) -> np.ndarray:
        """(n_claims, n_rules) int64: how many lines each rule fired on (claim-level rows not counted)."""
        return self.rule_counts()[0]


_SPECS_BY_CODE = [RULES[rule_id] for rule_id in RULE_IDS]
_JSON_MEMO_MAX = 200_000


class Collector:
    """Accumulates fired rows rule by rule; evidence stays in column blocks of the fired subset.

    Each ``add`` keeps its arrays as they are (one block per call, rows sorted by claim and line
    within it); the merge into one claim-ordered table is deferred to :meth:`sorted_rows`."""

    def __init__(self) -> None:
        self.claims: list[np.ndarray] = []
        self.rules: list[int] = []
        self.lines: list[np.ndarray | None] = []  # None: claim level (-1 on every row)
        self.line_level: list[bool] = []
        self.blocks: list[EvidenceBlock] = []
        self.n_rows = 0

    def add(self, code: int, fired: Fired) -> None:
        """One block of a rule's fired rows (``code`` into RULE_IDS); an empty block is skipped."""
        claim_index, line_number, evidence = fired
        n = int(claim_index.shape[0])
        if n == 0:
            return
        self.claims.append(claim_index)
        self.rules.append(code)
        self.lines.append(line_number)
        self.line_level.append(line_number is not None)
        self.blocks.append(EvidenceBlock(tuple(evidence), tuple(evidence.values())))
        self.n_rows += n

    def sorted_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        sizes = [c.shape[0] for c in self.claims]
        if len(sizes) == 1:
            n = sizes[0]
            claim_index = self.claims[0].astype(np.int64, copy=False)
            lines = self.lines[0]
            line_number = np.full(n, -1, dtype=np.int64) if lines is None else lines.astype(np.int64, copy=False)
            return (
                claim_index, np.full(n, self.rules[0], dtype=np.int64), line_number,
                np.zeros(n, dtype=np.int64), np.arange(n, dtype=np.int64),
            )
        counts = np.asarray(sizes, dtype=np.int64)
        codes = np.asarray(self.rules, dtype=np.int64)
        claim_index = np.concatenate(self.claims).astype(np.int64, copy=False)
        line_number = np.concatenate(
            [np.full(k, -1, dtype=np.int64) if ln is None else ln for ln, k in zip(self.lines, sizes, strict=True)]
        ).astype(np.int64, copy=False)
        block = np.repeat(np.arange(len(sizes), dtype=np.int64), counts)
        # keys are unique: (claim, line, rule) is reported once
        key = (claim_index * (_LINE_KEY + 1) + (line_number + 1)) * len(RULE_IDS) + np.repeat(_ALPHA_RANK[codes], counts)
        order = np.argsort(key)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        sorted_block = block[order]
        return (
            claim_index[order], codes[sorted_block], line_number[order], sorted_block, order - starts[sorted_block],
        )

    def finish(self, n_claims: int, claim_ids: np.ndarray, facts: RuleFacts) -> FiredRules:
        return FiredRules._from_collector(n_claims, claim_ids, self, facts)
