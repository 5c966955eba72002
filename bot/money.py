"""Money is integer cents everywhere; only display and modal input deal in decimals."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Currency:
    symbol: str = "$"
    code: str = ""
    decimal_digits: int = 2
    decimal_separator: str = "."
    group_separator: str = ","
    group_size: int = 3
    symbol_first: bool = True

    def format(self, cents: int) -> str:
        """`R$ 1.259,90` for BRL; negative amounts keep their sign in front."""
        sign = "-" if cents < 0 else ""
        whole, frac = divmod(abs(cents), 10**self.decimal_digits)
        digits = str(whole)
        if self.group_size > 0 and self.group_separator:
            groups = []
            while len(digits) > self.group_size:
                groups.insert(0, digits[-self.group_size :])
                digits = digits[: -self.group_size]
            digits = self.group_separator.join([digits, *groups])
        number = digits + (f"{self.decimal_separator}{frac:0{self.decimal_digits}d}" if self.decimal_digits else "")
        return f"{sign}{self.symbol} {number}" if self.symbol_first else f"{sign}{number} {self.symbol}"

    def plain(self, cents: int) -> str:
        """Decimal form for inputs: no symbol, no grouping, the store's decimal separator."""
        whole, frac = divmod(abs(cents), 10**self.decimal_digits)
        sign = "-" if cents < 0 else ""
        if not self.decimal_digits:
            return f"{sign}{whole}"
        return f"{sign}{whole}{self.decimal_separator}{frac:0{self.decimal_digits}d}"

    def parse(self, text: str) -> int:
        """Cents from what a person typed: `129,90`, `129.90`, `1.234,56`, `R$ 10`. Raises ValueError."""
        cleaned = re.sub(r"[^\d.,\-]", "", (text or "").replace(self.symbol, ""))
        if not cleaned or cleaned.count("-") > 1 or ("-" in cleaned and not cleaned.startswith("-")):
            raise ValueError("Enter an amount such as " + self.plain(12990) + ".")
        negative = cleaned.startswith("-")
        cleaned = cleaned.lstrip("-")
        last = max(cleaned.rfind("."), cleaned.rfind(","))
        whole, frac = cleaned, ""
        if last >= 0 and 0 < len(cleaned) - last - 1 <= self.decimal_digits:
            whole, frac = cleaned[:last], cleaned[last + 1 :]
        if whole and not re.fullmatch(r"\d{1,3}([.,]\d{3})*|\d+", whole):
            raise ValueError("That amount is not a number; enter it like " + self.plain(12990) + ".")
        whole_digits = re.sub(r"[.,]", "", whole) or "0"
        if not frac.isdigit() and frac:
            raise ValueError("That amount is not a number; enter it like " + self.plain(12990) + ".")
        if len(whole_digits) > 12:
            raise ValueError("That amount is too large.")
        cents = int(whole_digits) * 10**self.decimal_digits + int(frac.ljust(self.decimal_digits, "0") or 0)
        return -cents if negative else cents


DEFAULT_CURRENCY = Currency()
