"""Socket Mode delivers the same payloads without HTTP; retries must still be answered once."""

import time

from slack_bolt.request import BoltRequest

from bot.doubles.slack import BOT_USER
from bot.doubles.stack import VIEWER


def envelope_body(msg, event_id):
    return {
        "type": "event_callback",
        "team_id": "T0UNSTUCK",
        "event_id": event_id,
        "event": {"type": "app_mention", "user": VIEWER, "text": msg.text, "ts": msg.ts, "channel": "C0SUPPORT"},
    }


def test_socket_mode_retries_of_one_event_are_answered_once(stack):
    msg = stack.slack.post("C0SUPPORT", VIEWER, f"<@{BOT_USER}> 1500000000006-01")
    for retry in (None, "1", "2"):
        headers = {"x-slack-retry-num": [retry], "x-slack-retry-reason": ["timeout"]} if retry else {}
        response = stack.app.dispatch(
            BoltRequest(mode="socket_mode", body=envelope_body(msg, "EvSOCKET1"), headers=headers)
        )
        assert response.status == 200
    stack.slack.wait(lambda: [m for m in stack.slack.bot_messages() if m.blocks])
    time.sleep(0.3)
    assert len([m for m in stack.slack.bot_messages() if m.blocks]) == 1
    assert len(stack.vtex.calls) == 1


def test_socket_mode_slash_command_is_handled_like_http(stack):
    body = {
        "command": "/stuck",
        "text": "1500000000006-01",
        "user_id": VIEWER,
        "channel_id": "C0SUPPORT",
        "team_id": "T0UNSTUCK",
        "response_url": stack.slack.new_response_url("C0SUPPORT", VIEWER),
    }
    response = stack.app.dispatch(BoltRequest(mode="socket_mode", body=body))
    assert response.status == 200 and "Looking up" in str(response.body)
    stack.slack.wait(lambda: [m for m in stack.slack.bot_messages() if m.blocks])
