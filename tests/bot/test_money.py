import pytest

from bot.money import Currency

BRL = Currency(symbol="R$", decimal_separator=",", group_separator=".")
USD = Currency(symbol="$")


@pytest.mark.parametrize(
    ("currency", "cents", "shown"),
    [
        (BRL, 25990, "R$ 259,90"),
        (BRL, 123456789, "R$ 1.234.567,89"),
        (BRL, 5, "R$ 0,05"),
        (USD, 100000, "$ 1,000.00"),
        (USD, -1250, "-$ 12.50"),
        (Currency(symbol="€", symbol_first=False, decimal_separator=",", group_separator=" "), 99900, "999,00 €"),
        (Currency(symbol="¥", decimal_digits=0), 1500, "¥ 1,500"),
    ],
)
def test_format(currency, cents, shown):
    assert currency.format(cents) == shown


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("129,90", 12990),
        ("129.90", 12990),
        ("R$ 1.234,56", 123456),
        ("1,234.56", 123456),
        ("10", 1000),
        ("0,5", 50),
        ("1.234", 123400),
    ],
)
def test_parse_what_agents_type(typed, cents):
    assert BRL.parse(typed) == cents


@pytest.mark.parametrize("typed", ["", "abc", "12,34,5,6", "1-2", "9999999999999"])
def test_parse_rejects_nonsense_with_an_example(typed):
    with pytest.raises(ValueError):
        BRL.parse(typed)


def test_plain_is_what_the_modal_prefills():
    assert BRL.plain(12990) == "129,90"
    assert BRL.parse(BRL.plain(12990)) == 12990
