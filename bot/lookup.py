"""Ask VTEX about an order and explain it: the one path every surface (CLI, Slack) goes through."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.diagnosis import Diagnosis, diagnose
from bot.errors import VtexError
from bot.i18n import current
from bot.kb import Guidance, KnowledgeBase
from bot.order import Order
from bot.vtex import VtexClient


@dataclass(frozen=True)
class LastResend:
    """The latest resend of the invoice the card offers to resend: who, when, and when it may be repeated."""

    user_id: str
    at: datetime
    again_after: datetime


@dataclass(frozen=True)
class Answer:
    order: Order
    diagnosis: Diagnosis
    guidance: Guidance | None
    last_resend: LastResend | None = None

    def to_dict(self) -> dict[str, Any]:
        data = self.diagnosis.to_dict()
        inv = data["invoices"]
        money = self.order.money
        inv["display"] = {k: money(inv[k]) for k in ("order_value", "invoiced", "missing", "returned")}
        data["guidance"] = {"title": self.guidance.title, "url": self.guidance.url} if self.guidance else None
        return data


@dataclass(frozen=True)
class Failure:
    order_id: str
    error: VtexError


def explain(
    order: Order, kb: KnowledgeBase, now: datetime | None = None, thresholds: Mapping[str, timedelta] | None = None
) -> Answer:
    diagnosis = diagnose(order, now or datetime.now(UTC), thresholds)
    return Answer(order, diagnosis, kb.guidance(order.status, lang=current()))


def look_up(
    client: VtexClient,
    kb: KnowledgeBase,
    order_id: str,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    thresholds: Mapping[str, timedelta] | None = None,
) -> Answer | Failure:
    try:
        order = client.get_order(order_id)
    except VtexError as exc:
        return Failure(order_id, exc)
    return explain(order, kb, now(), thresholds)
