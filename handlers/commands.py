"""`/stuck ORDER-ID [ORDER-ID…]`: acknowledge at once, then answer each order as VTEX replies.

Questions over the asker's limit, or arriving while the work queue is full, are refused in the ack itself.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks import MAX_IDS, Message, looking_up, notice, radar_summary, usage_message
from bot.i18n import _, ngettext, use
from bot.services import Services
from handlers.common import ACK_WAIT, answer_each, ids_in, in_their_language, language, services, who_from


def radar_answer(svc: Services) -> Message:
    """`/stuck radar`: the orders stuck now, oldest first, with counts per status (a local read: fast)."""
    if not svc.settings.unstuck_radar_channel:
        return notice(_("The stuck-order radar is off; whoever runs the bot can turn it on for a channel."))
    alerts = svc.store.radar.stuck_now(svc.clock())
    blocks = radar_summary(alerts)
    return Message(ngettext("{n} stuck order(s) now.", "{n} stuck order(s) now.", len(alerts)), blocks)


def register(app: App) -> None:
    app.command("/stuck")(stuck_command)


def stuck_command(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    svc = services(context)
    # The ack is the answer here, so a person's first question waits (briefly) for Slack to say their language.
    with use(language(svc, command.get("user_id"), client, wait=ACK_WAIT)):
        _stuck(ack, command, respond, client, svc)


def _stuck(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, svc: Services) -> None:
    if command.get("text", "").strip().lower() == "radar":
        ack(**radar_answer(svc).kwargs())
        return
    ids, problem = ids_in(command.get("text", ""))
    if not ids:
        ack(**usage_message(problem).kwargs())
        return
    extra = (
        " " + _("(only the first {max_ids} of {count})").format(max_ids=MAX_IDS, count=len(ids))
        if len(ids) > MAX_IDS
        else ""
    )
    who = who_from(command)
    admission = svc.admit(who, ids[:MAX_IDS])
    if not admission.ids:
        ack(**notice(admission.notice or "").kwargs())
        return
    ack(text=looking_up(admission.ids) + extra + (f"\n{admission.notice}" if admission.notice else ""))

    def answer() -> None:
        answer_each(
            svc,
            admission.ids,
            who,
            lambda m: respond(response_type=svc.visibility, replace_original=False, **m.kwargs()),
            lambda m: respond(response_type="ephemeral", replace_original=False, **m.kwargs()),
        )
        if not admission.notice:
            respond(delete_original=True)  # the "Looking up…" note has done its job

    svc.start(admission, in_their_language(svc, who.user_id, client, answer))
