"""A local stand-in for Slack: its Web API, `response_url`s, and the signed requests Slack sends to an app.

`SlackDouble` answers Web API methods the way Slack does and keeps a tiny workspace (channel
messages, ephemeral messages, modal stacks, App Home tabs) so tests and the playground can look at
what a person would see. `SlackDriver` plays Slack's side towards the app: it builds slash commands,
events, button clicks, shortcuts and view submissions exactly as Slack does, signs them with the
signing secret, and applies the app's answers (modal pushes, updates, errors) to the workspace.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import httpx

from bot.doubles.http import LocalServer

TEAM = "T0UNSTUCK"
BOT_USER = "UBOT0001"
BOT_ID = "BBOT0001"
JSON = {"Content-Type": "application/json; charset=utf-8"}
RESPONSE_URL_USES = 5
TRIGGER_TTL = 3.0


@dataclass
class Call:
    method: str  # Web API method (chat.postMessage), or "response_url"
    body: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


@dataclass
class Msg:
    ts: str
    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    ephemeral_to: str | None = None
    edits: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "ts": self.ts,
            "channel": self.channel,
            "user": self.user,
            "text": self.text,
            "blocks": self.blocks,
            "thread_ts": self.thread_ts,
            "ephemeral_to": self.ephemeral_to,
            "edits": self.edits,
            "bot_id": BOT_ID if self.user == BOT_USER else None,
        }


class SlackDouble:
    def __init__(
        self,
        *,
        latency: float = 0.0,
        usergroups: dict[str, list[str]] | None = None,
        locales: dict[str, str | None] | None = None,
    ):
        self.latency = latency
        self.usergroups = usergroups or {}
        # Each person's Slack locale (users.info with include_locale); "en-US" unless set, none when None.
        self.locales: dict[str, str | None] = dict(locales or {})
        # Web API methods that answer with this error instead (a missing scope, Slack's rate limit...).
        self.failing: dict[str, str] = {}
        self.calls: list[Call] = []
        self.messages: list[Msg] = []
        self.views: dict[str, dict[str, Any]] = {}  # view id -> view
        self.stacks: dict[str, list[str]] = {}  # user -> open modal view ids, bottom first
        self.homes: dict[str, dict[str, Any]] = {}
        self.response_urls: dict[str, dict[str, Any]] = {}
        self.triggers: dict[str, tuple[float, str]] = {}
        self.url = ""
        self._seq = itertools.count(1)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self.version = 0
        self.server: LocalServer | None = None
        # Optional first look at each request (the playground serves its page here); None falls through.
        self.extra: Any = None

    # -- serving -------------------------------------------------------------------------------

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> LocalServer:
        self.server = LocalServer(self.handle, host, port).start()
        self.url = self.server.url
        return self.server

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def transport(self) -> httpx.MockTransport:
        def handler(request: httpx.Request) -> httpx.Response:
            status, headers, body = self.handle(
                request.method, request.url.raw_path.decode(), dict(request.headers), request.content
            )
            return httpx.Response(status, headers=headers, content=body)

        return httpx.MockTransport(handler)

    def close(self) -> None:
        if self.server:
            self.server.close()

    # -- workspace helpers -----------------------------------------------------------------------

    def next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._seq):06d}"

    def new_response_url(
        self,
        channel: str,
        user: str,
        message_ts: str | None = None,
        ephemeral: bool = False,
        thread_ts: str | None = None,
    ) -> str:
        key = uuid.uuid4().hex
        self.response_urls[key] = {
            "channel": channel,
            "user": user,
            "message_ts": message_ts,
            "uses": 0,
            "ephemeral": ephemeral,
            "thread_ts": thread_ts,  # an interaction in a thread is answered in that thread
        }
        return f"{self.url}/response/{key}"

    def new_trigger(self, user: str) -> str:
        trigger = f"{next(self._seq)}.{uuid.uuid4().hex[:12]}"
        self.triggers[trigger] = (time.monotonic(), user)
        return trigger

    def post(
        self, channel: str, user: str, text: str, thread_ts: str | None = None, ephemeral_to: str | None = None
    ) -> Msg:
        """A person writes in a channel (the driver then sends the matching event)."""
        with self._lock:
            msg = Msg(self.next_ts(), channel, user, text, thread_ts=thread_ts, ephemeral_to=ephemeral_to)
            self.messages.append(msg)
            self._bump()
            return msg

    def dismiss(self, user: str, ts: str) -> bool:
        """The person clicks "Dismiss" under an ephemeral message shown to them: Slack removes it for good."""
        with self._lock:
            found = self.message(ts)
            if found is None or found.ephemeral_to != user:
                return False
            self.messages.remove(found)
            self._bump()
            return True

    def message(self, ts: str) -> Msg | None:
        with self._lock:
            return next((m for m in self.messages if m.ts == ts), None)

    def visible_to(self, channel: str, user: str) -> list[Msg]:
        with self._lock:
            return [m for m in self.messages if m.channel == channel and m.ephemeral_to in (None, user)]

    def bot_messages(self, channel: str | None = None) -> list[Msg]:
        with self._lock:
            return [m for m in self.messages if m.user == BOT_USER and (channel is None or m.channel == channel)]

    def top_view(self, user: str) -> dict[str, Any] | None:
        with self._lock:
            stack = self.stacks.get(user) or []
            return copy.deepcopy(self.views[stack[-1]]) if stack else None

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait(self, predicate: Any, timeout: float = 10.0) -> Any:
        """Poll until predicate() is truthy (listeners reply on their own threads); raise on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                result = predicate()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("Slack double: condition not met in time")
                self._changed.wait(min(remaining, 0.05))

    def wait_version(self, since: int, timeout: float) -> int:
        with self._changed:
            self._changed.wait_for(lambda: self.version != since, timeout=timeout)
            return self.version

    def _bump(self) -> None:
        self.version += 1
        self._changed.notify_all()

    def touch(self) -> None:
        """Something the page shows changed outside the Web API (the playground's language menu)."""
        with self._changed:
            self._bump()

    # -- the protocol ----------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if self.extra is not None:
            answer: tuple[int, dict[str, str], bytes] | None = self.extra(method, target, headers, body)
            if answer is not None:
                return answer
        if self.latency:
            time.sleep(self.latency)
        path = urlsplit(target).path
        data = _parse_body(headers, body)
        if path.startswith("/response/"):
            return self._respond(path.rsplit("/", 1)[1], data, headers)
        if path.startswith("/api/"):
            api_method = path[len("/api/") :]
            with self._lock:
                self.calls.append(Call(api_method, data, headers))
                result = self._api(api_method, data, headers)
                self._bump()
            return 200, JSON, json.dumps(result).encode()
        return 404, {"Content-Type": "text/plain"}, b"not found"

    def _api(self, method: str, data: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        auth = headers.get("authorization", "")
        if method != "api.test" and not auth.startswith("Bearer xoxb-"):
            return {"ok": False, "error": "not_authed"}
        if method in self.failing:
            return {"ok": False, "error": self.failing[method]}
        handler = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_ephemeral,
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "usergroups.users.list": self._usergroup_users,
            "users.info": self._users_info,
        }.get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        return handler(data)

    def _auth_test(self, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://unstuck-test.slack.com/",
            "team": "Test",
            "user": "unstuck",
            "team_id": TEAM,
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
        }

    def _chat_post(self, data: dict[str, Any]) -> dict[str, Any]:
        if not data.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        text, blocks = data.get("text") or "", _blocks(data.get("blocks"))
        msg = Msg(self.next_ts(), data["channel"], BOT_USER, text, blocks, data.get("thread_ts"))
        self.messages.append(msg)
        return {"ok": True, "channel": msg.channel, "ts": msg.ts, "message": msg.as_dict()}

    def _chat_update(self, data: dict[str, Any]) -> dict[str, Any]:
        found = self.message(str(data.get("ts")))
        if found is None or found.channel != data.get("channel"):
            return {"ok": False, "error": "message_not_found"}
        found.text, found.blocks, found.edits = data.get("text") or "", _blocks(data.get("blocks")), found.edits + 1
        return {"ok": True, "channel": found.channel, "ts": found.ts, "text": found.text}

    def _chat_delete(self, data: dict[str, Any]) -> dict[str, Any]:
        found = self.message(str(data.get("ts")))
        if found is None or found.channel != data.get("channel"):
            return {"ok": False, "error": "message_not_found"}
        if found.user != BOT_USER:
            return {"ok": False, "error": "cant_delete_message"}
        self.messages.remove(found)
        return {"ok": True, "channel": found.channel, "ts": found.ts}

    def _chat_ephemeral(self, data: dict[str, Any]) -> dict[str, Any]:
        text, blocks = data.get("text") or "", _blocks(data.get("blocks"))
        msg = Msg(self.next_ts(), data["channel"], BOT_USER, text, blocks, data.get("thread_ts"), data.get("user"))
        self.messages.append(msg)
        return {"ok": True, "message_ts": msg.ts}

    def _views_open(self, data: dict[str, Any]) -> dict[str, Any]:
        """views.open and views.push: a fresh trigger id puts a view on top of the person's modal stack."""
        issued = self.triggers.pop(str(data.get("trigger_id")), None)
        if issued is None or time.monotonic() - issued[0] > TRIGGER_TTL:
            return {"ok": False, "error": "expired_trigger_id"}
        view = self._store_view(_view(data.get("view")), None)
        self.stacks.setdefault(issued[1], []).append(view["id"])
        return {"ok": True, "view": view}

    def _views_update(self, data: dict[str, Any]) -> dict[str, Any]:
        view_id = str(data.get("view_id"))
        if view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        if data.get("hash") and data["hash"] != self.views[view_id]["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        return {"ok": True, "view": self._store_view(_view(data.get("view")), view_id)}

    def _views_publish(self, data: dict[str, Any]) -> dict[str, Any]:
        view = self._store_view(_view(data.get("view")), None)
        self.homes[str(data.get("user_id"))] = view
        return {"ok": True, "view": view}

    def _usergroup_users(self, data: dict[str, Any]) -> dict[str, Any]:
        group = str(data.get("usergroup"))
        if group not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": self.usergroups[group]}

    def _users_info(self, data: dict[str, Any]) -> dict[str, Any]:
        user_id = str(data.get("user") or "")
        if not re.fullmatch(r"[UW][A-Z0-9]{2,}", user_id):
            return {"ok": False, "error": "user_not_found"}
        user: dict[str, Any] = {"id": user_id, "team_id": TEAM, "name": user_id.lower(), "is_bot": False}
        locale = self.locales.get(user_id, "en-US")
        if str(data.get("include_locale")).lower() in ("true", "1") and locale:
            user["locale"] = locale
        return {"ok": True, "user": user}

    def _store_view(self, view: dict[str, Any], view_id: str | None) -> dict[str, Any]:
        view = dict(view)
        view["id"] = view_id or f"V{next(self._seq):08d}"
        view["hash"] = uuid.uuid4().hex[:16]
        previous = self.views.get(view["id"], {})
        view["root_view_id"] = previous.get("root_view_id") or view["id"]
        view.setdefault("state", {"values": {}})
        self.views[view["id"]] = view
        return copy.deepcopy(view)

    def _respond(self, key: str, data: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.calls.append(Call("response_url", data, headers))
            hook = self.response_urls.get(key)
            if hook is None:
                return 404, {"Content-Type": "text/plain"}, b"no_such_url"
            if hook["uses"] >= RESPONSE_URL_USES:
                return 404, {"Content-Type": "text/plain"}, b"used_url"
            hook["uses"] += 1
            blocks = _blocks(data.get("blocks"))
            target = self.message(hook["message_ts"]) if hook.get("message_ts") else None
            delete, replace = _truthy(data.get("delete_original")), _truthy(data.get("replace_original"))
            if delete or (replace and hook.get("message_ts")):
                # The message the interaction came from; if it is gone (deleted, or an ephemeral message the
                # person dismissed) there is nothing left to change.
                if delete:
                    hook["deleted"] = True
                if target is not None and delete:
                    self.messages.remove(target)
                elif target is not None:
                    target.text, target.blocks, target.edits = data.get("text") or "", blocks, target.edits + 1
            else:
                ephemeral = data.get("response_type", "ephemeral") != "in_channel"
                self.messages.append(
                    Msg(
                        self.next_ts(),
                        hook["channel"],
                        BOT_USER,
                        data.get("text") or "",
                        blocks,
                        thread_ts=hook.get("thread_ts"),
                        ephemeral_to=hook["user"] if ephemeral else None,
                    )
                )
            self._bump()
        return 200, {"Content-Type": "text/html"}, b"ok"


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _parse_body(headers: dict[str, str], body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    text = body.decode("utf-8", "replace")
    if "json" in content_type:
        try:
            data = json.loads(text)
            return data if isinstance(data, dict) else {}
        except json.JSONDecodeError:
            return {}
    return dict(parse_qsl(text, keep_blank_values=True))


def _blocks(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return []
    return value if isinstance(value, list) else []


def _view(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return {}
    return value if isinstance(value, dict) else {}


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's request signature: v0=HMAC-SHA256(secret, 'v0:{ts}:{body}')."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


@dataclass
class Reply:
    status: int
    body: str
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.body) if self.body.strip() else None


class SlackDriver:
    """Slack's side towards the app: signed requests to `{app_url}/slack/events`, answers applied to the double."""

    def __init__(
        self,
        double: SlackDouble,
        app_url: str,
        signing_secret: str,
        *,
        channel: str = "C0SUPPORT",
        team: str = TEAM,
        client: httpx.Client | None = None,
    ):
        self.double = double
        self.events_url = app_url.rstrip("/") + "/slack/events"
        self.secret = signing_secret
        self.channel = channel
        self.team = team
        self.http = client or httpx.Client(timeout=30)

    # -- raw -------------------------------------------------------------------------------------

    def send(
        self,
        body: str,
        content_type: str,
        extra_headers: dict[str, str] | None = None,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> Reply:
        headers = {
            "Content-Type": content_type,
            **sign(secret or self.secret, body, timestamp),
            **(extra_headers or {}),
        }
        started = time.perf_counter()
        response = self.http.post(self.events_url, content=body.encode(), headers=headers)
        return Reply(response.status_code, response.text, time.perf_counter() - started)

    def send_form(self, fields: dict[str, str], **kwargs: Any) -> Reply:
        return self.send(urlencode(fields), "application/x-www-form-urlencoded", **kwargs)

    def send_payload(self, payload: dict[str, Any], **kwargs: Any) -> Reply:
        return self.send("payload=" + quote(json.dumps(payload)), "application/x-www-form-urlencoded", **kwargs)

    def send_event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None, **kwargs: Any
    ) -> Reply:
        body = {
            "token": "legacy",
            "team_id": self.team,
            "api_app_id": "A0UNSTUCK",
            "type": "event_callback",
            "event": event,
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": self.team, "user_id": BOT_USER, "is_bot": True}],
        }
        extra = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        return self.send(json.dumps(body), "application/json", extra_headers=extra, **kwargs)

    # -- what people do --------------------------------------------------------------------------

    def slash(self, user: str, text: str, command: str = "/stuck", channel: str | None = None) -> Reply:
        channel = channel or self.channel
        reply = self.send_form(
            {
                "token": "legacy",
                "team_id": self.team,
                "team_domain": "test",
                "channel_id": channel,
                "channel_name": "support",
                "user_id": user,
                "user_name": user.lower(),
                "command": command,
                "text": text,
                "api_app_id": "A0UNSTUCK",
                "is_enterprise_install": "false",
                "response_url": (url := self.double.new_response_url(channel, user)),
                "trigger_id": self.double.new_trigger(user),
            }
        )
        self._show_ack(reply, channel, user, url.rsplit("/", 1)[-1])
        return reply

    def _show_ack(self, reply: Reply, channel: str, user: str, hook_key: str | None = None) -> None:
        """Slack shows a command's immediate answer to the person who typed it (or to all, if in_channel);
        the command's response_url can then replace or delete that message."""
        hook = self.double.response_urls.get(hook_key or "")
        if hook and hook.get("deleted"):
            return  # the app already deleted it (its answer raced ahead of this stand-in's bookkeeping)
        if reply.status != 200 or not reply.body.strip():
            return
        try:
            answer = reply.json() if reply.body.lstrip().startswith("{") else {"text": reply.body}
        except ValueError:
            answer = {"text": reply.body}
        if not isinstance(answer, dict) or not (answer.get("text") or answer.get("blocks")):
            return
        with self.double._lock:
            ephemeral = answer.get("response_type", "ephemeral") != "in_channel"
            shown = Msg(
                self.double.next_ts(),
                channel,
                BOT_USER,
                answer.get("text") or "",
                _blocks(answer.get("blocks")),
                ephemeral_to=user if ephemeral else None,
            )
            self.double.messages.append(shown)
            if hook is not None and not hook.get("message_ts"):
                hook["message_ts"] = shown.ts
            self.double._bump()

    def mention(
        self, user: str, text: str, channel: str | None = None, *, thread_ts: str | None = None, **kwargs: Any
    ) -> tuple[Msg, Reply]:
        """`@unstuck text` in the channel, or as a reply in the thread of `thread_ts`."""
        channel = channel or self.channel
        msg = self.double.post(channel, user, f"<@{BOT_USER}> {text}", thread_ts=thread_ts)
        event = {
            "type": "app_mention",
            "user": user,
            "text": msg.text,
            "ts": msg.ts,
            "channel": channel,
            "event_ts": msg.ts,
            "team": self.team,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        return msg, self.send_event(event, **kwargs)

    def dm(self, user: str, text: str, **kwargs: Any) -> tuple[Msg, Reply]:
        channel = f"D{user[1:]}"
        msg = self.double.post(channel, user, text)
        event = {
            "type": "message",
            "channel_type": "im",
            "user": user,
            "text": text,
            "ts": msg.ts,
            "channel": channel,
            "event_ts": msg.ts,
            "team": self.team,
        }
        return msg, self.send_event(event, **kwargs)

    def home_opened(self, user: str) -> Reply:
        return self.send_event(
            {
                "type": "app_home_opened",
                "user": user,
                "channel": f"D{user[1:]}",
                "tab": "home",
                "event_ts": self.double.next_ts(),
            }
        )

    def message_shortcut(self, user: str, message: Msg, callback_id: str = "stuck_from_message") -> Reply:
        return self.send_payload(
            {
                "type": "message_action",
                "callback_id": callback_id,
                "team": {"id": self.team, "domain": "test"},
                "user": {"id": user, "team_id": self.team},
                "channel": {"id": message.channel, "name": "support"},
                "message": {"type": "message", "user": message.user, "ts": message.ts, "text": message.text},
                "message_ts": message.ts,
                "trigger_id": self.double.new_trigger(user),
                "response_url": self.double.new_response_url(message.channel, user, thread_ts=message.thread_ts),
                "action_ts": str(time.time()),
            }
        )

    def choose(self, user: str, message: Msg, action_id: str, value: str) -> Reply:
        """Pick an option of an overflow menu on a message, as Slack sends it."""
        menu, block_id = next(
            (e, b.get("block_id", ""))
            for b in message.blocks
            for e in b.get("elements") or []
            if e.get("type") == "overflow" and e.get("action_id") == action_id
        )
        option = next(o for o in menu["options"] if o["value"] == value)
        payload = self._block_action(user, message)
        payload["actions"] = [
            {
                "type": "overflow",
                "action_id": action_id,
                "block_id": block_id,
                "selected_option": option,
                "action_ts": f"{time.time():.6f}",
            }
        ]
        return self.send_payload(payload)

    def _block_action(self, user: str, message: Msg) -> dict[str, Any]:
        return {
            "type": "block_actions",
            "team": {"id": self.team, "domain": "test"},
            "user": {"id": user, "team_id": self.team},
            "api_app_id": "A0UNSTUCK",
            "container": {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
                "is_ephemeral": message.ephemeral_to is not None,
            },
            "trigger_id": self.double.new_trigger(user),
            "channel": {"id": message.channel, "name": "support"},
            "message": {"type": "message", "ts": message.ts, "text": message.text, "blocks": message.blocks},
            "response_url": self.double.new_response_url(
                message.channel, user, message.ts, message.ephemeral_to is not None, thread_ts=message.thread_ts
            ),
        }

    def click(self, user: str, message: Msg, action_id: str, *, action_ts: str | None = None) -> Reply:
        button, block_id = find_button(message.blocks, action_id)
        payload = self._block_action(user, message)
        payload["actions"] = [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": button["value"],
                "text": button["text"],
                "action_ts": action_ts or f"{time.time():.6f}",
            }
        ]
        return self.send_payload(payload)

    def submit(self, user: str, values: dict[str, str] | None = None) -> Reply:
        """Submit the user's top modal; `values` override what the fields hold (their initial values)."""
        view = self.double.top_view(user)
        if view is None:
            raise AssertionError(f"{user} has no open modal")
        state = form_state(view, values or {})
        reply = self.send_payload(
            {
                "type": "view_submission",
                "team": {"id": self.team, "domain": "test"},
                "user": {"id": user, "team_id": self.team},
                "api_app_id": "A0UNSTUCK",
                "trigger_id": self.double.new_trigger(user),
                "view": {**view, "state": {"values": state}},
            }
        )
        self._apply_view_response(user, view, reply)
        return reply

    def close_modal(self, user: str, *, clear: bool = False) -> None:
        """The person closes their modal as in Slack: the close button ("Cancel", "Close", "Back") takes the top
        view off the stack and shows the one below it, or closes the modal if it was the only one; the × in the
        corner (`clear`), or the close button of a view with `clear_on_close`, closes the whole stack."""
        d = self.double
        with d._lock:
            stack = d.stacks.get(user) or []
            if stack and (clear or d.views[stack[-1]].get("clear_on_close")):
                stack.clear()
            elif stack:
                stack.pop()
            d._bump()

    def _apply_view_response(self, user: str, view: dict[str, Any], reply: Reply) -> None:
        if reply.status != 200:
            return
        answer = reply.json() or {}
        d = self.double
        with d._lock:
            stack = d.stacks.setdefault(user, [])
            action = answer.get("response_action")
            if action == "errors":
                d.views[view["id"]]["errors"] = answer.get("errors") or {}
            elif action == "push":
                pushed = d._store_view(answer.get("view") or {}, None)
                stack.append(pushed["id"])
            elif action == "update":
                d._store_view(answer.get("view") or {}, view["id"])
            elif action == "clear":
                stack.clear()
            elif stack:
                stack.pop()
            d._bump()


def find_button(blocks: list[dict[str, Any]], action_id: str) -> tuple[dict[str, Any], str]:
    for block in blocks:
        for element in block.get("elements") or []:
            if element.get("type") == "button" and element.get("action_id") == action_id:
                return element, block.get("block_id", "")
    raise AssertionError(f"no button {action_id!r} in the message")


def buttons(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["action_id"] for b in blocks if b.get("type") == "actions" for e in b.get("elements") or []]


def form_state(view: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """view.state.values as Slack builds it: each input's current value, keyed by block and action id."""
    state: dict[str, Any] = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input":
            continue
        element = block["element"]
        kind, action_id = element["type"], element["action_id"]
        raw = values.get(block["block_id"])
        if kind == "datepicker":
            entry = {"type": kind, "selected_date": raw if raw is not None else element.get("initial_date")}
        elif kind == "timepicker":
            entry = {"type": kind, "selected_time": raw if raw is not None else element.get("initial_time")}
        elif kind == "checkboxes":
            # `values` names the option values to tick ("" for none); otherwise the initial ones stay ticked.
            chosen = [o for o in element.get("options") or [] if o["value"] in (raw or "").split(",")]
            entry = {
                "type": kind,
                "selected_options": chosen if raw is not None else element.get("initial_options") or [],
            }
        else:
            entry = {"type": kind, "value": raw if raw is not None else element.get("initial_value")}
        state[block["block_id"]] = {action_id: entry}
    return state


def text_of(message: Msg | dict[str, Any]) -> str:
    """Everything readable in a message or view: text, header, sections, fields, context."""
    blocks = message.blocks if isinstance(message, Msg) else message.get("blocks") or []
    parts = [message.text if isinstance(message, Msg) else ""]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn"):
                parts.append(str(node.get("text", "")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(parts)
