"""The message catalogues: every message in every language, placeholders intact, and how locales map."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot import i18n
from bot.i18n import LANGUAGES, _, catalogue_path, duration, language_of, ngettext, placeholders, use

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]


def _catalogue(language):
    with catalogue_path(language).open("rb") as handle:
        return read_po(handle, locale=i18n.CATALOGUE[language])


def _key(message_id):
    return message_id[0] if isinstance(message_id, tuple) else message_id


@pytest.fixture(scope="module")
def template():
    return {_key(m.id): m for m in i18n.extract() if m.id}


def test_the_template_on_disk_is_the_one_the_code_gives(template):
    """`python -m bot.i18n extract` was run after the last message changed."""
    with (i18n.LOCALE_DIR / "unstuck.pot").open("rb") as handle:
        on_disk = {_key(m.id) for m in read_po(handle) if m.id}
    assert set(template) - on_disk == set(), "new messages: run `python -m bot.i18n extract`"
    assert on_disk - set(template) == set(), "messages no longer in the code: run `python -m bot.i18n extract`"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_with_the_same_placeholders(language, template):
    catalogue = {_key(m.id): m for m in _catalogue(language) if m.id}
    problems = []
    for key, source in template.items():
        found = catalogue.get(key)
        if found is None or found.fuzzy or not found.string or not all(found.string if found.pluralizable else [1]):
            problems.append(f"missing or fuzzy: {key!r}")
            continue
        sources = source.id if isinstance(source.id, tuple) else (source.id,)
        wanted = set().union(*(placeholders(s) for s in sources)) - {"n"}
        forms = found.string if isinstance(found.string, tuple) else (found.string,)
        for form in forms:
            if placeholders(form) - {"n"} != wanted:
                problems.append(f"placeholders differ in {key!r}: {form!r}")
            try:  # a stray brace would raise at the moment the bot speaks
                form.format(**dict.fromkeys(placeholders(form), "x"))
            except (ValueError, IndexError, KeyError) as exc:
                problems.append(f"{key!r} cannot be filled in: {form!r} ({exc})")
    assert problems == [], "\n".join(problems[:30])


def _translation_calls():
    for folder in i18n.SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_"):
                    yield path.relative_to(ROOT), node


def test_messages_are_literal_so_they_can_be_extracted():
    """An f-string or a concatenation inside `_()` would never reach the catalogue: shown in English always."""
    bad = [
        f"{path}:{node.lineno}"
        for path, node in _translation_calls()
        if node.args and isinstance(node.args[0], (ast.JoinedStr, ast.BinOp))
    ]
    assert bad == []


@pytest.mark.parametrize(
    ("locale", "language"),
    [
        ("pt-BR", "pt-BR"),
        ("pt-PT", "pt-BR"),
        ("pt_br", "pt-BR"),
        ("es-ES", "es"),
        ("es-419", "es"),
        ("es_MX", "es"),
        ("en-US", "en"),
        ("en-GB", "en"),
        ("fr-FR", "en"),
        ("ja-JP", "en"),
        ("", None),
        (None, None),
    ],
)
def test_slack_locales_map_to_the_three_languages(locale, language):
    assert language_of(locale) == language


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Cancel"), ("pt-BR", "Cancelar"), ("es", "Cancelar")],
)
def test_messages_follow_the_language_in_use(language, expected):
    with use(language):
        assert _("Cancel") == expected
    assert _("Cancel") == "Cancel"  # the language does not leak out of `use`


@pytest.mark.parametrize(
    ("language", "delta", "expected"),
    [
        ("en", timedelta(seconds=1), "1 second"),
        ("en", timedelta(days=3), "3 days"),
        ("pt-BR", timedelta(days=3), "3 dias"),
        ("pt-BR", timedelta(hours=1, minutes=30), "1 hora"),
        ("es", timedelta(days=3), "3 días"),
        ("es", timedelta(minutes=5), "5 minutos"),
    ],
)
def test_durations_in_words_per_language(language, delta, expected):
    with use(language):
        assert duration(delta) == expected


def test_plural_counts_are_formatted_for_the_language():
    with use("pt-BR"):
        assert ngettext("{n} day", "{n} days", 1234) == "1.234 dias"
    with use("en"):
        assert ngettext("{n} day", "{n} days", 1234) == "1,234 days"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "27 Nov 2026, 09:30"), ("pt-BR", "27 de nov. de 2026, 09:30"), ("es", "27 nov 2026, 9:30")],
)
def test_dates_are_written_for_the_reader(language, expected):
    with use(language):
        assert i18n.datetime_text(datetime(2026, 11, 27, 9, 30, tzinfo=UTC)) == expected


@pytest.mark.parametrize(
    ("currency", "country", "cents", "expected"),
    [
        ("BRL", "BRA", 123456, "R$ 1.234,56"),
        ("BRL", "BRA", 123455, "R$ 1.234,55"),
        ("CLP", "CHL", 1898000, "$ 18.980"),
        ("USD", "USA", 123456, "$ 1,234.56"),
        ("EUR", "ESP", 123456, "1.234,56 €"),
        ("MXN", "MEX", 99, "$ 0.99"),
    ],
)
def test_amounts_are_written_as_the_stores_country_writes_them(currency, country, cents, expected):
    from bot.order import parse_order
    from tests.factories import order_json

    digits = 0 if currency == "CLP" else 2
    prefs = {
        "currencyCode": currency,
        "currencySymbol": "?",
        "countryCode": country,
        "currencyFormatInfo": {"CurrencyDecimalDigits": digits},
    }
    order = parse_order(order_json(storePreferencesData=prefs))
    for language in LANGUAGES:  # whoever reads: the store's invoices and Admin write them this way
        with use(language):
            assert order.money(cents) == expected
