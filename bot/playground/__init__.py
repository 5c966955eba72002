"""`unstuck playground`: the whole bot in a browser, no Slack workspace needed.

On 127.0.0.1 it starts the sandbox VTEX store, the Slack stand-in, the real app in HTTP mode (the
same code and `/slack/events` endpoint as `unstuck serve`) and a page that behaves like a Slack
channel. The page never talks to the app directly: it asks this server to act as Slack (signed
slash commands, events, clicks and view submissions through the shared SlackDriver) and reads what
the app posted back from the Slack stand-in.

The stuck-order radar is on by default: it posts into a second channel, # stuck-orders, while the sandbox
store's script (`bot.sandbox.sandbox_script`) moves two more orders so alerts appear there and resolve.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.doubles.slack import BOT_USER
from bot.doubles.stack import OPERATOR, VIEWER, LocalStack
from bot.sandbox import DEMOS, SANDBOX_ACCOUNT, sandbox_script

PAGE = Path(__file__).parent / "index.html"
CHANNEL = "C0SUPPORT"
SLACKBOT = "USLACKBOT"
USERS = {OPERATOR: "Olivia (operator)", VIEWER: "Victor (viewer)", BOT_USER: "unstuck", SLACKBOT: "Slackbot"}
JSON = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}
# Slack locales a visitor can give each person (Slack's own tags); the bot answers in English, Portuguese or Spanish.
LOCALES = {
    "en-US": "English (US)",
    "pt-BR": "Português (Brasil)",
    "es-ES": "Español (España)",
    "es-LA": "Español (Latinoamérica)",
}
RADAR_CHANNEL = "C0RADAR"
RADAR_NAME = "stuck-orders"
RADAR_INTERVAL = 5.0  # seconds, unless UNSTUCK_RADAR_INTERVAL says otherwise
# The sandbox script's pace in the playground: a new order enters Handling shipping 20 s after the start and
# becomes stuck a minute later; the order stuck from the start is invoiced half-way through that minute.
RADAR_ENTER_AFTER = timedelta(seconds=20)
RADAR_STUCK_AFTER = timedelta(seconds=60)


class Playground:
    def __init__(
        self,
        db_path: str,
        port: int = 8000,
        host: str = "127.0.0.1",
        reread_delay: float = 2.0,
        *,
        radar: bool = True,
        radar_interval: float | None = None,
        radar_enter_after: timedelta = RADAR_ENTER_AFTER,
        radar_stuck_after: timedelta = RADAR_STUCK_AFTER,
    ):
        # The radar's interval: the argument, else UNSTUCK_RADAR_INTERVAL (checked by the settings), else 5 s.
        interval = radar_interval if radar_interval is not None else os.environ.get("UNSTUCK_RADAR_INTERVAL") or None
        # The page shares its port with Slack's stand-in, where the app's Web API calls and response_urls land.
        self.stack = LocalStack(
            db_path,
            account=SANDBOX_ACCOUNT,
            reread_delay=reread_delay,
            host=host,
            operators=OPERATOR,
            slack_port=port,
            radar_ticks=False,  # started below, once the script's orders are in the store
            unstuck_radar_channel=RADAR_CHANNEL if radar else None,  # an UNSTUCK_RADAR_CHANNEL in the env is not ours
            unstuck_radar_interval=RADAR_INTERVAL if interval is None else interval,
        )
        self.slack = self.stack.slack
        self.driver = self.stack.driver
        self.slack.extra = self.handle
        self.url = self.slack.url
        self.radar_interval: float | None = None
        if self.stack.radar is not None:
            # The script makes its order stuck `radar_stuck_after` after it enters Handling shipping for a radar
            # whose threshold is `normal`: the one this radar uses (UNSTUCK_RADAR_AFTER's, else the status
            # knowledge's), the same "normally under …" the cards show.
            sandbox_script(
                self.stack.vtex,
                enter_after=radar_enter_after,
                stuck_after=radar_stuck_after,
                normal=self.stack.services.thresholds.get("handling"),
            )
            self.radar_interval = self.stack.radar.interval
            self.stack.radar.start()

    def close(self) -> None:
        self.stack.close()

    # -- HTTP ------------------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes] | None:
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query)
        if path.startswith(("/api/", "/response/")):
            return None
        if path == "/" and method == "GET":
            return 200, {"Content-Type": "text/html; charset=utf-8"}, PAGE.read_bytes()
        if path == "/play/state" and method == "GET":
            user = (query.get("user") or [OPERATOR])[0]
            since = int((query.get("since") or ["-1"])[0])
            if since == self.slack.version:
                self.slack.wait_version(since, timeout=20)
            return 200, JSON, json.dumps(self.state(user)).encode()
        if method == "POST" and path.startswith("/play/"):
            try:
                data = json.loads(body or b"{}")
                result = self.act(path[len("/play/") :], data)
            except (ValueError, KeyError, AssertionError) as exc:
                return 400, JSON, json.dumps({"error": str(exc)}).encode()
            return 200, JSON, json.dumps(result).encode()
        return 404, JSON, b'{"error": "not found"}'

    def act(self, what: str, data: dict[str, Any]) -> dict[str, Any]:
        user = VIEWER if data.get("user") == VIEWER else OPERATOR
        if what == "say":
            text = str(data.get("text") or "").strip()
            thread = str(data["thread_ts"]) if data.get("thread_ts") else None
            if thread:  # a reply in a thread
                assert self.slack.message(thread) is not None, "no such thread"
                if text.startswith("/"):  # Slack runs no slash command from a thread's composer
                    command = text.partition(" ")[0]
                    self.slack.post(CHANNEL, SLACKBOT, f"`{command}` is not supported in threads. Sorry!", thread, user)
                    return {"status": 200}
                if "@unstuck" in text:
                    _, reply = self.driver.mention(user, text.replace("@unstuck", "").strip(), thread_ts=thread)
                    return {"status": reply.status}
                self.slack.post(CHANNEL, user, text, thread)
                return {"status": 200}
            if text.startswith("/"):
                command, _, rest = text.partition(" ")
                self.slack.post(CHANNEL, user, text)
                reply = self.driver.slash(user, rest, command=command)
                return {"status": reply.status, "ack": reply.json() if reply.body.startswith("{") else reply.body}
            if "@unstuck" in text:
                _, reply = self.driver.mention(user, text.replace("@unstuck", "").strip())
                return {"status": reply.status}
            self.slack.post(CHANNEL, user, text)
            return {"status": 200}
        if what == "click":
            message = self.slack.message(str(data["ts"]))
            assert message is not None, "no such message"
            return {"status": self.driver.click(user, message, str(data["action_id"])).status}
        if what == "choose":  # an option of an overflow menu ("⋮") on a message
            message = self.slack.message(str(data["ts"]))
            assert message is not None, "no such message"
            return {"status": self.driver.choose(user, message, str(data["action_id"]), str(data["value"])).status}
        if what == "shortcut":
            message = self.slack.message(str(data["ts"]))
            assert message is not None, "no such message"
            return {"status": self.driver.message_shortcut(user, message).status}
        if what == "submit":
            values = {str(k): str(v) for k, v in (data.get("values") or {}).items()}
            reply = self.driver.submit(user, values)
            return {"status": reply.status, "answer": reply.json()}
        if what == "close":  # the view's close button ("Cancel", "Back"), or with "all" the × that closes the modal
            self.driver.close_modal(user, clear=bool(data.get("all")))
            return {"status": 200}
        if what == "dismiss":
            assert self.slack.dismiss(user, str(data["ts"])), "only an ephemeral message shown to you can be dismissed"
            return {"status": 200}
        if what == "home":
            return {"status": self.driver.home_opened(user).status}
        if what == "language":
            # As if the person changed their language in Slack's preferences: the next reply asks Slack again.
            locale = str(data.get("locale") or "")
            assert locale in LOCALES, f"unknown locale {locale!r}"
            self.slack.locales[user] = locale
            self.stack.services.languages.forget(user)
            self.slack.touch()
            return {"status": 200, "locale": locale}
        raise ValueError(f"unknown action {what}")

    def messages(self, channel: str, user: str) -> list[dict[str, Any]]:
        return [dict(m.as_dict(), name=USERS.get(m.user, m.user)) for m in self.slack.visible_to(channel, user)]

    def state(self, user: str) -> dict[str, Any]:
        radar = None
        if self.radar_interval is not None:
            radar = {
                "channel": RADAR_CHANNEL,
                "name": RADAR_NAME,
                "interval": self.radar_interval,
                "messages": self.messages(RADAR_CHANNEL, user),
            }
        return {
            "version": self.slack.version,
            "user": user,
            "users": [{"id": OPERATOR, "name": USERS[OPERATOR]}, {"id": VIEWER, "name": USERS[VIEWER]}],
            "locale": self.slack.locales.get(user, "en-US"),
            "locales": [{"id": k, "name": v} for k, v in LOCALES.items()],
            "names": USERS,
            "messages": self.messages(CHANNEL, user),
            "radar": radar,
            "modal": self.slack.top_view(user),
            "home": self.slack.homes.get(user),
            "demos": [{"order_id": d.order_id, "shows": d.shows} for d in DEMOS],
        }
