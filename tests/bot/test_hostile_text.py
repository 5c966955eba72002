"""Text from VTEX or a person never becomes live Slack markup: no mention, no link, no code span it did not
ask for, in any card, modal or message; and the mentions and dates the bot builds itself stay live."""

import re
from datetime import UTC, datetime

import pytest

from bot.blocks import (
    error_card,
    home_view,
    notice,
    order_card,
    outcome_line,
    partial_form,
    partial_preview,
    usage_message,
)
from bot.errors import BadResponse, OrderNotFound
from bot.invoices import InvoiceItem, InvoiceRequest
from bot.kb import KnowledgeBase
from bot.lookup import LastResend, explain
from bot.order import parse_order
from bot.order_ids import validate_order_id
from bot.payloads import CurrencyState, FormRef, FormState, LineState, ReplyTarget
from bot.report import text_report
from tests.conftest import NOW
from tests.factories import invoice, order_json

KB = KnowledgeBase.load()
HOSTILE = [
    "<!channel>",
    "<!here|here>",
    "<!subteam^S0ADMINS>",
    "<@U0ADMIN01>",
    "<#C0GENERAL>",
    "<https://evil.example|Open in VTEX Admin>",
    "<https://evil.example>",
    "`whoami` ```block```",
    "&lt;!channel&gt;",
    "a|b>c<d",
]
# Markup the bot itself writes: user mentions, dates, and links to VTEX only.
ALLOWED = re.compile(
    r"<@U[A-Z0-9]{2,}>"
    r"|<!date\^\d+\^\{date_short_pretty\} at \{time\}\|[^<>]*>"
    r"|<https://(acme\.myvtex\.com|help\.vtex\.com)/[^\s<>|]*\|[^<>]*>"
)


def mrkdwn_texts(node):
    """Every string Slack reads as mrkdwn: mrkdwn objects and the top-level `text` of a message."""
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn":
            yield node["text"]
        for value in node.values():
            yield from mrkdwn_texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from mrkdwn_texts(item)


def assert_inert(*texts):
    for text in texts:
        leftover = ALLOWED.sub("", text)
        assert "<" not in leftover and ">" not in leftover, text
        assert "`whoami`" not in text and "```block" not in text, text


def hostile_order(h):
    data = order_json(
        status="handling",
        value=20000,
        invoices=[invoice("NF-1", 10000), invoice(h, 100, kind="Input")],
        statusDescription=h,
        cancelReason=h,
        marketplaceOrderId=h,
        sellerOrderId=h,
        origin="Marketplace",
        affiliateId=h,
        sellers=[{"id": "1", "name": h}, {"id": "x", "name": h}],
        items=[{"id": h, "name": h, "quantity": 1, "price": 9000, "sellingPrice": 9000, "seller": "1"}],
    )
    data["storePreferencesData"]["currencySymbol"] = h
    return parse_order(data)


@pytest.mark.parametrize("h", HOSTILE)
def test_order_cards_keep_vtex_text_inert(h):
    for status in ("handling", h, "canceled"):
        order = hostile_order(h)
        data = order.model_dump(mode="json", by_alias=True)
        data["status"] = status
        answer = explain(parse_order(data), KB, NOW)
        message = order_card(answer, "acme", outcome=outcome_line("failed", "x", "UOPS00001", NOW), now=NOW)
        assert_inert(message.text, *mrkdwn_texts(message.blocks))
        assert "<@UOPS00001>" in str(message.blocks)  # the bot's own mention stays live


@pytest.mark.parametrize("h", HOSTILE)
def test_a_covered_order_with_a_hostile_invoice_number_offers_no_resend(h):
    order = parse_order(order_json(value=10000, invoices=[invoice(h, 10000)]))
    answer = explain(order, KB, NOW)
    assert answer.diagnosis.actions == [] and "characters" in answer.diagnosis.no_action_reason
    message = order_card(answer, "acme", now=NOW)
    assert_inert(message.text, *mrkdwn_texts(message.blocks))


@pytest.mark.parametrize("h", HOSTILE)
def test_resend_history_and_confirm_dialogs_stay_inert(h):
    order = parse_order(order_json(value=10000, invoices=[invoice("NF-1", 10000)], statusDescription=h))
    answer = explain(order, KB, NOW)
    answer = type(answer)(answer.order, answer.diagnosis, answer.guidance, LastResend("UOPS00001", NOW, NOW))
    message = order_card(answer, "acme", now=NOW)
    assert_inert(message.text, *mrkdwn_texts(message.blocks))
    assert "Resend again" in str(message.blocks)


@pytest.mark.parametrize("h", HOSTILE)
def test_modals_keep_names_numbers_and_urls_inert(h):
    state = FormState(
        order_id="1234567890123-01",
        full=False,
        missing=9000,
        total=20000,
        currency=CurrencyState.of(hostile_order(h).currency),
        zone="America/Sao_Paulo",
        order_json={},
        lines=[LineState(index=0, sku=h, name=h, price=9000, quantity=1)],
        other=0,
        reply=ReplyTarget(),
    )
    ref = FormRef(form="k" * 16)
    form = partial_form(state, ref, NOW)
    request = InvoiceRequest(h, 9000, NOW, items=[InvoiceItem(h, 9000, 1)], invoice_url=h, invoice_key=h)
    preview = partial_preview(state, ref, request)
    assert_inert(*mrkdwn_texts(form["blocks"]), *mrkdwn_texts(preview["blocks"]))


@pytest.mark.parametrize("h", HOSTILE)
def test_errors_notices_usage_and_home_keep_text_inert(h):
    texts = []
    for error in (OrderNotFound(f"Order {h} was not found", order_id=h), BadResponse(h, order_id="1-01")):
        card = error_card(h, error)
        texts += [card.text, *mrkdwn_texts(card.blocks)]
    try:
        validate_order_id(h)
    except Exception as exc:  # noqa: BLE001 - the message is what the agent sees
        texts += list(mrkdwn_texts(usage_message(str(exc)).blocks))
    texts += list(mrkdwn_texts(notice(outcome_line("succeeded", "done", h, NOW)).blocks))
    row = {
        "updated_at": NOW.isoformat(),
        "state": h,
        "action": h,
        "order_id": h,
        "user_id": h,
        "invoice_number": h,
        "amount_text": h,
    }
    texts += list(mrkdwn_texts(home_view([row], is_operator=True, operators_configured=True)["blocks"]))
    assert_inert(*texts)


def test_the_cli_shows_the_text_as_vtex_sent_it():
    order = hostile_order("<!channel>")
    data = order.model_dump(mode="json", by_alias=True)
    data["status"] = "<!channel>"
    report = text_report(explain(parse_order(data), KB, datetime(2026, 11, 28, tzinfo=UTC)))
    assert "`<!channel>`" in report and "&lt;" not in report
