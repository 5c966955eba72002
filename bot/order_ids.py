"""VTEX order ids: strict validation before any request, and extraction from free text.

Formats (VTEX docs): own orders `1172452900788-01` or `v527103anml-01`, seller copies prefixed with
the affiliate (`SLR-v527103anml-01`), external marketplace orders `{affiliateId}-{externalId}`, and
the sequence form `seq501456`. Ids hold only letters, digits and `-`, so nothing a user types can
smuggle `/`, `..`, `;` or whitespace into a URL path.
"""

from __future__ import annotations

import re

from bot.errors import InvalidOrderId
from bot.i18n import N_, _
from bot.mrkdwn import code

MAX_LENGTH = 80
_VALID = re.compile(r"^(?:seq\d{4,}|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*)$")

# Extraction is narrower than validation: in a sentence, only tokens shaped like real ids count.
_IN_TEXT = re.compile(
    r"(?<![\w-])("
    r"seq\d{4,}"
    r"|(?:[A-Z]{3}-)?\d{10,13}-\d{2}"
    r"|(?:[A-Z]{3}-)?v\d{4,}[a-z]+-\d{2}"
    r"|[A-Z]{3}-(?=[A-Za-z0-9-]*\d)[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*"
    r")(?![\w-])"
)
# Slack wraps links, phone numbers and mentions as <target|label>; the label is what the user typed.
_SLACK_LINK = re.compile(r"<([^<>|]*)\|([^<>]*)>|<([^<>]*)>")

EXPECTED_FORMS = N_("`1172452900788-01`, `v527103anml-01`, `SLR-v527103anml-01`, `GHB-123456789` or `seq501456`")


def validate_order_id(raw: str) -> str:
    """Return the id stripped of surrounding blanks, or raise InvalidOrderId saying what is expected."""
    candidate = raw.strip() if isinstance(raw, str) else ""
    shown = candidate[:40] + ("…" if len(candidate) > 40 else "")
    if not candidate:
        raise InvalidOrderId(_("No order id was given. Expected one like {forms}.").format(forms=_(EXPECTED_FORMS)))
    if len(candidate) > MAX_LENGTH or not _VALID.match(candidate) or not any(c.isdigit() for c in candidate):
        raise InvalidOrderId(
            _("{order_id} is not a VTEX order id. Expected one like {forms}.").format(
                order_id=code(_printable(shown)), forms=_(EXPECTED_FORMS)
            ),
            order_id=None,
        )
    return candidate


def find_order_ids(text: str, limit: int | None = None) -> list[str]:
    """Order ids in a message, in order of appearance, without duplicates."""
    plain = _SLACK_LINK.sub(lambda m: m.group(2) or m.group(3) or "", text or "")
    plain = re.sub(r"[*_`~]", " ", plain)
    found: list[str] = []
    for match in _IN_TEXT.finditer(plain):
        oid = match.group(1)
        if oid not in found and len(oid) <= MAX_LENGTH:
            found.append(oid)
    return found[:limit] if limit else found


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() and ch not in "`<>&" else "?" for ch in text)
