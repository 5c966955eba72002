"""Slack mrkdwn built safely: text from VTEX or a person is escaped; what the bot means as markup is built here.

Slack reads `<...>` as links and mentions and `&` as an entity, so outside text must have those three
escaped before it enters mrkdwn; mentions and dates the bot builds itself must not be escaped again.
"""

from __future__ import annotations

import re
from datetime import datetime

from bot.i18n import _

SLACK_ID = re.compile(r"^[UWB][A-Z0-9]{2,}$")


# A backtick from outside would open a code span; the modifier letter grave accent looks the same and is inert.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "`": "\u02cb"})
SAFE_URL = re.compile(r"^https://[^\s<>|`\"']+$")


def escape(text: object) -> str:
    """Outside text made inert in mrkdwn: no mention, no link, no entity, no code span it did not ask for."""
    return str(text).translate(_ESCAPES)


def unescape(text: str) -> str:
    return text.replace("\u02cb", "`").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def link(url: str | None, text: str) -> str:
    """A link only to a plain https address; anything else is shown as escaped text without a link."""
    if url and SAFE_URL.match(url):
        return f"<{url}|{escape(text).replace('|', '/')}>"
    return escape(text)


def code(text: object) -> str:
    """Outside text as an inline code span."""
    return f"`{escape(text)}`"


def mention(user_id: str | None) -> str:
    """A real mention for a Slack user id; anything that is not one is shown as plain text."""
    if user_id and SLACK_ID.match(user_id):
        return f"<@{user_id}>"
    return escape(user_id or "someone")


def slack_date(moment: datetime) -> str:
    """Rendered in each reader's own time zone by Slack; the fallback is UTC."""
    stamp = int(moment.timestamp())
    # Slack fills in its own tokens in the reader's language; only the word between them is ours.
    tokens = _("{date} at {time}").format(date="{date_short_pretty}", time="{time}")
    return f"<!date^{stamp}^{tokens}|{moment.strftime('%Y-%m-%d %H:%M UTC')}>"
