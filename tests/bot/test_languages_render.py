"""Every card, modal and message in every language: within Slack's limits, nothing cut, no English left over."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from bot import i18n
from bot.blocks import (
    error_card,
    home_view,
    loading_form,
    order_card,
    partial_form,
    partial_preview,
    radar_alert,
    radar_digest,
    radar_resolved,
    usage_message,
)
from bot.diagnosis import ADD_PARTIAL
from bot.errors import BadResponse, Forbidden, OrderNotFound, RateLimited, Unauthorized, Unavailable
from bot.invoices import InvoiceItem, InvoiceRequest, open_lines, other_owed
from bot.kb import KnowledgeBase
from bot.lookup import LastResend, explain
from bot.order import parse_order
from bot.payloads import CurrencyState, FormRef, FormState, LineState, ReplyTarget
from bot.radar_store import Alert
from bot.report import text_report
from bot.sandbox import demo_orders
from tests.bot.test_blocks import check_limits
from tests.conftest import NOW

KB = KnowledgeBase.load()
ORDERS = demo_orders(NOW)
TRANSLATED = ("pt-BR", "es")


def _english_phrases() -> list[str]:
    """Stretches of English from the catalogue that a translated message must not contain."""
    found = set()
    for message in i18n.extract():
        for source in message.id if isinstance(message.id, tuple) else (message.id,):
            for piece in re.split(r"\{[a-z_]+\}|[*_`\n•“”()]", source or ""):
                piece = piece.strip(" .,:;!?-—…·")
                if len(piece) >= 14 and " " in piece and not piece.startswith(("/stuck", "@unstuck")):
                    found.add(piece)
    return sorted(found)


ENGLISH = _english_phrases()
SHARED = {"R$", "VTEX"}  # words every language writes the same


def leftovers(rendered: str, language: str) -> list[str]:
    """English phrases in `rendered` that the language's own catalogue does not also contain."""
    translations = i18n.catalogue_path(language).read_text(encoding="utf-8")
    return [p for p in ENGLISH if p in rendered and p not in translations]


def all_views(language: str) -> list[tuple[str, dict]]:
    """Everything the bot renders, in `language`: (what, Slack payload)."""
    rendered: list[tuple[str, dict]] = []
    with i18n.use(language):
        for data in ORDERS:
            order = parse_order(data)
            answer = explain(order, KB, NOW)
            rendered.append((f"card {order.order_id}", {"blocks": order_card(answer, "acme", now=NOW).blocks}))
            again = type(answer)(answer.order, answer.diagnosis, answer.guidance, LastResend("UOPS00001", NOW, NOW))
            rendered.append((f"card after resend {order.order_id}", {"blocks": order_card(again, "acme").blocks}))
            alert = radar_alert(answer, "acme", stuck_since=NOW - timedelta(days=2), now=NOW)
            rendered.append((f"radar alert {order.order_id}", {"blocks": alert.blocks, "text": alert.text}))
            rendered.append((f"cli {order.order_id}", {"text": text_report(answer)}))
            partial = next((a for a in answer.diagnosis.actions if a.kind == ADD_PARTIAL), None)
            if partial is not None:
                rendered += _forms(order, partial)
        rendered += _the_rest()
    return rendered


def _forms(order, partial) -> list[tuple[str, dict]]:
    state = FormState(
        order_id=order.order_id,
        full=partial.full,
        missing=partial.amount,
        total=order.value,
        currency=CurrencyState.of(order.currency),
        zone=str(order.zone),
        order_json={},
        lines=[LineState.of(line) for line in open_lines(order)],
        other=other_owed(order),
        reply=ReplyTarget(),
    )
    ref = FormRef(form="k" * 16)
    items = [InvoiceItem(line.sku, line.price, 1, line.index) for line in state.lines[:1]]
    request = InvoiceRequest(
        "NF-1", partial.amount, NOW, items=items, invoice_key="1" * 44, invoice_url="https://x.y/z"
    )
    return [
        (f"loading {order.order_id}", loading_form(order.order_id, partial.full)),
        (f"form {order.order_id}", partial_form(state, ref, NOW)),
        (f"review {order.order_id}", partial_preview(state, ref, request)),
    ]


