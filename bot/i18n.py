"""Every word the bot says, in the reader's language: English, Portuguese (Brazil) or Spanish.

Messages are written in English in the code, wrapped in `_()` (or `N_()` where a table holds them and
they are translated when shown), and translated from gettext catalogues in `bot/locale/<ll>/LC_MESSAGES/
unstuck.po`, the files translators know. `unstuck.pot` is extracted from the code
(`python -m bot.i18n extract`); a test fails when a language misses a message or changes a placeholder.

The language is per reply, not per process: a listener decides it (the asker's Slack locale, or
UNSTUCK_LANGUAGE for what nobody asked for) and renders inside `use(language)`. It lives in a context
variable, so concurrent replies in other languages never see it; work handed to another thread takes it
along (`carry`).
"""

from __future__ import annotations

import contextvars
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from functools import lru_cache
from gettext import c2py
from pathlib import Path
from typing import Any, Literal, TypeVar

from babel import Locale
from babel.dates import format_skeleton, format_time
from babel.numbers import format_decimal

Language = Literal["en", "pt-BR", "es"]
LANGUAGES: tuple[Language, ...] = ("en", "pt-BR", "es")
ENGLISH: Language = "en"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "unstuck"
# The catalogue folder (gettext's name) and the CLDR locale (Babel's) of each language.
CATALOGUE: dict[Language, str] = {"en": "en", "pt-BR": "pt_BR", "es": "es"}
CLDR: dict[Language, str] = {"en": "en_US", "pt-BR": "pt_BR", "es": "es"}
# English dates are written day first (27 Nov 2026, 24-hour time): the bot's readers are in Latin America.
CLDR_DATES: dict[Language, str] = {**CLDR, "en": "en_GB"}
NAMES: dict[Language, str] = {"en": "English", "pt-BR": "Português (Brasil)", "es": "Español"}
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")

_current: contextvars.ContextVar[Language] = contextvars.ContextVar("unstuck_language", default=ENGLISH)
_catalogues: dict[Language, _Catalogue] = {}
_loading = threading.Lock()


def supported(locale: str | None) -> Language | None:
    """`pt-BR`, `pt-PT`, `pt` → pt-BR; `es-ES`, `es-419`, `es_MX` → es; `en-*` → en; anything else → None."""
    tag = (locale or "").strip().replace("_", "-").lower()
    return {"en": ENGLISH, "pt": "pt-BR", "es": "es"}.get(tag.split("-")[0])


def language_of(locale: str | None) -> Language | None:
    """The reply language for a Slack locale: `supported()`'s, English for any other locale; none → None."""
    if not (locale or "").strip():
        return None
    return supported(locale) or ENGLISH


def parse_language(value: str | None) -> Language:
    """A configured language (`en`, `pt-BR`, `es`, or any locale of them); English when it is none of them."""
    return language_of(value) or ENGLISH


def current() -> Language:
    return _current.get()


@contextmanager
def use(language: Language | str | None) -> Iterator[Language]:
    """Render everything inside in `language` (English when unknown)."""
    chosen: Language = parse_language(language)
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


T = TypeVar("T")


def carry(fn: Callable[[], T]) -> Callable[[], T]:
    """`fn` to run on another thread in the language (and every other context variable) of this one."""
    context = contextvars.copy_context()
    return lambda: context.run(fn)


# -- catalogues -------------------------------------------------------------------------------------------


def catalogue_path(language: Language) -> Path:
    return LOCALE_DIR / CATALOGUE[language] / "LC_MESSAGES" / f"{DOMAIN}.po"


@dataclass(frozen=True)
class _Catalogue:
    singular: dict[str, str]
    plural: dict[str, list[str]]
    form: Callable[[int], int]  # the catalogue's own Plural-Forms rule: which form for n


def _load(language: Language) -> _Catalogue:
    found = _catalogues.get(language)
    if found is not None:
        return found
    with _loading:
        if language not in _catalogues:
            from babel.messages.pofile import read_po

            singular: dict[str, str] = {}
            plural: dict[str, list[str]] = {}
            form: Callable[[int], int] = lambda n: int(n != 1)  # noqa: E731 - English's rule
            path = catalogue_path(language)
            if language != ENGLISH and path.exists():
                with path.open("rb") as handle:
                    catalog = read_po(handle, locale=CATALOGUE[language])
                form = c2py(catalog.plural_expr)
                for message in catalog:
                    if not message.id or message.fuzzy:
                        continue
                    if isinstance(message.id, tuple):
                        strings = message.string if isinstance(message.string, tuple) else ()
                        forms = [str(s) for s in strings if s]
                        if forms and len(forms) == len(strings):
                            plural[str(message.id[0])] = forms
                    elif message.string:
                        singular[str(message.id)] = str(message.string)
            _catalogues[language] = _Catalogue(singular, plural, form)
    return _catalogues[language]


