"""FAQ guidance per status, from articles in VTEX's help-center format.

An article is a markdown file with YAML front matter. Our built-in set (`bot/faq/`) names its
statuses explicitly; articles exported from VTEX's help center are matched by the status names in
their titles (English, Portuguese or Spanish), and win over the built-in ones where they match.
Guidance renders as short Slack mrkdwn with links made absolute to help.vtex.com.

Guidance is in the reply's language ("en", "pt-BR" or "es"): an exported article in that language wins,
then our built-in one in that language (`bot/faq/pt/`, `bot/faq/es/`), and English only when nothing in
that language covers the status.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.i18n import ENGLISH, parse_language
from bot.status_names import ADMIN_NAMES
from bot.statuses import STATUSES

HELP_CENTER = "https://help.vtex.com"
BUILTIN_DIR = Path(__file__).parent / "faq"
MAX_GUIDANCE = 1800
# The help center's path segment for each reply language.
URL_LOCALE = {"en": "en", "pt-BR": "pt", "es": "es"}

# Admin names of each status in English, Portuguese and Spanish, besides the id itself.
NAMES: dict[str, list[str]] = {
    "ready-for-handling": [
        "ready for handling",
        "pronto para o manuseio",
        "pronto para manuseio",
        "listo para preparación",
        "listo para la preparación",
        "listo para manipulación",
    ],
    "handling": [
        "handling shipping",
        "preparing delivery",
        "awaiting fulfillment",
        "preparando entrega",
        "preparando envío",
        "preparando la entrega",
    ],
    "invoice": ["verifying invoice", "verificando nota fiscal", "verificando factura"],
    "invoiced": ["invoiced", "faturado", "facturado"],
    "payment-pending": ["payment pending", "pagamento pendente", "pago pendiente"],
    "payment-approved": ["payment approved", "pagamento aprovado", "pago aprobado"],
    "canceled": ["canceled", "cancelled", "cancelado"],
    "cancel": ["canceling", "cancelling", "cancelando"],
    "window-to-cancel": [
        "cancellation window",
        "janela de cancelamento",
        "carência para cancelamento",
        "ventana de cancelación",
        "período de cancelación",
    ],
    "authorize-fulfillment": ["authorize fulfillment", "aguardando autorização para despachar"],
    "start-handling": ["start handling", "iniciar manuseio"],
    "request-cancel": ["cancellation requested", "cancelamento solicitado", "cancelación solicitada"],
    "waiting-for-manual-authorization": ["esperando autorización para fulfillment"],
}


def _add_admin_names(names: dict[str, list[str]]) -> None:
    """Every Portuguese and Spanish Admin name (bot/status_names.py) that names one status only."""
    statuses_of: dict[str, set[str]] = {}
    for by_status in ADMIN_NAMES.values():
        for status, name in by_status.items():
            statuses_of.setdefault(name.casefold(), set()).add(status)
    for name, statuses in sorted(statuses_of.items()):
        if len(statuses) == 1:
            known = names.setdefault(statuses.pop(), [])
            if name not in known:
                known.append(name)


_add_admin_names(NAMES)

_STUCK = (
    r"(?:stuck|stopped|remains?|remain stuck|progress after|still has|parado|continua|avança após"
    r"|detenido|avanza después)"
)
_PREP = r"(?:\s+(?:in|on|at|after|em|no|na|en|el|del))?(?:\s+(?:the|o|a|la|el))?"
_STATUS_WORD = r"(?:status|estado|statuses)"
_QUOTES = "\"'“”‘’«»`"


@dataclass(frozen=True)
class Article:
    title: str
    url: str
    statuses: frozenset[str]
    body: str
    builtin: bool
    locale: str = "en"
    score: float = 0.0
    path: str = ""

    @property
    def language(self) -> str:
        """The reply language this article is written in: "en", "pt-BR" or "es"."""
        return reply_language(self.locale)

    def guidance(self, limit: int = MAX_GUIDANCE) -> str:
        return to_mrkdwn(_excerpt(self.body), limit=limit, base=HELP_CENTER)


@dataclass(frozen=True)
class Guidance:
    title: str
    url: str
    text: str
    builtin: bool
    language: str = ENGLISH

    @property
    def bullets(self) -> list[str]:
        """The article's list items, as mrkdwn, without their bullet mark."""
        return [line[1:].strip() for line in self.text.splitlines() if line.startswith("•")]


# A locale as one of the reply languages (`pt_BR` → "pt-BR", `es-419` → "es", anything else → "en").
reply_language = parse_language


