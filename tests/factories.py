"""Orders of our own, built field by field, for table-driven tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.conftest import NOW


def order_json(
    status: str | None = "handling",
    *,
    value: int = 10000,
    invoices: list[dict[str, Any]] | None = None,
    age: timedelta = timedelta(days=3),
    **extra: Any,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "orderId": "1234567890123-01",
        "status": status,
        "value": value,
        "lastChange": (NOW - age).isoformat(),
        "creationDate": (NOW - age - timedelta(hours=1)).isoformat(),
        "items": [{"id": "77", "name": "Lamp", "quantity": 2, "price": 4000, "sellingPrice": 4000, "seller": "1"}],
        "sellers": [{"id": "1", "name": "Store"}],
        "packageAttachment": {"packages": invoices or []},
        "storePreferencesData": {
            "currencyCode": "BRL",
            "currencySymbol": "R$",
            "currencyFormatInfo": {
                "CurrencyDecimalDigits": 2,
                "CurrencyDecimalSeparator": ",",
                "CurrencyGroupSeparator": ".",
                "CurrencyGroupSize": 3,
                "StartsWithCurrencySymbol": True,
            },
        },
    }
    data.update(extra)
    return data


def invoice(number: str, value: int, kind: str = "Output", days_ago: int = 2, **extra: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "invoiceNumber": number,
        "invoiceValue": value,
        "issuanceDate": (NOW - timedelta(days=days_ago)).isoformat(),
        "items": [{"itemIndex": 0, "quantity": 1, "price": 4000}],
        **extra,
    }
