import copy
import threading
import time

import pytest

from bot.doubles.stack import GROUP_MEMBER, OPERATOR, VIEWER, LocalStack
from tests.handlers.helpers import buttons, card_text, cards, ephemeral_to, text_of, wait_card


def ask(stack, order_id):
    stack.driver.slash(VIEWER, order_id)
    return cards(stack)[0]


def test_a_viewer_click_is_refused_privately_logged_and_never_reaches_vtex(stack):
    card = ask(stack, "1500000000002-01")
    assert stack.driver.click(VIEWER, card, "resend_invoice").status == 200
    assert ephemeral_to(stack, VIEWER, "only operators may send invoices")
    time.sleep(0.2)
    assert stack.vtex.invoice_posts() == []
    assert buttons(stack.slack.message(card.ts).blocks) == ["resend_invoice"]
    row = stack.services.store.recent(1)[0]
    assert (row["outcome"], row["user_id"], row["action"]) == ("refused", VIEWER, "resend_invoice")


def test_without_operators_every_click_is_refused_with_setup_instructions(tmp_path):
    with LocalStack(tmp_path / "a.db", operators="") as stack:
        card = ask(stack, "1500000000002-01")
        stack.driver.click(OPERATOR, card, "resend_invoice")
        assert ephemeral_to(stack, OPERATOR, "UNSTUCK_OPERATORS")
        assert stack.vtex.invoice_posts() == []


def test_resend_posts_the_same_invoice_once_and_updates_the_card(stack):
    card = ask(stack, "1500000000002-01")
    stack.driver.click(OPERATOR, card, "resend_invoice")
    updated = wait_card(stack, card.ts, "resent to VTEX")
    posts = stack.vtex.invoice_posts()
    assert len(posts) == 1
    body = posts[0].json()
    original = stack.vtex.order("1500000000002-01")["packageAttachment"]["packages"][0]
    assert (body["invoiceNumber"], body["invoiceValue"], body["invoiceUrl"]) == (
        "NF20001",
        30480,
        original["invoiceUrl"],
    )
    assert body["items"] == [
        {"id": "2001", "price": 11995, "quantity": 2},
        {"id": "3001", "price": 4990, "quantity": 1},
    ]
    text = text_of(updated)
    assert f"<@{OPERATOR}>" in text and "Receipt" in text
    assert buttons(updated.blocks) == []  # success removes the buttons
    # the order is re-read shortly after and the card shows its new status
    assert "now *Invoiced*" in text_of(wait_card(stack, card.ts, "Re-read after the action"))
    outcomes = [r["outcome"] for r in stack.services.store.recent(5) if r["kind"] == "action"]
    assert outcomes[:2] == ["succeeded", "pending"]


def test_members_of_an_operator_user_group_may_act(stack):
    card = ask(stack, "1500000000002-01")
    stack.driver.click(GROUP_MEMBER, card, "resend_invoice")
    wait_card(stack, card.ts, "resent to VTEX")
    assert len(stack.vtex.invoice_posts()) == 1


def test_a_double_click_sends_once_and_says_so(stack):
    card = copy.deepcopy(ask(stack, "1500000000002-01"))  # both clicks come from the card as it was shown
    stack.driver.click(OPERATOR, card, "resend_invoice", action_ts="1700000000.000001")
    stack.driver.click(OPERATOR, card, "resend_invoice", action_ts="1700000000.000001")
    wait_card(stack, card.ts, "resent to VTEX")
    assert ephemeral_to(stack, OPERATOR, "Nothing else was sent")
    assert len(stack.vtex.invoice_posts()) == 1


