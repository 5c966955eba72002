import pytest

from bot.doubles.stack import OPERATOR, VIEWER
from tests.handlers.helpers import buttons, cards, ephemeral_to, text_of, wait_card


def open_form(stack, order_id="1500000000001-01"):
    stack.driver.slash(VIEWER, order_id)
    card = cards(stack)[0]
    assert stack.driver.click(OPERATOR, card, "add_partial_invoice").status == 200
    view = stack.slack.wait(lambda: (v := stack.slack.top_view(OPERATOR)) and "Re-reading" not in text_of(v) and v)
    return card, view


def field(view, block_id):
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)["element"]


def test_the_modal_opens_prefilled_with_the_missing_amount_and_a_new_number(stack):
    _, view = open_form(stack)
    assert view["title"]["text"] == "Add partial invoice"
    assert field(view, "value_block")["initial_value"] == "129,90"
    assert field(view, "number_block")["initial_value"] == "NF10001-2"
    assert field(view, "date_block")["type"] == "datepicker" and field(view, "time_block")["type"] == "timepicker"
    assert "missing *R$ 129,90* of *R$ 259,90*" in text_of(view)


def test_a_first_invoice_is_labelled_as_such(stack):
    stack.driver.slash(VIEWER, "1500000000003-01")
    card = cards(stack)[0]
    assert card.blocks[-1]["elements"][0]["text"]["text"] == "Add invoice of R$ 424,90"
    stack.driver.click(OPERATOR, card, "add_partial_invoice")
    view = stack.slack.wait(lambda: (v := stack.slack.top_view(OPERATOR)) and "Re-reading" not in text_of(v) and v)
    assert view["title"]["text"] == "Add invoice" and "has no invoice yet" in text_of(view)


@pytest.mark.parametrize(
    ("values", "block", "words"),
    [
        ({"number_block": "NF 10001/2"}, "number_block", "only letters, digits and '-'"),
        ({"number_block": "nf10001"}, "number_block", "already on this order"),
        ({"number_block": ""}, "number_block", "Enter the invoice number"),
        ({"value_block": "130,00"}, "value_block", "At most R$ 129,90"),
        ({"value_block": "0"}, "value_block", "greater than zero"),
        ({"value_block": "lots"}, "value_block", "129,90"),
        ({"url_block": "erp/nf.pdf"}, "url_block", "http://"),
        ({"key_block": "KEY WITH SPACES"}, "key_block", "letters and digits"),
        ({"date_block": "2099-01-01"}, "date_block", "future"),
    ],
)
def test_validation_errors_appear_under_the_fields(stack, values, block, words):
    open_form(stack)
    reply = stack.driver.submit(OPERATOR, values)
    body = reply.json()
    assert body["response_action"] == "errors"
    assert words in body["errors"][block]
    assert stack.vtex.invoice_posts() == []


def test_review_shows_exactly_what_will_be_posted_and_the_resulting_total(stack):
    open_form(stack)
    stack.driver.submit(
        OPERATOR,
        {
            "value_block": "100,00",
            "number_block": "NF-777",
            "key_block": "ABC123",
            "date_block": "2026-11-27",
            "time_block": "09:30",
        },
    )
    preview = stack.slack.top_view(OPERATOR)
    text = text_of(preview)
    assert preview["submit"]["text"] == "Send to VTEX" and preview["close"]["text"] == "Back"
    assert "R$ 230,00 of R$ 259,90" in text and "R$ 29,90 will still be missing" in text
    assert '"invoiceNumber": "NF-777"' in text and '"invoiceValue": 10000' in text
    assert '"issuanceDate": "2026-11-27T09:30:00+00:00"' in text and '"invoiceKey": "ABC123"' in text
    stack.driver.submit(OPERATOR)
    post = stack.slack.wait(lambda: stack.vtex.invoice_posts())[0].json()
    assert post["invoiceNumber"] == "NF-777" and post["invoiceValue"] == 10000 and post["invoiceKey"] == "ABC123"
    assert post["issuanceDate"] == "2026-11-27T09:30:00+00:00"
    assert post["items"] == [{"id": "2001", "price": 11995, "quantity": 1}]
    assert '"id": "2001",\n   "price": 11995,\n   "quantity": 1' in text  # the preview showed the same items


