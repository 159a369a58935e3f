"""The claim model, as data: what each field of a pydantic model accepts, read from its annotations.

The Arrow reader (``claims.arrow_lines``) checks whole columns against these specs instead of
validating claims one by one, so the specs are derived from ``claims.model`` itself: the checks
follow the model when it changes, and refuse to run (TypeError at import) if it grows a constraint
they do not know, rather than silently accepting what pydantic would reject.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

import annotated_types
import pyarrow as pa
from pydantic import AfterValidator, BaseModel, BeforeValidator, Strict
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from claims import model as claim_model
from claims.model import Claim

_TODAY = "today"  # default marker for submission_date's default_factory
_KNOWN_MODEL_VALIDATORS = {"_line_count_for_claim_type"}


@dataclass(frozen=True)
class FieldSpec:
    kind: str  # "str" | "enum" | "number" | "int" | "date" | "list" | "struct"
    required: bool = True  # absent (or null) is an error
    nullable: bool = False  # an explicit null is a valid value
    default: Any = None  # the value when absent and not required
    min_len: int | None = None
    max_len: int | None = None
    ge: float | None = None
    le: float | None = None
    pattern: str | None = None
    choices: tuple[str, ...] = ()
    item: FieldSpec | None = None
    fields: tuple[tuple[str, FieldSpec], ...] = ()
    unique_line_numbers: bool = False

    def child(self, name: str) -> FieldSpec:
        return dict(self.fields)[name]


def _unwrap(annotation: Any, metadata: list[Any]) -> tuple[Any, list[Any], bool]:
    """Strip Annotated/Optional layers, collecting constraints; returns (type, metadata, nullable)."""
    nullable = False
    meta = list(metadata)
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            base, *extra = typing.get_args(annotation)
            annotation = base
            meta.extend(extra)
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                raise TypeError(f"claims.jsonl cannot vectorize the union {annotation!r}")
            nullable = True
            annotation = args[0]
        else:
            break
    flat: list[Any] = []
    for item in meta:
        flat.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    return annotation, flat, nullable


def _spec_of(annotation: Any, metadata: list[Any], *, required: bool, default: Any) -> FieldSpec:
    base, meta, nullable = _unwrap(annotation, metadata)
    values: dict[str, Any] = {}
    strict = False
    validator: Any = None
    unique = False
    for item in meta:
        if isinstance(item, Strict):
            strict = bool(item.strict)
        elif isinstance(item, annotated_types.MinLen):
            values["min_len"] = item.min_length
        elif isinstance(item, annotated_types.MaxLen):
            values["max_len"] = item.max_length
        elif isinstance(item, annotated_types.Ge):
            values["ge"] = item.ge
        elif isinstance(item, annotated_types.Le):
            values["le"] = item.le
        elif isinstance(item, BeforeValidator) and item.func in (
            claim_model._iso_date,
            claim_model._finite_number,
        ):
            validator = item.func
        elif isinstance(item, AfterValidator) and item.func is claim_model._unique_line_numbers:
            unique = True
        elif type(item).__name__ == "_PydanticGeneralMetadata" and set(vars(item)) == {"pattern"}:
            values["pattern"] = item.pattern
        else:
            raise TypeError(f"claims.jsonl cannot vectorize the constraint {item!r}")
    common = {"required": required, "nullable": nullable, "default": default, "unique_line_numbers": unique}
    if typing.get_origin(base) is Literal:
        choices = typing.get_args(base)
        if not all(isinstance(c, str) for c in choices):
            raise TypeError(f"claims.jsonl supports string literals only, not {base!r}")
        return FieldSpec("enum", choices=tuple(choices), **common, **values)
    # Strict or lax makes no difference here: Arrow only yields a JSON string for a string column
    # and a JSON integer for an int64 one, and both modes accept those unchanged. What lax mode
    # would also accept ("3" for an int) fails the Arrow parse and is judged by pydantic.
    del strict
    if base is str:
        return FieldSpec("str", **common, **values)
    if base is int:
        return FieldSpec("int", **common, **values)
    if base is float and validator is claim_model._finite_number:
        return FieldSpec("number", **common, **values)
    if base is dt.date and validator is claim_model._iso_date:
        return FieldSpec("date", **common, **values)
    if typing.get_origin(base) is list:
        (item_type,) = typing.get_args(base)
        item = _spec_of(item_type, [], required=True, default=None)
        return FieldSpec("list", item=item, **common, **values)
    if isinstance(base, type) and issubclass(base, BaseModel) and not values and validator is None:
        return FieldSpec("struct", fields=_model_fields(base), **common)
    raise TypeError(f"claims.jsonl cannot vectorize the field type {base!r}")


def model_spec(model: type[BaseModel]) -> FieldSpec:
    """The vectorizable description of a pydantic model; raises TypeError for what it cannot mirror."""
    return FieldSpec("struct", fields=_model_fields(model))


def _model_fields(model: type[BaseModel]) -> tuple[tuple[str, FieldSpec], ...]:
    if model.model_config.get("extra") != "forbid":
        raise TypeError(f"{model.__name__} must forbid extra fields for the Arrow schema to match it")
    decorators = model.__pydantic_decorators__
    unknown = set(decorators.model_validators) - _KNOWN_MODEL_VALIDATORS
    if unknown or decorators.field_validators or decorators.validators or decorators.root_validators:
        raise TypeError(f"claims.jsonl does not know the validators of {model.__name__}: {sorted(unknown)}")
    out = []
    for name, info in model.model_fields.items():
        default: Any
        if info.alias not in (None, name):
            raise TypeError(f"claims.jsonl does not support aliases ({model.__name__}.{name})")
        if info.default_factory is claim_model._default_submission_date:
            required, default = False, _TODAY
        elif info.default_factory is not None:
            raise TypeError(f"claims.jsonl does not know the default factory of {model.__name__}.{name}")
        else:
            required = info.default is PydanticUndefined
            default = None if required else info.default
        out.append((name, _spec_of(info.annotation, list(info.metadata), required=required, default=default)))
    return tuple(out)


CLAIM_SPEC = model_spec(Claim)


def _arrow_type(spec: FieldSpec) -> pa.DataType:
    if spec.kind in ("str", "enum", "date"):
        return pa.string()
    if spec.kind == "number":
        return pa.float64()
    if spec.kind == "int":
        return pa.int64()
    if spec.kind == "list":
        assert spec.item is not None
        return pa.list_(_arrow_type(spec.item))
    return pa.struct([pa.field(name, _arrow_type(child)) for name, child in spec.fields])


def arrow_schema(spec: FieldSpec) -> pa.Schema:
    return pa.schema([pa.field(name, _arrow_type(child)) for name, child in spec.fields])


CLAIM_SCHEMA = arrow_schema(CLAIM_SPEC)


def null_sensitive_names(spec: FieldSpec) -> set[str]:
    """Fields where an explicit null is an error but absence is not (Arrow sees both as null)."""
    names: set[str] = set()
    for name, child in spec.fields:
        if not child.required and not child.nullable:
            names.add(name)
        if child.kind == "struct":
            names |= null_sensitive_names(child)
        if child.kind == "list" and child.item is not None and child.item.kind == "struct":
            names |= null_sensitive_names(child.item)
    return names


# Lines Arrow must not read, found by regexes with a literal first character (RE2 then skips to
# that byte: ~40 ms per 238 MB, where one alternation of everything costs half a second).
TWO_VALUES = r"\}\s*\{"  # "}" then "{": a line that may hold two JSON values (two rows to Arrow)
ESCAPED_KEY = r'\\[^"]*"\s*:'  # a key spelt with escapes could hide any name from the null check


def explicit_null_pattern(spec: FieldSpec) -> str:
    """An explicit null for a field where only absence is allowed (Arrow reads both as null)."""
    names = "|".join(sorted(null_sensitive_names(spec)))
    return r"(?:" + names + r')"\s*:\s*null'


def doubtful_line_pattern(spec: FieldSpec) -> str:
    """A line matching this goes straight to pydantic: an explicit null where only absence is
    allowed, a key spelt with escapes (it could hide any name), or "}" then "{" (two values on
    one line). The reader applies the three parts separately (see ``split_chunk``)."""
    return "|".join((explicit_null_pattern(spec), ESCAPED_KEY, TWO_VALUES))


