"""One fix, one invoice: races with a slow VTEX, a lost answer, a reconcile, a second operator; and the
invoices an agent would send for the orders that broke the first version (over real HTTP, with the
VTEX double enforcing VTEX's published request schema). Each runs on SQLite and on PostgreSQL."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.doubles.slack import form_state
from bot.doubles.stack import GROUP_MEMBER, OPERATOR, VIEWER, LocalStack
from bot.reconcile import reconcile
from bot.sandbox import demo_orders
from tests.factories import order_json
from tests.handlers.helpers import buttons, cards, text_of, wait_card

# A date in the past whatever the hour the suite runs at (today at 09:30 is in the future before 09:30).
VALID = {"number_block": "NF-2", "date_block": "2026-11-27", "time_block": "09:30"}


@pytest.fixture
def stack(db_target):
    """Every test here runs on both backends: once on SQLite, once on PostgreSQL (tests/conftest.py)."""
    with LocalStack(db_target) as running:
        yield running


def ask(stack, order_id, n=1):
    stack.driver.slash(VIEWER, order_id)
    return [m for m in cards(stack, n) if order_id in m.text][-1]


def open_form(stack, card, user=OPERATOR):
    stack.driver.click(user, card, "add_partial_invoice")
    return stack.slack.wait(lambda: (v := stack.slack.top_view(user)) and "Re-reading" not in text_of(v) and v)


def who(user):
    from bot.audit import Who

    return Who(user, "T0UNSTUCK", "C0SUPPORT")


def partial_intent(stack, number):
    from bot.acting import Intent
    from bot.invoices import whole_draft

    order = stack.services.vtex.get_order("1500000000001-01")
    draft = whole_draft(order, number=number, issuance_date=datetime.now(UTC) - timedelta(hours=1))
    return Intent("add_partial_invoice", order.order_id, number, order.missing, f"k-{number}", order.missing, draft)


def posted(stack):
    return [p.json() for p in stack.vtex.invoice_posts()]


def test_a_reconcile_during_a_slow_post_leaves_it_alone(db_target):
    with LocalStack(db_target, vtex_timeout=5.0) as stack:
        card = ask(stack, "1500000000001-01")
        open_form(stack, card)
        stack.driver.submit(OPERATOR, VALID)
        stack.vtex.slow_next(2.0)  # VTEX takes 2 s, then stores the invoice and answers
        stack.driver.submit(OPERATOR)
        stack.slack.wait(lambda: stack.vtex.invoice_posts())
        # `unstuck audit reconcile` (or a restarted replica) runs while the POST is in flight:
        assert reconcile(stack.services) == []
        # and a second operator sends the same fix meanwhile
        assert stack.services.actor.perform(partial_intent(stack, "NF-3"), who(GROUP_MEMBER)).state == "duplicate"
        wait_card(stack, card.ts, "sent to VTEX")
        assert [p["invoiceNumber"] for p in posted(stack)] == ["NF-2"]
        assert stack.vtex.order("1500000000001-01")["status"] == "invoiced"
        assert [a["state"] for a in stack.services.store.ledger.latest_per_action(5)] == ["succeeded"]


def test_an_invoice_vtex_stores_after_the_timeout_is_never_sent_twice(db_target):
    with LocalStack(db_target, settle_every=0.2, unstuck_settle_after=30) as stack:
        card = ask(stack, "1500000000001-01")
        open_form(stack, card)
        stack.driver.submit(OPERATOR, VALID)
        # a second operator has the same form open, filled in with another number from the ERP
        second = ask(stack, "1500000000001-01", 2)
        open_form(stack, second, GROUP_MEMBER)
        stack.driver.submit(GROUP_MEMBER, {**VALID, "number_block": "NF-3"})
        stack.vtex.slow_next(1.6)  # the client gives up after 1 s; VTEX stores the invoice at 1.6 s
        stack.driver.submit(OPERATOR)
        unknown = wait_card(stack, card.ts, "did not confirm")
        assert buttons(unknown.blocks) == []  # the order stays locked while the bot checks
        stack.driver.submit(GROUP_MEMBER)  # ...and sends it while VTEX has not shown the first one yet
        refused = stack.slack.wait(
            lambda: next(
                (
                    m
                    for m in stack.slack.messages
                    if ("Already in progress" in text_of(m) or "Nothing was sent" in text_of(m))
                    and (m.ephemeral_to == GROUP_MEMBER or m.ts == second.ts)
                ),
                None,
            )
        )
        assert refused
        told = stack.slack.wait(
            lambda: next((c for c in stack.slack.calls_to("response_url") if "The bot checked" in str(c.body)), None)
        )
        assert "*succeeded*" in told.body["text"]
        assert [p["invoiceNumber"] for p in posted(stack)] == ["NF-2"]
        assert len(stack.vtex.stored_invoices("1500000000001-01")) == 2  # NF10001 and NF-2, nothing more


def test_an_unanswered_post_vtex_never_stored_is_released_only_after_the_settle_time(db_target):
    with LocalStack(db_target, settle_every=0.2, unstuck_settle_after=1) as stack:
        card = ask(stack, "1500000000001-01")
        open_form(stack, card)
        stack.driver.submit(OPERATOR, VALID)
        stack.vtex.fail_next(504, "gateway timeout", method="POST")  # lost on the way in
        stack.driver.submit(OPERATOR)
        told = stack.slack.wait(
            lambda: next((c for c in stack.slack.calls_to("response_url") if "The bot checked" in str(c.body)), None)
        )
        assert "*failed*" in told.body["text"] and "safe to try again" in told.body["text"]
        fresh = ask(stack, "1500000000001-01", 2)
        open_form(stack, fresh)
        stack.driver.submit(OPERATOR, VALID)
        stack.driver.submit(OPERATOR)
        wait_card(stack, fresh.ts, "sent to VTEX")
        assert len(stack.vtex.stored_invoices("1500000000001-01")) == 2


def test_a_resend_can_be_repeated_on_purpose_after_the_window(db_target):
    with LocalStack(db_target, unstuck_resend_window=1) as stack:
        card = ask(stack, "1500000000002-01")
        stack.driver.click(OPERATOR, card, "resend_invoice")
        wait_card(stack, card.ts, "resent to VTEX")
        order = stack.vtex.order("1500000000002-01")
        order["status"] = "handling"  # VTEX still shows it stuck, days later
        stack.vtex.add(order)
        within = ask(stack, "1500000000002-01", 2)
        assert "resend_invoice" not in buttons(within.blocks) and "can be resent again after" in text_of(within)
        time.sleep(1.1)
        later = ask(stack, "1500000000002-01", 3)
        button = next(e for b in later.blocks if b["type"] == "actions" for e in b["elements"])
        assert button["text"]["text"] == "Resend again NF20001"
        assert f"last resent by <@{OPERATOR}>" in button["confirm"]["text"]["text"]
        assert f"Last resent by <@{OPERATOR}>" in text_of(later)
        stack.driver.click(GROUP_MEMBER, later, "resend_invoice")
        wait_card(stack, later.ts, "resent to VTEX")
        assert [p["invoiceNumber"] for p in posted(stack)] == ["NF20001", "NF20001"]


def test_a_failed_resend_leaves_the_card_a_fresh_question_would_give(db_target):
    # One verdict per order: after VTEX refuses a repeat resend, the card still says who resent it last and
    # offers "Resend again", as asking again would.
    with LocalStack(db_target, unstuck_resend_window=1) as stack:
        card = ask(stack, "1500000000002-01")
        stack.driver.click(OPERATOR, card, "resend_invoice")
        wait_card(stack, card.ts, "resent to VTEX")
        order = stack.vtex.order("1500000000002-01")
        order["status"] = "handling"
        stack.vtex.add(order)
        time.sleep(1.1)
        later = ask(stack, "1500000000002-01", 2)
        stack.vtex.fail_next(400, "Invalid invoice", method="POST")
        stack.driver.click(OPERATOR, later, "resend_invoice")
        after = wait_card(stack, later.ts, "did not accept")
        button = next(e for b in after.blocks if b["type"] == "actions" for e in b["elements"])
        assert button["text"]["text"] == "Resend again NF20001"
        assert f"Last resent by <@{OPERATOR}>" in text_of(after)


def test_chilean_pesos_end_to_end_in_cents(stack):
    card = ask(stack, "1500000000016-01")
    assert "$ 21.480" in text_of(card) and "$ 71.380" in text_of(card)
    view = open_form(stack, card)
    assert "Gorro" in text_of(view) and "$ 8.990 each" in text_of(view) and "$ 3.500" in text_of(view)
    assert "America/Santiago" in text_of(view)
    reply = stack.driver.submit(OPERATOR, {**VALID, "value_block": "21.481"})
    assert "cannot exceed what is missing, $ 21.480" in reply.json()["errors"]["value_block"]
    stack.driver.submit(OPERATOR, {**VALID, "value_block": "21.480"})
    assert '"invoiceValue": "2148000"' in text_of(stack.slack.top_view(OPERATOR))
    stack.driver.submit(OPERATOR)
    [post] = stack.slack.wait(lambda: posted(stack))
    assert post["invoiceValue"] == "2148000" and post["items"] == [{"id": "6002", "price": 899000, "quantity": 2}]
    wait_card(stack, card.ts, "$ 21.480) sent to VTEX")
    assert stack.vtex.order("1500000000016-01")["status"] == "invoiced"


def test_split_prices_are_invoiced_as_vtex_priced_them(stack):
    card = ask(stack, "1500000000017-01")
    view = open_form(stack, card)
    assert "R$ 33,33 each" in text_of(view) and "R$ 33,34 each" in text_of(view)
    stack.driver.submit(OPERATOR, VALID)
    stack.driver.submit(OPERATOR)
    [post] = stack.slack.wait(lambda: posted(stack))
    assert post["invoiceValue"] == "10000"
    assert post["items"] == [{"id": "7001", "price": 3333, "quantity": 2}, {"id": "7001", "price": 3334, "quantity": 1}]


def two_skus():
    return order_json(
        value=16000,
        items=[
            {"id": "77", "name": "Lamp", "quantity": 1, "price": 10000, "sellingPrice": 10000, "seller": "1"},
            {"id": "88", "name": "Mug", "quantity": 1, "price": 5000, "sellingPrice": 5000, "seller": "1"},
        ],
        lastChange=(datetime.now(UTC) - timedelta(days=3)).isoformat(),
    )


def test_fifty_reais_on_a_hundred_and_sixty_claims_only_the_mug(db_target):
    with LocalStack(db_target, orders=[two_skus()]) as stack:
        card = ask(stack, "1234567890123-01")
        open_form(stack, card)
        reply = stack.driver.submit(OPERATOR, {**VALID, "value_block": "50,00"})
        assert "add up to R$ 150,00" in reply.json()["errors"]["value_block"]
        stack.driver.submit(OPERATOR, {**VALID, "value_block": "50,00", "item_0": "0", "other_block": ""})
        stack.driver.submit(OPERATOR)
        [post] = stack.slack.wait(lambda: posted(stack))
        assert post["invoiceValue"] == "5000" and post["items"] == [{"id": "88", "price": 5000, "quantity": 1}]
        # the next partial offers only what is still open: the lamp and the shipping
        second = ask(stack, "1234567890123-01", 2)
        view = open_form(stack, second)
        assert "Lamp" in text_of(view) and "Mug" not in text_of(view) and "R$ 10,00" in text_of(view)
        stack.driver.submit(OPERATOR, {**VALID, "number_block": "NF-3"})
        stack.driver.submit(OPERATOR)
        stack.slack.wait(lambda: len(posted(stack)) == 2)
        assert posted(stack)[1]["items"] == [{"id": "77", "price": 10000, "quantity": 1}]
        assert posted(stack)[1]["invoiceValue"] == "11000"
        assert stack.vtex.order("1234567890123-01")["status"] == "invoiced"


def test_null_change_values_and_naive_dates_are_read_and_acted_on(db_target):
    order = order_json(
        value=8000,
        invoices=[
            {
                "type": "Output",
                "invoiceNumber": "NF-1",
                "invoiceValue": 8000,
                "issuanceDate": "2026-11-20T10:00:00",  # no time zone
                "items": [{"itemIndex": 0, "quantity": 2, "price": 4000}],
            },
            {
                "type": "Input",
                "invoiceNumber": "RET-1",
                "invoiceValue": 100,
                "issuanceDate": "2026-11-21T10:00:00+00:00",
            },
        ],
        changesAttachment={"id": "c", "changesData": [{"reason": "x", "discountValue": None, "incrementValue": None}]},
        lastChange=(datetime.now(UTC) - timedelta(days=3)).isoformat(),
    )
    with LocalStack(db_target, orders=[order]) as stack:
        card = ask(stack, "1234567890123-01")
        assert "Resend invoice NF-1" in text_of(card)
        stack.driver.click(OPERATOR, card, "resend_invoice")
        wait_card(stack, card.ts, "resent to VTEX")
        [post] = posted(stack)
        assert post["issuanceDate"] == "2026-11-20T10:00:00+00:00"
        assert stack.services.store.ledger.open() == []


def test_a_sixty_item_order_gets_a_working_form(db_target):
    items = [
        {"id": str(1000 + i), "name": f"Item {i} " + "x" * 80, "quantity": 1, "price": 100, "sellingPrice": 100}
        for i in range(60)
    ]
    order = order_json(value=6000 + 990, items=items, lastChange=(datetime.now(UTC) - timedelta(days=3)).isoformat())
    with LocalStack(db_target, orders=[order]) as stack:
        card = ask(stack, "1234567890123-01")
        view = open_form(stack, card)
        assert len([b for b in view["blocks"] if b.get("block_id", "").startswith("item_")]) == 60
        assert len(view["private_metadata"]) < 100
        stack.driver.submit(OPERATOR, {**VALID, "url_block": "https://erp.example.com/" + "n" * 1900})
        stack.driver.submit(OPERATOR)
        [post] = stack.slack.wait(lambda: posted(stack))
        assert len(post["items"]) == 60 and post["invoiceValue"] == "6990"


@pytest.mark.parametrize("users", [(OPERATOR, OPERATOR), (OPERATOR, GROUP_MEMBER)])
def test_the_same_review_sent_from_two_places_at_once_posts_once(stack, users):
    card = ask(stack, "1500000000001-01")
    open_form(stack, card)
    stack.driver.submit(OPERATOR, VALID)
    preview = stack.slack.top_view(OPERATOR)
    stack.vtex.latency = 0.2
    payloads = [
        {
            "type": "view_submission",
            "team": {"id": "T0UNSTUCK"},
            "user": {"id": user},
            "view": {**preview, "state": {"values": form_state(preview, {})}},
        }
        for user in users
    ]
    threads = [threading.Thread(target=stack.driver.send_payload, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stack.slack.wait(lambda: posted(stack))
    time.sleep(0.5)
    assert len(posted(stack)) == 1


def test_every_demo_payload_the_bot_can_post_follows_vtex_schema(stack):
    """Resend, partial and full invoices for every demo order that offers one."""
    for asked, order in enumerate(demo_orders(), start=1):
        before = len(posted(stack))
        card = ask(stack, order["orderId"], asked)
        offered = buttons(card.blocks)
        if "resend_invoice" in offered:
            stack.driver.click(OPERATOR, card, "resend_invoice")
        elif "add_partial_invoice" in offered:
            open_form(stack, card)
            stack.driver.submit(OPERATOR, VALID)
            stack.driver.submit(OPERATOR)
        else:
            continue
        stack.slack.wait(lambda b=before: len(posted(stack)) > b)
    assert len(posted(stack)) >= 6
    assert stack.vtex.schema_violations == []


def test_an_older_review_of_the_same_form_sends_nothing(stack):
    card = ask(stack, "1500000000001-01")
    open_form(stack, card)
    stack.driver.submit(OPERATOR, VALID)
    first_review = stack.slack.top_view(OPERATOR)
    stack.driver.close_modal(OPERATOR)  # Back to the form, which is re-submitted with another number
    stack.driver.submit(OPERATOR, {**VALID, "number_block": "NF-5"})
    old = {
        "type": "view_submission",
        "team": {"id": "T0UNSTUCK"},
        "user": {"id": OPERATOR},
        "view": {**first_review, "id": "V-OLD", "root_view_id": "V-OLD", "state": {"values": {}}},
    }
    stack.driver.send_payload(old)
    stack.slack.wait(
        lambda: any("older than the form's last one" in text_of(m) for m in stack.slack.messages if m.ephemeral_to)
    )
    stack.driver.submit(OPERATOR)  # the latest review is the one that is sent
    [post] = stack.slack.wait(lambda: posted(stack))
    assert post["invoiceNumber"] == "NF-5"


@pytest.mark.parametrize("typed", ["²", "1.5", "-1", "1e3", "９"])
def test_quantities_that_are_not_plain_whole_numbers_are_refused(stack, typed):
    card = ask(stack, "1500000000001-01")
    open_form(stack, card)
    reply = stack.driver.submit(OPERATOR, {**VALID, "item_0": typed})
    assert "whole number of units" in reply.json()["errors"]["item_0"]
