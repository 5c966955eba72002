from bot.order import parse_order
from tests.factories import invoice, order_json


def test_official_example_parses_with_money_in_cents_and_brl_display(example_order_json):
    order = parse_order(example_order_json)
    assert order.order_id == "1172452900788-01"
    assert order.status == "handling"
    assert order.value == 1160
    assert order.money(order.value) == "R$ 11,60"
    assert [p.type for p in order.packages] == ["Input"]


def test_input_invoices_do_not_count_toward_the_invoiced_total(example_order_json):
    order = parse_order(example_order_json)
    assert order.invoiced_output == 0
    assert order.missing == 1160


def test_output_invoices_are_summed_and_the_missing_amount_follows():
    order = parse_order(
        order_json(value=10000, invoices=[invoice("A1", 3000), invoice("A2", 2500), invoice("R1", 9000, kind="Input")])
    )
    assert order.invoiced_output == 5500
    assert order.missing == 4500
    assert order.invoice_numbers == {"A1", "A2", "R1"}


def test_unknown_fields_are_ignored_and_missing_ones_default():
    order = parse_order(
        {
            "orderId": "1-01",
            "brandNewField": {"x": 1},
            "status": "teleporting",
            "packageAttachment": {"packages": None},
            "totals": None,
            "value": None,
        }
    )
    assert order.status == "teleporting"
    assert order.packages == [] and order.totals == [] and order.value == 0


def test_invoice_value_sent_as_a_string_is_read_as_cents():
    order = parse_order(order_json(invoices=[invoice("A1", "2499")]))  # type: ignore[arg-type]
    assert order.invoiced_output == 2499


def test_currency_without_store_preferences_falls_back_to_plain_dollars():
    data = order_json(value=123456)
    del data["storePreferencesData"]
    assert parse_order(data).money(123456) == "$ 1,234.56"


def test_seven_digit_fractional_seconds_from_vtex_parse(example_order_json):
    order = parse_order(example_order_json)
    assert order.last_change is not None and order.last_change.year == 2024
