"""DESCRIPTION_MISSING: the cases that decide it fire, and the ones next to them do not."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    ("description", "note", "expected"),
    [
        (None, None, "DESCRIPTION_MISSING"),
        ("  ", None, "DESCRIPTION_MISSING"),
        (None, "EXAMPLEMAB 100MG/10ML VIAL", None),
        ("EXAMPLEMAB", None, "DESCRIPTION_INCOMPLETE"),
        ("100 MG IV", None, "DESCRIPTION_INCOMPLETE"),
        ("UNCLASSIFIED DRUG 100MG", None, "DESCRIPTION_INCOMPLETE"),
        ("EXAMPLEMAB", "200 MG GIVEN", None),
        ("EXAMPLEMAB 0.9%", None, None),
        ("EXAMPLEMAB 500 UNITS", None, None),
        ("EXAMPLEMAB 5 MCG SUBQ", None, None),
        ("EXAMPLEMAB 2 G", None, None),
        ("EXAMPLEMAB 100", None, "DESCRIPTION_INCOMPLETE"),
    ],
)
def test_descriptions(kit: Any, rc: Any, description: str | None, note: str | None, expected: str | None) -> None:
    claim = rc.with_lines(kit, rc.admin_line(1), rc.drug_line(line_number=4, description=description, note=note))
    found = kit.fired(claim) & {("DESCRIPTION_MISSING", 4), ("DESCRIPTION_INCOMPLETE", 4)}
    assert found == ({(expected, 4)} if expected else set())
