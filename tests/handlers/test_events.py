from bot.doubles.slack import BOT_USER
from bot.doubles.stack import VIEWER
from tests.handlers.helpers import buttons, text_of


def bot_replies(stack, channel):
    return [m for m in stack.slack.bot_messages(channel) if m.blocks]


def test_mention_is_answered_in_the_thread_replacing_the_placeholder(stack):
    question, reply = stack.driver.mention(VIEWER, "why is order 1500000000002-01 stuck?")
    assert reply.status == 200
    card = stack.slack.wait(lambda: next(iter(bot_replies(stack, "C0SUPPORT")), None))
    assert card.thread_ts == question.ts
    assert card.edits == 1  # the "Looking up…" placeholder became the answer
    assert "Order 1500000000002-01 · Handling shipping" in text_of(card)
    assert buttons(card.blocks) == ["resend_invoice"]


def test_mention_inside_a_thread_answers_in_that_thread(stack):
    root = stack.slack.post("C0SUPPORT", VIEWER, "customer complaint")
    msg = stack.slack.post("C0SUPPORT", VIEWER, f"<@{BOT_USER}> 1500000000006-01", thread_ts=root.ts)
    stack.driver.send_event(
        {
            "type": "app_mention",
            "user": VIEWER,
            "text": msg.text,
            "ts": msg.ts,
            "thread_ts": root.ts,
            "channel": "C0SUPPORT",
        }
    )
    card = stack.slack.wait(lambda: next(iter(bot_replies(stack, "C0SUPPORT")), None))
    assert card.thread_ts == root.ts


def test_direct_message_is_answered_in_the_dm(stack):
    _, reply = stack.driver.dm(VIEWER, "1500000000007-01")
    card = stack.slack.wait(lambda: next(iter(bot_replies(stack, "DVIEW0001")), None))
    assert "Canceled" in text_of(card)


def test_mention_without_an_id_gets_usage_in_the_thread(stack):
    question, _ = stack.driver.mention(VIEWER, "hello there")
    usage = stack.slack.wait(lambda: next((m for m in stack.slack.bot_messages() if "Ask me why" in text_of(m)), None))
    assert usage.thread_ts == question.ts
    assert stack.vtex.calls == []


def test_slack_retries_of_one_event_are_answered_once(stack):
    msg = stack.slack.post("C0SUPPORT", VIEWER, f"<@{BOT_USER}> 1500000000001-01")
    event = {"type": "app_mention", "user": VIEWER, "text": msg.text, "ts": msg.ts, "channel": "C0SUPPORT"}
    for retry in (None, 1, 2):
        assert stack.driver.send_event(event, event_id="Ev0RETRY1", retry=retry).status == 200
    stack.slack.wait(lambda: bot_replies(stack, "C0SUPPORT"))
    import time

    time.sleep(0.3)
    assert len(bot_replies(stack, "C0SUPPORT")) == 1
    assert len([c for c in stack.vtex.calls if c.method == "GET"]) == 1


def test_a_retry_after_a_failed_first_attempt_is_still_answered(stack):
    stack.services.store.deliveries.claim("Ev0FAILED1")
    stack.services.store.deliveries.finish("Ev0FAILED1", ok=False)  # the first delivery died midway
    msg = stack.slack.post("C0SUPPORT", VIEWER, f"<@{BOT_USER}> 1500000000001-01")
    stack.driver.send_event(
        {"type": "app_mention", "user": VIEWER, "text": msg.text, "ts": msg.ts, "channel": "C0SUPPORT"},
        event_id="Ev0FAILED1",
        retry=1,
    )
    stack.slack.wait(lambda: bot_replies(stack, "C0SUPPORT"))


def test_bot_messages_and_edits_in_dms_are_ignored(stack):
    stack.driver.send_event(
        {
            "type": "message",
            "channel_type": "im",
            "bot_id": "BOTHER",
            "text": "1500000000001-01",
            "channel": "DVIEW0001",
            "ts": "1.1",
        }
    )
    stack.driver.send_event(
        {
            "type": "message",
            "channel_type": "im",
            "subtype": "message_changed",
            "channel": "DVIEW0001",
            "ts": "1.2",
            "message": {"text": "1500000000001-01"},
        }
    )
    import time

    time.sleep(0.3)
    assert stack.slack.bot_messages() == [] and stack.vtex.calls == []
