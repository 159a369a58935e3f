"""Payer policy as data: which rules apply to which payer, and with what limits.

Billers and analysts add a payer by dropping ``<payer_id>.yaml`` next to the shipped files (or in
``$CLAIMRISK_POLICY_DIR``); no code changes. A value is looked up payer id → payer type → default,
and a file may set only the keys it cares about: the rest come from the next file in that chain.
Files are validated when the set is loaded (start-up), so a typo fails loudly with the file and
key named instead of silently switching a rule off in production.

The engine needs one value per service line, so :meth:`PolicySet.resolve` turns the payer id and
payer type columns into an index into a small table of resolved policies (one per distinct
payer id/type pair), and :meth:`PolicySet.column` spreads any key over the rows with one take.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from claims.errors import InputError
from features.rules.terms import DEFAULT_NOC_CODES, INVOICE_REPORT_TYPES, VALID_NDC_UNITS

POLICY_DIR_ENV = "CLAIMRISK_POLICY_DIR"
PAYER_TYPES: tuple[str, ...] = ("medicare", "medicaid", "commercial", "other")
DEFAULT_FILE = "default"
_TYPE_FILES = frozenset(PAYER_TYPES) | {DEFAULT_FILE}


class PolicyError(InputError):
    """A policy file is unreadable or invalid; names the file and the key (the command cannot run)."""


class PolicyFile(BaseModel):
    """The keys a policy file may set. ``None`` means "not set here: fall back"."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: StrictStr | None = None  # a human label for the payer or payer type, not used by rules
    noc_codes: list[StrictStr] | None = None
    noc_units_one: StrictBool | None = None
    invoice_required: StrictBool | None = None
    invoice_min_charge: float | None = Field(default=None, ge=0)
    invoice_report_types: list[StrictStr] | None = None
    documentation_required: StrictBool | None = None
    prior_auth_required: StrictBool | None = None
    waste_modifier_required: StrictBool | None = None
    filing_limit_days: StrictInt | None = Field(default=None, ge=1, le=3650)
    banned_ndc_units: list[StrictStr] | None = None
    mue: StrictBool | None = None  # apply the CMS Medically Unlikely Edits (UNITS_EXCEED_MUE)


POLICY_KEYS: tuple[str, ...] = tuple(k for k in PolicyFile.model_fields if k != "name")
# Keys added after users may have written their own default.yaml: a default without them still
# loads and takes this value (the one the shipped default sets), so an upgrade does not break it.
DEFAULT_FALLBACKS: dict[str, Any] = {"mue": True}  # the CMS edit applies unless a policy turns it off


@dataclass(frozen=True)
class Policy:
    """One fully resolved policy: every key has a value."""

    noc_codes: tuple[str, ...] = DEFAULT_NOC_CODES
    noc_units_one: bool = False
    invoice_required: bool = True
    invoice_min_charge: float = 0.0
    invoice_report_types: tuple[str, ...] = INVOICE_REPORT_TYPES
    documentation_required: bool = False
    prior_auth_required: bool = False
    waste_modifier_required: bool = False
    filing_limit_days: int = 365
    banned_ndc_units: tuple[str, ...] = ()
    mue: bool = True

    @staticmethod
    def merged(base: Policy, override: PolicyFile) -> Policy:
        values: dict[str, Any] = {key: getattr(base, key) for key in POLICY_KEYS}
        for key in POLICY_KEYS:
            value = getattr(override, key)
            if value is None:
                continue
            if isinstance(value, list):
                value = tuple(v.strip().upper() for v in value)
            values[key] = value
        return Policy(**values)


