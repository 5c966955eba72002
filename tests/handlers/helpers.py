"""Small waits over the Slack double: listeners answer on their own threads."""

from __future__ import annotations

from bot.doubles.slack import BOT_USER, Msg, buttons, text_of


def cards(stack, n: int = 1, channel: str = "C0SUPPORT") -> list[Msg]:
    """Wait for n bot messages with blocks in the channel and return them."""
    return stack.slack.wait(
        lambda: (
            (
                found := [
                    m
                    for m in stack.slack.bot_messages(channel)
                    if m.blocks and m.ephemeral_to is None and "Looking up" not in m.text
                ]
            )
            and len(found) >= n
            and found
        )
    )


def ephemeral_to(stack, user: str, containing: str) -> Msg:
    return stack.slack.wait(
        lambda: next((m for m in stack.slack.messages if m.ephemeral_to == user and containing in text_of(m)), None)
    )


def card_text(stack, ts: str) -> str:
    return text_of(stack.slack.message(ts))


def wait_card(stack, ts: str, containing: str) -> Msg:
    return stack.slack.wait(lambda: containing in card_text(stack, ts) and stack.slack.message(ts))


__all__ = [
    "BOT_USER",
    "buttons",
    "cards",
    "ephemeral_to",
    "card_text",
    "first_button",
    "private_card",
    "text_of",
    "wait_card",
]


def first_button(message: Msg) -> dict:
    """The card's recommended button (its first action element)."""
    return next(e for b in message.blocks if b.get("type") == "actions" for e in b["elements"])


def private_card(stack, user: str, channel: str = "C0SUPPORT") -> Msg:
    """Wait for an answer only `user` can see (errors go to the asker alone) and return it."""
    return stack.slack.wait(
        lambda: next(
            (
                m
                for m in stack.slack.bot_messages(channel)
                if m.blocks and m.ephemeral_to == user and "Looking up" not in m.text
            ),
            None,
        )
    )
