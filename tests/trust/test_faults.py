"""VTEX misbehaving, the audit log failing, secrets: a clear card each time, and the process stays healthy."""

import logging
import time

import httpx
import pytest

from bot.acting import Intent
from bot.audit import AuditError, Who
from bot.doubles.stack import BOT_TOKEN, OPERATOR, SIGNING_SECRET, VIEWER
from tests.handlers.helpers import buttons, cards, text_of, wait_card


def ask_card(stack, order_id="1500000000001-01"):
    before = len([m for m in stack.slack.bot_messages() if m.blocks])
    stack.driver.slash(VIEWER, order_id)
    return stack.slack.wait(
        lambda: (found := [m for m in stack.slack.bot_messages() if m.blocks]) and len(found) > before and found[-1]
    )


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (
            dict(
                status=502, body="<html><h1>502 Bad Gateway</h1></html>", headers={"Content-Type": "text/html"}, times=9
            ),
            "VTEX answered 502",
        ),
        (dict(status=200, body='{"orderId": "1500000000001-01", "status": "hand', times=1), "non-JSON"),
        (dict(status=200, body="not json at all", times=1), "non-JSON"),
        (dict(status=200, body='{"orderId": 42}', times=1), "without order data"),
        (dict(status=200, body="", delay=1.5, times=9), "did not answer in time"),
        (dict(status=429, body="", times=50), "rate limiting"),
    ],
)
def test_vtex_misbehaviour_gets_a_clear_card_and_the_process_stays_healthy(stack, fault, words):
    stack.vtex.fail_next(fault.pop("status"), fault.pop("body"), **fault)
    card = ask_card(stack)
    assert words in text_of(card)
    assert buttons(card.blocks) == []
    assert httpx.get(f"{stack.url}/healthz").status_code == 200
    stack.vtex.faults.clear()
    stack.services.vtex.breaker.record(True)
    assert "Handling shipping" in text_of(ask_card(stack))  # and the next question is answered normally


def test_circuit_breaker_stops_hammering_vtex_and_says_when_to_retry(stack):
    stack.vtex.fail_next(503, "", times=100)
    ask_card(stack, "1500000000001-01")
    ask_card(stack, "1500000000002-01")
    ask_card(stack, "1500000000003-01")  # a third order failing: VTEX is down, not one order
    calls = len(stack.vtex.calls)
    card = ask_card(stack, "1500000000006-01")
    assert "paused" in text_of(card) and "Try again in about" in text_of(card)
    assert len(stack.vtex.calls) == calls  # the open circuit sent nothing


def test_audit_write_failure_means_vtex_is_never_called(stack, monkeypatch):
    def broken(*args, **kwargs):
        raise AuditError("disk full")

    monkeypatch.setattr(stack.services.store.ledger, "mark_posting", broken)
    outcome = stack.services.actor.perform(
        Intent("resend_invoice", "1500000000002-01", "NF20001", 30480, "k1"), Who(OPERATOR)
    )
    assert outcome.state == "failed" and "never acts without a record" in outcome.message
    assert stack.vtex.invoice_posts() == []


def test_unwritable_database_refuses_the_click_without_calling_vtex(stack):
    card = ask_card(stack, "1500000000002-01")
    stack.services.store.database.conn.execute(
        "PRAGMA query_only = ON"
    )  # the listener threads get their own connections
    stack.services.store.ledger.claim = lambda *a, **k: (_ for _ in ()).throw(AuditError("read-only"))
    stack.driver.click(OPERATOR, card, "resend_invoice")
    stack.slack.wait(lambda: any("never acts without a record" in text_of(m) for m in stack.slack.messages))
    assert stack.vtex.invoice_posts() == []


def test_no_secret_reaches_logs_slack_or_the_database(stack, caplog):
    caplog.set_level(logging.DEBUG)
    secrets = [SIGNING_SECRET, BOT_TOKEN, "LOCAL-APP-TOKEN", "vtexappkey-acme-LOCAL"]
    card = ask_card(stack, "1500000000002-01")
    stack.vtex.fail_next(403, "", method="POST")
    stack.driver.click(OPERATOR, card, "resend_invoice")
    wait_card(stack, card.ts, "did not accept")
    stack.vtex.fail_next(401, "", times=3)
    ask_card(stack, "1500000000003-01")
    stack.driver.slash(VIEWER, "garbage !!")
    time.sleep(0.3)
    slack_bodies = " ".join(str(c.body) for c in stack.slack.calls)
    database = open(stack.settings.unstuck_db, "rb").read() + b"".join(
        open(p, "rb").read() for p in [stack.settings.unstuck_db + "-wal"] if __import__("os").path.exists(p)
    )
    for secret in secrets:
        assert secret not in caplog.text
        assert secret not in slack_bodies
        assert secret.encode() not in database
    assert "LOCAL-APP-TOKEN" not in repr(stack.settings) and "LOCAL-APP-TOKEN" not in repr(stack.services.vtex)


def test_slow_slack_does_not_delay_the_ack(stack):
    stack.slack.latency = 1.0
    reply = stack.driver.slash(VIEWER, "1500000000001-01")
    assert reply.status == 200 and reply.elapsed < 0.5
    stack.slack.latency = 0
    cards(stack)
