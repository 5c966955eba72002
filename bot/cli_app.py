"""Subcommands that run or inspect the Slack app (serve, audit, playground)."""

from __future__ import annotations

import argparse


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    return None