def _the_rest() -> list[tuple[str, dict]]:
    errors = [
        OrderNotFound("x", order_id="1172452900788"),
        OrderNotFound("x", order_id="501456"),
        Forbidden("x", permission="View order", order_id="1-01"),
        Unauthorized("x", order_id="1-01"),
        RateLimited("x", order_id="1-01", retry_after=30),
        Unavailable("x", order_id="1-01", retry_after=5),
        BadResponse("x", order_id="1-01"),
    ]
    rows = [
        {
            "updated_at": NOW.isoformat(),
            "state": state,
            "action": action,
            "order_id": "1500000000001-01",
            "user_id": "UOPS00001",
            "invoice_number": "NF-1",
            "amount_text": "R$ 1.234,56",
        }
        for state in ("succeeded", "failed", "refused", "pending", "unknown")
        for action in ("resend_invoice", ADD_PARTIAL)
    ]
    alerts = [
        Alert(
            order_id=f"150000000000{n}-01",
            situation="partial",
            status="handling",
            status_name="Handling shipping",
            stuck_since=NOW - timedelta(days=n),
            channel="C0RADAR",
            ts="1.1",
            posted_at=NOW,
        )
        for n in range(1, 4)
    ]
    answer = explain(parse_order(ORDERS[5]), KB, NOW)
    fixed = {"action": "resend_invoice", "user_id": "UOPS00001", "invoice_number": "NF-1", "amount_text": "R$ 1,00"}
    rendered = [
        (f"error {type(e).__name__} {e.order_id}", {"blocks": error_card(e.order_id, e).blocks}) for e in errors
    ]
    rendered += [
        ("usage", {"blocks": usage_message("?").blocks}),
        ("home operator", home_view(rows, is_operator=True, operators_configured=True)),
        ("home viewer", home_view([], is_operator=False, operators_configured=True)),
        ("home nobody", home_view([], is_operator=False, operators_configured=False)),
        ("radar resolved", {"blocks": radar_resolved(alerts[0], answer, fixed).blocks}),
        ("radar digest", {"blocks": radar_digest(alerts).blocks}),
    ]
    return rendered


def _buttons_only(blocks: list[dict]) -> list[dict]:
    """The blocks with the radar's overflow menu checked here and left out (check_limits knows buttons)."""
    kept = []
    for block in blocks:
        if block.get("type") == "actions":
            menus = [e for e in block["elements"] if e.get("type") == "overflow"]
            for menu in menus:
                assert all(
                    len(o["text"]["text"]) <= 75 and not o["text"]["text"].endswith("…") for o in menu["options"]
                )
            block = {**block, "elements": [e for e in block["elements"] if e.get("type") != "overflow"]}
            if not block["elements"]:
                continue
        kept.append(block)
    return kept


def _modal_limits(view: dict) -> None:
    for key in ("title", "submit", "close"):
        if key in view:
            text = view[key]["text"]
            assert len(text) <= 24 and not text.endswith("…"), f"{key} {text!r} is cut"


@pytest.mark.parametrize("language", TRANSLATED)
def test_everything_fits_slack_and_nothing_is_cut_or_left_in_english(language):
    problems = []
    for what, payload in all_views(language):
        if payload.get("type") == "modal":
            _modal_limits(payload)
        if payload.get("blocks"):
            check_limits(
                _buttons_only(payload["blocks"]), max_blocks=100 if payload.get("type") in ("modal", "home") else 50
            )
        shown = json.dumps(payload, ensure_ascii=False)
        for button in re.findall(
            r'"type": "button", "action_id": "[a-z_]+", "style": "primary", "value": "[^"]*", '
            r'"text": \{"type": "plain_text", "text": "([^"]*)"',
            shown,
        ):
            if button.endswith("…"):
                problems.append(f"{what}: button cut: {button!r}")
        left = leftovers(shown, language)
        if left:
            problems.append(f"{what}: English left: {left[:3]}")
    assert problems == [], "\n".join(problems[:20])


def test_english_renders_the_same_texts_it_always_did():
    """English is the source: no catalogue is read, and a sample of the card is word for word."""
    answer = explain(parse_order(ORDERS[0]), KB, NOW)
    card = order_card(answer, "acme", now=NOW)
    assert card.blocks[0]["text"]["text"] == "Order 1500000000001-01 · Handling shipping"
    assert "Short by *R$ 129,90*: add a partial invoice for what is missing." in card.blocks[1]["text"]["text"]


@pytest.mark.parametrize(("language", "word"), [("pt-BR", "Preparando entrega"), ("es", "Preparando envío")])
def test_status_names_follow_vtex_admin_in_each_language(language, word):
    with i18n.use(language):
        answer = explain(parse_order(ORDERS[0]), KB, NOW)
        header = order_card(answer, "acme", now=NOW).blocks[0]["text"]["text"]
    assert header.endswith(f" · {word}")


def test_the_dates_on_a_card_are_in_the_readers_language():
    with i18n.use("pt-BR"):
        answer = explain(parse_order(ORDERS[0]), KB, NOW)
        facts = json.dumps(order_card(answer, "acme", now=NOW).blocks, ensure_ascii=False)
    issued = datetime.fromisoformat(ORDERS[0]["packageAttachment"]["packages"][0]["issuanceDate"]).astimezone(UTC)
    with i18n.use("pt-BR"):
        assert i18n.date_text(issued) in facts and " de " in i18n.date_text(issued)
