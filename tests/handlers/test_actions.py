import copy
import threading
import time

import pytest

from bot.doubles.stack import GROUP_MEMBER, OPERATOR, VIEWER, LocalStack
from tests.handlers.helpers import buttons, card_text, cards, ephemeral_to, first_button, text_of, wait_card


def ask(stack, order_id):
    stack.driver.slash(VIEWER, order_id)
    return cards(stack)[0]


def test_a_viewer_click_is_refused_privately_logged_and_never_reaches_vtex(stack):
    card = ask(stack, "1500000000002-01")
    assert stack.driver.click(VIEWER, card, "resend_invoice").status == 200
    assert ephemeral_to(stack, VIEWER, "only the team's operators may send invoices")
    time.sleep(0.2)
    assert stack.vtex.invoice_posts() == []
    assert buttons(stack.slack.message(card.ts).blocks) == ["resend_invoice"]
    row = stack.services.store.log.recent(1)[0]
    assert (row["outcome"], row["user_id"], row["action"]) == ("refused", VIEWER, "resend_invoice")


def test_without_operators_every_click_is_refused_with_setup_instructions(tmp_path):
    with LocalStack(tmp_path / "a.db", operators="") as stack:
        card = ask(stack, "1500000000002-01")
        stack.driver.click(OPERATOR, card, "resend_invoice")
        assert ephemeral_to(stack, OPERATOR, "has not named the team's operators")
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
        "30480",
        original["invoiceUrl"],
    )
    assert body["items"] == [
        {"id": "2001", "price": 11995, "quantity": 2},
        {"id": "3001", "price": 4990, "quantity": 1},
    ]
    text = text_of(updated)
    assert f"<@{OPERATOR}>" in text and "receipt" not in text.lower()  # hashes stay in the audit log
    assert buttons(updated.blocks) == []  # success removes the buttons
    # the order is re-read shortly after and the card shows its new status
    assert "now *Invoiced*" in text_of(wait_card(stack, card.ts, "Re-read after the action"))
    outcomes = [r["outcome"] for r in stack.services.store.log.recent(5) if r["kind"] == "action"]
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
    assert stack.services.store.log.recent(1)[0]["outcome"] == "refused"


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
    assert stack.services.store.log.recent(1)[0]["http_status"] == status


def test_lost_answer_is_settled_by_re_reading_the_order(stack):
    """VTEX stores the invoice but the answer is a 504: the bot reports success without resending."""
    card = ask(stack, "1500000000002-01")
    stack.vtex.fail_next(504, "gateway timeout", method="POST", after=True)
    stack.driver.click(OPERATOR, card, "resend_invoice")
    wait_card(stack, card.ts, "answer was lost")
    assert len(stack.vtex.invoice_posts()) == 1
    assert stack.services.store.log.recent(1)[0]["outcome"] == "succeeded"


def partial_intent(stack, order_id, number, key, value=None):
    """What the form would hand the action: every open item and the charges still owed."""
    from datetime import UTC, datetime, timedelta

    from bot.acting import Intent
    from bot.invoices import whole_draft

    order = stack.services.vtex.get_order(order_id)
    draft = whole_draft(order, number=number, issuance_date=datetime.now(UTC) - timedelta(hours=1))
    if value is not None:
        draft = draft.__class__(**{**draft.__dict__, "value": value})
    posted = value if value is not None else order.missing
    return Intent("add_partial_invoice", order_id, number, posted, key, expected_missing=order.missing, draft=draft)


def test_an_unanswered_post_that_did_not_land_fails_only_once_vtex_showed_it_long_enough(tmp_path):
    from bot.audit import Who

    with LocalStack(tmp_path / "a.db", unstuck_settle_after=1) as stack:
        stack.vtex.fail_next(503, "down", method="POST")
        outcome = stack.services.actor.perform(partial_intent(stack, "1500000000003-01", "NF-900", "k1"), Who(OPERATOR))
        assert outcome.state == "unknown" and "Do not send it by hand" in outcome.message
        blocked = stack.services.actor.perform(partial_intent(stack, "1500000000003-01", "NF-901", "k2"), Who(OPERATOR))
        assert blocked.state == "duplicate" and "Already in progress" in blocked.message
        time.sleep(1.1)
        [settled] = stack.services.actor.settle_unsettled()
        assert settled.state == "failed" and "safe to try again" in settled.message
        again = stack.services.actor.perform(partial_intent(stack, "1500000000003-01", "NF-900", "k3"), Who(OPERATOR))
        assert again.state == "succeeded"
        assert len(stack.vtex.invoice_posts()) == 2 and len(stack.vtex.stored_invoices("1500000000003-01")) == 1


