"""Configuration from environment variables (and an optional `.env`).

Secrets are `SecretStr` so that a repr, a log line or a traceback of the settings never shows them.
Every check raises `ConfigError` with one line that names the variable and never echoes a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ACCOUNT_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
OPERATOR_RE = re.compile(r"^[UWS][A-Z0-9]{2,}$")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    vtex_account: str = ""
    vtex_environment: str = "vtexcommercestable"
    vtex_app_key: SecretStr | None = None
    vtex_app_token: SecretStr | None = None
    vtex_base_url: str | None = None
    # A SQLite file, or a postgresql:// URL (its password may be in it: kept out of the settings' repr).
    unstuck_db: str = Field(default="./unstuck.db", repr=False)
    unstuck_faq_dir: Path | None = None

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str | None = None
    unstuck_operators: str = ""
    unstuck_answer_visibility: Literal["in_channel", "ephemeral"] = "in_channel"

    # Caps on irreversible actions, counted over a sliding hour.
    unstuck_order_action_limit: int = Field(default=5, ge=1)
    unstuck_user_action_limit: int = Field(default=30, ge=1)
    # Questions (order ids looked up) per Slack user per minute.
    unstuck_user_question_limit: int = Field(default=20, ge=1)
    # A second resend of one invoice within this many seconds is a duplicate click, after it a choice.
    unstuck_resend_window: int = Field(default=600, ge=0)
    # An invoice whose POST went unanswered counts as not stored only once VTEX has shown this long
    # (seconds) that it does not have it; open actions are re-checked every interval (seconds).
    unstuck_settle_after: int = Field(default=300, ge=1)
    unstuck_settle_interval: float = Field(default=30.0, gt=0)
    # Keys the audit chain (HMAC); by default derived from the signing secret.
    unstuck_audit_key: SecretStr | None = None
    # The stuck-order radar: on when a channel is set (see bot/radar.py).
    unstuck_radar_channel: str | None = None
    unstuck_radar_interval: float = Field(default=60.0, ge=1.0)
    unstuck_radar_after: str = ""
    unstuck_radar_digest_at: str | None = None
    unstuck_radar_timezone: str = "UTC"
    unstuck_radar_share: float = Field(default=0.1, gt=0, le=1)
    # The language of what nobody in particular asked for (radar alerts, digests) and for people whose
    # Slack locale is unknown: en, pt-BR or es.
    unstuck_language: Literal["en", "pt-BR", "es"] = "en"

    @field_validator("unstuck_language", mode="before")
    @classmethod
    def _language_tag(cls, value: object) -> object:
        """`pt`, `pt_BR`, `PT-br` mean pt-BR; `es-419`, `es_MX` mean es; anything else is refused by the type."""
        if isinstance(value, str) and value.strip():
            from bot.i18n import supported  # here: Babel is not needed to read the settings

            return supported(value) or value
        return "en" if isinstance(value, str) else value

    @field_validator("unstuck_db")
    @classmethod
    def _path_or_postgres(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must be a file path or a postgresql:// URL")
        if "://" in value and not value.startswith(("postgresql://", "postgres://")):
            # Never echo the value: a URL may carry a password.
            raise ValueError("must be a file path or a postgresql:// URL (other databases are not supported)")
        return value

    @field_validator("unstuck_radar_channel", "unstuck_radar_digest_at", mode="before")
    @classmethod
    def _blank_radar_is_unset(cls, value: object) -> object:
        return (value.strip() or None) if isinstance(value, str) else value

    @field_validator("unstuck_radar_after")
    @classmethod
    def _thresholds_parse(cls, value: str) -> str:
        from bot.radar_rules import parse_after

        parse_after(value)  # raises ValueError with the bad part named
        return value

    @field_validator("unstuck_radar_digest_at")
    @classmethod
    def _digest_time(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError("must be a time like 09:00")
        return value

    @property
    def audit_key(self) -> bytes | None:
        """The audit chain's key: UNSTUCK_AUDIT_KEY, else one derived from the signing secret, else none."""
        if self.unstuck_audit_key and self.unstuck_audit_key.get_secret_value():
            return self.unstuck_audit_key.get_secret_value().encode()
        if self.slack_signing_secret and self.slack_signing_secret.get_secret_value():
            secret = self.slack_signing_secret.get_secret_value().encode()
            return hmac.new(secret, b"unstuck audit log key", hashlib.sha256).digest()
        return None

    @field_validator("vtex_base_url", "slack_api_url", "vtex_account", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @field_validator("vtex_base_url", "slack_api_url")
    @classmethod
    def _https_unless_loopback(cls, value: str | None) -> str | None:
        if value and (problem := url_problem(value)):
            raise ValueError(problem)
        return value

    @property
    def vtex_url(self) -> str:
        if self.vtex_base_url:
            return self.vtex_base_url.rstrip("/")
        return f"https://{self.vtex_account}.{self.vtex_environment}.com.br"

    @property
    def slack_api_base(self) -> str | None:
        # slack_sdk joins URLs with urljoin: without the trailing slash the last path segment is lost.
        if not self.slack_api_url:
            return None
        return self.slack_api_url if self.slack_api_url.endswith("/") else self.slack_api_url + "/"

    @property
    def operators(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.unstuck_operators.split(",") if part.strip())

    def check_vtex(self) -> None:
        """Fail fast on VTEX settings that would only break at the first question."""
        if not self.vtex_base_url:
            if not self.vtex_account:
                raise ConfigError("VTEX_ACCOUNT is not set (or set VTEX_BASE_URL)")
            if not ACCOUNT_RE.match(self.vtex_account):
                raise ConfigError("VTEX_ACCOUNT must be the account name: lowercase letters, digits and '-'")
            if not ACCOUNT_RE.match(self.vtex_environment):
                raise ConfigError("VTEX_ENVIRONMENT must be like 'vtexcommercestable'")
        elif problem := url_problem(self.vtex_base_url):
            raise ConfigError(f"VTEX_BASE_URL {problem}")
        for name, value in (("VTEX_APP_KEY", self.vtex_app_key), ("VTEX_APP_TOKEN", self.vtex_app_token)):
            if value is not None and not _header_safe(value.get_secret_value()):
                raise ConfigError(f"{name} contains characters that cannot go in an HTTP header")

    def check_slack(self, socket_mode: bool) -> None:
        token = self.slack_bot_token.get_secret_value() if self.slack_bot_token else ""
        if not token:
            raise ConfigError("SLACK_BOT_TOKEN is not set")
        if not token.startswith("xoxb-") or not _header_safe(token):
            raise ConfigError("SLACK_BOT_TOKEN must be a bot token starting with 'xoxb-'")
        if socket_mode:
            app_token = self.slack_app_token.get_secret_value() if self.slack_app_token else ""
            if not app_token.startswith("xapp-"):
                raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with 'xapp-'")
        else:
            secret = self.slack_signing_secret.get_secret_value() if self.slack_signing_secret else ""
            if not secret:
                raise ConfigError("SLACK_SIGNING_SECRET is not set")
            if not _header_safe(secret) or len(secret) < 8:
                raise ConfigError("SLACK_SIGNING_SECRET looks malformed (copy it from Basic Information)")
        if self.slack_api_url and (problem := url_problem(self.slack_api_url)):
            raise ConfigError(f"SLACK_API_URL {problem}")
        bad = sorted(op for op in self.operators if not OPERATOR_RE.match(op))
        if bad:
            raise ConfigError(f"UNSTUCK_OPERATORS has entries that are not Slack user or group ids: {bad[0]!r}")


def url_problem(url: str) -> str | None:
    """Why `url` may not carry our keys, or None: https:// anywhere, plain http:// only to this machine."""
    if any(ch.isspace() or ch == "\\" for ch in url):
        return "must be a URL without spaces or backslashes"
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return "must be an https:// URL"
    if parts.scheme not in ("http", "https") or not host:
        return "must be an https:// URL"
    if parts.scheme == "http" and not _loopback(host):
        return (
            f"must use https:// ({host} is not this machine; plain http:// is allowed only to "
            "127.0.0.1, localhost or [::1])"
        )
    return None


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def _header_safe(value: str) -> bool:
    return bool(value) and all(33 <= ord(ch) < 127 for ch in value)


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning pydantic's multi-line report into one line naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(
            f"{name} {message}" if first["type"] == "value_error" else f"{name} is invalid: {message}"
        ) from None
