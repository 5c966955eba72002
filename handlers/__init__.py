"""Slack listeners, one module per surface; each module's `register(app)` wires its ids to callbacks."""

from __future__ import annotations

from slack_bolt import App

from handlers import actions, commands, events, home, shortcuts, views


def register_all(app: App) -> None:
    for module in (commands, events, actions, views, shortcuts, home):
        module.register(app)
