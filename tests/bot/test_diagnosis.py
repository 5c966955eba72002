from datetime import timedelta

import pytest

from bot.diagnosis import ADD_PARTIAL, RESEND, diagnose
from bot.order import parse_order
from bot.statuses import STATUSES
from tests.conftest import NOW
from tests.factories import invoice, order_json

INVOICE_HELPS = {
    "handling",
    "ready-for-handling",
    "invoice",
    "payment-approved",
    "ready-for-invoicing",
    "invoice-after-cancellation-deny",
    # VTEX's "Canceling an order": a requested cancellation is confirmed, or the invoice continues the order.
    "request-cancel",
    "cancellation-requested",
}

# (status, Admin name, words the agent must read in "waiting for")
TABLE = [
    ("order-created", "Processing", "processing the order data"),
    ("on-order-completed", "Order completed (internal)", "finished checkout"),
    ("on-order-completed-ffm", "Order completed (fulfillment, internal)", "fulfillment flow"),
    ("waiting-for-authorization", "Waiting for seller confirmation", "seller to accept"),
    ("waiting-for-sellers-confirmation", "Waiting for seller confirmation", "sellers to accept"),
    ("payment-pending", "Payment pending", "payment confirmation"),
    ("waiting-for-order-authorization", "Waiting for order authorization", "Order Authorization rules"),
    ("approve-payment", "Approve payment", "internal payment step"),
    ("payment-approved", "Payment approved", "seller to start handling"),
    ("payment-denied", "Payment denied", "cancellation"),
    ("window-to-change-payment", "Window to change payment", "change payment"),
    ("window-to-change-seller", "Window to change seller", "another seller"),
    ("order-accepted", "Order accepted", "automatic next step"),
    ("waiting-ffmt-authorization", "Waiting for fulfillment authorization", "marketplace to authorize"),
    ("waiting-for-manual-authorization", "Waiting for fulfillment authorization", "authorization to fulfil"),
    ("authorize-fulfillment", "Authorize fulfillment", "reservation confirmed"),
    ("waiting-for-fulfillment", "Waiting for fulfillment", "warehouse"),
    ("window-to-cancel", "Cancellation window", "grace period"),
    ("waiting-for-mkt-authorization", "Waiting for marketplace authorization", "marketplace to authorize"),
    ("waiting-seller-handling", "Waiting for seller handling", "seller to start handling"),
    ("ready-for-handling", "Ready for handling", "start handling"),
    ("start-handling", "Start handling", "ERP's confirmation"),
    ("handling", "Handling shipping", "invoices adding up to the order total"),
    ("ready-for-invoicing", "Ready for invoicing", "the invoice"),
    ("invoice", "Verifying invoice", "settlement"),
    ("invoiced", "Invoiced", "final success state"),
    ("request-cancel", "Cancellation requested", "send the invoice to go on"),
    ("waiting-for-seller-decision", "Waiting for the seller decision", "accept or deny"),
    ("cancellation-requested", "Cancellation requested", "confirm the cancellation"),
    ("cancellation-request-denied", "Cancellation denied", "resume"),
    ("cancellation-request-denied-ffm", "Cancellation denied (fulfillment)", "resume"),
    ("invoice-after-cancellation-deny", "Invoice after cancellation denied", "invoice"),
    ("cancel", "Canceling", "Payments to finish"),
    ("canceled", "Canceled", "canceled"),
    ("replaced", "Replaced", "replaced"),
    ("order-create-error", "Order creation error", "creating the order failed"),
    ("order-creation-error", "Order creation error", "creating the order failed"),
]


def test_the_table_covers_every_status_the_bot_knows():
    assert {row[0] for row in TABLE} | {"incomplete"} == set(STATUSES)


@pytest.mark.parametrize(("status", "name", "waiting"), TABLE)
def test_each_status_is_explained_and_gets_an_invoice_action_only_where_it_helps(status, name, waiting):
    d = diagnose(parse_order(order_json(status, value=10000)), NOW)
    assert d.status_name == name
    assert waiting.lower() in d.waiting_for.lower()
    assert d.next_step
    if status in INVOICE_HELPS:
        assert [(a.kind, a.amount, a.full) for a in d.actions] == [(ADD_PARTIAL, 10000, True)]
        assert d.no_action_reason is None
    else:
        assert d.actions == []
        assert d.no_action_reason


def test_null_status_is_an_incomplete_order_with_no_action():
    d = diagnose(parse_order(order_json(None)), NOW)
    assert d.status_name == "Incomplete" and d.actions == [] and "never entered the flow" in d.no_action_reason


def test_unknown_status_is_answered_honestly_with_the_raw_value():
    d = diagnose(parse_order(order_json("waiting-for-quantum-approval")), NOW)
    assert not d.known_status
    assert d.status_name == "waiting-for-quantum-approval"
    assert "`waiting-for-quantum-approval`" in d.waiting_for
    assert d.actions == [] and "will not guess" in d.no_action_reason


