"""The knowledge base: our built-in guidance, and help-center articles matched to statuses by their titles.

Most tests read articles written for this project in VTEX's help-center format (tests/fixtures/articles,
tests/fixtures/seeds). The same checks against VTEX's own articles run when UNSTUCK_VTEX_ARTICLES names an
export of them (CI: ../shared/kb/vtex-help-center) and are skipped otherwise.
"""

from pathlib import Path

import pytest

from bot.kb import BUILTIN_DIR, KnowledgeBase, match_title, parse_article, to_mrkdwn
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
    # a status only a Portuguese article covers gets that article
    assert kb.article_for("request-cancel").locale == "pt"
    # statuses no exported article talks about keep our own guidance
    assert kb.article_for("window-to-cancel").builtin


def test_portuguese_titles_match_their_statuses():
    kb = KnowledgeBase.load(ARTICLES)
    pt = {a.title: a.statuses for a in kb.articles if a.locale == "pt"}
    assert pt == {
        'Meu pedido continua em "Preparando entrega". O que fazer?': {"handling"},
        'Pedido parado no status "Pronto para manuseio"': {"ready-for-handling"},
        'O pedido continua no status "Verificando nota fiscal"': {"invoice"},
        'Por que o pedido continua em "Cancelamento solicitado"?': {"request-cancel"},
    }
    assert all(a.url.startswith("https://help.vtex.com/pt/") for a in kb.articles if a.locale == "pt")


def test_spanish_titles_match_their_statuses():
    kb = KnowledgeBase.load(ARTICLES)
    es = {a.title: a.statuses for a in kb.articles if a.locale == "es"}
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
