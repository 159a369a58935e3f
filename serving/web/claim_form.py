"""The claim page's edit form, turned into the worklist's edits (dotted field paths -> values).

Only fields a biller actually changed become edits, so a revision records exactly what was fixed
(``changed_fields``) and an untouched form changes nothing. The fields are the ones billers fix:
per line the NDC, its quantity and unit, the billed units, the description, modifiers and
diagnosis pointers; per claim the prior authorisation, the diagnosis codes and a new attachment.
Validation of the resulting claim is the worklist's (``content.apply_edits``): this module only
reads form text into typed values and names the field when a number does not parse.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from worklist.errors import InvalidInput

_SPLIT = re.compile(r"[\s,]+")
LINE_TEXT_FIELDS = {"ndc": ("drug", "ndc"), "unit": ("drug", "unit"), "description": ("description",)}
LINE_NUMBER_FIELDS = {"quantity": ("drug", "quantity"), "units": ("units",)}


def _words(text: str) -> list[str]:
    return [w for w in _SPLIT.split(text.strip()) if w]


def _number(text: str, label: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(f"{label} must be a number") from None


def _text(text: str) -> str | None:
    return text.strip() or None


def _current(line: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = line
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def _line_edits(index: int, line: Mapping[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    edits: dict[str, Any] = {}
    prefix = f"line-{index}-"
    label = f"line {line.get('line_number', index + 1)}"
    for name, path in LINE_TEXT_FIELDS.items():
        if prefix + name in form:
            value = _text(form[prefix + name])
            if name == "unit" and value:
                value = value.upper()
            if value != _current(line, path):
                edits[".".join(("lines", str(index), *path))] = value
    for name, path in LINE_NUMBER_FIELDS.items():
        if prefix + name in form:
            number = _number(form[prefix + name], f"{label} {name}")
            if number != _current(line, path):
                edits[".".join(("lines", str(index), *path))] = number
    if prefix + "modifiers" in form:
        modifiers = [m.upper() for m in _words(form[prefix + "modifiers"])]
        if modifiers != list(line.get("modifiers") or []):
            edits[f"lines.{index}.modifiers"] = modifiers
    if prefix + "pointers" in form:
        try:
            pointers = [int(p) for p in _words(form[prefix + "pointers"])]
        except ValueError:
            raise InvalidInput(f"{label} diagnosis pointers must be whole numbers") from None
        if pointers != list(line.get("diagnosis_pointers") or []):
            edits[f"lines.{index}.diagnosis_pointers"] = pointers
    return edits


def _new_attachment(content: Mapping[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    report_type = form.get("attach-report_type", "").strip().upper()
    if not report_type:
        return {}
    attachment: dict[str, Any] = {
        "report_type": report_type,
        "transmission": form.get("attach-transmission", "").strip().upper() or "FX",
    }
    if control := _text(form.get("attach-control_number", "")):
        attachment["control_number"] = control
    line_number = _number(form.get("attach-line_number", ""), "attachment line number")
    if line_number is not None:
        attachment["line_number"] = int(line_number)
    return {"attachments": [*(content.get("attachments") or []), attachment]}


def form_edits(content: Mapping[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    """The edits the submitted form makes to ``content`` (the claim's current revision)."""
    edits: dict[str, Any] = {}
    if "prior_authorization" in form:
        value = _text(form["prior_authorization"])
        if value != content.get("prior_authorization"):
            edits["prior_authorization"] = value
    if "diagnosis_codes" in form:
        codes = [c.upper().replace(".", "") for c in _words(form["diagnosis_codes"])]
        if codes != list(content.get("diagnosis_codes") or []):
            edits["diagnosis_codes"] = codes
    for index, line in enumerate(content.get("lines") or []):
        edits.update(_line_edits(index, line, form))
    edits.update(_new_attachment(content, form))
    return edits
