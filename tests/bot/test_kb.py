"""The knowledge base: our built-in guidance, and help-center articles matched to statuses by their titles.

Most tests read articles written for this project in VTEX's help-center format (tests/fixtures/articles,
tests/fixtures/seeds). The same checks against VTEX's own articles run when UNSTUCK_VTEX_ARTICLES names an
export of them (CI: ../shared/kb/vtex-help-center) and are skipped otherwise.
"""

from pathlib import Path

import pytest

from bot.kb import BUILTIN_DIR, KnowledgeBase, match_title, parse_article, reply_language, split_front_matter, to_mrkdwn
from bot.status_names import ADMIN_NAMES
from bot.statuses import STATUSES
from tests.conftest import FIXTURES, vtex_articles

ARTICLES = FIXTURES / "articles"
SEEDS = FIXTURES / "seeds"


def seed_article(folder: Path):
    path = next(folder.glob("*.txt"))
    return parse_article(path.read_text(), path)


@pytest.fixture
def vtex_export() -> Path:
    return vtex_articles()


@pytest.fixture
def vtex_seeds() -> Path:
    return vtex_articles("..", "..", "seeds")


def test_builtin_articles_cover_every_status():
    kb = KnowledgeBase.load()
    covered = set().union(*(a.statuses for a in kb.articles if a.builtin))
    assert set(STATUSES) <= covered
    assert "*" in covered  # and a generic one for statuses VTEX adds later


@pytest.mark.parametrize("status", sorted(STATUSES))
def test_every_status_gets_guidance_with_a_help_center_link(status):
    guidance = KnowledgeBase.load().guidance(status)
    assert guidance is not None and guidance.builtin
    assert guidance.url.startswith("https://help.vtex.com/")
    assert 40 < len(guidance.text) <= 1800


def test_unknown_status_gets_the_generic_article():
    assert "View Interactions" in KnowledgeBase.load().guidance("something-new").text


# -- articles in the help-center format, written for these tests ------------------------------------------


def test_seed_faq_matches_ready_for_handling_from_its_title():
    article = seed_article(SEEDS)
    assert article.statuses == {"ready-for-handling"}
    assert article.url == "https://help.vtex.com/en/faq/my-order-has-stopped-at-ready-for-handling"


def test_seed_guidance_is_mrkdwn_with_absolute_links():
    text = seed_article(SEEDS).guidance()
    assert "resend the invoice" in text
    assert "<https://help.vtex.com/en/docs/tracks/invoicing-an-order|invoiced>" in text
    assert "<https://developers.vtex.com/docs/api-reference/orders-api|invoice notification API>" in text
    assert "• If the invoice is short of the total" in text
    assert "*Sending the invoice*" in text and "*by hand*" in text
    assert "](/" not in text and "**" not in text


def test_exported_help_center_articles_win_where_they_match():
    kb = KnowledgeBase.load(ARTICLES)
    assert kb.article_for("ready-for-handling").title == 'Why is my order stuck in "Ready for handling"?'
    # a troubleshooting article beats an FAQ about the ERP's special case of the same status
    assert kb.article_for("handling").url == (
        "https://help.vtex.com/en/troubleshooting/an-order-remains-in-the-status-handling-shipping"
    )
    assert kb.article_for("invoice").title == 'My order still has the status "Verifying invoice"'
    assert kb.article_for("start-handling").url.startswith("https://help.vtex.com/en/known-issues/")
    assert kb.article_for("payment-pending").url.startswith("https://help.vtex.com/en/troubleshooting/")
    assert kb.article_for("cancel").title == 'Order remains in "Canceling" when the seller does not answer'
    # a status only a Portuguese article covers: English readers keep our English guidance (see below for pt)
    assert kb.article_for("request-cancel").builtin and kb.article_for("request-cancel").language == "en"
    # statuses no exported article talks about keep our own guidance
    assert kb.article_for("window-to-cancel").builtin