def parse_article(text: str, path: Path, builtin: bool = False, root: Path | None = None) -> Article | None:
    """One article; `root` is the folder it was read from (a language folder is looked for below it)."""
    meta, body = split_front_matter(text)
    title = str(meta.get("title") or "").strip().lstrip("\ufeff\u200b")
    if not title:
        return None
    explicit = meta.get("statuses")
    if explicit:
        statuses = frozenset(str(s) for s in (explicit if isinstance(explicit, list) else [explicit]))
        score = 10.0
    else:
        statuses, score = match_title(title)
    if not statuses:
        return None
    locale = str(meta.get("locale") or _locale_from_path(path, root, builtin) or "en")
    url_locale = URL_LOCALE[reply_language(locale)] if re.match(r"(?i)(en|pt|es)([-_]|$)", locale) else locale
    url = str(meta.get("url") or "") or article_url(meta, path, url_locale)
    if locale == "en":
        score += 1
    if str(meta.get("contentType", "")) == "frequentlyAskedQuestion":
        score += 0.5
    if re.search(r"\b(erp|marketplace)\b", title, re.I):
        score -= 1  # a special case of the status, not its general guidance
    return Article(title, url, statuses, body, builtin, locale, score, str(path))


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    text = text.lstrip("\ufeff")
    if not text.startswith("---"):
        return {}, text
    parts = text.split("\n---", 1)
    if len(parts) != 2:
        return {}, text
    try:
        meta = yaml.safe_load(parts[0][3:]) or {}
    except yaml.YAMLError:
        meta = {}
    body = parts[1].split("\n", 1)[1] if "\n" in parts[1] else ""
    return (meta if isinstance(meta, dict) else {}), body


def match_title(title: str) -> tuple[frozenset[str], float]:
    """Statuses a help-center title is about, with a score: 'stuck in X' beats a passing mention."""
    low = title.casefold()
    found: set[str] = set()
    score = 0.0
    for status, reached, stuck, mentioned in _title_patterns():
        if reached.search(low):
            continue
        if stuck.search(low):
            found.add(status)
            score = max(score, 2.0)
        elif mentioned.search(low):
            found.add(status)
            score = max(score, 1.0)
    return frozenset(found), score


@functools.cache
def _title_patterns() -> list[tuple[str, re.Pattern[str], re.Pattern[str], re.Pattern[str]]]:
    """Each status name's three patterns, longest names first, compiled once: Python's own regex cache holds 512,
    far fewer than the names × patterns of every title, so compiling them per title cost ~0.2 s an article."""
    candidates = [(name, status) for status in STATUSES for name in [status, *NAMES.get(status, [])]]
    candidates += [(status.replace("-", " "), status) for status in STATUSES if "-" in status]
    patterns = []
    for name, status in sorted(candidates, key=lambda c: -len(c[0])):
        n = re.escape(name.casefold())
        word = rf"(?<![\w-]){n}(?![\w-])"
        patterns.append(
            (
                status,
                re.compile(rf"reach(?:es)?\s+the\s+[{_QUOTES}]?{n}"),
                re.compile(rf"{_STUCK}{_PREP}(?:\s+{_STATUS_WORD}(?:\s+of)?)?\s*[{_QUOTES}]?\s*{word}"),
                re.compile(
                    rf"[{_QUOTES}]\s*{n}\s*[{_QUOTES}]|{_STATUS_WORD}(?:\s+of)?\s+{word}|{word}\s+{_STATUS_WORD}"
                ),
            )
        )
    return patterns


def article_url(meta: dict[str, Any], path: Path, locale: str) -> str:
    parts = {p.lower() for p in path.parts}
    if "known-issues" in parts or meta.get("contentType") == "knownIssue":
        kind = "known-issues"
    elif "troubleshooting" in parts:
        kind = "troubleshooting"
    elif "faq" in parts or meta.get("contentType") == "frequentlyAskedQuestion":
        kind = "faq"
    else:
        kind = "docs/tutorials"
    slug = (meta.get("slugEN") if locale == "en" else None) or meta.get("slug") or path.stem
    return f"{HELP_CENTER}/{locale}/{kind}/{slug}"


_LOCALE_PART = re.compile(r"(?i)(?:en|pt|es)(?:[-_](?:[a-z]{2}|\d{3}))?")


def _locale_from_path(path: Path, root: Path | None = None, builtin: bool = False) -> str | None:
    """The language folder an article sits in (`en`, `pt`, `es`, `pt-BR`, `es-419`...). With `root` (the folder
    read), the folders below it count first, then, for an export, `root` itself from the inside out; our built-in
    folder counts only below it, wherever the project is installed."""
    parts: tuple[str, ...] = path.parts
    if root is not None and path.is_relative_to(root):
        parts = path.relative_to(root).parts[:-1] + (() if builtin else tuple(reversed(root.parts)))
    for part in parts:
        if _LOCALE_PART.fullmatch(part):
            return part
    return None


def _excerpt(body: str) -> str:
    """The opening paragraph plus the solution section (with its subsections), when there is one."""
    body = body.strip()
    heading = re.search(r"(?mi)^(#{1,4})\s*(solution|solução|solución|what to do|o que fazer)\b.*$", body)
    if not heading:
        return body
    level = len(heading.group(1))
    rest = body[heading.end() :]
    after = re.search(rf"(?m)^#{{1,{level}}}\s", rest)
    section = body[heading.start() : heading.end() + (after.start() if after else len(rest))]
    intro = body[: heading.start()].strip().split("\n\n")[0]
    return (intro + "\n\n" + section).strip() if not intro.startswith("#") else section