# Invoice situations, straight from the FAQ: (invoices, expected action kind, amount, invoiced, missing)
SITUATIONS = [
    pytest.param([], ADD_PARTIAL, 10000, 0, 10000, id="no invoice: add one for the full value"),
    pytest.param([invoice("NF1", 10000)], RESEND, 10000, 10000, 0, id="full invoice: resend it"),
    pytest.param([invoice("NF1", 6000)], ADD_PARTIAL, 4000, 6000, 4000, id="short: add partial for the rest"),
    pytest.param(
        [invoice("NF1", 6000), invoice("NF2", 4000, days_ago=1)],
        RESEND,
        4000,
        10000,
        0,
        id="partials add up: resend the latest",
    ),
    pytest.param(
        [invoice("R1", 10000, kind="Input")],
        ADD_PARTIAL,
        10000,
        0,
        10000,
        id="only a return invoice: it does not count",
    ),
    pytest.param(
        [invoice("NF1", 6000), invoice("R1", 6000, kind="Input")],
        ADD_PARTIAL,
        4000,
        6000,
        4000,
        id="return invoice ignored in the missing amount",
    ),
]


@pytest.mark.parametrize(("invoices", "kind", "amount", "invoiced", "missing"), SITUATIONS)
def test_invoice_arithmetic_and_the_recommended_fix(invoices, kind, amount, invoiced, missing):
    d = diagnose(parse_order(order_json("handling", value=10000, invoices=invoices)), NOW)
    assert (d.invoices.invoiced, d.invoices.missing, d.invoices.order_value) == (invoiced, missing, 10000)
    assert [(a.kind, a.amount) for a in d.actions] == [(kind, amount)]


def test_resend_names_the_invoice_to_send_again():
    d = diagnose(
        parse_order(order_json(invoices=[invoice("NF1", 6000, days_ago=3), invoice("NF2", 4000, days_ago=1)])), NOW
    )
    assert d.actions[0].invoice_number == "NF2"
    assert d.actions[0].label == "Resend invoice NF2"


def test_a_partial_invoice_never_comes_with_an_invented_number():
    order = parse_order(
        order_json(invoices=[invoice("NF1", 3000), invoice("NF1-2", 1000), invoice("nf1-3", 500, kind="Input")])
    )
    action = diagnose(order, NOW).actions[0]
    assert action.kind == ADD_PARTIAL and action.amount == 6000 and action.invoice_number is None


def test_over_invoiced_order_is_flagged_and_gets_no_button():
    d = diagnose(parse_order(order_json(value=10000, invoices=[invoice("A", 8000), invoice("B", 5000)])), NOW)
    assert d.invoices.over_invoiced
    assert d.actions == []
    assert "exceed the order value" in d.no_action_reason and "R$ 130,00" in d.no_action_reason


def test_workflow_error_points_to_vtex_support_with_what_to_quote():
    d = diagnose(parse_order(order_json(workflowIsInError=True)), NOW)
    assert d.actions == []
    assert "workflow error" in d.no_action_reason
    assert "1234567890123-01" in d.support_quote and "workflowIsInError=true" in d.support_quote


def test_ready_for_handling_says_both_documented_readings():
    d = diagnose(parse_order(order_json("ready-for-handling")), NOW)
    joined = " ".join(d.notes)
    assert "two readings" in joined and "start handling" in joined and "invoice" in joined


def test_marketplace_order_gets_the_marketplace_guidance(example_order_json):
    d = diagnose(parse_order(example_order_json), NOW)
    assert d.marketplace
    assert any("marketplace's API" in n and "Try again" in n for n in d.notes)


def test_items_of_another_seller_are_invoiced_on_the_seller_order():
    data = order_json(
        origin="Marketplace",
        sellerOrderId="SLR-1234567890123-01",
        sellers=[{"id": "1", "name": "Store"}, {"id": "acme", "name": "Acme"}],
    )
    d = diagnose(parse_order(data), NOW)
    assert d.actions == [] and "SLR-1234567890123-01" in d.no_action_reason and "Acme" in d.no_action_reason


@pytest.mark.parametrize(
    ("status", "age", "stuck"),
    [
        ("handling", timedelta(days=3), True),
        ("handling", timedelta(hours=5), False),
        ("window-to-cancel", timedelta(minutes=10), False),
        ("window-to-cancel", timedelta(hours=3), True),
        ("invoiced", timedelta(days=30), None),
        ("canceled", timedelta(days=30), None),
    ],
)
def test_stuck_is_time_since_last_change_against_the_status_expectation(status, age, stuck):
    d = diagnose(parse_order(order_json(status, age=age)), NOW)
    assert d.stuck is stuck
    assert d.age == age


def test_summary_reads_as_a_sentence():
    d = diagnose(parse_order(order_json("handling", age=timedelta(days=3))), NOW)
    assert d.summary == (
        "1234567890123-01 is in Handling shipping for 3 days (normally under 2 days): "
        "waiting for invoices adding up to the order total, usually sent by the ERP."
    )


def test_official_example_diagnosis(example_order_json):
    d = diagnose(parse_order(example_order_json), NOW)
    assert d.status_name == "Handling shipping"
    assert (d.invoices.invoiced, d.invoices.missing, d.invoices.returned) == (0, 1160, 1015)
    assert [(a.kind, a.amount, a.full) for a in d.actions] == [(ADD_PARTIAL, 1160, True)]
    assert d.stuck is True


def test_diagnosis_serialises_for_machines():
    data = diagnose(parse_order(order_json(invoices=[invoice("NF1", 6000)])), NOW).to_dict()
    assert data["actions"] == [
        {"kind": ADD_PARTIAL, "amount": 4000, "invoice_number": None, "full": False, "label": "Add partial invoice"}
    ]
    assert data["age_seconds"] == 3 * 86400
