"""`unstuck playground`: the whole bot in a browser, no Slack workspace needed.

On 127.0.0.1 it starts the sandbox VTEX store, the Slack stand-in, the real app in HTTP mode (the
same code and `/slack/events` endpoint as `unstuck serve`) and a page that behaves like a Slack
channel. The page never talks to the app directly: it asks this server to act as Slack (signed
slash commands, events, clicks and view submissions through the shared SlackDriver) and reads what
the app posted back from the Slack stand-in.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.doubles.slack import BOT_USER
from bot.doubles.stack import OPERATOR, VIEWER, LocalStack
from bot.sandbox import DEMOS, SANDBOX_ACCOUNT

PAGE = Path(__file__).parent / "index.html"
CHANNEL = "C0SUPPORT"
SLACKBOT = "USLACKBOT"
USERS = {OPERATOR: "Olivia (operator)", VIEWER: "Victor (viewer)", BOT_USER: "unstuck", SLACKBOT: "Slackbot"}
JSON = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}


class Playground:
    def __init__(self, db_path: str, port: int = 8000, host: str = "127.0.0.1", reread_delay: float = 2.0):
        # The page shares its port with Slack's stand-in, where the app's Web API calls and response_urls land.
        self.stack = LocalStack(
            db_path, account=SANDBOX_ACCOUNT, reread_delay=reread_delay, host=host, operators=OPERATOR, slack_port=port
        )
        self.slack = self.stack.slack
        self.driver = self.stack.driver
        self.slack.extra = self.handle
        self.url = self.slack.url

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
        raise ValueError(f"unknown action {what}")

    def state(self, user: str) -> dict[str, Any]:
        messages = [dict(m.as_dict(), name=USERS.get(m.user, m.user)) for m in self.slack.visible_to(CHANNEL, user)]
        return {
            "version": self.slack.version,
            "user": user,
            "users": [{"id": OPERATOR, "name": USERS[OPERATOR]}, {"id": VIEWER, "name": USERS[VIEWER]}],
            "names": USERS,
            "messages": messages,
            "modal": self.slack.top_view(user),
            "home": self.slack.homes.get(user),
            "demos": [{"order_id": d.order_id, "shows": d.shows} for d in DEMOS],
        }
