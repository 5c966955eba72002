import pytest

from bot.doubles.stack import OPERATOR, VIEWER
from tests.handlers.helpers import buttons, cards, private_card, text_of, wait_card


def test_stuck_acks_at_once_then_posts_the_card_to_the_channel(stack):
    reply = stack.driver.slash(VIEWER, "1500000000001-01")
    assert reply.status == 200
    assert "Looking up `1500000000001-01`" in reply.body
    card = cards(stack)[0]
    text = text_of(card)
    assert card.ephemeral_to is None  # visible to the channel by default
    assert "Order 1500000000001-01 · Handling shipping" in text
    assert "Short by *R$ 129,90*" in text and "R$ 130,00 of R$ 259,90" in text
    assert "Open in VTEX Admin" in text and "https://acme.myvtex.com/admin/orders/1500000000001-01" in text
    assert "From “" in text and "help.vtex.com" in text
    assert buttons(card.blocks) == ["add_partial_invoice"]
    assert card.text.startswith("Order 1500000000001-01: Short by")  # notification fallback: the verdict


def test_the_question_is_audited(stack):
    stack.driver.slash(VIEWER, "1500000000006-01")
    cards(stack)
    row = stack.services.store.log.recent(1)[0]
    assert (row["kind"], row["user_id"], row["order_id"], row["channel"], row["outcome"]) == (
        "question",
        VIEWER,
        "1500000000006-01",
        "C0SUPPORT",
        "answered",
    )
    assert row["workspace"] == "T0UNSTUCK" and row["account"] == "acme"


def test_a_sentence_with_several_ids_gets_one_card_each(stack):
    stack.driver.slash(VIEWER, "why are 1500000000002-01 and 1500000000007-01 stuck?")
    found = cards(stack, 2)
    assert {text_of(m).split("\n")[1] for m in found} >= {
        "Order 1500000000002-01 · Handling shipping",
        "Order 1500000000007-01 · Canceled",
    }


def test_more_than_five_ids_answers_the_first_five_and_says_so(stack):
    ids = " ".join(f"15000000000{i:02d}-01" for i in range(1, 8))
    reply = stack.driver.slash(VIEWER, ids)
    assert "only the first 5 of 7" in reply.body
    assert len(cards(stack, 5)) == 5


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "Ask me why an order is stuck"),
        ("help", "not a VTEX order id"),
        ("my order is stuck please", "could not find a VTEX order id"),
        ("../../etc", "not a VTEX order id"),
    ],
)
def test_empty_or_unparsable_text_gets_usage_help_only_for_the_asker(stack, text, words):
    reply = stack.driver.slash(VIEWER, text)
    assert reply.status == 200
    body = reply.json()
    assert words in str(body) and "/stuck 1172452900788-01" in str(body)
    assert body.get("response_type", "ephemeral") == "ephemeral"
    assert stack.vtex.calls == []


@pytest.mark.parametrize(
    ("status", "headers", "body", "words"),
    [
        (404, {}, {"error": {"code": "OMS007", "message": "Order Not Found"}}, "Order not found"),
        (403, {}, "", "OMS › View order"),
        (401, {}, "", "VTEX_APP_KEY"),
        (429, {"Retry-After": "30"}, "", "Try again in about 30 seconds"),
        (500, {}, "<html>oops</html>", "VTEX's side"),
    ],
)
def test_vtex_errors_become_a_short_card_saying_what_to_do(stack, status, headers, body, words):
    stack.vtex.fail_next(status, body, headers=headers, times=5)
    stack.driver.slash(VIEWER, "1500000000001-01")
    card = private_card(stack, VIEWER)  # errors go to the asker only, once
    text = text_of(card)
    assert words in text
    assert "Traceback" not in text and buttons(card.blocks) == []
    assert not [m for m in stack.slack.bot_messages("C0SUPPORT") if m.ephemeral_to is None]
    stack.slack.wait(lambda: not [m for m in stack.slack.messages if "Looking up" in m.text])


def test_html_instead_of_json_is_explained(stack):
    stack.vtex.fail_next(200, "<html><body>Sign in</body></html>", headers={"Content-Type": "text/html"})
    stack.driver.slash(VIEWER, "1500000000001-01")
    assert "HTML page instead of JSON" in text_of(private_card(stack, VIEWER))


def test_unknown_order_is_not_found(stack):
    stack.driver.slash(VIEWER, "9999999999999-01")
    assert "was not found in VTEX (404)" in text_of(private_card(stack, VIEWER))


def test_answers_can_be_configured_ephemeral(tmp_path):
    from bot.doubles.stack import LocalStack

    with LocalStack(tmp_path / "a.db", unstuck_answer_visibility="ephemeral") as stack:
        stack.driver.slash(OPERATOR, "1500000000001-01")
        card = stack.slack.wait(lambda: next((m for m in stack.slack.messages if m.blocks), None))
        assert card.ephemeral_to == OPERATOR


def test_bad_signature_and_old_timestamp_are_refused(stack):
    import time

    body = "command=%2Fstuck&text=1500000000001-01&user_id=U1&channel_id=C1&team_id=T1&response_url=x"
    assert stack.driver.send(body, "application/x-www-form-urlencoded", secret="wrong-secret").status == 401
    old = int(time.time()) - 600
    assert stack.driver.send(body, "application/x-www-form-urlencoded", timestamp=old).status == 401
    assert stack.vtex.calls == []


def test_health_endpoint(stack):
    import httpx

    assert httpx.get(f"{stack.url}/healthz").status_code == 200
    assert httpx.get(f"{stack.url}/nope").status_code == 404


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("50001", "looks like an order's sequence number, not its id"),
        ("1500000000001", "did you mean `1500000000001-01`?"),
        ("9999999999999-01", "Double-check the id"),
    ],
)
def test_an_order_not_found_gets_one_hint_that_fits_what_was_typed(stack, typed, hint):
    stack.driver.slash(VIEWER, typed)
    assert hint in text_of(private_card(stack, VIEWER))


def test_a_partial_that_leaves_something_missing_offers_the_rest_on_the_refreshed_card(stack):
    from tests.trust.test_once import VALID, open_form

    stack.driver.slash(VIEWER, "1500000000001-01")
    card = cards(stack)[0]
    open_form(stack, card)
    stack.driver.submit(OPERATOR, {**VALID, "other_block": ""})  # the T-shirt only; R$ 9,95 of shipping stays
    stack.driver.submit(OPERATOR)
    refreshed = wait_card(stack, card.ts, "Re-read after the action")
    assert "Short by *R$ 9,95*" in text_of(refreshed) and buttons(refreshed.blocks) == ["add_partial_invoice"]
