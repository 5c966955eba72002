from datetime import timedelta

import pytest

from bot.diagnosis import ADD_PARTIAL, RESEND, OfferedAction, Situation, diagnose, humanize
from bot.order import parse_order
from bot.sandbox import CLP as SANDBOX_CLP
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
    from bot.wording import verdict

    order = parse_order(order_json("ready-for-handling"))
    _, said, reason = verdict(diagnose(order, NOW), order)
    assert "Start handling" in said and "add the invoice" in said and "both readings" in reason


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


# -- which fix, to the cent, and which words (mutation tests, issue 16) ----------------------------------


def diagnosed(status="handling", **kwargs):
    return diagnose(parse_order(order_json(status, **kwargs)), NOW)


@pytest.mark.parametrize("currency", [None, SANDBOX_CLP], ids=["BRL", "CLP"])
@pytest.mark.parametrize(
    ("paid", "situation", "actions"),
    [
        (9999, Situation.PARTIAL, [OfferedAction(ADD_PARTIAL, 1)]),
        (10000, Situation.RESEND, [OfferedAction(RESEND, 10000, "NF1")]),
        (10001, Situation.OVER_INVOICED, []),
    ],
    ids=["short by one cent", "covered exactly", "over by one cent"],
)
def test_one_cent_decides_the_fix(currency, paid, situation, actions):
    extra = {"storePreferencesData": currency} if currency else {}
    d = diagnosed(value=10000, invoices=[invoice("NF1", paid)], **extra)
    assert (d.situation, d.actions) == (situation, actions)
    assert (d.invoices.missing, d.invoices.over_invoiced) == (max(10000 - paid, 0), paid > 10000)


def test_over_invoiced_says_both_amounts():
    d = diagnosed(value=10000, invoices=[invoice("NF1", 10001)])
    assert d.no_action_reason == (
        "Output invoices (R$ 100,01) exceed the order value (R$ 100,00). Do not add more: check the invoices in the "
        "ERP and ask VTEX support."
    )


@pytest.mark.parametrize(("value", "actions"), [(0, []), (1, [OfferedAction(ADD_PARTIAL, 1, None, True)])])
def test_an_order_of_zero_has_nothing_to_invoice_and_one_cent_is_an_invoice(value, actions):
    d = diagnosed(value=value)
    assert d.actions == actions
    if value == 0:
        assert (d.situation, d.no_action_reason) == (
            Situation.NOTHING_TO_INVOICE,
            "The order value is zero, so there is nothing to invoice.",
        )
    else:
        assert (d.situation, d.no_action_reason) == (Situation.FIRST_INVOICE, None)


def test_each_fix_names_its_situation_and_exact_amount():
    first = diagnosed(value=10000)
    assert (first.situation, first.actions) == (
        Situation.FIRST_INVOICE,
        [OfferedAction(ADD_PARTIAL, 10000, None, True)],
    )
    short = diagnosed(value=10000, invoices=[invoice("NF1", 6000)])
    assert (short.situation, short.actions) == (Situation.PARTIAL, [OfferedAction(ADD_PARTIAL, 4000, None, False)])
    covered = diagnosed(value=10000, invoices=[invoice("NF1", 6000, days_ago=3), invoice("NF2", 4000)])
    assert (covered.situation, covered.actions) == (Situation.RESEND, [OfferedAction(RESEND, 4000, "NF2")])
    assert covered.notes == [
        "The 2 Output invoices already add up to the order value; resending the latest one (NF2) asks VTEX to check "
        "the total again."
    ]
    assert diagnosed(value=10000, invoices=[invoice("NF1", 10000)]).notes == []
    assert diagnosed(value=10000, invoices=[invoice("NF1", 3000), invoice("NF2", 3000)]).notes == []


