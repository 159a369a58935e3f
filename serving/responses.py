"""orjson responses: answers are plain dicts already shaped like the schemas, so they skip
FastAPI's response-model validation pass (the schemas still document them)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def json_response(content: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(content, option=_OPTIONS), status_code=status_code, media_type="application/json")
