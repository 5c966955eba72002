"""Each person gets the bot in their Slack language: the whole card, the form, its errors and the outcome.

Over real HTTP: the Slack stand-in answers `users.info` with each person's locale, as Slack does.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.doubles.slack import text_of
from bot.doubles.stack import OPERATOR, LocalStack
from bot.i18n import _, use
from bot.sandbox import BRL, _invoice, _order
from bot.status_names import ADMIN_NAMES
from tests.handlers.helpers import first_button

PT, ES_ES, ES_LA, EN = "UPTBR0001", "UESES0001", "UESLA0001", "UENUS0001"
ORDER = "1600000000001-01"
# R$ 2.469,12 in all, one invoice of R$ 1.234,56 (the table and shipping): R$ 1.234,56 missing, the sofa's price.
SOFA, TABLE = ("5001", "Sofá", 123456, 1), ("5002", "Mesa", 100000, 1)


def big_order(now: datetime) -> dict:
    return _order(
        ORDER,
        "handling",
        now,
        timedelta(days=3),
        items=[SOFA, TABLE],
        shipping=23456,
        packages=[_invoice("NF50001", 123456, now - timedelta(days=3), items=[(1, 1, 100000)])],
        currency=BRL,
    )


@pytest.fixture
def stack(tmp_path):
    people = f"{OPERATOR},{PT},{ES_ES},{ES_LA},{EN}"
    with LocalStack(tmp_path / "audit.db", orders=[big_order(datetime.now(UTC))], operators=people) as running:
        running.slack.locales.update({PT: "pt-BR", ES_ES: "es-ES", ES_LA: "es-419", EN: "en-US"})
        yield running


def in_(language: str, message: str, **values: object) -> str:
    """What the bot should say in `language` (from its catalogue), checked to differ from the English."""
    with use(language):
        said = _(message).format(**values)
    assert language == "en" or said != message.format(**values), f"{message!r} is not translated to {language}"
    return said


def ask(stack, user: str):
    """Ask about the order as `user` and return the new card."""
    before = {m.ts for m in stack.slack.bot_messages("C0SUPPORT")}
    stack.driver.slash(user, ORDER)
    return stack.slack.wait(
        lambda: next(
            (
                m
                for m in stack.slack.bot_messages("C0SUPPORT")
                if m.ts not in before and m.ephemeral_to is None and m.blocks and m.blocks[0]["type"] == "header"
            ),
            None,
        )
    )


def form_for(stack, user: str, card):
    assert stack.driver.click(user, card, "add_partial_invoice").status == 200
    return stack.slack.wait(lambda: (v := stack.slack.top_view(user)) and v.get("submit") and v)


LANGS = ("en", "pt-BR", "es")
PAST = "2026-11-27"


@pytest.mark.parametrize(("user", "language"), [(PT, "pt-BR"), (ES_ES, "es"), (ES_LA, "es")])
def test_the_whole_flow_speaks_the_persons_language(stack, user, language):
    card = ask(stack, user)
    text = text_of(card)
    status = ADMIN_NAMES[language]["handling"]
    assert card.blocks[0]["text"]["text"] == in_(language, "Order {order_id} · {status}", order_id=ORDER, status=status)
    verdict = in_(language, "Short by *{missing}*: add a partial invoice for what is missing.", missing="R$ 1.234,56")
    assert verdict in text
    assert "R$ 2.469,12" in text and "R$ 1.234,56" in text
    assert "Short by" not in text and "Output invoices add up" not in text and "Open in VTEX Admin" not in text
    assert in_(language, "Open in VTEX Admin") in text
    guidance = next(b for b in card.blocks if b.get("type") == "context" and ":book:" in json.dumps(b))
    folder = {"pt-BR": "/pt/", "es": "/es/"}[language]
    assert folder in json.dumps(guidance)  # the help-center article in the reader's language
    button = first_button(card)
    assert button["text"]["text"] == in_(language, "Add partial invoice of {amount}", amount="R$ 1.234,56")

    view = form_for(stack, user, card)
    assert view["title"]["text"] == in_(language, "Add partial invoice")
    assert view["submit"]["text"] == in_(language, "Review")
    assert "R$ 1.234,56" in text_of(view) and "Invoice number" not in json.dumps(view)

    # A value the order cannot take: the error under the field is in the person's language, nothing is sent.
    bad = stack.driver.submit(user, {"number_block": "", "date_block": PAST, "time_block": "09:30"}).json()
    assert bad["response_action"] == "errors"
    assert bad["errors"]["number_block"] == in_(
        language, "Enter the invoice number of the fiscal document your ERP issued."
    )
    too_much = stack.driver.submit(
        user, {"number_block": "NF-9", "value_block": "1.234,57", "date_block": PAST, "time_block": "09:30"}
    ).json()
    assert too_much["errors"]["value_block"] == in_(
        language, "The value cannot exceed what is missing, {missing}.", missing="R$ 1.234,56"
    )
    assert stack.vtex.invoice_posts() == []

    stack.driver.submit(user, {"number_block": "NF-9", "date_block": PAST, "time_block": "09:30"})
    review = stack.slack.top_view(user)
    assert review["title"]["text"] == in_(language, "Review invoice")
    assert review["submit"]["text"] == in_(language, "Send to VTEX")
    assert '"invoiceValue": "123456"' in text_of(review)
    stack.driver.submit(user)
    post = stack.slack.wait(lambda: stack.vtex.invoice_posts())
    assert len(post) == 1 and post[0].json()["invoiceValue"] == "123456"
    assert post[0].json()["items"] == [{"id": "5001", "price": 123456, "quantity": 1}]
    sent = in_(
        language, "Invoice {invoice_number} ({amount}) sent to VTEX.", invoice_number="NF-9", amount="R$ 1.234,56"
    )
    stack.slack.wait(lambda: sent in text_of(stack.slack.message(card.ts)))


def test_an_english_speaker_in_the_same_channel_still_gets_english(stack):
    pt_card = ask(stack, PT)
    en_card = ask(stack, EN)
    assert "Preparando entrega" in text_of(pt_card)
    text = text_of(en_card)
    assert en_card.blocks[0]["text"]["text"] == f"Order {ORDER} · Handling shipping"
    assert "Short by *R$ 1.234,56*: add a partial invoice for what is missing." in text
    assert first_button(en_card)["text"]["text"] == "Add partial invoice of R$ 1.234,56"
    assert "Preparando entrega" not in text


def test_a_person_without_a_slack_locale_gets_the_teams_default(tmp_path):
    with LocalStack(tmp_path / "audit.db", orders=[big_order(datetime.now(UTC))], unstuck_language="pt-BR") as running:
        running.slack.locales[PT] = None  # Slack gives no locale for this person
        card = ask(running, PT)
        verdict = "Short by *{missing}*: add a partial invoice for what is missing."
        assert in_("pt-BR", verdict, missing="R$ 1.234,56") in text_of(card)
        english = ask(running, EN)  # a person whose locale is English still gets English
        assert verdict.format(missing="R$ 1.234,56") in text_of(english)


def test_when_slack_cannot_say_the_default_language_answers(tmp_path):
    with LocalStack(tmp_path / "audit.db", orders=[big_order(datetime.now(UTC))], unstuck_language="es") as running:
        running.slack.locales[PT] = "pt-BR"
        running.slack.failing["users.info"] = "missing_scope"  # an install from before `users:read`
        card = ask(running, PT)
        verdict = "Short by *{missing}*: add a partial invoice for what is missing."
        assert in_("es", verdict, missing="R$ 1.234,56") in text_of(card)