def test_portuguese_titles_match_their_statuses():
    kb = KnowledgeBase.load(ARTICLES)
    pt = {a.title: a.statuses for a in kb.articles if a.locale == "pt" and not a.builtin}
    assert pt == {
        'Meu pedido continua em "Preparando entrega". O que fazer?': {"handling"},
        'Pedido parado no status "Pronto para manuseio"': {"ready-for-handling"},
        'O pedido continua no status "Verificando nota fiscal"': {"invoice"},
        'Por que o pedido continua em "Cancelamento solicitado"?': {"request-cancel"},
    }
    assert all(a.url.startswith("https://help.vtex.com/pt/") for a in kb.articles if a.locale == "pt")


def test_spanish_titles_match_their_statuses():
    kb = KnowledgeBase.load(ARTICLES)
    es = {a.title: a.statuses for a in kb.articles if a.locale == "es" and not a.builtin}
    assert es == {
        '¿Por qué mi pedido sigue detenido en "Listo para preparación"?': {"ready-for-handling"},
        'El pedido no avanza después del estado "Pago pendiente"': {"payment-pending"},
    }


@pytest.mark.parametrize(
    ("title", "statuses"),
    [
        ("¿Por qué mi pedido está detenido en “Listo para preparación”?", {"ready-for-handling"}),
        ("Orders stuck in Start-handling status", {"start-handling"}),
        ('Orders that fail to reach the "invoiced" status', set()),
        ("How to find customers that have ordered the most?", set()),
    ],
)
def test_title_matching_in_three_languages(title, statuses):
    assert set(match_title(title)[0]) == statuses


def test_articles_without_a_status_in_the_title_are_not_guidance():
    kb = KnowledgeBase.load(ARTICLES)
    assert (ARTICLES / "en" / "faq" / "orders" / "how-do-i-export-last-months-orders.md").exists()
    assert not any("export last month's orders" in a.title for a in kb.articles)


def test_guidance_from_a_long_article_is_cut_short_at_a_line():
    kb = KnowledgeBase.load(ARTICLES)
    text = kb.guidance("handling").text
    assert len(text) <= 1800 and text.endswith("…")
    assert "&gt;" not in text.splitlines()[-1][:2]


def test_missing_faq_dir_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="UNSTUCK_FAQ_DIR"):
        KnowledgeBase.load(tmp_path / "nope")


def test_markdown_to_mrkdwn():
    md = "## Steps\n\n1. Go to **Orders > All**\n- see [help](/en/faq/x) & [dev](https://d.io/a)\n> ⚠️ careful\n"
    assert to_mrkdwn(md) == (
        "*Steps*\n\n1. Go to *Orders &gt; All*\n• see <https://help.vtex.com/en/faq/x|help> &amp; "
        "<https://d.io/a|dev>\n> ⚠️ careful"
    )


def test_cutting_never_breaks_a_link():
    md = " ".join(f"[link {i}](https://example.com/{i})" for i in range(100))
    text = to_mrkdwn(md, limit=200)
    assert text.count("<") == text.count(">") and len(text) <= 200


# -- the reply's language: Portuguese (Brazil) and Spanish ------------------------------------------------

TWINS = {"pt-BR": "pt", "es": "es"}
ENGLISH_BUILTINS = sorted(BUILTIN_DIR.glob("*.md"))


def front_matter(path: Path) -> dict:
    return split_front_matter(path.read_text(encoding="utf-8"))[0]