def test_per_order_limit_refuses_with_a_clear_message(tmp_path):
    with LocalStack(tmp_path / "a.db", unstuck_order_action_limit=1) as stack:
        from bot.audit import Who

        stack.vtex.fail_next(400, {"error": {"message": "bad"}}, method="POST")
        first = stack.services.actor.perform(partial_intent(stack, "1500000000003-01", "A1", "k1"), Who(OPERATOR))
        assert first.state == "failed"
        second = stack.services.actor.perform(partial_intent(stack, "1500000000003-01", "A2", "k2"), Who(OPERATOR))
        assert second.state == "refused" and "limit 1" in second.message
        assert len(stack.vtex.invoice_posts()) == 1


def test_tampered_button_value_is_refused(stack):
    card = ask(stack, "1500000000002-01")
    first_button(card)["value"] = '{"o":"../../x","n":"NF20001","a":1}'
    stack.driver.click(OPERATOR, card, "resend_invoice")
    assert ephemeral_to(stack, OPERATOR, "malformed or out of date")
    assert stack.vtex.invoice_posts() == []


def test_resend_asks_for_confirmation_and_the_partial_goes_straight_to_its_form(stack):
    card = ask(stack, "1500000000002-01")
    button = first_button(card)
    assert "NF20001" in button["confirm"]["text"]["text"] and "R$ 304,80" in button["confirm"]["text"]["text"]
    stack.driver.slash(VIEWER, "1500000000001-01")
    partial = [m for m in cards(stack, 2) if "1500000000001-01" in m.text][0]
    button = first_button(partial)
    assert "confirm" not in button and button["text"]["text"] == "Add partial invoice of R$ 129,90"
    assert card_text(stack, card.ts)


def test_cards_from_before_version_2_still_work(stack):
    card = ask(stack, "1500000000002-01")
    first_button(card)["value"] = '{"o":"1500000000002-01","n":"NF20001","a":30480}'
    stack.driver.click(OPERATOR, card, "resend_invoice")
    wait_card(stack, card.ts, "resent to VTEX")
    assert len(stack.vtex.invoice_posts()) == 1


def test_a_slow_slack_does_not_delay_the_click_ack(stack):
    card = ask(stack, "1500000000002-01")
    stack.slack.latency = 1.5  # every Web API call and response_url post takes 1.5 s
    reply = stack.driver.click(OPERATOR, card, "resend_invoice")
    assert reply.status == 200 and reply.elapsed < 1.0
    stack.slack.latency = 0
    wait_card(stack, card.ts, "resent to VTEX")


def test_a_click_on_an_older_copy_of_the_card_does_not_leave_it_saying_resending(stack):
    first = ask(stack, "1500000000002-01")
    stack.driver.slash(VIEWER, "1500000000002-01")  # a second copy of the card, asked before anyone acted
    older = copy.deepcopy(stack.slack.wait(lambda: (found := cards(stack, 2)) and found[-1]))
    assert older.ts != first.ts
    stack.driver.click(OPERATOR, first, "resend_invoice")
    wait_card(stack, first.ts, "resent to VTEX")
    stack.driver.click(OPERATOR, older, "resend_invoice")  # the older copy still shows its button
    assert ephemeral_to(stack, OPERATOR, "Nothing else was sent")
    settled = stack.slack.wait(lambda: "Already done" in card_text(stack, older.ts) and card_text(stack, older.ts))
    assert "is resending invoice" not in settled
    assert len(stack.vtex.invoice_posts()) == 1