def _read_policy_file(path: Path) -> PolicyFile:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PolicyError(f"policy file {path}: cannot be read as YAML ({type(exc).__name__})") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise PolicyError(f"policy file {path}: expected a mapping of keys to values, got {type(raw).__name__}")
    if "invoice_min_charge" in raw and isinstance(raw["invoice_min_charge"], int) and not isinstance(
        raw["invoice_min_charge"], bool
    ):
        raw["invoice_min_charge"] = float(raw["invoice_min_charge"])  # YAML "500" is an int; money is a float
    try:
        parsed = PolicyFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"key '{'.'.join(str(p) for p in err['loc']) or '?'}': {err['msg']}" for err in exc.errors()
        )
        raise PolicyError(f"policy file {path}: {problems}") from None
    bad_units = set(parsed.banned_ndc_units or ()) - VALID_NDC_UNITS
    if bad_units:
        raise PolicyError(
            f"policy file {path}: key 'banned_ndc_units': unknown NDC unit(s) {sorted(bad_units)}; "
            f"expected some of {sorted(VALID_NDC_UNITS)}"
        )
    for key in ("noc_codes", "invoice_report_types"):
        value = getattr(parsed, key)
        if value is not None and not value:
            raise PolicyError(f"policy file {path}: key '{key}': must not be empty")
    return parsed


def shipped_policy_dir() -> Path:
    return Path(__file__).resolve().parent / "policies"


