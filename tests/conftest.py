"""Shared fixtures. The doubles themselves live in bot/doubles/ (the playground and bench use them too)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("UNSTUCK_SHARED_DIR", ROOT.parent / "shared"))
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    assert path.exists(), f"test data {path} is missing: the tests read VTEX's articles from ../shared"
    return path


@pytest.fixture
def example_order_json() -> dict:
    return json.loads(shared("fixtures", "vtex-openapi-get-order-example.json").read_text())


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A developer's real tokens must never leak into a test run; settings read only what a test sets.
    for key in list(os.environ):
        if key.startswith(("SLACK_", "VTEX_", "UNSTUCK_")) and key != "UNSTUCK_SHARED_DIR":
            monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def stack(tmp_path: Path):
    """The real app over HTTP on 127.0.0.1 with the VTEX and Slack doubles, demo orders loaded."""
    from bot.doubles.stack import LocalStack

    with LocalStack(tmp_path / "audit.db") as running:
        yield running
