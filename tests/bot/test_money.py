"""The one money rule: OMS integers are cents in every currency; the sales policy only shapes display."""

import pytest

from bot.money import AmountError, Currency

BRL = Currency(symbol="R$", code="BRL", decimal_separator=",", group_separator=".")
USD = Currency(symbol="US$", code="USD")
CLP = Currency(symbol="$", code="CLP", decimal_digits=0, decimal_separator=",", group_separator=".")
EUR_AFTER = Currency(symbol="€", symbol_first=False, decimal_separator=",", group_separator=" ")


@pytest.mark.parametrize(
    ("currency", "cents", "shown"),
    [
        (BRL, 25990, "R$ 259,90"),
        (BRL, 123456789, "R$ 1.234.567,89"),
        (BRL, 5, "R$ 0,05"),
        (BRL, 0, "R$ 0,00"),
        (USD, 100000, "US$ 1,000.00"),
        (USD, 5490, "US$ 54.90"),
        (USD, -1250, "-US$ 12.50"),
        (EUR_AFTER, 99900, "999,00 €"),
        # Zero decimal digits: still cents, divided by 100 and rounded for display (as VTEX's components do).
        (CLP, 1898000, "$ 18.980"),
        (CLP, 100, "$ 1"),
        (CLP, 149, "$ 1"),
        (CLP, 150, "$ 2"),
        (CLP, 99, "$ 1"),
        (CLP, 49, "$ 0"),
        (CLP, 100000000, "$ 1.000.000"),
    ],
)
def test_format(currency, cents, shown):
    assert currency.format(cents) == shown


@pytest.mark.parametrize(
    ("currency", "typed", "cents"),
    [
        (BRL, "129,90", 12990),
        (BRL, "129.90", 12990),
        (BRL, "R$ 1.234,56", 123456),
        (BRL, "1,234.56", 123456),
        (BRL, "10", 1000),
        (BRL, "0,5", 50),
        (BRL, "0,01", 1),
        (BRL, "1.234", 123400),
        (BRL, "1.234.567", 123456700),
        (BRL, " R$\u00a0129,90 ", 12990),
        (USD, "1,234", 123400),
        (USD, "54.90", 5490),
        (USD, "US$ 54.9", 5490),
        (CLP, "18.980", 1898000),
        (CLP, "18980", 1898000),
        (CLP, "$ 18.980", 1898000),
        (CLP, "CLP 18.980", 1898000),
        (CLP, "1.000.000", 100000000),
        (BRL, "-5,00", -500),
    ],
)
def test_parse_what_agents_type_in_their_format(currency, typed, cents):
    assert currency.parse(typed) == cents


@pytest.mark.parametrize(
    ("currency", "typed", "words"),
    [
        (BRL, "", "Enter an amount"),
        (BRL, "abc", "Enter an amount"),
        (BRL, "12,34,5,6", "not a number"),
        (BRL, "1-2", "Enter an amount"),
        (BRL, "9999999999999", "too large"),
        (BRL, "12.", "not a number"),
        (BRL, "1.2345", "at most two decimals"),
        (BRL, "1.23.4", "not a number"),
        (BRL, "1.234,5,6", "not a number"),
        # A single mark before three digits, where the currency does not group with it: ask, never guess.
        (USD, "1.234", "two ways"),
        (BRL, "1,234", "two ways"),
    ],
)
def test_parse_refuses_nonsense_and_ambiguity_with_an_example(currency, typed, words):
    with pytest.raises(AmountError, match=words):
        currency.parse(typed)


def test_twelve_digits_are_the_limit():
    assert BRL.parse("999999999999") == 99999999999900
    with pytest.raises(AmountError):
        BRL.parse("1000000000000")


@pytest.mark.parametrize(
    ("currency", "cents", "plain"),
    [
        (BRL, 12990, "129,90"),
        (USD, 5490, "54.90"),
        (CLP, 1898000, "18980"),
        (CLP, 1898050, "18980,50"),
        (BRL, 1, "0,01"),
    ],
)
def test_plain_is_exact_and_reads_back(currency, cents, plain):
    assert currency.plain(cents) == plain
    assert currency.parse(currency.plain(cents)) == cents
