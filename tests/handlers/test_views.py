import pytest

from bot.doubles.stack import OPERATOR, VIEWER
from tests.handlers.helpers import buttons, cards, ephemeral_to, first_button, text_of, wait_card


def open_form(stack, order_id="1500000000001-01"):
    stack.driver.slash(VIEWER, order_id)
    card = cards(stack)[0]
    assert stack.driver.click(OPERATOR, card, "add_partial_invoice").status == 200
    view = stack.slack.wait(lambda: (v := stack.slack.top_view(OPERATOR)) and "Re-reading" not in text_of(v) and v)
    return card, view


def field(view, block_id):
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)["element"]


NFE = "35261112345678000190550010000123451000012344"  # a valid NF-e access key (check digit included)


def test_the_modal_lists_what_is_open_and_invents_nothing(stack):
    _, view = open_form(stack)
    assert view["title"]["text"] == "Add partial invoice"
    assert "missing *R$ 129,90* of *R$ 259,90*" in text_of(view)
    number = field(view, "number_block")
    assert "initial_value" not in number  # the number comes from the ERP, never from the bot
    item = field(view, "item_0")
    assert (item["type"], item["initial_value"], item["max_value"]) == ("number_input", "1", "1")
    assert "T-shirt M" in text_of(view) and "R$ 119,95 each" in text_of(view)
    other = field(view, "other_block")
    assert other["type"] == "checkboxes" and "R$ 9,95" in other["initial_options"][0]["text"]["text"]
    assert "initial_value" not in field(view, "value_block")
    assert field(view, "date_block")["type"] == "datepicker" and "initial_time" not in field(view, "time_block")
    assert "America/Sao_Paulo" in text_of(view)
    assert len(view["private_metadata"]) < 100


def test_a_first_invoice_is_labelled_as_such(stack):
    stack.driver.slash(VIEWER, "1500000000003-01")
    card = cards(stack)[0]
    assert first_button(card)["text"]["text"] == "Add invoice of R$ 424,90"
    stack.driver.click(OPERATOR, card, "add_partial_invoice")
    view = stack.slack.wait(lambda: (v := stack.slack.top_view(OPERATOR)) and "Re-reading" not in text_of(v) and v)
    assert view["title"]["text"] == "Add invoice" and "has no invoice yet" in text_of(view)


# A date in the past whatever the hour the suite runs at (today at 09:30 is in the future before 09:30).
VALID = {"number_block": "NF-777", "date_block": "2026-11-27", "time_block": "09:30"}


@pytest.mark.parametrize(
    ("values", "block", "words"),
    [
        ({"number_block": "NF 10001/2"}, "number_block", "only letters, digits and '-'"),
        ({"number_block": "nf10001"}, "number_block", "already on this order"),
        ({"number_block": ""}, "number_block", "Enter the invoice number"),
        ({"value_block": "130,00"}, "value_block", "cannot exceed what is missing, R$ 129,90"),
        ({"value_block": "129,91"}, "value_block", "cannot exceed what is missing, R$ 129,90"),
        ({"value_block": "119,94"}, "value_block", "add up to R$ 119,95"),
        ({"value_block": "12,00", "other_block": ""}, "value_block", "add up to R$ 119,95"),
        ({"value_block": "119,96", "other_block": ""}, "value_block", "At most R$ 119,95"),
        ({"value_block": "0"}, "value_block", "greater than zero"),
        ({"value_block": "lots"}, "value_block", "129,90"),
        ({"value_block": "1,234"}, "value_block", "two ways"),
        ({"item_0": "2"}, "item_0", "only 1 unit(s)"),
        ({"item_0": "0", "other_block": ""}, "value_block", "greater than zero"),
        ({"url_block": "erp/nf.pdf"}, "url_block", "http://"),
        ({"key_block": "KEY WITH SPACES"}, "key_block", "44 digits"),
        ({"key_block": NFE[:-1] + "5"}, "key_block", "does not match"),
        ({"date_block": "2099-01-01"}, "date_block", "future"),
        ({"time_block": ""}, "time_block", "Pick the date and the time"),
    ],
)
def test_problems_appear_under_their_fields(stack, values, block, words):
    open_form(stack)
    reply = stack.driver.submit(OPERATOR, {**VALID, **values})
    body = reply.json()
    assert body["response_action"] == "errors"
    assert words in body["errors"][block]
    assert stack.vtex.invoice_posts() == []


@pytest.mark.parametrize(("typed", "cents"), [("129,90", 12990), ("129,89", 12989), ("119,95", 11995), ("", 12990)])
def test_the_value_may_be_lowered_down_to_the_goods_for_rounding(stack, typed, cents):
    open_form(stack)
    stack.driver.submit(OPERATOR, {**VALID, "value_block": typed})
    assert f'"invoiceValue": "{cents}"' in text_of(stack.slack.top_view(OPERATOR))
    stack.driver.submit(OPERATOR)
    post = stack.slack.wait(lambda: stack.vtex.invoice_posts())[0].json()
    assert post["invoiceValue"] == str(cents) and post["items"] == [{"id": "2001", "price": 11995, "quantity": 1}]


