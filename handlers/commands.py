"""`/stuck ORDER-ID [ORDER-ID…]`: acknowledge at once, then answer each order as VTEX replies.

Questions over the asker's limit, or arriving while the work queue is full, are refused in the ack itself.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.blocks import MAX_IDS, Message, looking_up, notice, radar_summary, usage_message
from bot.services import Services
from handlers.common import answer_each, ids_in, services, who_from


def radar_answer(svc: Services) -> Message:
    """`/stuck radar`: the orders stuck now, oldest first, with counts per status (a local read: fast)."""
    if not svc.settings.unstuck_radar_channel:
        return notice("The stuck-order radar is off; whoever runs the bot can turn it on for a channel.")
    alerts = [a for a in svc.store.radar.open_alerts() if not svc.store.radar.muted(a.order_id, a.status, svc.clock())]
    blocks = radar_summary(alerts, svc.clock())
    return Message(f"{len(alerts)} stuck order(s) now.", blocks)


def register(app: App) -> None:
    app.command("/stuck")(stuck_command)


def stuck_command(ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    if command.get("text", "").strip().lower() == "radar":
        ack(**radar_answer(services(context)).kwargs())
        return
    ids, problem = ids_in(command.get("text", ""))
    if not ids:
        ack(**usage_message(problem).kwargs())
        return
    extra = f" (only the first {MAX_IDS} of {len(ids)})" if len(ids) > MAX_IDS else ""
    svc = services(context)
    who = who_from(command)
    admission = svc.admit(who, ids[:MAX_IDS])
    if not admission.ids:
        ack(**notice(admission.notice or "").kwargs())
        return
    ack(text=looking_up(admission.ids) + extra + (f"\n{admission.notice}" if admission.notice else ""))

    def work() -> None:
        answer_each(
            svc,
            admission.ids,
            who,
            lambda m: respond(response_type=svc.visibility, replace_original=False, **m.kwargs()),
            lambda m: respond(response_type="ephemeral", replace_original=False, **m.kwargs()),
        )
        if not admission.notice:
            respond(delete_original=True)  # the "Looking up…" note has done its job

    svc.start(admission, work)
