"""Bounded work: a per-user question limit and a bounded work queue, both answered at once and logged."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.doubles.stack import OPERATOR, VIEWER, LocalStack
from tests.handlers.helpers import cards, ephemeral_to, text_of

A, B, C, D, E = "1500000000001-01", "1500000000002-01", "1500000000006-01", "1500000000007-01", "1500000000003-01"


@pytest.fixture
def limited(tmp_path):
    with LocalStack(tmp_path / "limits.db", unstuck_user_question_limit=3) as stack:
        yield stack


def asked_vtex(stack) -> list[str]:
    return [c.path.rsplit("/", 1)[-1] for c in stack.vtex.calls]


def questions(stack, outcome: str) -> list[tuple[str, str]]:
    rows = stack.services.store.log.recent(100, kind="question")
    return sorted((r["user_id"], r["order_id"]) for r in rows if r["outcome"] == outcome)


def test_over_the_question_limit_the_asker_is_told_in_the_ack_and_it_is_logged(limited):
    first = limited.driver.slash(VIEWER, f"{A} {B}")
    assert "Looking up" in first.body and "You asked" not in first.body
    second = limited.driver.slash(VIEWER, f"{C} {D}")
    assert f"Looking up `{C}`" in second.body
    assert "You asked about 3 orders in the last minute" in second.body and f"did not look `{D}` up" in second.body
    third = limited.driver.slash(VIEWER, E)
    assert third.status == 200 and "Looking up" not in third.body
    assert f"did not look `{E}` up" in str(third.json()) and "Try again in about" in str(third.json())
    assert third.json().get("response_type", "ephemeral") == "ephemeral"
    cards(limited, 3)
    assert sorted(asked_vtex(limited)) == sorted([A, B, C])
    assert questions(limited, "refused") == sorted([(VIEWER, D), (VIEWER, E)])
    rows = limited.services.store.log.recent(100, kind="question")
    assert all("UNSTUCK_USER_QUESTION_LIMIT" in r["detail"] for r in rows if r["outcome"] == "refused")


def test_the_limit_is_per_person(limited):
    limited.driver.slash(VIEWER, f"{A} {B} {C}")
    assert "You asked" in limited.driver.slash(VIEWER, D).body
    assert "Looking up" in limited.driver.slash(OPERATOR, D).body
    cards(limited, 4)


def test_a_burst_from_one_person_gets_the_limit_answered_and_the_rest_refused(limited):
    with ThreadPoolExecutor(max_workers=10) as pool:
        replies = list(pool.map(lambda _: limited.driver.slash(VIEWER, A), range(10)))
    assert all(r.status == 200 for r in replies)
    assert sum("Looking up" in r.body for r in replies) == 3
    cards(limited, 3)
    assert len(asked_vtex(limited)) == 3 and len(questions(limited, "refused")) == 7


def test_mentions_and_shortcuts_over_the_limit_are_told_in_the_thread_or_privately(limited):
    limited.driver.slash(VIEWER, f"{A} {B} {C}")
    cards(limited, 3)
    question, reply = limited.driver.mention(VIEWER, f"why is {D} stuck?")
    assert reply.status == 200
    told = limited.slack.wait(
        lambda: next((m for m in limited.slack.bot_messages("C0SUPPORT") if "You asked about 3" in text_of(m)), None)
    )
    assert told.thread_ts == question.ts
    complaint = limited.slack.post("C0SUPPORT", "UCUSTOMER", f"order {E} never shipped")
    limited.driver.message_shortcut(VIEWER, complaint)
    assert f"did not look `{E}` up" in text_of(ephemeral_to(limited, VIEWER, "You asked about 3"))
    assert D not in asked_vtex(limited) and E not in asked_vtex(limited)
    assert questions(limited, "refused") == sorted([(VIEWER, D), (VIEWER, E)])


@pytest.fixture
def held(stack):
    """The work pool shrunk to one thread, held by a job until the test lets it go; one question may wait."""
    svc = stack.services
    svc.work.shutdown()
    svc.work = ThreadPoolExecutor(max_workers=1, thread_name_prefix="work")
    svc.max_waiting = 1
    started, release = threading.Event(), threading.Event()
    svc.background(lambda: (started.set(), release.wait(10)))
    assert started.wait(5)
    yield release
    release.set()


def test_when_the_queue_is_full_questions_are_answered_busy_at_once_and_logged(stack, held):
    waiting = stack.driver.slash(VIEWER, A)
    assert "Looking up" in waiting.body  # queued behind the held job
    busy = stack.driver.slash(OPERATOR, B)
    assert busy.status == 200 and "Looking up" not in busy.body
    assert "The bot is busy" in str(busy.json()) and "Try again in a minute" in str(busy.json())
    _, dm = stack.driver.dm(VIEWER, C)
    assert dm.status == 200
    stack.slack.wait(lambda: any("The bot is busy" in text_of(m) for m in stack.slack.bot_messages("DVIEW0001")))
    assert questions(stack, "busy") == [(OPERATOR, B), (VIEWER, C)]
    assert stack.vtex.calls == []
    held.set()  # the work thread is free again: the queued question is answered, and new ones are taken
    cards(stack, 1)
    assert asked_vtex(stack) == [A]
    assert "Looking up" in stack.driver.slash(OPERATOR, B).body
    cards(stack, 2)