@pytest.mark.parametrize(
    ("locale", "language"),
    [
        ("pt", "pt-BR"),
        ("pt-BR", "pt-BR"),
        ("pt_BR", "pt-BR"),
        ("pt-br", "pt-BR"),
        ("es", "es"),
        ("es-ES", "es"),
        ("es-419", "es"),
        ("es_MX", "es"),
        ("en", "en"),
        ("en-US", "en"),
        ("fr", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_locales_map_to_reply_languages(locale, language):
    assert reply_language(locale) == language


@pytest.mark.parametrize("english", ENGLISH_BUILTINS, ids=lambda p: p.stem)
@pytest.mark.parametrize("language", sorted(TWINS))
def test_every_builtin_article_has_a_portuguese_and_a_spanish_twin(english, language):
    twin = BUILTIN_DIR / TWINS[language] / english.name
    assert twin.exists(), f"{twin} is missing"
    ours, theirs = front_matter(english), front_matter(twin)
    assert theirs["statuses"] == ours["statuses"]
    assert reply_language(theirs["locale"]) == language
    assert theirs["title"] != ours["title"]
    # the same help-center article in the twin's language where ours links the English one
    assert theirs["url"].startswith(f"https://help.vtex.com/{TWINS[language]}/")
    article, twin_article = (parse_article(p.read_text(), p, builtin=True) for p in (english, twin))
    assert twin_article.language == language
    assert twin_article.body.count("\n- ") == article.body.count("\n- ")  # the same bullets
    assert twin_article.body.count("](https://help.vtex.com/") == article.body.count("](https://help.vtex.com/")
    assert "](https://help.vtex.com/en/" not in twin_article.body


@pytest.mark.parametrize("status", sorted(STATUSES))
@pytest.mark.parametrize("language", sorted(TWINS))
def test_every_status_gets_builtin_guidance_in_the_readers_language(status, language):
    guidance = KnowledgeBase.load().guidance(status, lang=language)
    assert guidance is not None and guidance.builtin and guidance.language == language
    assert guidance.url.startswith(f"https://help.vtex.com/{TWINS[language]}/")
    assert 40 < len(guidance.text) <= 1800


def test_portuguese_and_spanish_guidance_for_handling_shipping():
    kb = KnowledgeBase.load()
    pt = kb.guidance("handling", lang="pt-BR")
    assert pt.title == "Preparando entrega espera as notas fiscais"
    assert "*nota fiscal parcial*" in pt.text and "reenvie a última nota fiscal" in pt.text
    es = kb.guidance("handling", lang="es-419")  # any Spanish locale
    assert es.title == "Preparando envío espera las facturas"
    assert "*factura parcial*" in es.text and "reenvía la última factura" in es.text
    assert kb.guidance("handling").title == "Handling shipping waits for the invoices"
    # one cache entry per language: English after Portuguese is still English
    assert kb.guidance("handling", lang="pt_BR") is pt and kb.guidance("handling", lang="en").language == "en"


def test_unknown_status_gets_the_generic_article_in_the_readers_language():
    kb = KnowledgeBase.load()
    assert "Ver interações" in kb.guidance("something-new", lang="pt-BR").text
    assert "Ver interacciones" in kb.guidance("something-new", lang="es").text


def test_exported_portuguese_article_wins_for_portuguese_readers_only():
    kb = KnowledgeBase.load(ARTICLES)
    pt = kb.article_for("handling", "pt-BR")
    assert pt.title == 'Meu pedido continua em "Preparando entrega". O que fazer?' and not pt.builtin
    assert kb.article_for("handling", "en").url == (
        "https://help.vtex.com/en/troubleshooting/an-order-remains-in-the-status-handling-shipping"
    )
    # no Spanish export about Handling shipping: Spanish readers get our Spanish guidance, not the en/pt exports
    es = kb.article_for("handling", "es")
    assert es.builtin and es.language == "es"
    # only a Portuguese export covers Cancellation requested
    assert kb.article_for("request-cancel", "pt-BR").title == 'Por que o pedido continua em "Cancelamento solicitado"?'
    assert kb.article_for("request-cancel", "es").builtin and kb.article_for("request-cancel", "es").language == "es"
    assert kb.article_for("request-cancel", "en").builtin and kb.article_for("request-cancel", "en").language == "en"


def test_exported_spanish_article_wins_for_spanish_readers():
    kb = KnowledgeBase.load(ARTICLES)
    es = kb.guidance("payment-pending", lang="es")
    assert not es.builtin and es.language == "es"
    assert es.url.startswith("https://help.vtex.com/es/troubleshooting/")
    assert kb.article_for("ready-for-handling", "es").title == (
        '¿Por qué mi pedido sigue detenido en "Listo para preparación"?'
    )
    assert kb.article_for("payment-pending", "pt-BR").builtin  # no Portuguese export about it


def test_english_is_the_fallback_only_when_nothing_exists_in_the_language(tmp_path):
    def article(name: str, front: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"---\n{front}\n---\nBody of {name}, long enough to be guidance.\n")
        return path

    paths = [
        article("handling.md", "title: Handling\nstatuses: [handling]"),
        article("unknown.md", "title: Any status\nstatuses: ['*']"),
        article("pt/unknown.md", "title: Qualquer status\nstatuses: ['*']\nlocale: pt"),
        article("es/handling.md", "title: Preparando envío\nstatuses: [handling]"),
    ]
    kb = KnowledgeBase([parse_article(p.read_text(), p, builtin=True, root=tmp_path) for p in paths])
    assert kb.article_for("handling", "es").title == "Preparando envío"  # found by its folder
    # a Portuguese article exists for every status (the generic one): no English for Portuguese readers
    assert kb.article_for("handling", "pt-BR").title == "Qualquer status"
    # Spanish has no generic article: a status no Spanish article covers falls back to English
    assert kb.article_for("canceled", "es").title == "Any status"
    assert kb.article_for("handling", "en").title == "Handling"


def test_export_folders_named_by_region_give_the_language(tmp_path):
    folder = tmp_path / "export" / "pt-BR" / "troubleshooting"
    folder.mkdir(parents=True)
    (folder / "parado.md").write_text("---\ntitle: 'Pedido parado em \"Aguardando decisão do seller\"'\n---\nTexto.\n")
    kb = KnowledgeBase.load(tmp_path / "export")
    article = kb.article_for("waiting-for-seller-decision", "pt-BR")
    assert not article.builtin and article.language == "pt-BR"
    assert article.url == "https://help.vtex.com/pt/troubleshooting/parado"
    assert kb.article_for("waiting-for-seller-decision", "en").builtin


@pytest.mark.parametrize("language", sorted(TWINS))
def test_every_status_has_its_admin_name(language):
    names = ADMIN_NAMES[language]
    assert set(names) == set(STATUSES)
    assert all(name.strip() and name[0].isupper() for name in names.values())


def test_admin_names_follow_vtex():
    pt, es = ADMIN_NAMES["pt-BR"], ADMIN_NAMES["es"]
    assert (pt["ready-for-handling"], es["ready-for-handling"]) == ("Pronto para o manuseio", "Listo para preparación")
    assert (pt["handling"], es["handling"]) == ("Preparando entrega", "Preparando envío")
    assert (pt["invoice"], es["invoice"]) == ("Verificando nota fiscal", "Verificando factura")
    assert (pt["window-to-cancel"], es["window-to-cancel"]) == ("Janela para cancelamento", "Periodo de cancelación")
    assert (pt["payment-denied"], es["payment-denied"]) == ("Pagamento negado", "Pago rechazado")


@pytest.mark.parametrize(
    ("title", "statuses"),
    [
        ('Pedido parado no status "Aguardando decisão do seller"', {"waiting-for-seller-decision"}),
        ('O pedido continua em "Janela para cancelamento"', {"window-to-cancel"}),
        ('El pedido sigue detenido en "Periodo de cancelación"', {"window-to-cancel"}),
        ('Pedido detenido en el status "Pago rechazado"', {"payment-denied"}),
        ('Pedido parado em "Pagamento negado"', {"payment-denied"}),
    ],
)
def test_titles_with_portuguese_and_spanish_admin_names_match(title, statuses):
    assert set(match_title(title)[0]) == statuses


@pytest.mark.parametrize("english", ENGLISH_BUILTINS, ids=lambda p: p.stem)
def test_the_card_picks_the_same_bullet_in_every_language(english):
    """The card shows the article bullet its situation's keywords pick (bot/wording.py): the twin's bullet must be
    the one that corresponds to the English bullet."""
    from bot.diagnosis import Situation
    from bot.wording import bullets_for

    def picks(path: Path) -> dict[Situation, list[int]]:
        bullets = parse_article(path.read_text(), path, builtin=True).guidance(10_000)
        items = [line[1:].strip() for line in bullets.splitlines() if line.startswith("•")]
        return {s: [items.index(b) for b in bullets_for(s, items, limit=9)][:1] for s in Situation}

    expected = picks(english)
    for folder in TWINS.values():
        assert picks(BUILTIN_DIR / folder / english.name) == expected, folder


# -- VTEX's own articles: only with UNSTUCK_VTEX_ARTICLES ---------------------------------------------------


def test_vtex_seed_faq_matches_ready_for_handling_from_its_title(vtex_seeds):
    article = seed_article(vtex_seeds)
    assert article.statuses == {"ready-for-handling"}
    assert article.url == "https://help.vtex.com/en/faq/why-has-my-order-stopped-on-ready-for-handling"


def test_vtex_seed_guidance_is_mrkdwn_with_absolute_links(vtex_seeds):
    text = seed_article(vtex_seeds).guidance()
    assert "resend the invoice" in text
    assert "<https://help.vtex.com/en/tracks/pedidos--2xkTisx4SXOWXQel8Jg8sa/2WgQrlHTyVo4hLjhUs1LMT|invoiced>" in text
    assert "• If the invoice does not contain the full amount" in text
    assert "](/" not in text and "**" not in text


def test_vtex_articles_win_where_they_match(vtex_export):
    kb = KnowledgeBase.load(vtex_export)
    assert kb.article_for("ready-for-handling").title == "Why has my order stopped on “Ready for Handling”?"
    assert kb.article_for("handling").url == (
        "https://help.vtex.com/en/troubleshooting/the-order-doesnt-progress-after-the-status-handling-shipping"
    )
    assert kb.article_for("invoice").title == 'My store\'s order still has the status "Verifying invoice"'
    assert kb.article_for("start-handling").url.startswith("https://help.vtex.com/en/known-issues/")
    # statuses no exported article talks about keep our own guidance
    assert kb.article_for("window-to-cancel").builtin


def test_vtex_portuguese_titles_match_their_statuses(vtex_export):
    kb = KnowledgeBase.load(vtex_export)
    pt = {a.title: a.statuses for a in kb.articles if a.locale == "pt"}
    assert pt['Por que meu pedido está parado em "Preparando entrega"?'] == {"handling"}
    assert pt['O pedido não avança após o status "Pronto para manuseio"'] == {"ready-for-handling"}
    assert pt['O pedido da minha loja está parado no status "Verificando nota fiscal"'] == {"invoice"}


def test_vtex_articles_without_a_status_in_the_title_are_not_guidance(vtex_export):
    kb = KnowledgeBase.load(vtex_export)
    assert not any("customers that have ordered the most" in a.title for a in kb.articles)


def test_vtex_long_article_guidance_is_cut_short_at_a_line(vtex_export):
    text = KnowledgeBase.load(vtex_export).guidance("handling").text
    assert len(text) <= 1800 and text.endswith("…")
    assert "&gt;" not in text.splitlines()[-1][:2]


@pytest.mark.parametrize(
    "ours",
    [BUILTIN_DIR, ARTICLES, SEEDS],
    ids=["built-in guidance", "test articles", "test seed"],
)
def test_our_articles_are_ours_not_copies_of_vtex_text(vtex_export, ours):
    vtex_text = "\n".join(p.read_text() for p in vtex_export.rglob("*.md"))
    vtex_text += "\n".join(p.read_text() for p in vtex_export.parent.parent.joinpath("seeds").glob("*.txt"))
    for path in Path(ours).rglob("*.*"):
        if path.suffix not in (".md", ".txt"):
            continue
        for line in path.read_text().splitlines():
            if len(line) > 60:
                assert line not in vtex_text, f"{path.name} copies VTEX's text: {line[:60]}"