def test_concurrent_clicks_by_two_operators_send_once(stack):
    stack.vtex.latency = 0.2  # both clicks arrive while the first is in flight
    card = ask(stack, "1500000000002-01")
    threads = [
        threading.Thread(target=stack.driver.click, args=(user, card, "resend_invoice"))
        for user in (OPERATOR, GROUP_MEMBER)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_card(stack, card.ts, "resent to VTEX")
    stack.slack.wait(lambda: any("Nothing else was sent" in text_of(m) for m in stack.slack.messages if m.ephemeral_to))
    assert len(stack.vtex.invoice_posts()) == 1


def test_stale_card_sends_nothing_and_says_what_changed(stack):
    card = ask(stack, "1500000000002-01")
    order = stack.vtex.order("1500000000002-01")
    order["status"] = "invoiced"
    stack.vtex.add(order)
    stack.driver.click(OPERATOR, card, "resend_invoice")
    updated = wait_card(stack, card.ts, "Nothing was sent")
    assert "already Invoiced" in text_of(updated)
    assert stack.vtex.invoice_posts() == []
    assert stack.services.store.recent(1)[0]["outcome"] == "refused"


def test_resend_of_an_invoice_that_disappeared_is_refused(stack):
    card = ask(stack, "1500000000002-01")
    order = stack.vtex.order("1500000000002-01")
    order["packageAttachment"]["packages"] = []
    stack.vtex.add(order)
    stack.driver.click(OPERATOR, card, "resend_invoice")
    updated = wait_card(stack, card.ts, "Nothing was sent")
    assert "no longer on the order" in text_of(updated)
    assert buttons(updated.blocks) == ["add_partial_invoice"]  # the fresh recommendation
    assert stack.vtex.invoice_posts() == []


@pytest.mark.parametrize(("status", "words"), [(403, "OMS › Notify invoice"), (400, "rejected")])
def test_vtex_refusing_the_invoice_keeps_the_buttons(stack, status, words):
    card = ask(stack, "1500000000002-01")
    stack.vtex.fail_next(status, {"error": {"code": "X", "message": "Invalid invoice"}}, method="POST")
    stack.driver.click(OPERATOR, card, "resend_invoice")
    updated = wait_card(stack, card.ts, "did not accept")
    assert words in text_of(updated)
    assert buttons(updated.blocks) == ["resend_invoice"]
    assert stack.services.store.recent(1)[0]["http_status"] == status


def test_lost_answer_is_settled_by_re_reading_the_order(stack):
    """VTEX stores the invoice but the answer is a 504: the bot reports success without resending."""
    card = ask(stack, "1500000000002-01")
    stack.vtex.fail_next(504, "gateway timeout", method="POST", after=True)
    stack.driver.click(OPERATOR, card, "resend_invoice")
    wait_card(stack, card.ts, "answer was lost")
    assert len(stack.vtex.invoice_posts()) == 1
    assert stack.services.store.recent(1)[0]["outcome"] == "succeeded"


def test_failed_post_that_did_not_land_is_reported_failed_and_retryable(stack):
    stack.driver.slash(VIEWER, "1500000000003-01")
    card = cards(stack)[0]
    stack.vtex.fail_next(503, "down", method="POST")
    from bot.acting import Intent
    from bot.audit import Who

    outcome = stack.services.actor.perform(
        Intent("add_partial_invoice", "1500000000003-01", "NF-900", 42490, "k1", expected_missing=42490), Who(OPERATOR)
    )
    assert outcome.state == "failed" and "safe to try again" in outcome.message
    again = stack.services.actor.perform(
        Intent("add_partial_invoice", "1500000000003-01", "NF-900", 42490, "k2", expected_missing=42490), Who(OPERATOR)
    )
    assert again.state == "succeeded"
    assert len(stack.vtex.invoice_posts()) == 2
    assert card.ts


def test_per_order_limit_refuses_with_a_clear_message(tmp_path):
    with LocalStack(tmp_path / "a.db", unstuck_order_action_limit=1) as stack:
        from bot.acting import Intent
        from bot.audit import Who

        stack.vtex.fail_next(400, {"error": {"message": "bad"}}, method="POST")
        first = stack.services.actor.perform(
            Intent("add_partial_invoice", "1500000000003-01", "A1", 100, "k1", expected_missing=42490), Who(OPERATOR)
        )
        assert first.state == "failed"
        second = stack.services.actor.perform(
            Intent("add_partial_invoice", "1500000000003-01", "A2", 100, "k2", expected_missing=42490), Who(OPERATOR)
        )
        assert second.state == "refused" and "limit 1" in second.message
        assert len(stack.vtex.invoice_posts()) == 1


def test_tampered_button_value_is_refused(stack):
    card = ask(stack, "1500000000002-01")
    card.blocks[-1]["elements"][0]["value"] = '{"o":"../../x","n":"NF20001","a":1}'
    stack.driver.click(OPERATOR, card, "resend_invoice")
    assert ephemeral_to(stack, OPERATOR, "malformed or out of date")
    assert stack.vtex.invoice_posts() == []


def test_every_button_has_a_confirm_dialog_naming_invoice_and_amount(stack):
    card = ask(stack, "1500000000002-01")
    button = card.blocks[-1]["elements"][0]
    assert "NF20001" in button["confirm"]["text"]["text"] and "R$ 304,80" in button["confirm"]["text"]["text"]
    stack.driver.slash(VIEWER, "1500000000001-01")
    partial = [m for m in cards(stack, 2) if "1500000000001-01" in m.text][0]
    confirm = partial.blocks[-1]["elements"][0]["confirm"]["text"]["text"]
    assert "R$ 129,90" in confirm and "NF10001-2" in confirm
    assert card_text(stack, card.ts)
