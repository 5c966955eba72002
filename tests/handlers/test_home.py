from bot.doubles.stack import OPERATOR, VIEWER, LocalStack
from tests.handlers.helpers import cards, text_of, wait_card


def home_of(stack, user):
    stack.driver.home_opened(user)
    return stack.slack.wait(lambda: stack.slack.homes.get(user))


def test_home_shows_the_viewer_role_and_how_to_ask(stack):
    view = home_of(stack, VIEWER)
    text = text_of(view)
    assert view["type"] == "home"
    assert "You are a *viewer*" in text and "/stuck 1172452900788-01" in text and "No invoice actions yet" in text


def test_home_lists_recent_actions_with_outcomes_for_operators(stack):
    stack.driver.slash(VIEWER, "1500000000002-01")
    card = cards(stack)[0]
    stack.driver.click(VIEWER, card, "resend_invoice")
    stack.slack.wait(lambda: stack.services.store.log.recent(1)[0]["outcome"] == "refused")
    stack.driver.click(OPERATOR, card, "resend_invoice")
    wait_card(stack, card.ts, "resent to VTEX")
    text = text_of(home_of(stack, OPERATOR))
    assert "You are an *operator*" in text
    assert "*succeeded* · resend invoice NF20001 on `1500000000002-01`" in text
    assert f"*refused* · resend invoice on `1500000000002-01` by <@{VIEWER}>" in text


def test_home_explains_when_no_operator_is_configured(tmp_path):
    with LocalStack(tmp_path / "a.db", operators="") as stack:
        assert "No operators are configured" in text_of(home_of(stack, VIEWER))
