from bot.doubles.stack import OPERATOR, VIEWER, LocalStack
from tests.handlers.helpers import cards, text_of, wait_card


def home_of(stack, user):
    stack.driver.home_opened(user)
    return stack.slack.wait(lambda: stack.slack.homes.get(user))


def test_home_shows_the_viewer_role_and_how_to_ask(stack):
    view = home_of(stack, VIEWER)
    text = text_of(view)
    assert view["type"] == "home"
    assert "only the team's operators press" in text and "/stuck 1172452900788-01" in text
    assert "No invoice actions yet" in text


def test_home_lists_each_action_once_in_its_final_state_with_its_amount(stack):
    stack.driver.slash(VIEWER, "1500000000002-01")
    card = cards(stack)[0]
    stack.driver.click(OPERATOR, card, "resend_invoice")
    wait_card(stack, card.ts, "resent to VTEX")
    text = text_of(home_of(stack, OPERATOR))
    assert "You are an *operator*" in text
    assert f"Resend of invoice *NF20001* · R$ 304,80 on `1500000000002-01`: *sent* · <@{OPERATOR}>" in text
    assert text.count("NF20001") == 1  # not one row for "pending" and one for "succeeded"


def test_home_explains_when_no_operator_is_configured(tmp_path):
    with LocalStack(tmp_path / "a.db", operators="") as stack:
        assert "has not named the team's operators" in text_of(home_of(stack, VIEWER))
