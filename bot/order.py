"""The parts of VTEX's Get-order JSON that a diagnosis needs, parsed tolerantly.

Unknown fields are ignored, missing fields take defaults, and `null` takes the field's default
wherever the model has no use for "unknown" (VTEX's schema marks many fields nullable, e.g. a change's
`discountValue`). Dates without a time zone are read as UTC. Status strings are kept as VTEX sent
them (new statuses must not break parsing). Money stays in integer cents as VTEX sends it.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from bot.i18n import store_format
from bot.money import DEFAULT_CURRENCY, Currency


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, alias_generator=to_camel, frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _null_is_default(cls, value: Any, info: Any) -> Any:
        field = cls.model_fields.get(info.field_name)
        blank = value is None or (
            isinstance(value, str) and not value.strip() and field and field.annotation is not str
        )
        if blank and field is not None and not field.is_required():
            return field.get_default(call_default_factory=True)
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _naive_dates_are_utc(cls, value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def parse_date(value: Any) -> datetime | None:
    """An ISO-8601 date as VTEX writes it (seven-digit fractions, `Z` or an offset); None when absent or not one.
    Naive dates are UTC, as in the order model."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Total(_Model):
    id: str = ""
    name: str = ""
    value: int = 0


class SellingPrice(_Model):
    value: int = 0  # unit price in cents for `quantity` of the units
    quantity: int = 0


class PriceDefinition(_Model):
    selling_prices: list[SellingPrice] = Field(default_factory=list)
    total: int | None = None


class Item(_Model):
    unique_id: str = ""
    id: str = ""
    name: str = ""
    ref_id: str | None = None
    quantity: int = 0
    seller: str = ""
    price: int = 0
    selling_price: int | None = None
    is_gift: bool = False
    # VTEX splits a total that does not divide evenly (3 units for 1000 -> 333, 333, 334); the Get-order
    # example calls it priceDefinition, the schema priceDefinitions.
    price_definition: PriceDefinition | None = Field(
        default=None, validation_alias=AliasChoices("priceDefinition", "priceDefinitions", "price_definition")
    )

    @property
    def unit_price(self) -> int:
        return self.selling_price if self.selling_price is not None else self.price

    @property
    def unit_prices(self) -> list[tuple[int, int]]:
        """(unit price, units) in VTEX's own split when it adds up to the quantity, else the selling price."""
        tiers = [(p.value, p.quantity) for p in (self.price_definition.selling_prices if self.price_definition else [])]
        tiers = [(price, units) for price, units in tiers if units > 0]
        if tiers and sum(units for _, units in tiers) == self.quantity:
            return tiers
        return [(self.unit_price, self.quantity)] if self.quantity > 0 else []


class PackageItem(_Model):
    item_index: int = 0
    quantity: int = 0
    price: int = 0
    description: str | None = None


class Package(_Model):
    """One invoice attached to the order (VTEX calls them packages)."""

    type: str = "Output"
    invoice_number: str = ""
    invoice_value: int = 0
    issuance_date: datetime | None = None
    invoice_key: str | None = None
    invoice_url: str | None = None
    courier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    embedded_invoice: str | None = None
    cfop: str | None = None
    items: list[PackageItem] = Field(default_factory=list)

    @property
    def is_output(self) -> bool:
        return (self.type or "Output").lower() == "output"


class PackageAttachment(_Model):
    packages: list[Package] = Field(default_factory=list)


class CurrencyFormatInfo(_Model):
    model_config = ConfigDict(alias_generator=None)  # VTEX spells these in PascalCase
    CurrencyDecimalDigits: int = 2
    CurrencyDecimalSeparator: str = "."
    CurrencyGroupSeparator: str = ","
    CurrencyGroupSize: int = 3
    StartsWithCurrencySymbol: bool = True


class StorePreferences(_Model):
    country_code: str | None = None
    currency_code: str = ""
    currency_symbol: str = ""
    currency_format_info: CurrencyFormatInfo | None = None
    time_zone: str | None = None


# VTEX names the store's time zone the Windows way; these are the zones of its markets.
WINDOWS_ZONES = {
    "E. South America Standard Time": "America/Sao_Paulo",
    "SA Eastern Standard Time": "America/Fortaleza",
    "Central Brazilian Standard Time": "America/Cuiaba",
    "SA Western Standard Time": "America/Manaus",
    "Tocantins Standard Time": "America/Araguaina",
    "Bahia Standard Time": "America/Bahia",
    "Pacific SA Standard Time": "America/Santiago",
    "Argentina Standard Time": "America/Argentina/Buenos_Aires",
    "SA Pacific Standard Time": "America/Bogota",
    "Central Standard Time (Mexico)": "America/Mexico_City",
    "Venezuela Standard Time": "America/Caracas",
    "Paraguay Standard Time": "America/Asuncion",
    "Montevideo Standard Time": "America/Montevideo",
    "Eastern Standard Time": "America/New_York",
    "Central Standard Time": "America/Chicago",
    "Pacific Standard Time": "America/Los_Angeles",
    "GMT Standard Time": "Europe/London",
    "Romance Standard Time": "Europe/Paris",
    "W. Europe Standard Time": "Europe/Berlin",
    "UTC": "UTC",
}


