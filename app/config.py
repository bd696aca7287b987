"""Settings from the environment (prefix ``MINSHENG_``)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.resources import data_dir

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-only-insecure-secret-change-me"


def async_database_url(url: str) -> str:
    """Map a plain database URL onto the async driver we use for it."""
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def ensure_sqlite_directory(url: str) -> None:
    """Create the folder of a SQLite file (./var/ by default) so the first run just works."""
    url = async_database_url(url)
    if url.startswith("sqlite") and "///" in url:
        path = url.split("///", 1)[1].split("?", 1)[0]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


class Settings(BaseSettings):
    """Everything configurable, read from ``MINSHENG_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="MINSHENG_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    # var/ of the checkout, or of the working directory for an installed package.
    database_url: str = Field(default_factory=lambda: f"sqlite:///{data_dir() / 'minsheng.db'}")
    secret_key: str | None = None
    # The ballot key (选票密钥, app/ballotbox/envelopes.py): it wraps each round's key, so the
    # database alone never opens a sealed ballot. Unset outside production: var/ballot-key.
    ballot_key: str | None = None
    # Secure cookies need HTTPS; turn on behind a TLS-terminating proxy.
    cookie_secure: bool = False
    token_ttl_seconds: int = 3600
    session_ttl_seconds: int = 12 * 3600
    # Rate-limit counters must be shared by every worker: use redis:// in production.
    rate_limit_url: str | None = None
    # The log-in throttle (app/auth/throttle.py, docs/security.md): how long failures count;
    # free failures of one account from one address, then waits of 2, 4, 8 … seconds up to the
    # cap; failures from one address before it must wait (a hall of 450 deputies behind one
    # NAT stays far below); failures of one account from all addresses before it is slowed to
    # one try per login_account_slow_seconds. Known addresses of an account skip the last two.
    login_window_seconds: int = Field(3600, ge=60)
    login_free_failures: int = Field(5, ge=0)
    login_max_delay_seconds: int = Field(900, ge=1)
    login_address_max_failures: int = Field(2000, ge=1)
    login_account_slow_after: int = Field(100, ge=1)
    login_account_slow_seconds: int = Field(10, ge=1)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # The front-end assets (htmx, Swagger UI) we serve ourselves: None takes the copy inside
    # the installed package, or the checkout's node_modules/ (app/resources.py); a folder given
    # here is laid out like node_modules (htmx.org/dist/htmx.min.js, swagger-ui-dist/...).
    assets_dir: Path | None = None
    default_locale: Literal["zh_Hans", "zh_Hant"] = "zh_Hans"
    # Uploaded photos (re-encoded, metadata-free) are stored here.
    media_dir: Path = Field(default_factory=lambda: data_dir() / "media")
    # "outbox" writes codes to the log and the staff-visible outbox; a real provider is a
    # "package.module:ClassName" whose instances have `async send(session, phone, text)`.
    sms_sender: str = "outbox"
    # In the outbox staff read the codes of their jurisdictions' residents, so any of them could
    # register a number or log in with one: production refuses it unless this says it is meant.
    sms_outbox_in_production: bool = False
    sms_code_ttl_seconds: int = Field(default=600, ge=60, le=3600)
    sqlite_busy_timeout_ms: int = 10_000
    # Database connections each worker keeps open. Requests beyond them wait for one (up to
    # db_pool_timeout_s) rather than opening and closing extra connections under load, which
    # cost PostgreSQL a new backend process each time.
    db_pool_size: int = Field(20, ge=1, le=500)
    db_pool_timeout_s: float = Field(30, gt=0)
    # How long a kept rendering of a page may serve at most (app/caching.py; the data's version
    # decides sooner); 0: nothing is kept.
    page_cache_seconds: float = Field(10.0, ge=0, le=300)
    # Where the data's version lives, shared by every worker (app/dataversion.py): redis://…
    # or file:///…; unset: the rate-limit Redis if there is one, else var/data-version.
    data_version_url: str | None = None
    # The audit chain's anchors (docs/audit.md): the Ed25519 private key (PEM) that signs them,
    # kept outside the database; the anchor log the signed heads are appended to; and, for a
    # web service that should not read the private key, the public key (base64) it publishes.
    audit_key_file: Path | None = None
    audit_anchor_file: Path = Field(default_factory=lambda: data_dir() / "audit-anchors.jsonl")
    audit_public_key: str | None = None
    # /metrics answers only a request bearing this token (docs/monitoring.md); unset: no /metrics.
    metrics_token: str | None = Field(None, min_length=16)
    # Log lines as JSON objects or as text; unset: JSON in production, text elsewhere.
    log_format: Literal["json", "text"] | None = None

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.env != "development":
            if not self.secret_key or self.secret_key == DEV_SECRET:
                raise ValueError(
                    "MINSHENG_SECRET_KEY must be set to a long random value outside development "
                    "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)."
                )
            if len(self.secret_key) < 32:
                raise ValueError("MINSHENG_SECRET_KEY must be at least 32 characters long.")
        if self.env == "production":
            if not self.ballot_key or len(self.ballot_key) < 32:
                raise ValueError(
                    "MINSHENG_BALLOT_KEY must be set to a long random value (at least 32 "
                    "characters) in production: it seals the ballots while a round is open "
                    "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`). "
                    "Keep it apart from the database and its backups.")
            if self.ballot_key == self.secret_key:
                raise ValueError("MINSHENG_BALLOT_KEY must differ from MINSHENG_SECRET_KEY.")
        if self.env == "production" and not self.rate_limit_url:
            raise ValueError(
                "MINSHENG_RATE_LIMIT_URL must name a store shared by all workers in production "
                "(e.g. redis://127.0.0.1:6379/0)."
            )
        if (self.env == "production" and self.sms_sender == "outbox"
                and not self.sms_outbox_in_production):
            raise ValueError(
                "MINSHENG_SMS_SENDER is 'outbox': no SMS is sent and staff read the codes, so any "
                "staff member could register a number or log in with it. In production set "
                "MINSHENG_SMS_SENDER to your SMS gateway (package.module:ClassName), or set "
                "MINSHENG_SMS_OUTBOX_IN_PRODUCTION=true to run with the outbox all the same."
            )
        return self

    @property
    def effective_secret(self) -> str:
        return self.secret_key or DEV_SECRET

    @property
    def effective_log_format(self) -> str:
        return self.log_format or ("json" if self.env == "production" else "text")

    @property
    def async_url(self) -> str:
        return async_database_url(self.database_url)

    @property
    def is_sqlite(self) -> bool:
        return self.async_url.startswith("sqlite")


# Variables an earlier version read, and what replaced them: set, they would be ignored silently.
RETIRED = {
    "MINSHENG_LOGIN_MAX_FAILURES_PER_ACCOUNT": "MINSHENG_LOGIN_FREE_FAILURES and "
                                               "MINSHENG_LOGIN_ACCOUNT_SLOW_AFTER",
    "MINSHENG_LOGIN_MAX_FAILURES_PER_ADDRESS": "MINSHENG_LOGIN_ADDRESS_MAX_FAILURES",
}


def retired_variables(environ: Mapping[str, str]) -> list[str]:
    """A warning for each retired MINSHENG_* variable still set (docs/security.md)."""
    return [f"{name} is no longer read (nothing locks an account now); see {instead} in "
            "docs/security.md" for name, instead in RETIRED.items() if name in environ]


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
