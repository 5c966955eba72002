"""The stuck-order radar end to end, over real HTTP: VTEX's feed and List orders on one side, Slack's
chat.postMessage and chat.update on the other, and the database in between (SQLite and PostgreSQL)."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.app import build_radar
from bot.doubles.stack import OPERATOR, VIEWER, LocalStack
from bot.radar import Radar
from tests.factories import invoice, order_json
from tests.handlers.helpers import buttons, text_of

CHANNEL = "C0RADAR"


def order(order_id, status="handling", age=timedelta(days=3), **extra):
    data = order_json(status, age=timedelta(0), invoices=extra.pop("invoices", [invoice("NF-1", 6000)]), **extra)
    moment = datetime.now(UTC) - age
    data.update(orderId=order_id, lastChange=moment.isoformat(), creationDate=(moment - timedelta(hours=1)).isoformat())
    return data


STUCK, FRESH, DONE = "1600000000001-01", "1600000000002-01", "1600000000003-01"


@pytest.fixture
def radar_stack(db_target):
    orders = [
        order(STUCK),  # handling for 3 days, short of its value: stuck
        order(FRESH, age=timedelta(hours=1)),  # changed an hour ago: not stuck yet
        order(DONE, "invoiced", invoices=[invoice("NF-3", 10000)]),
    ]
    with LocalStack(
        db_target, orders=orders, unstuck_radar_channel=CHANNEL, unstuck_radar_interval=1, radar_ticks=False
    ) as stack:
        yield stack


def alerts(stack):
    return [m for m in stack.slack.bot_messages(CHANNEL) if m.blocks]


def test_one_alert_for_the_stuck_order_only_with_its_verdict_and_buttons(radar_stack):
    stack = radar_stack
    stack.radar.tick()
    stack.radar.tick()  # a second poll posts nothing new
    [alert] = alerts(stack)
    text = text_of(alert)
    assert STUCK in text and "Short by *R$ 40,00*" in text and "The radar found it" in text and "3 days" in text
    assert buttons(alert.blocks) == ["add_partial_invoice", "radar_menu"]
    assert FRESH not in str([text_of(m) for m in alerts(stack)])


def test_the_radar_alert_is_updated_in_place_when_the_order_is_invoiced(radar_stack):
    stack = radar_stack
    stack.radar.tick()
    [alert] = alerts(stack)
    stack.vtex.set_status(STUCK, "invoiced")
    stack.radar.tick()
    updated = stack.slack.message(alert.ts)
    assert "no longer stuck" in text_of(updated) and "Invoiced" in text_of(updated)
    assert buttons(updated.blocks) == []
    assert len(alerts(stack)) == 1  # updated, not posted again


def test_a_restart_never_alerts_twice(radar_stack):
    stack = radar_stack
    stack.radar.tick()
    stack.radar.release()  # the first process stops
    again = build_radar(stack.bot, stack.settings)  # a new process on the same database
    assert isinstance(again, Radar)
    again.tick()
    assert again.leading  # it did look, and found the alert already claimed
    again.tick()
    assert len(alerts(stack)) == 1


def test_feed_items_are_committed_once_recorded(radar_stack):
    stack = radar_stack
    stack.radar.tick()
    stack.vtex.set_status(FRESH, "ready-for-handling")
    stack.radar.tick()
    assert stack.vtex.feed_items_left() == 0
    assert any(c.method == "POST" and c.path == "/api/orders/feed" for c in stack.vtex.calls)


def test_a_429_slows_the_radar_down_without_losing_feed_items(radar_stack):
    stack = radar_stack
    stack.radar.tick()
    stack.vtex.set_status(FRESH, "ready-for-handling")
    stack.vtex.fail_next(429, headers={"Retry-After": "1"}, method="GET")
    stack.radar.tick()  # paused, nothing lost: the item is still queued
    assert stack.vtex.feed_items_left() >= 1
    stack.radar._paused_until = None  # the pause is over
    stack.radar.tick()
    assert stack.vtex.feed_items_left() == 0


def test_the_feed_filter_is_set_when_missing_and_left_alone_when_present(tmp_path):
    with LocalStack(tmp_path / "a.db", orders=[], unstuck_radar_channel=CHANNEL, radar_ticks=False) as stack:
        stack.radar.tick()
        assert stack.vtex.feed_config() is not None
    with LocalStack(tmp_path / "b.db", orders=[], unstuck_radar_channel=CHANNEL, radar_ticks=False) as stack:
        mine = {
            "filter": {"type": "FromWorkflow", "status": ["handling"]},
            "queue": {"visibilityTimeoutInSeconds": 60, "MessageRetentionPeriodInSeconds": 3600},
        }
        stack.vtex.set_feed_config_json(mine)
        stack.radar.tick()
        assert stack.vtex.feed_config()["filter"]["status"] == ["handling"]


def test_stuck_radar_lists_what_is_stuck_now_and_app_home_shows_it(radar_stack):
    stack = radar_stack
    stack.radar.tick()
    reply = stack.driver.slash(VIEWER, "radar")
    assert "Stuck now: 1 order(s)" in str(reply.json()) and STUCK in str(reply.json())
    stack.driver.home_opened(OPERATOR)
    home = stack.slack.wait(lambda: stack.slack.homes.get(OPERATOR))
    assert "Stuck now: 1 order(s)" in text_of(home)


def test_an_operator_can_snooze_an_order_and_it_is_logged(radar_stack):
    stack = radar_stack
    stack.radar.tick()
    [alert] = alerts(stack)
    stack.driver.choose(OPERATOR, alert, "radar_menu", f"snooze-1h|{STUCK}|handling")
    stack.slack.wait(lambda: any("will not alert" in text_of(m) for m in stack.slack.messages if m.ephemeral_to))
    assert stack.services.store.radar.muted(STUCK, "handling", datetime.now(UTC))
    assert stack.services.store.log.recent(1)[0]["action"] == "radar_snooze-1h"


def test_the_radar_is_off_without_a_channel_and_makes_no_vtex_calls(tmp_path):
    with LocalStack(tmp_path / "a.db", orders=[order(STUCK)]) as stack:
        assert stack.radar is None
        assert "radar is off" in str(stack.driver.slash(VIEWER, "radar").json())
        assert not [c for c in stack.vtex.calls if "feed" in c.path or c.path == "/api/oms/pvt/orders"]


def test_a_fix_made_from_the_alert_keeps_its_credit_when_the_alert_resolves(radar_stack):
    from tests.trust.test_once import VALID

    stack = radar_stack
    stack.radar.tick()
    [alert] = alerts(stack)
    stack.driver.click(OPERATOR, alert, "add_partial_invoice")
    stack.slack.wait(lambda: (v := stack.slack.top_view(OPERATOR)) and "Re-reading" not in text_of(v))
    stack.driver.submit(OPERATOR, {**VALID, "other_block": "yes"})
    stack.driver.submit(OPERATOR)
    stack.slack.wait(lambda: stack.vtex.order(STUCK)["status"] == "invoiced")
    stack.radar.tick()
    resolved = text_of(stack.slack.message(alert.ts))
    assert "no longer stuck" in resolved and f"<@{OPERATOR}> sent invoice NF-2 (R$ 40,00)" in resolved


def test_only_operators_may_snooze(radar_stack):
    stack = radar_stack
    stack.radar.tick()
    [alert] = alerts(stack)
    stack.driver.choose(VIEWER, alert, "radar_menu", f"mute-status|{STUCK}|handling")
    stack.slack.wait(lambda: any("may snooze or mute" in text_of(m) for m in stack.slack.messages if m.ephemeral_to))
    assert not stack.services.store.radar.muted(STUCK, "handling", datetime.now(UTC))


def test_left_running_the_radar_alerts_within_two_intervals(db_target):
    with LocalStack(
        db_target,
        orders=[order(STUCK), order(FRESH, age=timedelta(hours=1))],
        unstuck_radar_channel=CHANNEL,
        unstuck_radar_interval=1,
    ) as stack:
        started = datetime.now(UTC)
        [alert] = stack.slack.wait(lambda: alerts(stack), timeout=2.5)
        assert STUCK in text_of(alert) and datetime.now(UTC) - started < timedelta(seconds=2.5)


def test_a_sweep_never_pushes_known_orders_ahead_and_the_feed_goes_first(db_target):
    from bot.store import Store

    opened = Store(db_target)
    store = opened.radar
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    store.discover([("A", now + timedelta(days=2)), ("B", now)], "sweep")
    assert store.due(now, 10) == ["B"]  # A cannot be stuck before it is two days old
    store.reschedule("B", now + timedelta(hours=1))
    store.discover([("A", now), ("B", now)], "sweep")  # the next sweep finds both again
    assert store.due(now, 10) == []  # and leaves their schedules alone
    store.watch(["C"], now - timedelta(days=3650), "feed")
    store.discover([("D", now)], "sweep")
    assert store.due(now, 10) == ["C", "D"]  # what VTEX reported changed goes first
    opened.close()


def test_a_zero_threshold_makes_the_sweep_look_at_once_as_the_card_says_stuck(db_target):
    # UNSTUCK_RADAR_AFTER=handling=0s: the card calls an hour-old handling order stuck, so the radar must look
    # at it in its first tick, not two days after it was created.
    with LocalStack(
        db_target,
        orders=[order(FRESH, age=timedelta(hours=1))],
        unstuck_radar_channel=CHANNEL,
        unstuck_radar_interval=1,
        unstuck_radar_after="handling=0s",
        radar_ticks=False,
    ) as stack:
        stack.radar.tick()
        [alert] = alerts(stack)
        assert FRESH in text_of(alert)
