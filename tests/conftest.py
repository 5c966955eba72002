"""Shared fixtures. The doubles themselves live in bot/doubles/ (the playground and bench use them too)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"  # everything the tests read is in the repository (see SOURCES.md there)
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

# Variables that steer the test suite itself, not the app: `_clean_env` keeps them.
# UNSTUCK_VTEX_ARTICLES: an export of VTEX's help-center articles (CI: ../shared/kb/vtex-help-center; a
#   relative path is taken from the repository root). The tests against VTEX's own text run only with it; the
#   seeded FAQ entry is read from the export's sibling folder `../../seeds`.
# UNSTUCK_SCREENSHOTS: where the browser tests save screenshots (see tests/playground/test_browser.py).
VTEX_ARTICLES = "UNSTUCK_VTEX_ARTICLES"
TEST_SETTINGS = (VTEX_ARTICLES, "UNSTUCK_SCREENSHOTS")


def vtex_articles(*parts: str) -> Path:
    """A path inside the export named by UNSTUCK_VTEX_ARTICLES; the calling test is skipped without one."""
    root = os.environ.get(VTEX_ARTICLES)
    if not root:
        pytest.skip(
            f"{VTEX_ARTICLES} is not set: the tests against VTEX's own help-center articles run when it names "
            "an export of them (CI sets ../shared/kb/vtex-help-center)"
        )
    path = (ROOT / Path(root).expanduser()).joinpath(*parts).resolve()
    if not path.exists():
        pytest.skip(f"{path} does not exist ({VTEX_ARTICLES}={root})")
    return path


@pytest.fixture
def example_order_json() -> dict:
    return json.loads((FIXTURES / "vtex-openapi-get-order-example.json").read_text())


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A developer's real tokens must never leak into a test run; settings read only what a test sets.
    for key in list(os.environ):
        if key.startswith(("SLACK_", "VTEX_", "UNSTUCK_")) and key not in TEST_SETTINGS:
            monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def stack(tmp_path: Path):
    """The real app over HTTP on 127.0.0.1 with the VTEX and Slack doubles, demo orders loaded."""
    from bot.doubles.stack import LocalStack

    with LocalStack(tmp_path / "audit.db") as running:
        yield running