def gettext(message: str) -> str:
    language = _current.get()
    if language == ENGLISH:
        return message
    return _load(language).singular.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for `n` (`{n}` in it is filled in here, formatted for the language)."""
    language = _current.get()
    chosen = singular if n == 1 else plural
    if language != ENGLISH:
        catalogue = _load(language)
        forms = catalogue.plural.get(singular)
        if forms:
            chosen = forms[min(catalogue.form(n), len(forms) - 1)]
    return chosen.replace("{n}", number(n))


_ = gettext


def N_(message: str) -> str:  # noqa: N802 (gettext's own name for "translate later")
    """Marks a message kept in a table; it is translated with `_()` where it is shown."""
    return message


# -- numbers, dates and durations, through Babel (CLDR) -------------------------------------------------------


def cldr(language: Language | None = None) -> str:
    return CLDR[language or _current.get()]


def number(n: int | float) -> str:
    return format_decimal(n, locale=cldr())


def date_text(moment: datetime) -> str:
    """`27 Nov 2026`, `27 de nov. de 2026`, `27 nov 2026`."""
    return nbsp(format_skeleton("yMMMd", moment, locale=CLDR_DATES[_current.get()]))


def time_text(moment: datetime, zone: tzinfo | None = None) -> str:
    """`09:30` (24-hour in all three languages)."""
    return nbsp(format_time(moment, "short", tzinfo=zone or moment.tzinfo, locale=CLDR_DATES[_current.get()]))


def datetime_text(moment: datetime, zone: tzinfo | None = None) -> str:
    """`27 Nov 2026, 09:30` in `zone` (the moment's own zone when not given)."""
    local = moment.astimezone(zone) if zone else moment
    return _("{date}, {time}").format(date=date_text(local), time=time_text(local))


def nbsp(text: str) -> str:
    """CLDR puts no-break spaces inside dates and amounts; Slack shows them, but people search and paste with
    plain spaces, so the text the bot posts uses plain ones."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def duration(delta: timedelta | None) -> str:
    """How long, in words: seconds under 90 s, minutes under 90 min, hours under 48 h, then days."""
    if delta is None:
        return _("an unknown time")
    seconds = int(delta.total_seconds())
    if seconds < 90:
        return ngettext("{n} second", "{n} seconds", seconds)
    minutes = seconds // 60
    if minutes < 90:
        return ngettext("{n} minute", "{n} minutes", minutes)
    hours = minutes // 60
    if hours < 48:
        return ngettext("{n} hour", "{n} hours", hours)
    return ngettext("{n} day", "{n} days", hours // 24)


@dataclass(frozen=True)
class AmountFormat:
    symbol: str
    decimal: str
    group: str
    group_size: int
    symbol_first: bool


@lru_cache(maxsize=256)
def store_format(currency: str | None, country: str | None) -> AmountFormat | None:
    """How the store's country writes amounts in its currency, from CLDR: `R$ 1.234,56` in Brazil, `$ 18.980`
    in Chile. Every reader sees the store's own way (the one its invoices, ERP and Admin use); None when
    VTEX gives no country or CLDR does not know it (the store's own format from VTEX is used then)."""
    from babel.core import UnknownLocaleError, get_global
    from babel.languages import get_official_languages
    from babel.numbers import get_currency_symbol, get_decimal_symbol, get_group_symbol

    code = (country or "").strip().upper()
    territory = str(get_global("territory_aliases").get(code, [code])[0]) if len(code) == 3 else code
    if not currency or not re.fullmatch(r"[A-Z]{2}", territory):
        return None
    for language in get_official_languages(territory, de_facto=True):
        try:
            locale = Locale.parse(f"{language}_{territory}")
        except (UnknownLocaleError, ValueError):
            continue
        pattern = locale.currency_formats["standard"]
        return AmountFormat(
            symbol=get_currency_symbol(currency, locale),
            decimal=get_decimal_symbol(locale),
            group=get_group_symbol(locale),
            group_size=int(pattern.grouping[0]) if pattern.grouping[0] < 100 else 0,
            symbol_first=pattern.pattern.lstrip().startswith("¤"),
        )
    return None


def placeholders(message: str) -> set[str]:
    return set(PLACEHOLDER.findall(message))


# -- the catalogues, extracted from the code -----------------------------------------------------------------

KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
SOURCES = ("bot", "handlers")


def extract() -> Any:
    """The template catalogue: every message in `_()`, `N_()` and `ngettext()` under bot/ and handlers/."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    root = Path(__file__).resolve().parent.parent
    template = Catalog(project="unstuck", msgid_bugs_address="", fuzzy=False)
    for folder in SOURCES:
        found = extract_from_dir(
            root / folder, method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=("Translators:",)
        )
        for filename, lineno, message, comments, _context in found:
            flags = ["python-brace-format"] if any(PLACEHOLDER.search(m) for m in _forms(message)) else []
            template.add(message, None, [(f"{folder}/{filename}", lineno)], auto_comments=comments, flags=flags)
    return template


def _forms(message: str | tuple[str, ...]) -> tuple[str, ...]:
    return message if isinstance(message, tuple) else (message,)


def update_catalogues() -> list[Path]:
    """Write unstuck.pot and merge it into each language's .po (new messages untranslated, changed ones fuzzy)."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    template = extract()
    written = [LOCALE_DIR / f"{DOMAIN}.pot"]
    LOCALE_DIR.mkdir(parents=True, exist_ok=True)
    with written[0].open("wb") as handle:
        write_po(handle, template, width=110, omit_header=False, sort_output=False)
    for language in LANGUAGES:
        if language == ENGLISH:
            continue
        path = catalogue_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=CATALOGUE[language])
        else:
            catalog = Catalog(locale=CATALOGUE[language], project="unstuck")
        catalog.update(template, no_fuzzy_matching=False)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=110, ignore_obsolete=True, include_previous=True)
        written.append(path)
    _catalogues.clear()
    return written


if __name__ == "__main__":  # python -m bot.i18n extract
    import sys

    if sys.argv[1:] != ["extract"]:
        sys.exit("usage: python -m bot.i18n extract")
    for path in update_catalogues():
        print(path)
