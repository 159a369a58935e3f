"""Serving settings, read once from ``CLAIMRISK_*`` environment variables and validated at boot.

Limits live here (not in route code) so an operator can tighten them without a release, and so a
bad value stops the process at start-up instead of failing the first request.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from claims.parallel import usable_cores

DEFAULT_MODELS_DIR = Path("models")
MIN_KEY_LENGTH = 8
_PLACEHOLDER_KEYS = {"changeme", "change-me", "secret", "password", "apikey", "api-key"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLAIMRISK_", extra="ignore", frozen=True)

    # Several keys at once so a key can be rotated without downtime: comma-separated or a JSON list.
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    # Keys for /v1/admin/* (reloading the model), same format; none configured turns those routes off.
    # Kept apart from api_keys so that a key handed to a scoring client can never swap the model.
    admin_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    # The HMAC key models are signed with (training.signing); set, an unsigned or mis-signed model is
    # refused (readyz reason ``model_invalid``) and a reload keeps the model already served.
    model_signing_key: SecretStr | None = None
    model_source: Literal["export", "registry"] = "export"
    models_dir: Path = DEFAULT_MODELS_DIR
    registry_model_name: str = "claimrisk"
    registry_alias: str = "champion"
    # 5 MB holds a 1,000-claim batch of large claims several times over; anything bigger is abuse.
    max_body_bytes: Annotated[int, Field(ge=1024, le=512 * 1024 * 1024)] = 5 * 1024 * 1024
    max_batch: Annotated[int, Field(ge=1, le=100_000)] = 1000
    # Seconds between checks of the export's metadata file for a newly promoted model; 0 disables.
    reload_poll_seconds: Annotated[float, Field(ge=0, le=86_400)] = 5.0
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    access_log: bool = True
    # uvicorn worker processes, each with its own copy of the model: one Python process uses one core
    # at most, so one per usable core; 1 runs the app in the serving process itself.
    workers: Annotated[int, Field(ge=1, le=64)] = Field(default_factory=usable_cores)
    # FastAPI's native OpenTelemetry (traces, metrics, logs to the global providers); off by default
    # because checking for providers costs every request and Prometheus + JSON logs cover operations.
    otel: bool = False
    # The worklist store (``worklist.db`` reads it; default ``sqlite:///data/worklist.db``). Secret: a
    # PostgreSQL URL may carry a password.
    database_url: SecretStr | None = None
    # Imports and uploads (``POST /v1/queue/import``, ``/v1/queue/outcomes``, the web's uploads) are
    # streamed to disk up to this size, not the scoring limit above: a month of claims is big.
    max_upload_bytes: Annotated[int, Field(ge=1024)] = 512 * 1024 * 1024
    # Overrides the model's stored operating point for every request that does not pass ?threshold=.
    threshold: Annotated[float, Field(ge=0.0, le=1.0)] | None = None

    @field_validator("api_keys", "admin_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("api_keys", "admin_keys")
    @classmethod
    def _refuse_weak_keys(cls, keys: list[SecretStr]) -> list[SecretStr]:
        for key in keys:
            secret = key.get_secret_value()
            if len(secret) < MIN_KEY_LENGTH or secret.lower() in _PLACEHOLDER_KEYS:
                raise ValueError(
                    f"every API key must be at least {MIN_KEY_LENGTH} characters and not a placeholder"
                )
        return keys

    def api_key_digests(self) -> tuple[bytes, ...]:
        """Keys are compared as sha256 digests so the comparison time does not depend on key length."""
        return _digests(self.api_keys)

    def admin_key_digests(self) -> tuple[bytes, ...]:
        return _digests(self.admin_keys)

    def signing_key(self) -> bytes | None:
        """``CLAIMRISK_MODEL_SIGNING_KEY`` as the bytes the model loaders verify with, or None."""
        if self.model_signing_key is None or not self.model_signing_key.get_secret_value():
            return None
        return self.model_signing_key.get_secret_value().encode("utf-8")

    @property
    def export_metadata_path(self) -> Path:
        return self.models_dir / "claimrisk.json"

    @property
    def export_model_path(self) -> Path:
        return self.models_dir / "claimrisk.joblib"


def _digests(keys: list[SecretStr]) -> tuple[bytes, ...]:
    return tuple(hashlib.sha256(k.get_secret_value().encode()).digest() for k in keys)
