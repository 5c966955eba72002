"""The one money rule: VTEX's OMS integers are cents; the sales policy only decides how they look.

VTEX documents every OMS money field in cents (Get order `value` "in cents"; the invoice
notification's "$24.99 -> 2499"), whatever the currency. `CurrencyDecimalDigits` only says how many
decimals a person sees: VTEX's own store components divide by 100 and round for display. So a
Chilean-peso order of `value` 1898000 is CLP 18.980, and an agent typing "18.980" means 1898000.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from bot.i18n import _

CENTS = 100  # OMS integers are hundredths of the currency unit, always
MAX_DIGITS = 12  # whole units an agent may type: far above any real invoice, far below overflow


class AmountError(ValueError):
    """What an agent typed is not an amount, or could be read two ways."""


@dataclass(frozen=True)
class Currency:
    symbol: str = "$"
    code: str = ""
    decimal_digits: int = 2
    decimal_separator: str = "."
    group_separator: str = ","
    group_size: int = 3
    symbol_first: bool = True

    @property
    def digits(self) -> int:
        """Decimals shown: the sales policy's, never more than cents can hold."""
        return max(0, min(self.decimal_digits, 2))

    def format(self, cents: int) -> str:
        """`R$ 1.259,90` for BRL, `CLP 18.980` for CLP; negative amounts keep their sign in front."""
        sign = "-" if cents < 0 else ""
        number = self._number(abs(cents), self.digits, grouped=True)
        return f"{sign}{self.symbol} {number}" if self.symbol_first else f"{sign}{number} {self.symbol}"

    def exact(self, cents: int) -> str:
        """As `format`, but never rounds cents away: for what will be posted (the form, the review)."""
        if cents % CENTS == 0 or self.digits == 2:
            return self.format(cents)
        sign = "-" if cents < 0 else ""
        number = self._number(abs(cents), 2, grouped=True)
        return f"{sign}{self.symbol} {number}" if self.symbol_first else f"{sign}{number} {self.symbol}"

    def plain(self, cents: int) -> str:
        """The amount for an input field: no symbol, no grouping, and exact (cents are never rounded away)."""
        digits = self.digits if cents % CENTS == 0 or self.digits == 2 else 2
        return ("-" if cents < 0 else "") + self._number(abs(cents), digits, grouped=False)

    def _number(self, cents: int, digits: int, *, grouped: bool) -> str:
        units = (Decimal(cents) / CENTS).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
        whole, _, frac = f"{units:f}".partition(".")
        if grouped and self.group_size > 0 and self.group_separator:
            groups: list[str] = []
            while len(whole) > self.group_size:
                groups.insert(0, whole[-self.group_size :])
                whole = whole[: -self.group_size]
            whole = self.group_separator.join([whole, *groups])
        return f"{whole}{self.decimal_separator}{frac}" if digits else whole

    def example(self) -> str:
        return self.plain(12990 if self.digits == 2 else 1298000)

    def parse(self, text: str) -> int:
        """Cents from what a person typed in this currency's format: `129,90`, `129.90`, `1.234,56`,
        `R$ 10`, `18.980` for CLP. Raises AmountError for nonsense and for what could be read two ways."""
        cleaned = text or ""
        for mark in (self.symbol, self.code):
            cleaned = cleaned.replace(mark, "") if mark else cleaned
        cleaned = re.sub(r"[\s\u00a0\u202f]", "", cleaned)
        if not re.fullmatch(r"-?[\d.,]+", cleaned) or not re.search(r"\d", cleaned):
            raise AmountError(_("Enter an amount such as {example}.").format(example=self.example()))
        negative = cleaned.startswith("-")
        whole, frac = self._split(cleaned.lstrip("-"))
        if len(whole) > MAX_DIGITS:
            raise AmountError(_("That amount is too large."))
        cents = int(whole or "0") * CENTS + int(frac.ljust(2, "0"))
        return -cents if negative else cents

    def _split(self, number: str) -> tuple[str, str]:
        """Whole units and up to two decimals, each as digits only."""
        bad = AmountError(_("That amount is not a number; enter it like {example}.").format(example=self.example()))
        marks = [c for c in number if c in ".,"]
        if not marks:
            return number, ""
        last = max(number.rfind("."), number.rfind(","))
        head, tail = number[:last], number[last + 1 :]
        if len(set(marks)) == 2:
            # Both marks: the last one separates the decimals, the other one groups thousands.
            if marks.count(number[last]) > 1:
                raise bad
            return self._grouped(head, bad), self._whole_units(self._decimals(tail, bad))
        mark = marks[0]
        if len(marks) > 1:  # "1.234.567": only thousands can repeat
            return self._grouped(number, bad), ""
        if len(tail) == 3:
            # "18.980" groups thousands when this currency groups with that mark or shows no decimals;
            # otherwise ("1.234" in dollars) it could be 1.23 mistyped or 1234: ask instead of guessing.
            if mark == self.group_separator or self.digits == 0:
                return self._grouped(number, bad), ""
            raise AmountError(
                _(
                    "'{amount}' could be read two ways. Enter it like {example} ({separator} before the decimals, "
                    "no thousands separator)."
                ).format(amount=number, example=self.example(), separator=repr(self.decimal_separator))
            )
        return head, self._whole_units(self._decimals(tail, bad))

    @staticmethod
    def _grouped(number: str, bad: AmountError) -> str:
        if not re.fullmatch(r"\d{1,3}([.,]\d{3})+|\d+", number) or len(set(re.sub(r"\d", "", number))) > 1:
            raise bad
        return re.sub(r"[.,]", "", number)

    def _whole_units(self, decimals: str) -> str:
        """A currency shown without decimals takes none from a person: `21,48` pesos is a typo, not 21 pesos."""
        if self.digits == 0 and decimals.strip("0"):
            name = self.code or self.symbol
            raise AmountError(
                _("{currency} amounts have no decimals: enter it like {example}.").format(
                    currency=name, example=self.example()
                )
            )
        return decimals

    def _decimals(self, tail: str, bad: AmountError) -> str:
        if not tail.isdigit():
            raise bad
        if len(tail) > 2:
            raise AmountError(_("Use at most two decimals, like {example}.").format(example=self.example()))
        return tail


DEFAULT_CURRENCY = Currency()
