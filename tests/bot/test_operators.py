"""Operators: user ids, and user-group membership cached for a bounded time."""

import pytest
from slack_sdk.errors import SlackApiError

from bot.operators import Operators

GROUP, MEMBER, OTHER = "SOPS00001", "UGRP00001", "UOTHER001"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def slack(mocker):
    client = mocker.Mock()
    client.usergroups_users_list.return_value = {"ok": True, "users": [MEMBER]}
    return client


def slack_down(client, mocker):
    client.usergroups_users_list.side_effect = SlackApiError("boom", mocker.Mock(status_code=500))


def test_listed_users_need_no_slack_call(slack):
    operators = Operators(frozenset({"UOPS00001", GROUP}))
    assert operators.allows("UOPS00001", slack)
    slack.usergroups_users_list.assert_not_called()


def test_group_members_are_operators_and_membership_is_reused_for_a_minute(slack):
    clock = Clock()
    operators = Operators(frozenset({GROUP}), clock=clock)
    assert operators.allows(MEMBER, slack) and not operators.allows(OTHER, slack)
    clock.now += 59
    assert operators.allows(MEMBER, slack)
    assert slack.usergroups_users_list.call_count == 1
    slack.usergroups_users_list.assert_called_with(usergroup=GROUP)
    clock.now += 2
    slack.usergroups_users_list.return_value = {"ok": True, "users": []}  # removed from the group
    assert not operators.allows(MEMBER, slack)
    assert "only the team's operators may send invoices" in operators.refusal()


def test_a_slack_hiccup_keeps_the_last_membership_for_at_most_ten_minutes(slack, mocker):
    clock = Clock()
    operators = Operators(frozenset({GROUP}), clock=clock)
    assert operators.allows(MEMBER, slack)
    slack_down(slack, mocker)
    clock.now += 9 * 60
    assert operators.allows(MEMBER, slack)  # Slack failed, but what it said 9 minutes ago still holds
    clock.now += 61
    assert not operators.allows(MEMBER, slack)  # 10 minutes on: no longer trusted
    message = operators.refusal()
    assert "Slack could not confirm that you are in an operator user group" in message
    assert "at most 10 minutes" in message and "Nothing was sent to VTEX" in message


def test_slack_failing_from_the_start_denies_with_the_same_message(slack, mocker):
    slack_down(slack, mocker)
    operators = Operators(frozenset({GROUP}))
    assert not operators.allows(MEMBER, slack)
    assert "Slack could not confirm" in operators.refusal()
    slack.usergroups_users_list.side_effect = OSError("network down")
    assert not operators.allows(MEMBER, slack)


def test_slack_answering_again_refreshes_the_membership(slack, mocker):
    clock = Clock()
    operators = Operators(frozenset({GROUP}), clock=clock)
    slack_down(slack, mocker)
    assert not operators.allows(MEMBER, slack)
    slack.usergroups_users_list.side_effect = None
    assert operators.allows(MEMBER, slack)


def test_a_user_in_no_group_is_refused_as_not_an_operator_even_while_slack_hiccups(slack, mocker):
    clock = Clock()
    operators = Operators(frozenset({GROUP}), clock=clock)
    assert not operators.allows(OTHER, slack)
    slack_down(slack, mocker)
    clock.now += 120
    assert not operators.allows(OTHER, slack)
    assert "only the team's operators may send invoices" in operators.refusal()


def test_no_operators_configured_refuses_everyone_and_says_how_to_fix_it(slack):
    operators = Operators(frozenset())
    assert not operators.allows(MEMBER, slack)
    assert "has not named the team's operators" in operators.refusal() and "UNSTUCK_" not in operators.refusal()