def test_confirmed_partial_invoice_completes_the_order_and_updates_the_card(stack):
    card, _ = open_form(stack)
    stack.driver.submit(OPERATOR)  # the prefilled form is valid
    assert stack.driver.submit(OPERATOR).json() == {"response_action": "clear"}
    assert stack.slack.top_view(OPERATOR) is None
    updated = wait_card(stack, card.ts, "sent to VTEX")
    assert "NF10001-2" in text_of(updated) and buttons(updated.blocks) == []
    wait_card(stack, card.ts, "now *Invoiced*")
    assert stack.vtex.order("1500000000001-01")["status"] == "invoiced"


def test_submitting_the_same_review_twice_sends_once(stack):
    open_form(stack)
    stack.driver.submit(OPERATOR)
    preview = stack.slack.top_view(OPERATOR)
    from bot.doubles.slack import form_state

    payload = {
        "type": "view_submission",
        "team": {"id": "T0UNSTUCK"},
        "user": {"id": OPERATOR},
        "view": {**preview, "state": {"values": form_state(preview, {})}},
    }
    stack.driver.send_payload(payload)
    stack.driver.send_payload(payload)
    stack.slack.wait(lambda: stack.vtex.invoice_posts())
    assert ephemeral_to(stack, OPERATOR, "Nothing else was sent")
    assert len(stack.vtex.invoice_posts()) == 1


def test_missing_amount_changed_while_the_form_was_open_sends_nothing(stack):
    card, _ = open_form(stack)
    stack.driver.submit(OPERATOR)
    order = stack.vtex.order("1500000000001-01")
    order["packageAttachment"]["packages"].append(
        {
            "type": "Output",
            "invoiceNumber": "ERP-9",
            "invoiceValue": 2990,
            "issuanceDate": "2026-11-27T10:00:00+00:00",
            "items": [],
        }
    )
    stack.vtex.add(order)
    stack.driver.submit(OPERATOR)
    updated = wait_card(stack, card.ts, "Nothing was sent")
    assert "changed from R$ 129,90 to R$ 100,00" in text_of(updated)
    assert stack.vtex.invoice_posts() == []


def test_a_viewer_cannot_open_the_form(stack):
    stack.driver.slash(VIEWER, "1500000000001-01")
    card = cards(stack)[0]
    stack.driver.click(VIEWER, card, "add_partial_invoice")
    assert ephemeral_to(stack, VIEWER, "only operators")
    assert stack.slack.top_view(VIEWER) is None


def test_order_invoiced_before_the_form_opened_shows_nothing_to_add(stack):
    stack.driver.slash(VIEWER, "1500000000001-01")
    card = cards(stack)[0]
    order = stack.vtex.order("1500000000001-01")
    order["status"] = "invoiced"
    stack.vtex.add(order)
    stack.driver.click(OPERATOR, card, "add_partial_invoice")
    view = stack.slack.wait(lambda: (v := stack.slack.top_view(OPERATOR)) and "Nothing was sent" in text_of(v) and v)
    assert "already invoiced" in text_of(view)


def test_reviews_without_a_view_id_are_told_apart_by_their_content(stack):
    """A driver that omits view ids must still get one POST per distinct invoice, and one per repeat."""
    from bot.doubles.slack import form_state

    open_form(stack)
    stack.driver.submit(OPERATOR, {"value_block": "10,00", "number_block": "NF-A"})
    first = {k: v for k, v in stack.slack.top_view(OPERATOR).items() if k not in ("id", "root_view_id")}
    payload = {
        "type": "view_submission",
        "team": {"id": "T0UNSTUCK"},
        "user": {"id": OPERATOR},
        "view": {**first, "state": {"values": form_state(first, {})}},
    }
    stack.driver.send_payload(payload)
    stack.driver.send_payload(payload)
    stack.slack.wait(lambda: len(stack.vtex.invoice_posts()) == 1)
    # a second review, made after the first invoice: new number, and the missing amount it then showed
    second = dict(
        first, private_metadata=first["private_metadata"].replace('"NF-A"', '"NF-B"').replace('"a":12990', '"a":11990')
    )
    stack.driver.send_payload({**payload, "view": {**second, "state": {"values": {}}}})
    stack.slack.wait(lambda: len(stack.vtex.invoice_posts()) == 2)
    assert [p.json()["invoiceNumber"] for p in stack.vtex.invoice_posts()] == ["NF-A", "NF-B"]