@dataclass
class PolicySet:
    """All policy files, resolved lazily per (payer id, payer type) pair."""

    files: dict[str, PolicyFile]  # stem -> parsed file (payer type names, "default", payer ids)
    sources: dict[str, Path]
    digest: str  # sha256 over the effective files, part of rules_version()
    _resolved: dict[tuple[str | None, str | None], int] = field(default_factory=dict, repr=False)
    _table: list[Policy] = field(default_factory=list, repr=False)
    _columns: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _memberships: dict[tuple[str, tuple[str, ...]], np.ndarray] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, directory: Path | None = None) -> PolicySet:
        """Shipped files, then ``$CLAIMRISK_POLICY_DIR``, then ``directory``; later files replace earlier
        ones with the same name. Raises :class:`PolicyError` (file and key named) on any invalid file."""
        layers: list[Path] = [shipped_policy_dir()]
        env_dir = os.environ.get(POLICY_DIR_ENV)
        if env_dir:
            layers.append(Path(env_dir))
        if directory is not None:
            layers.append(Path(directory))
        paths: dict[str, Path] = {}
        for layer in layers:
            if not layer.is_dir():
                raise PolicyError(f"policy directory {layer} does not exist")
            for path in sorted([*layer.glob("*.yaml"), *layer.glob("*.yml")]):
                paths[path.stem] = path
        return cls.from_paths(paths)

    @classmethod
    def from_paths(cls, paths: dict[str, Path]) -> PolicySet:
        if DEFAULT_FILE not in paths:
            raise PolicyError(f"policy files: '{DEFAULT_FILE}.yaml' is required")
        files = {stem: _read_policy_file(path) for stem, path in paths.items()}
        default = files[DEFAULT_FILE]
        fallbacks = {key: value for key, value in DEFAULT_FALLBACKS.items() if getattr(default, key) is None}
        if fallbacks:  # filled in, so the digest is that of the same file with the key written out
            default = files[DEFAULT_FILE] = default.model_copy(update=fallbacks)
        unset = [key for key in POLICY_KEYS if getattr(default, key) is None]
        if unset:
            raise PolicyError(f"policy file {paths[DEFAULT_FILE]}: key '{unset[0]}': the default must set every key")
        hasher = hashlib.sha256()
        for stem in sorted(files):
            hasher.update(stem.encode())
            hasher.update(files[stem].model_dump_json(exclude_none=True).encode())
        return cls(files=files, sources=dict(paths), digest=hasher.hexdigest())

    @property
    def payer_ids(self) -> list[str]:
        return sorted(stem for stem in self.files if stem not in _TYPE_FILES)

    def policy_for(self, payer_id: str | None, payer_type: str | None) -> Policy:
        return self._table[self._index(payer_id, payer_type)]

    def _index(self, payer_id: str | None, payer_type: str | None) -> int:
        key = (payer_id, payer_type)
        found = self._resolved.get(key)
        if found is not None:
            return found
        policy = Policy.merged(Policy(), self.files[DEFAULT_FILE])
        if payer_type in PAYER_TYPES and payer_type in self.files:
            policy = Policy.merged(policy, self.files[payer_type])
        if payer_id is not None and payer_id not in _TYPE_FILES and payer_id in self.files:
            policy = Policy.merged(policy, self.files[payer_id])
        index = len(self._table)
        self._table.append(policy)
        self._resolved[key] = index
        self._columns.clear()
        self._memberships.clear()
        return index

    def resolve(self, payer_id: np.ndarray, payer_type: np.ndarray) -> np.ndarray:
        """Per row: index of its resolved policy (into :meth:`column` arrays). Works on distinct pairs only."""
        n = payer_id.shape[0]
        if n == 0:
            return np.empty(0, dtype=np.int64)
        if n <= 64:
            index = self._index
            return np.array(
                [index(i, t) for i, t in zip(payer_id.tolist(), payer_type.tolist(), strict=True)], dtype=np.int64
            )
        from features.rules._arrays import factorize_pairs

        codes, pairs = factorize_pairs(payer_id, payer_type)
        lookup = np.fromiter((self._index(i, t) for i, t in pairs), dtype=np.int64, count=len(pairs))
        return lookup[codes]

    def column(self, key: str) -> np.ndarray:
        """One value per resolved policy (index with the array from :meth:`resolve`)."""
        cached = self._columns.get(key)
        if cached is not None and cached.shape[0] == len(self._table):
            return cached
        values = [getattr(policy, key) for policy in self._table]
        if key in ("noc_codes", "invoice_report_types", "banned_ndc_units"):
            column = np.empty(len(values), dtype=object)
            column[:] = [frozenset(v) for v in values]
        else:  # typed by the Policy field, so callers never need an astype copy
            column = np.asarray(values, dtype=_COLUMN_DTYPES.get(key))
        column.flags.writeable = False  # shared by every later call
        self._columns[key] = column
        return column

    def membership(self, key: str, values: list[str]) -> np.ndarray:
        """(policies, values) bool: is each value in each resolved policy's set ``key`` (NOC codes,
        invoice report types, banned units)? Remembered per distinct value list, because one
        claim's few codes recur call after call and the table costs more to build than to find."""
        memo_key = (key, tuple(values))
        found = self._memberships.get(memo_key)
        if found is not None:
            return found
        sets = self.column(key).tolist()
        table = np.array([[v in s for v in values] for s in sets], dtype=bool).reshape(len(sets), len(values))
        table.flags.writeable = False  # shared by every later call with the same values
        if len(self._memberships) >= _MEMBERSHIP_MEMO_MAX:
            self._memberships.clear()
        self._memberships[memo_key] = table
        return table

    @property
    def policies(self) -> list[Policy]:
        return list(self._table)

    def all_noc_codes(self) -> frozenset[str]:
        """Every code any file lists as NOC (used for feature columns, which must not depend on rows)."""
        codes: set[str] = set(DEFAULT_NOC_CODES)
        for parsed in self.files.values():
            codes.update(c.strip().upper() for c in parsed.noc_codes or ())
        return frozenset(codes)


_MEMBERSHIP_MEMO_MAX = 10_000
_COLUMN_DTYPES: dict[str, Any] = {
    name: {bool: np.bool_, int: np.int64, float: np.float64}[hint]
    for name, hint in get_type_hints(Policy).items()
    if hint in (bool, int, float)
}


def validate_directory(directory: Path) -> list[str]:
    """Names of the valid policy files in ``directory`` (raises on the first invalid one); for CI of analysts' files."""
    names: list[str] = []
    for path in sorted(Path(directory).glob("*.y*ml")):
        _read_policy_file(path)
        names.append(path.name)
    return names
