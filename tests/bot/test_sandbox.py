from datetime import UTC, datetime, timedelta

from bot.diagnosis import diagnose
from bot.doubles.vtex import sandbox_double
from bot.invoices import PartialDraft, partial_request, resend_request, whole_draft
from bot.sandbox import DEMOS, SANDBOX_URL
from bot.vtex import VtexClient


def soon() -> datetime:
    """A moment just after the issuance dates these tests use (taken when the test runs, not at import: the
    whole suite takes minutes, and an issuance date after "now" is refused)."""
    return datetime.now(UTC) + timedelta(minutes=1)


def client_for(double):
    return VtexClient(SANDBOX_URL, transport=double.transport())


def test_a_dozen_demo_orders_one_per_branch():
    double = sandbox_double()
    client = client_for(double)
    now = datetime.now(UTC)
    seen = set()
    for demo in DEMOS:
        d = diagnose(client.get_order(demo.order_id), now)
        branch = (
            d.status if d.known_status else "?",
            tuple((a.kind, a.full) for a in d.actions),
            (d.no_action_reason or "")[:20],
            d.invoices.returned > 0,
            d.marketplace,
            (
                client.get_order(demo.order_id).currency.code,
                any(len(i.unit_prices) > 1 for i in client.get_order(demo.order_id).items),
            ),
        )
        seen.add(branch)
    assert len(DEMOS) >= 12 and len(seen) == len(DEMOS)


def test_partial_invoices_reaching_the_value_make_the_order_invoiced():
    double = sandbox_double()
    client = client_for(double)
    order = client.get_order("1500000000001-01")
    request = partial_request(order, whole_draft(order, number="NF-2", issuance_date=datetime.now(UTC)), soon())
    receipt = client.notify_invoice(order.order_id, request)
    assert receipt.receipt
    after = client.get_order(order.order_id)
    assert after.status == "invoiced" and after.missing == 0


def test_a_partial_that_falls_short_leaves_the_status():
    client = client_for(sandbox_double())
    order = client.get_order("1500000000003-01")
    draft = whole_draft(order, number="A1", issuance_date=datetime.now(UTC))
    shipping_only = PartialDraft(draft.number, draft.issuance_date, (), True, 100)
    client.notify_invoice(order.order_id, partial_request(order, shipping_only, soon()))
    after = client.get_order(order.order_id)
    assert after.status == "handling" and after.missing == order.value - 100


def test_resend_keeps_one_invoice_and_completes_the_order():
    double = sandbox_double()
    client = client_for(double)
    order = client.get_order("1500000000002-01")
    client.notify_invoice(order.order_id, resend_request(order.output_invoices[0], order))
    after = client.get_order(order.order_id)
    assert len(after.output_invoices) == 1 and after.status == "invoiced"
    assert double.invoice_posts()[0].json()["invoiceNumber"] == "NF20001"


def test_sequence_ids_resolve():
    client = client_for(sandbox_double())
    assert client.get_order("seq500001").order_id == "1500000000001-01"
