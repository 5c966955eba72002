"""When the radar calls an order stuck: pure rules, no I/O.

An order is stuck when its time in its status exceeds the threshold for that status:
`UNSTUCK_RADAR_AFTER` where it names the status, otherwise what the status knowledge calls normal. The
thresholds go into the diagnosis itself, so the card's "normally under …" and the radar agree.
Situations that need no action (invoiced, canceled, unknown) never alert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.diagnosis import Diagnosis, Situation
from bot.statuses import STATUSES

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
NEVER_ALERT = frozenset({Situation.INVOICED, Situation.CANCELED, Situation.NOT_STUCK, Situation.UNKNOWN_STATUS})
# (NOT_STUCK orders are still watched: they become stuck once their time runs out.)
# How often an order with an open alert is looked at again, to notice it leave the situation even if the
# feed missed the change.
RECHECK = timedelta(minutes=30)
# The statuses worth watching: those with a normal duration that an order can overstay.
WATCHED_STATUSES = tuple(sorted(s.status for s in STATUSES.values() if s.expect is not None and not s.final))
# The feed must also report orders leaving the watched statuses, so their alerts can be resolved.
FEED_STATUSES = tuple(sorted({*WATCHED_STATUSES, "invoiced", "canceled"}))


def parse_after(text: str) -> dict[str, timedelta]:
    """`handling=36h,ready-for-handling=12h` -> thresholds per status. Raises ValueError naming the bad part."""
    thresholds: dict[str, timedelta] = {}
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        found = re.fullmatch(r"([a-z][a-z0-9-]*)\s*=\s*(\d+(?:\.\d+)?)\s*([smhd])", part)
        if not found:
            raise ValueError(f"{part!r} is not like handling=36h (units s, m, h, d)")
        status, amount, unit = found.groups()
        thresholds[status] = timedelta(seconds=float(amount) * UNITS[unit])
    return thresholds


@dataclass(frozen=True)
class Assessment:
    stuck: bool
    stuck_since: datetime | None  # when the order crossed its threshold
    look_again: datetime | None  # None: nothing left to watch


def assess(d: Diagnosis, now: datetime) -> Assessment:
    """From a diagnosis made with the radar's thresholds (the same the card shows): alert, wait, or forget."""
    if d.situation in NEVER_ALERT and d.situation != Situation.NOT_STUCK:
        return Assessment(False, None, None)
    if d.expected is None or d.since is None:
        return Assessment(False, None, None)
    crossed = d.since + d.expected
    if not d.stuck:
        return Assessment(False, None, max(crossed, now) + timedelta(seconds=1))
    return Assessment(True, crossed, now + RECHECK)