@pytest.mark.parametrize(("paid", "situation"), [(10000, Situation.BAD_INVOICE_NUMBER), (9999, Situation.PARTIAL)])
def test_an_invoice_number_vtex_cannot_finish_is_not_resent(paid, situation):
    d = diagnosed(value=10000, invoices=[invoice("NF 1/2", paid)])
    assert d.situation == situation
    if situation == Situation.BAD_INVOICE_NUMBER:
        assert d.actions == []
        assert d.no_action_reason == (
            "Invoice NF 1/2 holds characters (spaces, '/', symbols) that stop the order from reaching Invoiced, so "
            "resending it cannot help. Correct it with your ERP and ask VTEX support to replace it."
        )
    else:
        assert d.actions == [OfferedAction(ADD_PARTIAL, 1)]


def test_the_latest_invoice_is_the_newest_whatever_the_order_of_the_list():
    d = diagnosed(value=10000, invoices=[invoice("NF2", 4000, days_ago=1), invoice("NF1", 6000, days_ago=3)])
    assert d.actions == [OfferedAction(RESEND, 4000, "NF2")]
    undated = [invoice(n, v, issuanceDate=None) for n, v in (("A", 3000), ("B", 3000), ("C", 4000))]
    assert diagnosed(value=10000, invoices=undated).actions == [OfferedAction(RESEND, 4000, "C")]


@pytest.mark.parametrize(
    ("status", "situation"),
    [
        ("invoiced", Situation.INVOICED),
        ("canceled", Situation.CANCELED),
        ("payment-pending", Situation.WAITING_PAYMENT),
        ("start-handling", Situation.STUCK_ELSEWHERE),
    ],
)
def test_no_invoice_statuses_give_the_table_reason(status, situation):
    d = diagnosed(status)
    assert (d.situation, d.actions, d.no_action_reason) == (situation, [], STATUSES[status].no_invoice_reason)
    assert d.known_status is True and d.status == status and d.support_quote is None


def test_a_status_that_is_not_stuck_yet_says_so():
    d = diagnosed("start-handling", age=timedelta(minutes=10))
    assert (d.situation, d.stuck) == (Situation.NOT_STUCK, False)


def test_an_unknown_status_in_full():
    d = diagnosed("waiting-for-quantum-approval")
    assert (d.situation, d.known_status, d.status_name, d.actions) == (
        Situation.UNKNOWN_STATUS,
        False,
        "waiting-for-quantum-approval",
        [],
    )
    assert d.waiting_for == "something this bot does not know yet (VTEX status `waiting-for-quantum-approval`)"
    assert d.next_step == "Open the order in the VTEX Admin and read its View Interactions history."
    assert d.no_action_reason == "This status is unknown to the bot, so it will not guess an invoice fix."


def test_a_workflow_error_in_full():
    d = diagnosed(workflowIsInError=True)
    assert (d.situation, d.actions) == (Situation.WORKFLOW_ERROR, [])
    assert d.no_action_reason == (
        "VTEX flagged a workflow error that automatic retries cannot fix; an invoice will not clear it."
    )
    since = NOW - timedelta(days=3)
    assert d.support_quote == (
        f"Order 1234567890123-01 (status handling) has workflowIsInError=true since {since.isoformat()}. "
        "Please check the order's View Interactions."
    )
    undated = diagnosed(workflowIsInError=True, lastChange=None, creationDate=None)
    assert undated.support_quote == (
        "Order 1234567890123-01 (status handling) has workflowIsInError=true since an unknown time. "
        "Please check the order's View Interactions."
    )
    assert (undated.since, undated.age, undated.stuck) == (None, None, None)


def test_another_sellers_items_in_full():
    sellers = [{"id": "1", "name": "Store"}, {"id": "acme", "name": "Acme"}, {"id": "beta", "name": None}]
    d = diagnosed(origin="marketplace", sellers=sellers)
    assert (d.situation, d.actions) == (Situation.OTHER_SELLER, [])
    assert d.no_action_reason == (
        "Items are sold by Acme, beta: invoices must be sent by the seller on its own order (the seller order id), "
        "not on this marketplace order."
    )
    # Other sellers on an order that is not the marketplace's own: the invoice fix applies.
    assert diagnosed(origin="Fulfillment", sellers=sellers).situation == Situation.FIRST_INVOICE
    assert diagnosed(origin="Marketplace").situation == Situation.FIRST_INVOICE


