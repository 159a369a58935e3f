"""Settings of the web application, read from ``CLAIMRISK_*`` like the API's (CONTRACT §8).

Kept apart from ``serving.config.Settings`` so the application's knobs (the session secret, the
cookie's ``Secure`` flag, the idle timeout, the sign-in slow-down) live beside the code that reads
them. The secret is a ``SecretStr`` so it never appears in a repr or a log line.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLAIMRISK_", extra="ignore", frozen=True)

    # Shared by every worker process; unset, a secret generated once is kept in the store.
    session_secret: SecretStr | None = None
    # Set behind TLS: the browser then sends the session cookie over HTTPS only.
    cookie_secure: bool = False
    # A session unused this long signs the biller out (the cookie is re-signed on every page).
    session_idle_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 30
    # Failed sign-ins of one user inside the window before each further attempt must wait.
    sign_in_free_failures: Annotated[int, Field(ge=1, le=100)] = 5
    sign_in_window_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 15
    # Uploads (claims, remittances) are streamed to disk up to this size (CONTRACT §8).
    max_upload_bytes: Annotated[int, Field(ge=1024)] = 512 * 1024 * 1024
