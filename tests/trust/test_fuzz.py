"""Hostile and broken requests at /slack/events: 401 for bad signatures, a clear answer or a quiet 200 for
the rest; never a 500, never a traceback, never a crash, never a VTEX call."""

import json
import time
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.doubles.slack import sign

NO_DIGITS = st.text(alphabet=st.characters(blacklist_categories=("Nd", "Cs")), max_size=300)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | NO_DIGITS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(NO_DIGITS, children, max_size=4),
    max_leaves=20,
)
TYPES = [
    "block_actions",
    "view_submission",
    "message_action",
    "shortcut",
    "view_closed",
    "event_callback",
    "url_verification",
    "block_suggestion",
    "",
    None,
]


@pytest.fixture(scope="module")
def fuzz_stack(tmp_path_factory):
    from bot.doubles.stack import LocalStack

    with LocalStack(tmp_path_factory.mktemp("fuzz") / "a.db") as stack:
        yield stack


def post(stack, body: bytes, content_type: str, signed: bool = True, timestamp: int | None = None):
    text = body.decode("utf-8", "replace")
    headers = {"Content-Type": content_type}
    if signed:
        headers.update(sign(stack.settings.slack_signing_secret.get_secret_value(), text, timestamp))
    return httpx.post(f"{stack.url}/slack/events", content=body, headers=headers, timeout=10)


def healthy(stack, response):
    assert response.status_code in (200, 400, 401, 404, 413), response.text
    assert "Traceback" not in response.text and 'File "' not in response.text
    assert httpx.get(f"{stack.url}/healthz", timeout=5).status_code == 200


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(
    body=st.binary(max_size=2000),
    content_type=st.sampled_from(
        ["application/json", "application/x-www-form-urlencoded", "text/plain", "", "multipart/form-data"]
    ),
)
def test_random_bytes_signed_or_not(fuzz_stack, body, content_type):
    unsigned = post(fuzz_stack, body, content_type, signed=False)
    assert unsigned.status_code == 401
    healthy(fuzz_stack, post(fuzz_stack, body, content_type))


@SETTINGS
@given(
    payload=st.dictionaries(
        st.sampled_from(
            [
                "type",
                "user",
                "actions",
                "view",
                "team",
                "channel",
                "message",
                "container",
                "trigger_id",
                "response_url",
                "callback_id",
            ]
        ),
        JSONISH,
        max_size=8,
    ),
    kind=st.sampled_from(TYPES),
)
def test_malformed_interactivity_payloads(fuzz_stack, payload, kind):
    if kind is not None:
        payload["type"] = kind
    body = ("payload=" + quote(json.dumps(payload))).encode()
    healthy(fuzz_stack, post(fuzz_stack, body, "application/x-www-form-urlencoded"))
    assert fuzz_stack.vtex.invoice_posts() == []


@SETTINGS
@given(
    fields=st.dictionaries(
        st.sampled_from(["command", "text", "user_id", "channel_id", "team_id", "response_url", "trigger_id"]),
        NO_DIGITS,
        max_size=7,
    )
)
def test_malformed_slash_commands(fuzz_stack, fields):
    fields.setdefault("command", "/stuck")
    healthy(fuzz_stack, post(fuzz_stack, urlencode(fields).encode(), "application/x-www-form-urlencoded"))
    assert fuzz_stack.vtex.calls == []


@SETTINGS
@given(
    event=st.dictionaries(
        st.sampled_from(
            ["type", "user", "text", "channel", "ts", "tab", "channel_type", "subtype", "bot_id", "thread_ts"]
        ),
        JSONISH,
        max_size=8,
    ),
    kind=st.sampled_from(["app_mention", "message", "app_home_opened", "reaction_added", None]),
)
def test_malformed_events(fuzz_stack, event, kind):
    if kind:
        event["type"] = kind
    body = json.dumps({"type": "event_callback", "team_id": "T1", "event": event, "event_id": f"Ev{time.time_ns()}"})
    healthy(fuzz_stack, post(fuzz_stack, body.encode(), "application/json"))
    assert fuzz_stack.vtex.calls == []


@pytest.mark.parametrize("age", [301, 3600, -400])
def test_old_or_future_timestamps_are_refused(fuzz_stack, age):
    body = b"command=%2Fstuck&text=1500000000001-01"
    response = post(fuzz_stack, body, "application/x-www-form-urlencoded", timestamp=int(time.time()) - age)
    assert response.status_code == 401


def test_huge_and_unicode_text(fuzz_stack):
    for text in ["🧾" * 5000, "\u202e" + "x" * 100_000, "\x00\x01\x02", "order " + "é" * 3000]:
        response = post(
            fuzz_stack,
            urlencode(
                {
                    "command": "/stuck",
                    "text": text,
                    "user_id": "U1",
                    "channel_id": "C1",
                    "team_id": "T1",
                    "response_url": f"{fuzz_stack.slack.url}/response/x",
                }
            ).encode(),
            "application/x-www-form-urlencoded",
        )
        healthy(fuzz_stack, response)
    assert fuzz_stack.vtex.calls == []


def test_oversized_body_is_refused_without_reading_it(fuzz_stack):
    response = httpx.post(
        f"{fuzz_stack.url}/slack/events",
        content=b"x" * 2_000_000,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 413
