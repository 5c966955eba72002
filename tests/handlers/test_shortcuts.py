from bot.doubles.stack import VIEWER
from tests.handlers.helpers import cards, ephemeral_to, text_of


def test_message_shortcut_finds_ids_in_a_forwarded_complaint(stack):
    complaint = stack.slack.post(
        "C0SUPPORT",
        "UCUSTOMER",
        "Hi, I paid for order #1500000000003-01 last week and nothing happened. Also 1500000000006-01?",
    )
    reply = stack.driver.message_shortcut(VIEWER, complaint)
    assert reply.status == 200
    found = cards(stack, 2)
    texts = " ".join(text_of(m) for m in found)
    assert "1500000000003-01 · Handling shipping" in texts and "1500000000006-01 · Invoiced" in texts
    assert ephemeral_to(stack, VIEWER, "Looking up")


def test_message_without_an_id_says_so_privately(stack):
    msg = stack.slack.post("C0SUPPORT", "UCUSTOMER", "where is my stuff??")
    stack.driver.message_shortcut(VIEWER, msg)
    assert ephemeral_to(stack, VIEWER, "found no VTEX order id")
    assert stack.vtex.calls == []