def test_review_shows_exactly_what_will_be_posted_and_the_resulting_total(stack):
    open_form(stack)
    stack.driver.submit(
        OPERATOR,
        {
            "value_block": "100,00",
            "item_0": "0",
            "number_block": "NF-777",
            "key_block": NFE,
            "date_block": "2026-11-27",
            "time_block": "09:30",
        },
    )
    assert stack.slack.top_view(OPERATOR)["callback_id"] == "partial_invoice_form"  # 100,00 > the 9,95 chosen
    stack.driver.submit(
        OPERATOR, {"number_block": "NF-777", "key_block": NFE, "date_block": "2026-11-27", "time_block": "09:30"}
    )
    preview = stack.slack.top_view(OPERATOR)
    text = text_of(preview)
    assert preview["submit"]["text"] == "Send to VTEX" and preview["close"]["text"] == "Back"
    assert "R$ 259,90 of R$ 259,90" in text and "move to *Invoiced*" in text
    assert '"invoiceNumber": "NF-777"' in text and '"invoiceValue": "12990"' in text
    assert '"issuanceDate": "2026-11-27T09:30:00-03:00"' in text and f'"invoiceKey": "{NFE}"' in text
    stack.driver.submit(OPERATOR)
    post = stack.slack.wait(lambda: stack.vtex.invoice_posts())[0].json()
    assert post["invoiceNumber"] == "NF-777" and post["invoiceValue"] == "12990" and post["invoiceKey"] == NFE
    assert post["issuanceDate"] == "2026-11-27T09:30:00-03:00"
    assert post["items"] == [{"id": "2001", "price": 11995, "quantity": 1}]
    assert '"id": "2001",\n   "price": 11995,\n   "quantity": 1' in text  # the preview showed the same items
    assert stack.vtex.schema_violations == []


def test_confirmed_partial_invoice_completes_the_order_and_updates_the_card(stack):
    card, _ = open_form(stack)
    stack.driver.submit(OPERATOR, VALID)  # number and time are all the operator must add
    assert stack.driver.submit(OPERATOR).json() == {"response_action": "clear"}
    assert stack.slack.top_view(OPERATOR) is None
    updated = wait_card(stack, card.ts, "sent to VTEX")
    assert "NF-777" in text_of(updated) and buttons(updated.blocks) == []
    wait_card(stack, card.ts, "now *Invoiced*")
    assert stack.vtex.order("1500000000001-01")["status"] == "invoiced"


def test_submitting_the_same_review_twice_sends_once(stack):
    open_form(stack)
    stack.driver.submit(OPERATOR, VALID)
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
    stack.driver.submit(OPERATOR, VALID)
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
    assert ephemeral_to(stack, VIEWER, "only the team's operators")
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

    def reviewed(values, nth):
        stack.driver.slash(VIEWER, "1500000000001-01")
        stack.driver.click(OPERATOR, cards(stack, nth)[-1], "add_partial_invoice")
        stack.slack.wait(lambda: (v := stack.slack.top_view(OPERATOR)) and "Re-reading" not in text_of(v))
        stack.driver.submit(OPERATOR, values)
        view = {k: v for k, v in stack.slack.top_view(OPERATOR).items() if k not in ("id", "root_view_id")}
        stack.driver.close_modal(OPERATOR)
        stack.driver.close_modal(OPERATOR)
        return {
            "type": "view_submission",
            "team": {"id": "T0UNSTUCK"},
            "user": {"id": OPERATOR},
            "view": {**view, "state": {"values": form_state(view, {})}},
        }

    shipping_only = reviewed({**VALID, "number_block": "NF-A", "item_0": "0"}, 1)
    stack.driver.send_payload(shipping_only)
    stack.driver.send_payload(shipping_only)
    stack.slack.wait(lambda: len(stack.vtex.invoice_posts()) == 1)
    the_shirt = reviewed({**VALID, "number_block": "NF-B"}, 2)
    stack.driver.send_payload(the_shirt)
    stack.slack.wait(lambda: len(stack.vtex.invoice_posts()) == 2)
    posts = [p.json() for p in stack.vtex.invoice_posts()]
    assert [(p["invoiceNumber"], p["invoiceValue"], len(p["items"])) for p in posts] == [
        ("NF-A", "995", 0),
        ("NF-B", "11995", 1),
    ]


def test_a_form_from_before_version_2_is_refused_not_misread(stack):
    open_form(stack)
    stored = stack.slack.views[stack.slack.stacks[OPERATOR][-1]]
    stored["private_metadata"] = '{"o":"1500000000001-01","a":12990,"n":"NF10001-2"}'
    reply = stack.driver.submit(OPERATOR, VALID)
    assert "out of date" in reply.json()["errors"]["number_block"]
    assert stack.vtex.invoice_posts() == []
