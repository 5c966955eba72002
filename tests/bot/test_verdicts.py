"""One verdict per order: each situation's sentence, its one button (or none), and no line that says otherwise."""

import re
from datetime import timedelta

import pytest

from bot.blocks import order_card
from bot.diagnosis import Situation, diagnose
from bot.kb import KnowledgeBase
from bot.lookup import explain
from bot.order import parse_order
from bot.report import text_report
from bot.wording import TABLE
from tests.conftest import NOW
from tests.factories import invoice, order_json

KB = KnowledgeBase.load()
SELLERS = [{"id": "1", "name": "Store"}, {"id": "fhub", "name": "Furniture Hub"}]
BOLETO = {"transactions": [{"payments": [{"paymentSystemName": "Boleto", "group": "bankInvoice", "value": 10000}]}]}

# (situation, the order, words of the verdict, the one button's text or None)
CASES = [
    (
        Situation.RESEND,
        order_json(invoices=[invoice("NF-20001", 10000)]),
        "resend invoice *NF-20001*",
        "Resend invoice NF-20001",
    ),
    (
        Situation.PARTIAL,
        order_json(invoices=[invoice("NF-1", 8700)]),
        "Short by *R$ 13,00*",
        "Add partial invoice of R$ 13,00",
    ),
    (
        Situation.FIRST_INVOICE,
        order_json(),
        "No invoice yet: add one for the full *R$ 100,00*",
        "Add invoice of R$ 100,00",
    ),
    (
        Situation.READY_FOR_HANDLING,
        order_json("ready-for-handling"),
        "Start handling if your ERP never",
        "Add invoice of R$ 100,00",
    ),
    (
        Situation.CANCEL_REQUESTED,
        order_json("request-cancel"),
        "confirm it in the Admin, or send the invoice",
        "Add invoice of R$ 100,00",
    ),
    (
        Situation.OVER_INVOICED,
        order_json(invoices=[invoice("A", 8000), invoice("B", 5000)]),
        "Over-invoiced by *R$ 30,00*",
        None,
    ),
    (
        Situation.BAD_INVOICE_NUMBER,
        order_json(invoices=[invoice("NF 1/2", 10000)]),
        "Invoice *NF 1/2* cannot move the order",
        None,
    ),
    (Situation.WORKFLOW_ERROR, order_json(workflowIsInError=True), "open a ticket with VTEX support", None),
    (
        Situation.OTHER_SELLER,
        order_json(origin="Marketplace", sellers=SELLERS, sellerOrderId="FHB-1"),
        "*Furniture Hub* sends the invoice on its own order `FHB-1`",
        None,
    ),
    (
        Situation.WAITING_PAYMENT,
        order_json("payment-pending", paymentData=BOLETO),
        "Boleto of R$ 100,00 is not confirmed yet",
        None,
    ),
    (Situation.NOTHING_TO_INVOICE, order_json(value=0), "the order's value is zero", None),
    (
        Situation.CANCELED,
        order_json("canceled", cancelReason="Customer gave up"),
        "Canceled (Customer gave up): nothing to fix",
        None,
    ),
    (Situation.INVOICED, order_json("invoiced", invoices=[invoice("NF-1", 10000)]), "Invoiced: nothing to fix", None),
    (Situation.STUCK_ELSEWHERE, order_json("order-created"), "Stuck in Processing for 3 days", None),
    (Situation.NOT_STUCK, order_json("window-to-cancel", age=timedelta(minutes=5)), "Not stuck: waiting for", None),
    (
        Situation.UNKNOWN_STATUS,
        order_json("waiting-for-quantum-approval"),
        "Unknown status `waiting-for-quantum-approval`",
        None,
    ),
]
# Sentences that would contradict a situation if they appeared anywhere on its card.
CONTRADICTIONS = {
    "add": re.compile(r"add (a partial )?invoice|Short by|No invoice yet", re.I),
    "resend": re.compile(r"resend (the (last )?)?invoice", re.I),
    "missing": re.compile(r"missing", re.I),
}
FORBIDDEN = {
    Situation.RESEND: ["add"],
    Situation.PARTIAL: ["resend"],
    Situation.FIRST_INVOICE: ["resend"],
    Situation.OVER_INVOICED: ["add", "resend"],
    Situation.BAD_INVOICE_NUMBER: ["add"],
    Situation.WORKFLOW_ERROR: ["add", "resend", "missing"],
    Situation.OTHER_SELLER: ["add", "resend", "missing"],
    Situation.WAITING_PAYMENT: ["add", "resend", "missing"],
    Situation.NOTHING_TO_INVOICE: ["add", "resend", "missing"],
    Situation.CANCELED: ["add", "resend", "missing"],
    Situation.INVOICED: ["add", "resend", "missing"],
    Situation.STUCK_ELSEWHERE: ["add", "resend", "missing"],
    Situation.NOT_STUCK: ["add", "resend", "missing"],
    Situation.UNKNOWN_STATUS: ["add", "resend", "missing"],
}


def card_for(data):
    answer = explain(parse_order(data), KB, NOW)
    return answer, order_card(answer, "acme", now=NOW)


def visible_text(message):
    """What the agent reads: every text on the card except the buttons' hidden values and confirm dialogs."""
    parts = [message.text]
    for block in message.blocks:
        if block["type"] == "actions":
            parts += [e["text"]["text"] for e in block["elements"]]
        elif block["type"] in ("section", "header"):
            parts.append(block["text"]["text"])
        elif block["type"] == "context":
            parts += [e["text"] for e in block["elements"]]
    return "\n".join(parts)


def test_every_situation_has_exactly_one_wording_and_one_case():
    assert set(TABLE) == set(Situation)
    assert sorted(c[0] for c in CASES) == sorted(Situation)


@pytest.mark.parametrize(("situation", "data", "words", "button"), CASES, ids=[str(c[0]) for c in CASES])
def test_the_card_leads_with_the_verdict_and_its_one_button(situation, data, words, button):
    answer, message = card_for(data)
    assert answer.diagnosis.situation == situation
    lead = message.blocks[1]["text"]["text"]
    assert words in lead  # the first lines say it
    buttons = [e["text"]["text"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ([button] if button else [])
    text = visible_text(message)
    for name in FORBIDDEN.get(situation, []):
        assert not CONTRADICTIONS[name].search(text.replace(lead, "", 1) if name != "missing" else text), (
            f"{situation} card says something {name!r}-like:\n{text}"
        )
    assert "Next step" not in text and "No invoice button" not in text


@pytest.mark.parametrize(("situation", "data", "words", "button"), CASES, ids=[str(c[0]) for c in CASES])
def test_the_cli_says_the_same_verdict(situation, data, words, button):
    answer = explain(parse_order(data), KB, NOW)
    first_lines = "\n".join(text_report(answer).splitlines()[:3])
    assert words.replace("*", "") in first_lines


def test_one_cent_decides_between_resend_partial_and_over_invoiced():
    def situation(invoiced):
        return diagnose(parse_order(order_json(invoices=[invoice("NF-1", invoiced)])), NOW).situation

    assert situation(9999) == Situation.PARTIAL
    assert situation(10000) == Situation.RESEND
    assert situation(10001) == Situation.OVER_INVOICED
    d = diagnose(parse_order(order_json(invoices=[invoice("NF-1", 9999)])), NOW)
    assert d.actions[0].amount == 1


def test_cards_stay_short():
    for _, data, _, _ in CASES:
        _, message = card_for(data)
        assert len(message.blocks) <= 8
