"""The invoice rules, each on its own: every money boundary at missing - 1, missing and missing + 1 cent,
in a 2-decimal and a 0-decimal currency, and every payload against VTEX's published request schema."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.contract import invoice_problems
from bot.invoices import (
    InvalidInvoice,
    InvoiceItem,
    InvoiceRequest,
    PartialDraft,
    check_date,
    check_items,
    check_key,
    check_number,
    check_partial,
    check_url,
    check_value,
    nfe_check_digit_ok,
    open_lines,
    other_owed,
    partial_request,
    resend_request,
    value_ceiling,
    whole_draft,
)
from bot.order import parse_order
from bot.sandbox import CLP
from tests.factories import invoice, order_json

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ISSUED = NOW - timedelta(hours=1)
# A valid NF-e key (the last digit is the modulo-11 check of the other 43).
NFE = "35261112345678000190550010000123451000012344"


def two_skus(currency=None, *, paid=None):
    """R$ 160,00: lamp 100,00 + mug 50,00 + shipping 10,00 (or the same in CLP cents)."""
    data = order_json(
        value=16000,
        items=[
            {"id": "77", "name": "Lamp", "quantity": 1, "price": 10000, "sellingPrice": 10000, "seller": "1"},
            {"id": "88", "name": "Mug", "quantity": 1, "price": 5000, "sellingPrice": 5000, "seller": "1"},
        ],
        invoices=paid or [],
    )
    if currency:
        data["storePreferencesData"] = currency
    return parse_order(data)


def draft(order, items=None, *, other=True, value=None, number="NF-2", issued=ISSUED, key=None, url=None):
    chosen = tuple(items) if items is not None else tuple(line.item() for line in open_lines(order))
    return PartialDraft(number, issued, chosen, other, value, key, url)


def line(order, sku):
    return next(li for li in open_lines(order) if li.sku == sku)


# -- what is open ---------------------------------------------------------------------------------


def test_open_lines_and_other_owed_follow_the_invoices_on_the_order():
    order = two_skus(paid=[invoice("NF-1", 10500, items=[{"itemIndex": 0, "quantity": 1, "price": 10000}])])
    assert [(li.sku, li.quantity, li.price) for li in open_lines(order)] == [("88", 1, 5000)]
    assert order.missing == 5500 and other_owed(order) == 500


def test_split_prices_are_used_and_consumed_by_price():
    data = order_json(
        value=10000,
        items=[
            {
                "id": "7001",
                "quantity": 3,
                "price": 3333,
                "sellingPrice": 3333,
                "priceDefinition": {"sellingPrices": [{"value": 3333, "quantity": 2}, {"value": 3334, "quantity": 1}]},
            }
        ],
        invoices=[invoice("NF-1", 3334, items=[{"itemIndex": 0, "quantity": 1, "price": 3334}])],
    )
    order = parse_order(data)
    assert [(li.price, li.quantity) for li in open_lines(order)] == [(3333, 2)]
    assert order.missing == 6666 and other_owed(order) == 0


def test_split_prices_that_do_not_add_up_fall_back_to_the_selling_price():
    data = order_json(
        value=10000,
        items=[
            {"id": "1", "quantity": 3, "price": 3000, "sellingPrice": 3100, "priceDefinition": {"sellingPrices": []}}
        ],
    )
    assert [(li.price, li.quantity) for li in open_lines(parse_order(data))] == [(3100, 3)]


# -- the value: every boundary, in BRL and CLP ----------------------------------------------------


@pytest.mark.parametrize("currency", [None, CLP], ids=["BRL", "CLP"])
def test_value_boundaries_at_the_missing_amount(currency):
    order = two_skus(currency)
    everything = tuple(li.item() for li in open_lines(order))
    missing = order.missing
    assert missing == 16000
    assert check_value(order, missing, everything, True) is None
    assert check_value(order, missing - 1, everything, True) is None  # a cent less, for the ERP's rounding
    assert "cannot exceed" in check_value(order, missing + 1, everything, True)


def test_value_may_go_down_only_as_far_as_the_goods_chosen():
    order = two_skus()
    lamp = (line(order, "77").item(),)
    assert value_ceiling(order, lamp, True) == 11000
    assert check_value(order, 11000, lamp, True) is None
    assert "At most R$ 110,00" in check_value(order, 11001, lamp, True)
    assert check_value(order, 10001, lamp, True) is None  # rounding within the shipping part
    assert check_value(order, 10000, lamp, True) is None
    assert "add up to R$ 100,00" in check_value(order, 9999, lamp, True)


def test_without_the_charges_the_value_is_the_goods():
    order = two_skus()
    lamp = (line(order, "77").item(),)
    assert value_ceiling(order, lamp, False) == 10000
    assert check_value(order, 10000, lamp, False) is None
    assert "At most R$ 100,00" in check_value(order, 10001, lamp, False)


@pytest.mark.parametrize("value", [0, -1, -16000])
def test_zero_and_negative_values_are_refused(value):
    order = two_skus()
    assert "greater than zero" in check_value(order, value, (), True)


def test_one_cent_is_a_value():
    order = two_skus()
    assert check_value(order, 1, (), True) is None  # a cent of the shipping still owed
    assert "At most R$ 0,00" in check_value(order, 1, (), False)


def test_fifty_reais_on_a_hundred_and_sixty_cannot_claim_both_skus():
    order = two_skus()
    request, problems = check_partial(order, draft(order, value=5000), NOW)
    assert request is None and "add up to R$ 150,00" in problems["value"]
    mug_only = draft(order, [line(order, "88").item()], other=False, value=5000)
    request = partial_request(order, mug_only, NOW)
    assert request.invoice_value == 5000 and [(i.id, i.quantity, i.price) for i in request.items] == [("88", 1, 5000)]


# -- the items ------------------------------------------------------------------------------------


def test_items_boundaries_at_the_open_quantity():
    order = parse_order(order_json(value=8000))  # 2 lamps at 40,00, none invoiced
    lamp = open_lines(order)[0]
    assert check_items(order, (lamp.item(2),)) is None
    assert check_items(order, (lamp.item(1),)) is None
    assert "only 2 unit(s)" in check_items(order, (lamp.item(3),))
    assert "negative" in check_items(order, (lamp.item(-1),))


def test_an_item_already_invoiced_is_never_claimed_again():
    order = parse_order(
        order_json(value=8000, invoices=[invoice("NF-1", 4000, items=[{"itemIndex": 0, "quantity": 1, "price": 4000}])])
    )
    assert "only 1 unit(s)" in check_items(order, (InvoiceItem("77", 4000, 2, 0),))
    assert check_items(order, (InvoiceItem("77", 4000, 1, 0),)) is None
    assert "only 0 unit(s)" in check_items(order, (InvoiceItem("77", 3999, 1, 0),))  # not a price VTEX has


def test_the_same_line_twice_counts_once():
    order = parse_order(order_json(value=8000))
    lamp = open_lines(order)[0]
    assert "only 1 unit(s)" in check_items(order, (lamp.item(1), lamp.item(2)))


def test_items_never_add_up_to_more_than_the_invoice_value():
    order = two_skus()
    request, problems = check_partial(order, draft(order, value=14999), NOW)
    assert request is None and "add up to R$ 150,00" in problems["value"]
    request = partial_request(order, draft(order, value=15000), NOW)
    assert request.items_total == 15000 == request.invoice_value


def test_only_shipping_missing_sends_no_items():
    order = two_skus(
        paid=[
            invoice(
                "NF-1",
                15000,
                items=[{"itemIndex": 0, "quantity": 1, "price": 10000}, {"itemIndex": 1, "quantity": 1, "price": 5000}],
            )
        ]
    )
    assert open_lines(order) == [] and other_owed(order) == 1000
    request = partial_request(order, draft(order, []), NOW)
    assert request.invoice_value == 1000 and request.items == []


# -- number, date, key, URL -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "words"),
    [("", "Enter the invoice number"), ("NF 1/2", "only letters"), ("-NF1", "only letters"), ("nf-1", "already on")],
)
def test_invoice_numbers(number, words):
    order = two_skus(paid=[invoice("NF-1", 100)])
    assert words in check_number(number, order)


def test_a_new_number_passes():
    assert check_number("NF-2", two_skus(paid=[invoice("NF-1", 100)])) is None


def test_dates_boundaries_at_now():
    assert check_date(NOW, NOW) is None
    assert check_date(NOW - timedelta(microseconds=1), NOW) is None
    assert "future" in check_date(NOW + timedelta(microseconds=1), NOW)
    assert "time zone" in check_date(datetime(2026, 11, 28, 11), NOW)
    assert "Enter the issuance date" in check_date(None, NOW)


def test_nfe_keys_on_brazilian_orders():
    order = two_skus()
    assert nfe_check_digit_ok(NFE)
    assert check_key(NFE, order) is None
    assert "44 digits" in check_key(NFE[:-1], order)
    assert "44 digits" in check_key(NFE + "1", order)
    assert "does not match" in check_key(NFE[:-1] + str((int(NFE[-1]) + 1) % 10), order)
    assert check_key(None, order) is None


def test_other_countries_keys_are_letters_and_digits():
    order = two_skus(CLP)
    assert check_key("ABC123", order) is None
    assert "letters and digits" in check_key("ABC 123", order)


@pytest.mark.parametrize("url", ["erp/nf.pdf", "ftp://x", "https://a b", "https://" + "a" * 2000])
def test_bad_urls(url):
    assert "http" in check_url(url)


def test_good_url():
    assert check_url("https://erp.example.com/nf/1.pdf") is None


def test_problems_are_keyed_by_field_and_all_reported():
    order = two_skus(paid=[invoice("NF-1", 100)])
    _, problems = check_partial(
        order, draft(order, number="NF-1", issued=NOW + timedelta(days=1), key="1", url="x"), NOW
    )
    assert set(problems) == {"number", "date", "key", "url"}


# -- the payloads, against VTEX's published schema -------------------------------------------------


def test_partial_payload_follows_the_schema_to_the_letter():
    order = two_skus(CLP)
    body = partial_request(order, draft(order, key="ABC1", url="https://erp.example.com/1"), NOW).to_json()
    assert invoice_problems(body) == []
    assert body["invoiceValue"] == "16000" and isinstance(body["invoiceValue"], str)
    assert body["items"] == [{"id": "77", "price": 10000, "quantity": 1}, {"id": "88", "price": 5000, "quantity": 1}]
    assert body["issuanceDate"] == ISSUED.isoformat() and body["courier"] == "" and "cfop" not in body


def test_resend_payload_follows_the_schema_and_names_the_skus():
    paid = invoice(
        "NF-1", 16000, cfop="5102", items=[{"itemIndex": 1, "quantity": 1, "price": 5000, "description": "x"}]
    )
    order = two_skus(paid=[paid])
    body = resend_request(order.output_invoices[0], order).to_json()
    assert invoice_problems(body) == []
    assert body["items"] == [{"id": "88", "price": 5000, "quantity": 1}] and "cfop" not in body


def test_a_resend_never_invents_an_sku():
    order = two_skus(paid=[invoice("NF-1", 16000, items=[{"itemIndex": 7, "quantity": 1, "price": 5000}])])
    with pytest.raises(InvalidInvoice, match="index 7"):
        resend_request(order.output_invoices[0], order)


def test_the_whole_draft_is_everything_still_owed():
    order = two_skus(paid=[invoice("NF-1", 10500, items=[{"itemIndex": 0, "quantity": 1, "price": 10000}])])
    request = partial_request(order, whole_draft(order, number="NF-2", issuance_date=ISSUED), NOW)
    assert request.invoice_value == order.missing == 5500 and request.items_total == 5000


def test_the_schema_catches_what_vtex_would_refuse():
    assert any(
        "invoiceValue" in p
        for p in invoice_problems(
            {"type": "Output", "issuanceDate": "x", "invoiceNumber": "1", "invoiceValue": 1, "items": []}
        )
    )
    assert any("required" in p for p in invoice_problems({"type": "Output"}))
    assert any(
        "items.0" in p
        for p in invoice_problems(
            {"type": "Output", "issuanceDate": "x", "invoiceNumber": "1", "invoiceValue": "1", "items": [{"id": "1"}]}
        )
    )


def test_when_the_open_items_are_worth_more_than_what_is_missing_the_missing_goes_without_items():
    # NF-1 counted 140,00 for the lamp alone: 20,00 are missing, yet the mug still open is worth 50,00.
    order = two_skus(paid=[invoice("NF-1", 14000, items=[{"itemIndex": 0, "quantity": 1, "price": 10000}])])
    assert order.missing == 2000 and other_owed(order) == 2000
    request = partial_request(order, whole_draft(order, number="NF-2", issuance_date=ISSUED), NOW)
    assert request.invoice_value == 2000 and request.items == []
    _, problems = check_partial(order, draft(order, [line(order, "88").item()]), NOW)
    assert "add up to R$ 50,00" in problems["value"]


# -- each rule's own words and boundaries (mutation tests, issue 16) -----------------------------------

CURRENCIES = pytest.mark.parametrize(
    ("currency", "shown"),
    [(None, {16000: "R$ 160,00", 1: "R$ 0,01"}), (CLP, {16000: "$ 160", 1: "$ 0"})],
    ids=["BRL", "CLP"],
)


@CURRENCIES
def test_the_request_builder_checks_the_value_itself_at_missing_plus_or_minus_a_cent(currency, shown):
    order = two_skus(currency)
    assert order.missing == 16000
    for value in (16000, 15999):
        request = partial_request(order, draft(order, value=value), NOW)
        assert request.invoice_value == value and request.to_json()["invoiceValue"] == str(value)
    request, problems = check_partial(order, draft(order, value=16001), NOW)
    assert request is None
    assert problems == {"value": f"The value cannot exceed what is missing, {shown[16000]}."}
    with pytest.raises(InvalidInvoice) as caught:
        partial_request(order, draft(order, value=16001), NOW)
    assert caught.value.field == "value" and str(caught.value) == problems["value"]


@CURRENCIES
@pytest.mark.parametrize("value", [0, -1])
def test_the_request_builder_refuses_zero_and_negative_values(currency, shown, value):
    order = two_skus(currency)
    request, problems = check_partial(order, draft(order, [], value=value), NOW)
    assert request is None
    assert problems == {
        "value": "The value must be greater than zero: choose at least one item or the shipping still owed."
    }


@CURRENCIES
def test_an_order_one_cent_short_takes_exactly_one_cent(currency, shown):
    paid = [invoice("NF-1", 15999, items=[{"itemIndex": 0, "quantity": 1, "price": 10000}])]
    order = two_skus(currency, paid=paid)
    assert order.missing == 1 and other_owed(order) == 1
    whole = partial_request(order, whole_draft(order, number="NF-2", issuance_date=ISSUED), NOW)
    assert whole.invoice_value == 1 and whole.items == []  # the open mug (50,00) is worth more than the cent
    _, problems = check_partial(order, draft(order, [], value=2), NOW)
    assert problems == {"value": f"The value cannot exceed what is missing, {shown[1]}."}


@pytest.mark.parametrize("paid", [16000, 16001], ids=["covered exactly", "over by one cent"])
def test_nothing_may_be_invoiced_on_an_order_already_covered(paid):
    order = two_skus(paid=[invoice("NF-1", paid, items=[{"itemIndex": 0, "quantity": 1, "price": 10000}])])
    assert other_owed(order) == 0 and value_ceiling(order, (), True) == 0
    assert check_value(order, 1, (), True) == "The value cannot exceed what is missing, R$ 0,00."
    _, problems = check_partial(order, draft(order, [], value=1), NOW)
    assert problems == {"value": "The value cannot exceed what is missing, R$ 0,00."}


def test_check_value_messages_word_for_word():
    order = two_skus()
    lamp = (line(order, "77").item(),)
    assert check_value(order, 9999, lamp, True) == (
        "The items you chose add up to R$ 100,00, more than the value R$ 99,99: remove an item or lower a quantity."
    )
    assert check_value(order, 11001, lamp, True) == "At most R$ 110,00 for the items and shipping you chose."


def test_the_whole_draft_takes_every_unit_when_they_fit_exactly():
    order = parse_order(order_json(value=8000))  # two lamps at 40,00 and no shipping: goods == missing
    assert [i.quantity for i in whole_draft(order, number="NF-1", issuance_date=ISSUED).items] == [2]
    # One cent of goods left open on an order already covered: it does not fit in nothing.
    covered = parse_order(
        order_json(
            value=1,
            items=[{"id": "5", "name": "Pin", "quantity": 1, "price": 1, "sellingPrice": 1}],
            invoices=[invoice("NF-1", 1, items=[])],
        )
    )
    assert covered.missing == 0 and [li.total for li in open_lines(covered)] == [1]
    assert [i.quantity for i in whole_draft(covered, number="NF-2", issuance_date=ISSUED).items] == [0]


def test_open_lines_carry_the_item_names_the_form_shows():
    assert [(li.index, li.sku, li.name, li.price, li.quantity) for li in open_lines(two_skus())] == [
        (0, "77", "Lamp", 10000, 1),
        (1, "88", "Mug", 5000, 1),
    ]


def test_a_zero_quantity_is_allowed_and_takes_nothing():
    order = parse_order(order_json(value=8000))
    lamp = open_lines(order)[0]
    assert check_items(order, (lamp.item(0),)) is None
    assert check_items(order, (lamp.item(-1),)) == "Quantities cannot be negative."
    # An item that is on no open line: zero units of it are nothing, one unit is too many.
    stray = (InvoiceItem("99", 4000, 0, None), InvoiceItem("99", 4000, 1, None))
    assert check_items(order, stray) == "SKU 99: only 0 unit(s) at R$ 40,00 are not yet invoiced; 1 chosen."


def test_an_item_without_an_order_index_never_matches_an_open_line():
    order = two_skus()
    mug_without_index = InvoiceItem("88", 5000, 1, None)
    assert check_items(order, (mug_without_index,)) == (
        "SKU 88: only 0 unit(s) at R$ 50,00 are not yet invoiced; 1 chosen."
    )


def test_problems_name_the_field_and_an_item_problem_hides_the_value_problem():
    order = two_skus()
    too_many = draft(order, [line(order, "77").item(2)], value=16001)
    request, problems = check_partial(order, too_many, NOW)
    assert request is None
    assert problems == {"items": "SKU 77: only 1 unit(s) at R$ 100,00 are not yet invoiced; 2 chosen."}
    _, problems = check_partial(order, draft(order, number=""), NOW)
    assert problems == {"number": "Enter the invoice number of the fiscal document your ERP issued."}


def test_key_and_url_reach_the_request():
    order = two_skus(CLP)
    request = partial_request(order, draft(order, key="ABC1", url="https://erp.example.com/1"), NOW)
    assert (request.invoice_number, request.invoice_key, request.invoice_url) == (
        "NF-2",
        "ABC1",
        "https://erp.example.com/1",
    )
    request = partial_request(order, draft(order, key="", url=""), NOW)
    assert (request.invoice_key, request.invoice_url) == (None, None)


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("", "Enter the invoice number of the fiscal document your ERP issued."),
        ("NF 1", "Use only letters, digits and '-' (no spaces, '/' or other symbols), up to 50."),
        ("NF-1", "Invoice NF-1 is already on this order; a new invoice needs its own number."),
    ],
)
def test_invoice_number_messages_word_for_word(number, message):
    assert check_number(number, two_skus(paid=[invoice("NF-1", 100)])) == message


def test_date_messages_word_for_word():
    assert check_date(None, NOW) == "Enter the issuance date and time printed on the invoice."
    assert check_date(datetime(2026, 11, 28, 11), NOW) == "The issuance date needs a time zone."
    assert check_date(NOW + timedelta(seconds=1), NOW) == "The issuance date cannot be in the future."


# NF-e keys whose modulo-11 remainder is 1 (computed digit 10) and 0 (computed digit 11): the check digit is 0.
NFE_REMAINDER_1 = "35261112345678000190550010000123451000012000"
NFE_REMAINDER_0 = "35261112345678000190550010000123451000012050"


def test_nfe_check_digits_of_ten_and_eleven_are_zero():
    for key in (NFE_REMAINDER_1, NFE_REMAINDER_0):
        assert nfe_check_digit_ok(key)
        assert not nfe_check_digit_ok(key[:-1] + "1")
    assert check_key(NFE_REMAINDER_1, two_skus()) is None


def test_key_messages_word_for_word():
    brazil, chile = two_skus(), two_skus(CLP)
    assert check_key(NFE[:-1], brazil) == "An NF-e access key has exactly 44 digits."
    assert check_key(NFE[:-1] + "5", brazil) == (
        "This NF-e access key's last digit does not match the others: check for a typo."
    )
    assert check_key("A B", chile) == "The invoice key holds only letters and digits (up to 100)."
    assert check_key("", chile) is None


def test_url_length_boundary():
    at_limit = "https://erp.example.com/" + "a" * (2000 - len("https://erp.example.com/"))
    assert len(at_limit) == 2000 and check_url(at_limit) is None
    assert check_url(at_limit + "a") == (
        "Enter a full http:// or https:// address without spaces (up to 2000 characters)."
    )


def test_invalid_invoice_names_its_field():
    first = InvalidInvoice.first_of({"value": "too much", "date": "later"})
    assert (first.field, str(first)) == ("value", "too much")


# -- resending -----------------------------------------------------------------------------------------


def full_package(**extra):
    return invoice(
        "NF-1",
        16000,
        items=[{"itemIndex": 0, "quantity": 1, "price": 10000}, {"itemIndex": 1, "quantity": 2, "price": 2500}],
        invoiceKey=NFE,
        invoiceUrl="https://erp.example.com/nf/1.pdf",
        courier="Correios",
        trackingNumber="BR123",
        trackingUrl="https://track.example.com/BR123",
        embeddedInvoice="<nfe/>",
        **extra,
    )


def test_a_resend_repeats_every_field_of_the_invoice_vtex_has():
    order = two_skus(paid=[full_package()])
    package = order.output_invoices[0]
    request = resend_request(package, order)
    assert request == InvoiceRequest(
        invoice_number="NF-1",
        invoice_value=16000,
        issuance_date=package.issuance_date,
        items=[InvoiceItem("77", 10000, 1, 0), InvoiceItem("88", 2500, 2, 1)],
        type="Output",
        invoice_key=NFE,
        invoice_url="https://erp.example.com/nf/1.pdf",
        courier="Correios",
        tracking_number="BR123",
        tracking_url="https://track.example.com/BR123",
        embedded_invoice="<nfe/>",
    )
    assert request.to_json() == {
        "type": "Output",
        "issuanceDate": package.issuance_date.isoformat(),
        "invoiceNumber": "NF-1",
        "invoiceValue": "16000",
        "invoiceKey": NFE,
        "invoiceUrl": "https://erp.example.com/nf/1.pdf",
        "courier": "Correios",
        "trackingNumber": "BR123",
        "trackingUrl": "https://track.example.com/BR123",
        "items": [{"id": "77", "price": 10000, "quantity": 1}, {"id": "88", "price": 2500, "quantity": 2}],
        "embeddedInvoice": "<nfe/>",
    }


def test_a_request_without_the_optional_fields_sends_empty_strings_and_nulls():
    body = InvoiceRequest("NF-1", 100, ISSUED).to_json()
    assert body == {
        "type": "Output",
        "issuanceDate": ISSUED.isoformat(),
        "invoiceNumber": "NF-1",
        "invoiceValue": "100",
        "invoiceKey": None,
        "invoiceUrl": None,
        "courier": "",
        "trackingNumber": "",
        "trackingUrl": "",
        "items": [],
    }


def test_a_body_outside_vtex_schema_is_never_built():
    with pytest.raises(InvalidInvoice) as caught:
        InvoiceRequest("NF-1", 100, ISSUED, type="Refund").to_json()
    assert caught.value.field == "payload"
    assert str(caught.value) == (
        "The invoice does not match VTEX's published format: type: 'Refund' is not one of ['Output', 'Input']"
    )


@pytest.mark.parametrize(
    ("package", "field", "message"),
    [
        (invoice("NF-1", 16000, issuanceDate=None), "date", "Invoice NF-1 has no issuance date to resend."),
        (invoice("NF-1", 0), "value", "Invoice NF-1 has no value to resend."),
        (invoice("NF-1", -1), "value", "Invoice NF-1 has no value to resend."),
        (
            invoice("NF-1", 16000, items=[{"itemIndex": 2, "quantity": 1, "price": 5000}]),
            "items",
            "Invoice NF-1 lists an item the order does not have (index 2).",
        ),
        (
            invoice("NF-1", 16000, items=[{"itemIndex": -1, "quantity": 1, "price": 5000}]),
            "items",
            "Invoice NF-1 lists an item the order does not have (index -1).",
        ),
    ],
)
def test_a_resend_is_refused_with_its_field_and_reason(package, field, message):
    order = two_skus(paid=[package])
    with pytest.raises(InvalidInvoice) as caught:
        resend_request(order.output_invoices[0], order)
    assert (caught.value.field, str(caught.value)) == (field, message)


def test_a_one_cent_invoice_can_be_resent():
    order = two_skus(paid=[invoice("NF-1", 1, items=[{"itemIndex": 1, "quantity": 1, "price": 1}])])
    assert resend_request(order.output_invoices[0], order).invoice_value == 1


def test_on_a_covered_order_even_open_goods_leave_nothing_to_invoice():
    covered = parse_order(
        order_json(
            value=1,
            items=[{"id": "5", "name": "Pin", "quantity": 1, "price": 1, "sellingPrice": 1}],
            invoices=[invoice("NF-1", 1, items=[])],
        )
    )
    pin = (open_lines(covered)[0].item(),)
    assert value_ceiling(covered, pin, True) == 0
    _, problems = check_partial(covered, draft(covered, pin), NOW)
    assert problems == {
        "value": "The value must be greater than zero: choose at least one item or the shipping still owed."
    }


def test_two_lines_of_one_sku_are_never_invoiced_twice():
    # SKU 77 twice: a full-price lamp and a promo lamp. VTEX may record an invoiced unit on either line.
    data = order_json(
        value=7000,
        items=[
            {"id": "77", "name": "Lamp", "quantity": 1, "price": 4000, "sellingPrice": 4000},
            {"id": "77", "name": "Lamp (promo)", "quantity": 1, "price": 3000, "sellingPrice": 3000},
        ],
        invoices=[invoice("NF-1", 3000, items=[{"itemIndex": 0, "quantity": 1, "price": 3000}])],
    )
    order = parse_order(data)
    assert [(li.index, li.price, li.quantity) for li in open_lines(order)] == [(0, 4000, 1)]
    assert "only 0 unit(s)" in check_items(order, (InvoiceItem("77", 3000, 1, 1),))


def test_units_invoiced_on_a_line_of_a_sku_come_off_the_line_vtex_named_first():
    # The same lamp on two lines at the same price (a gift, a promotion): NF-1 names line 1.
    lamp = {"id": "77", "name": "Lamp", "quantity": 1, "price": 4000, "sellingPrice": 4000, "seller": "1"}
    gift = {**lamp, "name": "Lamp (gift)"}
    paid = [invoice("NF-1", 4000, items=[{"itemIndex": 1, "quantity": 1, "price": 4000}])]
    order = parse_order(order_json(value=8000, items=[lamp, gift], invoices=paid))
    assert [(li.index, li.name, li.quantity) for li in open_lines(order)] == [(0, "Lamp", 1)]


def test_an_invoice_line_outside_the_order_takes_nothing_off():
    paid = [invoice("NF-1", 4000, items=[{"itemIndex": 1, "quantity": 1, "price": 4000}])]
    order = parse_order(order_json(value=8000, invoices=paid))  # one line only: index 1 does not exist
    assert [(li.index, li.quantity) for li in open_lines(order)] == [(0, 2)]