def test_ready_for_handling_and_a_requested_cancellation_keep_the_fix():
    ready = diagnosed("ready-for-handling", value=10000)
    assert (ready.situation, ready.actions) == (
        Situation.READY_FOR_HANDLING,
        [OfferedAction(ADD_PARTIAL, 10000, None, True)],
    )
    assert ready.notes == []
    cancel = diagnosed("request-cancel", value=10000, invoices=[invoice("NF1", 6000)])
    assert (cancel.situation, cancel.actions) == (Situation.CANCEL_REQUESTED, [OfferedAction(ADD_PARTIAL, 4000)])
    assert cancel.notes == []


def test_notes_appear_only_where_an_invoice_is_the_story():
    changed = {"changesAttachment": {"changesData": [{"reason": "removed an item"}]}}
    extra = {"affiliateId": "GHB", **changed}
    returned = [invoice("R1", 2500, kind="Input")]
    d = diagnosed(value=10000, invoices=returned, **extra)
    assert d.notes == [
        "Return (Input) invoices of R$ 25,00 are on the order; they do not count toward the invoiced total.",
        "The order was changed after checkout; its value already reflects the change. Invoice only once the change "
        "has finished.",
        "Marketplace order: if your ERP already invoiced it, the product may be unavailable in the marketplace's API. "
        "Click *Try again* on the order's status in the Admin (a 404 means: contact the marketplace).",
    ]
    assert diagnosed("canceled", value=10000, invoices=returned, **extra).notes == []


def test_stuck_only_after_the_expected_time():
    assert diagnosed("handling", age=timedelta(days=2)).stuck is False
    assert diagnosed("handling", age=timedelta(days=2, seconds=1)).stuck is True
    d = diagnosed("handling", age=timedelta(days=3))
    assert (d.since, d.age) == (NOW - timedelta(days=3), timedelta(days=3))


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "0 seconds"),
        (1, "1 second"),
        (2, "2 seconds"),
        (89, "89 seconds"),
        (89 * 60, "89 minutes"),
        (47 * 3600, "47 hours"),
        (48 * 3600, "2 days"),
    ],
)
def test_humanize(seconds, words):
    assert humanize(timedelta(seconds=seconds)) == words


def test_humanize_switches_units_at_ninety():
    assert humanize(None) == "an unknown time"
    assert humanize(timedelta(seconds=90)).startswith("1 minute")
    assert humanize(timedelta(minutes=90)).startswith("1 hour")


def test_to_dict_for_machines_in_full():
    data = diagnosed(value=10000, invoices=[invoice("NF1", 6000)]).to_dict()
    assert (data["since"], data["age_seconds"], data["expected_seconds"]) == (
        (NOW - timedelta(days=3)).isoformat(),
        3 * 86400,
        2 * 86400,
    )
    assert data["situation"] == "partial"
    assert data["summary"] == (
        "1234567890123-01 is in Handling shipping for 3 days (normally under 2 days): waiting for invoices adding "
        "up to the order total, usually sent by the ERP."
    )
    assert sorted(data) == [
        "actions",
        "age_seconds",
        "expected_seconds",
        "invoices",
        "known_status",
        "marketplace",
        "next_step",
        "no_action_reason",
        "notes",
        "order_id",
        "since",
        "situation",
        "status",
        "status_name",
        "stuck",
        "summary",
        "support_quote",
        "waiting_for",
    ]
    assert type(data["situation"]) is str
    final = diagnosed("invoiced", lastChange=None, creationDate=None).to_dict()
    assert (final["since"], final["age_seconds"], final["expected_seconds"]) == (None, None, None)


def test_thresholds_replace_what_is_normal_for_the_statuses_they_name():
    order = parse_order(order_json("handling", age=timedelta(hours=3)))
    assert (diagnose(order, NOW).stuck, diagnose(order, NOW).expected) == (False, timedelta(days=2))
    faster = diagnose(order, NOW, {"handling": timedelta(hours=1)})
    assert (faster.stuck, faster.expected) == (True, timedelta(hours=1))
    other = diagnose(order, NOW, {"invoice": timedelta(hours=1)})
    assert (other.stuck, other.expected) == (False, timedelta(days=2))
