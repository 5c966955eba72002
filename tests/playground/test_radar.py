"""The playground's radar, without a browser: on by default in its own channel, paced by UNSTUCK_RADAR_INTERVAL
(5 s otherwise), and its sandbox script agrees with the radar on when an order is stuck."""

from datetime import datetime, timedelta

import pytest

from bot.playground import RADAR_CHANNEL, Playground
from bot.sandbox import ENTERS, STUCK_THEN_INVOICED


@pytest.fixture
def playgrounds(tmp_path):
    opened = []

    def start(**kwargs):
        playground = Playground(str(tmp_path / f"play{len(opened)}.db"), port=0, reread_delay=0.3, **kwargs)
        opened.append(playground)
        return playground

    yield start
    for playground in opened:
        playground.close()


def test_on_by_default_every_5_s_in_its_own_channel(playgrounds, monkeypatch):
    monkeypatch.delenv("UNSTUCK_RADAR_INTERVAL", raising=False)
    monkeypatch.setenv("UNSTUCK_RADAR_CHANNEL", "CSOMEWHERE")  # a real workspace's channel is not the playground's
    playground = playgrounds()
    assert playground.radar_interval == 5.0
    assert playground.stack.settings.unstuck_radar_channel == RADAR_CHANNEL
    radar = playground.state("UOPS00001")["radar"]
    assert radar["channel"] == RADAR_CHANNEL and radar["name"] == "stuck-orders" and radar["interval"] == 5.0
    assert {ENTERS, STUCK_THEN_INVOICED} <= set(playground.stack.vtex.orders)  # the script's two orders


def test_the_interval_comes_from_the_environment_unless_given(playgrounds, monkeypatch):
    monkeypatch.setenv("UNSTUCK_RADAR_INTERVAL", "2")
    assert playgrounds().radar_interval == 2.0
    assert playgrounds(radar_interval=1).radar_interval == 1.0


def test_off_means_no_radar_no_channel_and_no_moving_orders(playgrounds, monkeypatch):
    monkeypatch.setenv("UNSTUCK_RADAR_CHANNEL", "CSOMEWHERE")
    playground = playgrounds(radar=False)
    assert playground.stack.radar is None and playground.radar_interval is None
    assert playground.state("UOPS00001")["radar"] is None
    assert ENTERS not in playground.stack.vtex.orders


def test_the_script_backdates_by_the_radars_own_handling_threshold(playgrounds, monkeypatch):
    # UNSTUCK_RADAR_AFTER changes what the radar (and the cards) call normal; the script follows it, so the order
    # that enters Handling shipping is stuck exactly `stuck_after` later: here 90 s - 60 s = 30 s into its status.
    monkeypatch.setenv("UNSTUCK_RADAR_AFTER", "handling=90s")
    playground = playgrounds(radar_enter_after=timedelta(0), radar_stuck_after=timedelta(seconds=60))
    vtex = playground.stack.vtex
    vtex.advance()
    order = vtex.order(ENTERS)
    assert order["status"] == "handling"
    in_status = vtex.clock() - datetime.fromisoformat(order["lastChange"])
    assert timedelta(seconds=29) < in_status < timedelta(seconds=35)
    assert playground.stack.services.thresholds["handling"] == timedelta(seconds=90)
