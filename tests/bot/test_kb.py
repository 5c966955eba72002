from pathlib import Path

import pytest

from bot.kb import BUILTIN_DIR, KnowledgeBase, match_title, parse_article, to_mrkdwn
from bot.statuses import STATUSES
from tests.conftest import shared

KB_DOCS = "kb", "vtex-help-center", "docs"


def seed_article():
    path = next(shared("seeds").glob("*.txt"))
    return parse_article(path.read_text(), path)


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


def test_seed_faq_matches_ready_for_handling_from_its_title():
    article = seed_article()
    assert article.statuses == {"ready-for-handling"}
    assert article.url == "https://help.vtex.com/en/faq/why-has-my-order-stopped-on-ready-for-handling"


def test_seed_guidance_is_mrkdwn_with_absolute_links():
    text = seed_article().guidance()
    assert "resend the invoice" in text
    assert "<https://help.vtex.com/en/tracks/pedidos--2xkTisx4SXOWXQel8Jg8sa/2WgQrlHTyVo4hLjhUs1LMT|invoiced>" in text
    assert "• If the invoice does not contain the full amount" in text
    assert "](/" not in text and "**" not in text


def test_exported_help_center_articles_win_where_they_match():
    kb = KnowledgeBase.load(shared(*KB_DOCS))
    assert kb.article_for("ready-for-handling").title == "Why has my order stopped on “Ready for Handling”?"
    assert kb.article_for("handling").url == (
        "https://help.vtex.com/en/troubleshooting/the-order-doesnt-progress-after-the-status-handling-shipping"
    )
    assert kb.article_for("invoice").title == 'My store\'s order still has the status "Verifying invoice"'
    assert kb.article_for("start-handling").url.startswith("https://help.vtex.com/en/known-issues/")
    # statuses no exported article talks about keep our own guidance
    assert kb.article_for("window-to-cancel").builtin


def test_portuguese_titles_match_their_statuses():
    kb = KnowledgeBase.load(shared(*KB_DOCS))
    pt = {a.title: a.statuses for a in kb.articles if a.locale == "pt"}
    assert pt['Por que meu pedido está parado em "Preparando entrega"?'] == {"handling"}
    assert pt['O pedido não avança após o status "Pronto para manuseio"'] == {"ready-for-handling"}
    assert pt['O pedido da minha loja está parado no status "Verificando nota fiscal"'] == {"invoice"}


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
    kb = KnowledgeBase.load(shared(*KB_DOCS))
    assert not any("customers that have ordered the most" in a.title for a in kb.articles)


def test_guidance_from_a_long_article_is_cut_short_at_a_line():
    kb = KnowledgeBase.load(shared(*KB_DOCS))
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


def test_builtin_articles_are_ours_not_copies_of_vtex_text():
    vtex_text = "\n".join(p.read_text() for p in shared(*KB_DOCS).rglob("*.md"))
    for path in Path(BUILTIN_DIR).glob("*.md"):
        for line in path.read_text().splitlines():
            if len(line) > 60:
                assert line not in vtex_text, f"{path.name} copies VTEX's text: {line[:60]}"
