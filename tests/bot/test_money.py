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
        (BRL, 1, "0,01"),
    ],
)
def test_plain_is_exact_and_reads_back(currency, cents, plain):
    assert currency.plain(cents) == plain
    assert currency.parse(currency.plain(cents)) == cents


@pytest.mark.parametrize(("cents", "plain", "exact"), [(1898050, "18980,50", "$ 18.980,50"), (1, "0,01", "$ 0,01")])
def test_a_fraction_of_a_peso_is_shown_exactly_but_cannot_be_typed(cents, plain, exact):
    assert (CLP.plain(cents), CLP.exact(cents), CLP.format(cents)) == (plain, exact, CLP.format(cents))
    with pytest.raises(AmountError) as caught:
        CLP.parse(plain)
    assert str(caught.value) == "CLP amounts have no decimals: enter it like 12980."


# -- the boundaries a one-character change would move (mutation tests, issue 16) ------------------------


@pytest.mark.parametrize(
    ("currency", "cents", "shown"),
    [
        (CLP, 250, "$ 3"),  # half a peso rounds up, as VTEX's components do (not to the even 2)
        (CLP, 350, "$ 4"),
        (Currency(group_size=0), 123400, "$ 1234.00"),  # no grouping at all
        (Currency(group_size=1), 123400, "$ 1,2,3,4.00"),
        (Currency(group_separator=""), 123400, "$ 1234.00"),
    ],
)
def test_format_rounds_half_up_and_groups_as_the_store_says(currency, cents, shown):
    assert currency.format(cents) == shown


@pytest.mark.parametrize(
    ("currency", "cents", "plain"),
    [
        (BRL, 0, "0,00"),
        (BRL, -1, "-0,01"),
        (BRL, -500, "-5,00"),
        (CLP, 0, "0"),
        (CLP, -100, "-1"),
    ],
)
def test_plain_at_zero_and_below(currency, cents, plain):
    assert currency.plain(cents) == plain
    assert currency.parse(plain) == cents


@pytest.mark.parametrize(
    ("currency", "typed", "cents"),
    [
        (BRL, ",50", 50),  # no whole part
        (BRL, "0,00", 0),
        (BRL, "-0,01", -1),
        (CLP, "18,980", 1898000),  # a currency without decimals: three digits after either mark are thousands
        (CLP, "-1", -100),
        (CLP, "18.980,00", 1898000),  # zero decimals are no fraction
        (CLP, "18980,0", 1898000),
    ],
)
def test_parse_edges(currency, typed, cents):
    assert currency.parse(typed) == cents


@pytest.mark.parametrize(
    ("currency", "typed", "message"),
    [
        (BRL, "abc", "Enter an amount such as 129,90."),
        (USD, "", "Enter an amount such as 129.90."),
        (CLP, "abc", "Enter an amount such as 12980."),
        (BRL, "9999999999999", "That amount is too large."),
        (BRL, "1.234,567", "Use at most two decimals, like 129,90."),
        (BRL, "1.234,", "That amount is not a number; enter it like 129,90."),
        (USD, "12,34.56", "That amount is not a number; enter it like 129.90."),
        (CLP, "1234.567", "That amount is not a number; enter it like 12980."),
        (CLP, "1.23.4", "That amount is not a number; enter it like 12980."),
        (
            USD,
            "1.234",
            "'1.234' could be read two ways. Enter it like 129.90 ('.' before the decimals, no thousands separator).",
        ),
        (
            Currency(decimal_digits=1),
            "1.234",
            "'1.234' could be read two ways. Enter it like 12980.0 ('.' before the decimals, no thousands separator).",
        ),
    ],
)
def test_parse_errors_say_exactly_what_to_type(currency, typed, message):
    with pytest.raises(AmountError) as caught:
        currency.parse(typed)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("currency", "typed", "message"),
    [
        (CLP, "18.980,5", "CLP amounts have no decimals: enter it like 12980."),
        (CLP, "1,05", "CLP amounts have no decimals: enter it like 12980."),
        (Currency(symbol="$", decimal_digits=0), "1,50", "$ amounts have no decimals: enter it like 12980."),
    ],
)
def test_a_currency_without_decimals_refuses_a_fraction(currency, typed, message):
    with pytest.raises(AmountError) as caught:
        currency.parse(typed)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("currency", "cents", "exact"),
    [
        (BRL, 1, "R$ 0,01"),
        (BRL, -125990, "-R$ 1.259,90"),
        (CLP, 1898000, "$ 18.980"),
        (CLP, -150, "-$ 1,50"),
        (CLP, 123456789, "$ 1.234.567,89"),
        (Currency(symbol="CLP", decimal_digits=0, symbol_first=False), 150, "1.50 CLP"),
        (Currency(symbol="CLP", decimal_digits=0, symbol_first=False), -100, "-1 CLP"),
    ],
)
def test_exact_never_rounds_a_cent_away(currency, cents, exact):
    assert currency.exact(cents) == exact
