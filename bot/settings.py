"""Configuration from environment variables (and an optional `.env`).

Secrets are `SecretStr` so that a repr, a log line or a traceback of the settings never shows them.
Every check raises `ConfigError` with one line that names the variable and never echoes a secret.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

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
    unstuck_db: str = "./unstuck.db"
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

    @field_validator("vtex_base_url", "slack_api_url", "vtex_account", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

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
        elif not re.match(r"^https?://[^\s/]+", self.vtex_base_url):
            raise ConfigError("VTEX_BASE_URL must be an http(s) URL")
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
        if self.slack_api_url and not re.match(r"^https?://[^\s/]+", self.slack_api_url):
            raise ConfigError("SLACK_API_URL must be an http(s) URL")
        bad = sorted(op for op in self.operators if not OPERATOR_RE.match(op))
        if bad:
            raise ConfigError(f"UNSTUCK_OPERATORS has entries that are not Slack user or group ids: {bad[0]!r}")


def _header_safe(value: str) -> bool:
    return bool(value) and all(33 <= ord(ch) < 127 for ch in value)


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning pydantic's multi-line report into one line naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise ConfigError(f"{name} is invalid: {first['msg']}") from None