_LINK = re.compile(r"(?<!!)\[([^\]\n]+)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def to_mrkdwn(markdown: str, limit: int = MAX_GUIDANCE, base: str = HELP_CENTER) -> str:
    """Markdown to Slack mrkdwn: bold, lists, headings, quotes and absolute links; cut at `limit`."""
    text = re.sub(r"<!--.*?-->", "", markdown, flags=re.S)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"</?(div|span|p|br|img|iframe|details|summary)[^>]*>", "", text, flags=re.I)
    links: list[str] = []

    def keep_link(match: re.Match[str]) -> str:
        label, url = match.group(1), match.group(2)
        if url.startswith("/"):
            url = base + url
        elif url.startswith("#") or not re.match(r"https?://", url):
            return label
        links.append(f"<{url}|{_escape(label.replace('|', '/'))}>")
        return f"\x00{len(links) - 1}\x00"

    text = _LINK.sub(keep_link, text)
    text = re.sub(r"(?m)^\s*>\s?", "\x01", text)  # Slack quotes need a literal '>' at line start
    text = _escape(text).replace("\x01", "> ")
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        heading = re.match(r"#{1,6}\s+(.*)", stripped)
        if heading:
            line = f"*{heading.group(1).strip().strip('*')}*"
        else:
            line = re.sub(r"^(\s*)[-*+]\s+", r"\1• ", line)
        lines.append(line.rstrip())
    text = "\n".join(lines)
    text = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: f"*{m.group(1) or m.group(2)}*", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    text = _cut(text, limit, links)
    return re.sub(r"\x00(\d+)\x00", lambda m: links[int(m.group(1))], text)


def _cut(text: str, limit: int, links: list[str]) -> str:
    """Cut to `limit` rendered characters between words, at a line end when one is close; links stay whole."""

    def rendered(token: str) -> int:
        m = re.fullmatch(r"\x00(\d+)\x00", token)
        return len(links[int(m.group(1))]) if m else len(token)

    if sum(rendered(t) for t in re.findall(r"\x00\d+\x00|[^\x00]", text)) <= limit:
        return text
    kept, size = [], 0
    for token in re.findall(r"\x00\d+\x00|\s+|[^\s\x00]+", text):
        if size + rendered(token) > limit - 2:
            break
        kept.append(token)
        size += rendered(token)
    out = "".join(kept)
    line_end = out.rfind("\n")
    if line_end > len(out) // 2:
        out = out[:line_end]
    return out.rstrip() + " …"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class KnowledgeBase:
    def __init__(self, articles: list[Article]):
        self.articles = articles
        self._cache: dict[tuple[str | None, int, str], Guidance | None] = {}

    @classmethod
    def load(cls, faq_dir: Path | str | None = None) -> KnowledgeBase:
        articles = cls._read_dir(BUILTIN_DIR, builtin=True)
        if faq_dir:
            articles = cls._read_dir(Path(faq_dir), builtin=False) + articles
        return cls(articles)

    @staticmethod
    def _read_dir(folder: Path, builtin: bool) -> list[Article]:
        if not folder.is_dir():
            raise FileNotFoundError(f"UNSTUCK_FAQ_DIR {folder} is not a folder")
        found = []
        for path in sorted(folder.rglob("*.md")):
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
                article = parse_article(text, path, builtin, root=folder)
            except OSError:
                continue
            if article:
                found.append(article)
        return found

    def article_for(self, status: str | None, lang: str | None = ENGLISH) -> Article | None:
        """The article for `status` in the reply language `lang`: an exported one in that language, else our
        built-in one in that language, else (nothing in that language) our English one."""
        key = status or "incomplete"
        language = reply_language(lang)
        external = [a for a in self.articles if not a.builtin and a.language == language and key in a.statuses]
        if external:
            return max(external, key=lambda a: a.score)
        for wanted in dict.fromkeys([language, ENGLISH]):
            builtin = [a for a in self.articles if a.builtin and a.language == wanted]
            found = next((a for a in builtin if key in a.statuses), None) or next(
                (a for a in builtin if "*" in a.statuses), None
            )
            if found:
                return found
        return None

    def guidance(self, status: str | None, limit: int = MAX_GUIDANCE, lang: str | None = ENGLISH) -> Guidance | None:
        language = reply_language(lang)
        key = (status, limit, language)
        if key not in self._cache:  # articles do not change while the process runs; rendering them is not free
            article = self.article_for(status, language)
            self._cache[key] = (
                Guidance(article.title, article.url, article.guidance(limit), article.builtin, article.language)
                if article
                else None
            )
        return self._cache[key]
