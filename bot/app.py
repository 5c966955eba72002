"""The composition root: settings in, the whole bot out, built in one place.

`build()` is what every entry point uses (`unstuck serve`, `unstuck audit reconcile`, the playground's
and the tests' local stack): it chooses the VTEX client (VTEX, or the sandbox store), opens the store,
loads the knowledge base, makes the services and the Bolt app with every listener registered. Nothing is
changed on an object after it is built.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot.kb import KnowledgeBase
from bot.operators import Operators
from bot.people import Languages
from bot.services import Services
from bot.settings import Settings
from bot.store import Store
from bot.vtex import VtexClient, vtex_client
from handlers import register_all

if TYPE_CHECKING:
    from bot.radar import Radar

log = logging.getLogger("unstuck")
SLACK_API = "https://slack.com/api/"


@dataclass(frozen=True)
class Bot:
    services: Services
    app: App

    def close(self) -> None:
        self.services.close()


def build(
    settings: Settings,
    *,
    sandbox: bool = False,
    vtex: VtexClient | None = None,
    store: Store | None = None,
    clock: Callable[[], datetime] | None = None,
    reread_delay: float = 3.0,
    web_client: WebClient | None = None,
) -> Bot:
    """The bot for these settings; `vtex`, `store` and `clock` replace the defaults (tests, reconcile)."""
    clock = clock or (lambda: datetime.now(UTC))
    if sandbox:
        from bot.sandbox import SANDBOX_ACCOUNT

        account = SANDBOX_ACCOUNT
    else:
        account = settings.vtex_account or "vtex"
    services = Services(
        settings=settings,
        vtex=vtex or vtex_client(settings, sandbox),
        kb=KnowledgeBase.load(settings.unstuck_faq_dir),
        store=store or open_store(settings, clock),
        operators=Operators(settings.operators),
        account=account,
        clock=clock,
        reread_delay=reread_delay,
        languages=Languages(settings.unstuck_language),
    )
    return Bot(services, create_app(settings, services, web_client=web_client))


def open_store(settings: Settings, clock: Callable[[], datetime] | None = None) -> Store:
    return Store(
        settings.unstuck_db,
        key=settings.audit_key,
        resend_window=timedelta(seconds=settings.unstuck_resend_window),
        clock=clock or (lambda: datetime.now(UTC)),
    )


def slack_client(settings: Settings, *, with_token: bool = True) -> WebClient:
    """Slack's Web API, with the bot token for work outside a listener (the radar, reconcile)."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token and with_token else None
    return WebClient(
        token=token,
        base_url=settings.slack_api_base or SLACK_API,
        timeout=10,
        retry_handlers=[ConnectionErrorRetryHandler(), RateLimitErrorRetryHandler(max_retry_count=2)],
    )


def create_app(settings: Settings, services: Services, *, web_client: WebClient | None = None) -> App:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    identity = services.identity

    # A fixed single-workspace identity: no auth.test round trip before the first ack.
    def authorize(enterprise_id: str | None, team_id: str | None, user_id: str | None) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_token=token,
            bot_user_id=identity.user_id,
            bot_id=identity.bot_id,
        )

    app = App(
        # Without a token: with a fixed `authorize`, Bolt gives each listener a client with the bot token.
        client=web_client or slack_client(settings, with_token=False),
        signing_secret=settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else "",
        authorize=authorize,
        listener_executor=services.executor,
        # Every listener only acks and hands slow work to the work pool, so it can run on the request's own
        # thread: no hop to the listener pool and no 10 ms polling for the ack.
        process_before_response=True,
        raise_error_for_unhandled_request=False,
    )

    @app.middleware
    def inject_services(context: Any, next: Callable[[], Any]) -> Any:  # noqa: A002
        context["unstuck"] = services
        return next()

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        # Malformed or unexpected payloads end here. Slack gets a 200 (a retry would fail the same way) and
        # the asker a sentence, never a stack trace; the log gets one line without the payload.
        kind = (body or {}).get("type") or ("slash_command" if (body or {}).get("command") else "unknown")
        log.warning("could not handle a %s request: %s", kind, type(error).__name__)
        if isinstance(body, dict) and body.get("command"):
            return BoltResponse(status=200, body="Something went wrong handling that command. Try again.")
        return BoltResponse(status=200, body="")

    register_all(app)
    return app


def learn_identity(bot: Bot, token: str) -> None:
    """Ask Slack who the bot is, off the request path, so the bot ignores its own messages; failures are logged."""
    try:
        info = bot.app.client.auth_test(token=token)
        bot.services.identity.user_id = info.get("user_id")
        bot.services.identity.bot_id = info.get("bot_id")
        log.info("connected to Slack as %s in %s", info.get("user"), info.get("team"))
    except Exception as exc:  # noqa: BLE001
        log.warning("could not verify the Slack bot token (auth.test: %s)", type(exc).__name__)


def build_radar(bot: Bot, settings: Settings, *, sandbox: bool = False) -> Radar | None:
    """The stuck-order radar, when UNSTUCK_RADAR_CHANNEL names a channel; its VTEX calls have their own share
    of the account's rate limit, so questions and actions stay as fast while it runs."""
    if not settings.unstuck_radar_channel:
        return None
    from bot.radar import VTEX_LIMIT_PER_MINUTE, Radar
    from bot.vtex import RateLimiter

    if sandbox:
        vtex = bot.services.vtex  # the same in-memory store the answers read
    else:
        limiter = RateLimiter(per_minute=VTEX_LIMIT_PER_MINUTE * settings.unstuck_radar_share)
        # One attempt per call: a 429 pauses the radar (Retry-After) instead of holding a thread in retries.
        vtex = VtexClient.from_settings(settings, limiter=limiter, max_attempts=1)
    return Radar(
        bot.services,
        slack_client(settings),
        vtex,
        channel=settings.unstuck_radar_channel,
        interval=settings.unstuck_radar_interval,
        digest_at=settings.unstuck_radar_digest_at,
        timezone=settings.unstuck_radar_timezone,
    )