def zone_named(name: str | None) -> tzinfo:
    """The store's zone from VTEX's (Windows or IANA) name; UTC when unknown."""
    try:
        return ZoneInfo(WINDOWS_ZONES.get(name or "", name or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


class Seller(_Model):
    id: str = ""
    name: str = ""


class Marketplace(_Model):
    base_url: str | None = Field(default=None, validation_alias=AliasChoices("baseURL", "base_url"))
    is_certified: bool | None = None
    name: str | None = None


class Payment(_Model):
    payment_system_name: str | None = None
    group: str | None = None
    value: int = 0


class Transaction(_Model):
    payments: list[Payment] = Field(default_factory=list)


class PaymentData(_Model):
    transactions: list[Transaction] = Field(default_factory=list)


class ChangeData(_Model):
    reason: str | None = None
    discount_value: int | None = None
    increment_value: int | None = None


class ChangesAttachment(_Model):
    changes_data: list[ChangeData] = Field(default_factory=list)


class Order(_Model):
    order_id: str
    sequence: str | None = None
    order_group: str | None = None
    status: str | None = None
    status_description: str | None = None
    workflow_is_in_error: bool = False
    value: int = 0
    origin: str | None = None
    affiliate_id: str | None = None
    marketplace_order_id: str | None = None
    seller_order_id: str | None = None
    hostname: str | None = None
    is_completed: bool | None = None
    creation_date: datetime | None = None
    last_change: datetime | None = None
    authorized_date: datetime | None = None
    invoiced_date: datetime | None = None
    cancel_reason: str | None = None
    totals: list[Total] = Field(default_factory=list)
    items: list[Item] = Field(default_factory=list)
    sellers: list[Seller] = Field(default_factory=list)
    marketplace: Marketplace | None = None
    package_attachment: PackageAttachment | None = None
    store_preferences_data: StorePreferences | None = None
    changes_attachment: ChangesAttachment | None = None
    payment_data: PaymentData | None = None

    @property
    def payments(self) -> list[Payment]:
        return [p for t in (self.payment_data.transactions if self.payment_data else []) for p in t.payments]

    @property
    def packages(self) -> list[Package]:
        return list(self.package_attachment.packages) if self.package_attachment else []

    @property
    def output_invoices(self) -> list[Package]:
        return [p for p in self.packages if p.is_output]

    @property
    def input_invoices(self) -> list[Package]:
        return [p for p in self.packages if not p.is_output]

    @property
    def invoiced_output(self) -> int:
        """Only sale (Output) invoices count toward the order value; returns (Input) never do."""
        return sum(p.invoice_value for p in self.output_invoices)

    @property
    def missing(self) -> int:
        return self.value - self.invoiced_output

    @property
    def invoice_numbers(self) -> set[str]:
        return {p.invoice_number for p in self.packages if p.invoice_number}

    @property
    def external_sellers(self) -> list[Seller]:
        """Sellers other than the account itself (seller "1"): they invoice on their own order."""
        return [s for s in self.sellers if s.id and s.id != "1"]

    @property
    def is_marketplace_order(self) -> bool:
        """Sold through a marketplace (affiliate), or fulfilled for one, or with items from other sellers."""
        return bool(self.affiliate_id) or (self.origin or "").lower() == "fulfillment" or bool(self.external_sellers)

    @property
    def currency(self) -> Currency:
        prefs = self.store_preferences_data
        if prefs is None:
            return DEFAULT_CURRENCY
        info = prefs.currency_format_info or CurrencyFormatInfo()
        digits = max(0, min(info.CurrencyDecimalDigits, 4))
        written = store_format(prefs.currency_code, prefs.country_code)
        if written is not None:  # as the store's country writes amounts (CLDR, through Babel)
            return Currency(
                symbol=_inert(written.symbol),
                code=_inert(prefs.currency_code),
                decimal_digits=digits,
                decimal_separator=written.decimal,
                group_separator=written.group,
                group_size=written.group_size,
                symbol_first=written.symbol_first,
            )
        return Currency(
            symbol=_inert(prefs.currency_symbol or prefs.currency_code or "$"),
            code=_inert(prefs.currency_code),
            decimal_digits=digits,
            decimal_separator=info.CurrencyDecimalSeparator or ".",
            group_separator=info.CurrencyGroupSeparator,
            group_size=info.CurrencyGroupSize,
            symbol_first=info.StartsWithCurrencySymbol,
        )

    def money(self, cents: int) -> str:
        return self.currency.format(cents)

    @property
    def zone(self) -> tzinfo:
        return zone_named(self.store_preferences_data.time_zone if self.store_preferences_data else None)


def _inert(text: str) -> str:
    """A currency symbol goes into every amount shown: keep it free of markup characters."""
    return "".join(ch for ch in text if ch not in "<>&`*_~|")[:8] or "$"


def parse_order(data: Any) -> Order:
    """Parse Get-order JSON; raises pydantic.ValidationError when it is not an order at all."""
    return Order.model_validate(data)
