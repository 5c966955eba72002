"""Attacks on per-person languages: concurrent askers in different languages, hostile `users.info` answers,
the locale cache, forms that outlive a language change, UNSTUCK_LANGUAGE values, and hostile VTEX text.

Everything that touches Slack runs the whole app over real HTTP on 127.0.0.1 (LocalStack)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.doubles.slack import text_of
from bot.doubles.stack import OPERATOR, LocalStack
from bot.i18n import _, current, use
from bot.people import Languages
from bot.status_names import ADMIN_NAMES

ROOT = Path(__file__).resolve().parents[2]
ORDER = "1500000000001-01"  # the demo store's order in handling
LANG_NAMES = {"en": "Handling shipping", **{k: v["handling"] for k, v in ADMIN_NAMES.items()}}


def header(language: str, order_id: str = ORDER) -> str:
    with use(language):
        return _("Order {order_id} · {status}").format(order_id=order_id, status=LANG_NAMES[language])


def said(language: str, message: str) -> str:
    with use(language):
        return _(message)


def cards_in(stack, channel: str) -> list:
    return [m for m in stack.slack.bot_messages(channel) if m.blocks and m.blocks[0].get("type") == "header"]


def slow_users_info(stack, seconds: float) -> None:
    """Only users.info is slow (the rest of Slack answers at once)."""

    def extra(method, target, headers, body):
        if "users.info" in target:
            time.sleep(seconds)
        return None

    stack.slack.extra = extra


# -- 1. no language leaks between concurrent replies ----------------------------------------------------------

PEOPLE = {
    "UPTBR0001": "pt-BR",
    "UPTBR0002": "pt-PT",
    "UESLA0001": "es-419",
    "UESES0001": "es-ES",
    "UENUS0001": "en-US",
    "UNONE0001": None,  # Slack gives no locale: the default (UNSTUCK_LANGUAGE=es)
}
EXPECTED = {"pt-BR": "pt-BR", "pt-PT": "pt-BR", "es-419": "es", "es-ES": "es", "en-US": "en", None: "es"}


def test_concurrent_askers_each_get_their_own_language_everywhere(tmp_path):
    with LocalStack(tmp_path / "a.db", vtex_latency=0.02, unstuck_language="es") as stack:
        stack.slack.locales.update(PEOPLE)
        slow_users_info(stack, 0.05)
        jobs = []
        for _round in range(2):
            for user in PEOPLE:
                jobs.append(lambda u=user: stack.driver.slash(u, ORDER, channel=f"CS{u}"))
                jobs.append(lambda u=user: stack.driver.mention(u, ORDER, channel=f"CM{u}"))
                jobs.append(lambda u=user: stack.driver.dm(u, ORDER))
                jobs.append(lambda u=user: stack.driver.home_opened(u))
        with ThreadPoolExecutor(max_workers=24) as pool:
            for reply in pool.map(lambda job: job(), jobs):
                status = reply[1].status if isinstance(reply, tuple) else reply.status
                assert status == 200
        for user, locale in PEOPLE.items():
            want = EXPECTED[locale]
            for channel in (f"CS{user}", f"CM{user}", f"D{user[1:]}"):
                found = stack.slack.wait(lambda c=channel: len(cards_in(stack, c)) >= 2 and cards_in(stack, c))
                assert [m.blocks[0]["text"]["text"] for m in found] == [header(want)] * 2, (user, channel)
            home = stack.slack.wait(lambda u=user: stack.slack.homes.get(u))
            assert said(want, "No invoice actions yet.") in text_of(home), user
            for other in {"en", "pt-BR", "es"} - {want}:
                assert said(other, "No invoice actions yet.") not in text_of(home), (user, other)


RADAR = "C0RADAR"
STUCK = "1600000000001-01"


def stuck_order(order_id: str = STUCK) -> dict:
    from tests.factories import invoice, order_json

    data = order_json("handling", age=timedelta(0), invoices=[invoice("NF-1", 6000)])
    moment = datetime.now(UTC) - timedelta(days=3)
    data.update(orderId=order_id, lastChange=moment.isoformat(), creationDate=(moment - timedelta(hours=1)).isoformat())
    return data


def test_radar_alerts_stay_in_the_default_language_while_portuguese_questions_run(tmp_path):
    with LocalStack(
        tmp_path / "r.db",
        orders=[stuck_order()],
        unstuck_radar_channel=RADAR,
        unstuck_radar_interval=1,
        unstuck_language="es",
        vtex_latency=0.01,
    ) as stack:
        people = [f"UPTBR{n:04d}" for n in range(8)]
        stack.slack.locales.update(dict.fromkeys(people, "pt-BR"))
        stop = threading.Event()

        def keep_asking(user: str) -> None:
            for _n in range(10):  # under the question limit (20 a minute)
                if stop.is_set():
                    return
                stack.driver.slash(user, STUCK, channel=f"C{user}")
                time.sleep(0.05)

        threads = [threading.Thread(target=keep_asking, args=(u,), daemon=True) for u in people]
        for thread in threads:
            thread.start()
        try:
            alert = stack.slack.wait(lambda: next((m for m in stack.slack.bot_messages(RADAR) if m.blocks), None), 5)
        finally:
            stop.set()
            for thread in threads:
                thread.join(5)
        text = text_of(alert)
        assert ADMIN_NAMES["es"]["handling"] in text and ADMIN_NAMES["pt-BR"]["handling"] not in text
        assert "Short by" not in text  # not English either
        for user in people:  # and the Portuguese speakers got Portuguese meanwhile
            for card in cards_in(stack, f"C{user}"):
                assert card.blocks[0]["text"]["text"] == header("pt-BR", STUCK)


# -- 2. hostile users.info answers ------------------------------------------------------------------------------

HOSTILE_ANSWERS = {
    "no locale": {"ok": True, "user": {"id": "U1"}},
    "empty locale": {"ok": True, "user": {"id": "U1", "locale": ""}},
    "blank locale": {"ok": True, "user": {"id": "U1", "locale": "   "}},
    "null locale": {"ok": True, "user": {"id": "U1", "locale": None}},
    "number locale": {"ok": True, "user": {"id": "U1", "locale": 42}},
    "list locale": {"ok": True, "user": {"id": "U1", "locale": ["pt-BR"]}},
    "object locale": {"ok": True, "user": {"id": "U1", "locale": {"code": "pt-BR"}}},
    "no user": {"ok": True},
    "user is null": {"ok": True, "user": None},
    "user is a string": {"ok": True, "user": "pt-BR"},
    "user is a list": {"ok": True, "user": [{"locale": "pt-BR"}]},
    "ok false": {"ok": False, "error": "user_not_found"},
    "ratelimited": {"ok": False, "error": "ratelimited"},
}


@pytest.mark.parametrize("answer", list(HOSTILE_ANSWERS.values()), ids=list(HOSTILE_ANSWERS))
def test_a_hostile_users_info_answer_falls_back_to_the_default(tmp_path, answer):
    with LocalStack(tmp_path / "h.db", unstuck_language="pt-BR") as stack:
        stack.slack._users_info = lambda data: answer
        reply = stack.driver.slash("UHOST0001", ORDER, channel="CHOST")
        assert reply.status == 200 and reply.elapsed < 0.5
        card = stack.slack.wait(lambda: cards_in(stack, "CHOST") and cards_in(stack, "CHOST")[0])
        assert card.blocks[0]["text"]["text"] == header("pt-BR")
        stack.driver.home_opened("UHOST0001")  # App Home too
        home = stack.slack.wait(lambda: stack.slack.homes.get("UHOST0001"))
        assert said("pt-BR", "No invoice actions yet.") in text_of(home)


@pytest.mark.parametrize(
    ("locale", "want"),
    [
        ("xx", "en"),
        ("x" * 10_000, "en"),
        ("pt-" + "A" * 10_000, "pt-BR"),
        ("pt", "pt-BR"),
        ("PT_br", "pt-BR"),
        (" es-419 ", "es"),
        ("ES_mx", "es"),
        ("en-GB", "en"),
        ("fr-FR", "en"),
        ("\u0000pt-BR", "en"),
    ],
)
def test_odd_locales_map_to_a_supported_language(tmp_path, locale, want):
    with LocalStack(tmp_path / "o.db", unstuck_language="es") as stack:
        stack.slack.locales["UODD00001"] = locale
        stack.driver.slash("UODD00001", ORDER, channel="CODD")
        card = stack.slack.wait(lambda: cards_in(stack, "CODD") and cards_in(stack, "CODD")[0])
        assert card.blocks[0]["text"]["text"] == header(want)


def test_a_hanging_slack_keeps_the_ack_fast_and_answers_in_the_default(tmp_path):
    with LocalStack(tmp_path / "s.db", unstuck_language="es") as stack:
        stack.slack.locales["UPTBR0001"] = "pt-BR"
        slow_users_info(stack, 1.5)  # longer than the work's own wait for the locale (1 s)
        reply = stack.driver.slash("UPTBR0001", ORDER, channel="CSLOW")
        assert reply.status == 200 and reply.elapsed < 0.5
        card = stack.slack.wait(lambda: cards_in(stack, "CSLOW") and cards_in(stack, "CSLOW")[0], 5)
        assert card.blocks[0]["text"]["text"] == header("es")
        # Slack has answered by now: the next question is in the person's language, asking Slack once in all.
        stack.slack.wait(lambda: stack.services.languages.cached("UPTBR0001"), 3)
        stack.driver.slash("UPTBR0001", ORDER, channel="CSLOW2")
        card = stack.slack.wait(lambda: cards_in(stack, "CSLOW2") and cards_in(stack, "CSLOW2")[0])
        assert card.blocks[0]["text"]["text"] == header("pt-BR")
        assert len(stack.slack.calls_to("users.info")) == 1


# -- 3. the cache ----------------------------------------------------------------------------------------------


class FakeSlack:
    def __init__(self, locale="pt-BR", delay: float = 0.0, fail: bool = False):
        self.locale, self.delay, self.fail = locale, delay, fail
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def users_info(self, user: str, include_locale: bool) -> dict:
        with self._lock:
            self.calls.append(user)
        if self.delay:
            time.sleep(self.delay)
        if self.fail:
            raise RuntimeError("slack down")
        assert include_locale is True
        return {"ok": True, "user": {"id": user, "locale": self.locale}}


def test_a_flood_of_people_keeps_the_cache_bounded():
    people = Languages("en", max_people=100)
    slack = FakeSlack("es-419")
    try:
        for n in range(10_000):
            assert people.of(f"U{n:08d}", slack) == "es"
        assert len(people._known) <= 100 and not people._asking
        assert people.cached("U00009999") == "es" and people.cached("U00000000") is None
    finally:
        people.close()


def test_failures_are_remembered_only_briefly_and_answers_for_an_hour():
    now = [1000.0]
    people = Languages("es", ttl=3600, failure_ttl=60, clock=lambda: now[0])
    down = FakeSlack(fail=True)
    try:
        assert people.of("UFAIL0001", down) == "es"
        assert people.of("UFAIL0001", down) == "es" and len(down.calls) == 1
        now[0] += 61
        up = FakeSlack("pt-BR")
        assert people.of("UFAIL0001", up) == "pt-BR" and len(up.calls) == 1
        now[0] += 3599
        assert people.of("UFAIL0001", up) == "pt-BR" and len(up.calls) == 1
        now[0] += 2
        up.locale = "en-US"
        assert people.of("UFAIL0001", up) == "en" and len(up.calls) == 2
    finally:
        people.close()


def test_concurrent_first_questions_of_one_person_ask_slack_once():
    people = Languages("en")
    slack = FakeSlack("pt-BR", delay=0.2)
    try:
        with ThreadPoolExecutor(max_workers=32) as pool:
            got = list(pool.map(lambda _n: people.of("UONCE0001", slack), range(64)))
        assert got == ["pt-BR"] * 64 and slack.calls == ["UONCE0001"]
    finally:
        people.close()


def test_concurrent_first_questions_over_http_ask_slack_once(tmp_path):
    with LocalStack(tmp_path / "c.db", unstuck_language="en") as stack:
        stack.slack.locales["UPTBR0001"] = "pt-BR"
        slow_users_info(stack, 0.1)
        with ThreadPoolExecutor(max_workers=8) as pool:
            replies = list(pool.map(lambda n: stack.driver.slash("UPTBR0001", ORDER, channel=f"CC{n}"), range(8)))
        assert all(r.status == 200 for r in replies)
        for n in range(8):
            card = stack.slack.wait(lambda c=f"CC{n}": cards_in(stack, c) and cards_in(stack, c)[0])
            assert card.blocks[0]["text"]["text"] == header("pt-BR")
        assert len(stack.slack.calls_to("users.info")) == 1


def test_use_and_carry_never_leak_into_the_thread_or_the_pool():
    from bot.i18n import carry

    seen: list[str] = []
    with use("pt-BR"):
        job = carry(lambda: seen.append(current()))
        with use("es"):
            inner = carry(lambda: seen.append(current()))
    assert current() == "en"
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(job).result()
        pool.submit(inner).result()
        pool.submit(lambda: seen.append(current())).result()
    assert seen == ["pt-BR", "es", "en"]
    with pytest.raises(ZeroDivisionError), use("es"):
        1 / 0  # noqa: B018
    assert current() == "en"


# -- 4. a form keeps the language it opened in ---------------------------------------------------------------

VALID = {"number_block": "NF-2", "date_block": "2026-11-27", "time_block": "09:30"}


def test_a_form_keeps_its_language_when_the_person_switches_and_sends_once(tmp_path):
    with LocalStack(tmp_path / "f.db", operators=f"{OPERATOR},UPTBR0001") as stack:
        stack.slack.locales["UPTBR0001"] = "pt-BR"
        stack.driver.slash("UPTBR0001", ORDER, channel="CFORM")
        card = stack.slack.wait(lambda: cards_in(stack, "CFORM") and cards_in(stack, "CFORM")[0])
        assert card.blocks[0]["text"]["text"] == header("pt-BR")
        stack.driver.click("UPTBR0001", card, "add_partial_invoice")
        stack.slack.wait(lambda: (v := stack.slack.top_view("UPTBR0001")) and v.get("submit"))
        # The person switches Slack to English while the form is open.
        stack.slack.locales["UPTBR0001"] = "en-US"
        stack.services.languages.forget("UPTBR0001")
        stack.driver.home_opened("UPTBR0001")
        stack.slack.wait(lambda: "No invoice actions yet." in text_of(stack.slack.homes.get("UPTBR0001") or {}))
        bad = stack.driver.submit("UPTBR0001", {**VALID, "number_block": ""}).json()
        with use("pt-BR"):
            wanted = _("Enter the invoice number of the fiscal document your ERP issued.")
        assert (
            bad["errors"]["number_block"]
            == wanted
            != "Enter the invoice number of the fiscal document your ERP issued."
        )
        stack.driver.submit("UPTBR0001", VALID)
        review = stack.slack.top_view("UPTBR0001")
        assert review["title"]["text"] == said("pt-BR", "Review invoice")
        stack.driver.submit("UPTBR0001")
        with use("pt-BR"):
            sent = _("Invoice {invoice_number} ({amount}) sent to VTEX.").format(invoice_number="NF-2", amount="")
        prefix = sent.split("(")[0].strip()
        stack.slack.wait(lambda: prefix in text_of(stack.slack.message(card.ts)), 5)
        assert "sent to VTEX" not in text_of(stack.slack.message(card.ts))
        time.sleep(0.4)  # the follow-up re-read (reread_delay 0.2 s) lands in the form's language too
        final = text_of(stack.slack.message(card.ts))
        with use("pt-BR"):
            reread = _(":arrows_counterclockwise: Re-read after the action: the order is now *{status}*.")
        assert reread.split("*")[0] in final
        assert len(stack.vtex.invoice_posts()) == 1


# -- 5. UNSTUCK_LANGUAGE ------------------------------------------------------------------------------------

BASE = dict(
    slack_bot_token="xoxb-1-2",
    slack_signing_secret="local-signing-secret-0123456789",
    vtex_account="acme",
    vtex_app_key="vtexappkey-acme-X",
    vtex_app_token="TOKEN",
)


@pytest.mark.parametrize(
    ("value", "want"),
    [("pt_BR", "pt-BR"), ("PT-br", "pt-BR"), ("pt", "pt-BR"), ("es-419", "es"), ("es_MX", "es"), (" en ", "en")],
)
def test_unstuck_language_accepts_any_locale_of_the_three(value, want):
    from bot.settings import load_settings

    assert load_settings(**BASE, unstuck_language=value).unstuck_language == want


@pytest.mark.parametrize("value", ["fr", "de-DE", "english", "ptBR", "zz-pt"])
def test_an_unsupported_unstuck_language_is_refused_naming_the_variable(value):
    from bot.settings import ConfigError, load_settings

    with pytest.raises(ConfigError) as refused:
        load_settings(**BASE, unstuck_language=value)
    assert "UNSTUCK_LANGUAGE" in str(refused.value) and "\n" not in str(refused.value)


def _unstuck(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("UNSTUCK_", "SLACK_", "VTEX_"))}
    return subprocess.run(
        [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=20,
    )


def test_unstuck_why_speaks_the_language_asked_for_and_refuses_an_unknown_one():
    pt = _unstuck("why", "--lang", "pt-BR", "--sandbox", ORDER)
    assert pt.returncode == 0, pt.stderr
    assert ADMIN_NAMES["pt-BR"]["handling"] in pt.stdout and "Handling shipping" not in pt.stdout
    es = _unstuck("why", "--sandbox", ORDER, UNSTUCK_LANGUAGE="es-419")
    assert es.returncode == 0, es.stderr
    assert ADMIN_NAMES["es"]["handling"] in es.stdout
    fr = _unstuck("why", "--sandbox", ORDER, UNSTUCK_LANGUAGE="fr")
    assert fr.returncode == 2 and "UNSTUCK_LANGUAGE" in fr.stderr and not fr.stdout


# -- 6. hostile VTEX text in Portuguese and Spanish -----------------------------------------------------------

TRAPS = [
    "<!channel>",
    "<@U0ADMIN01>",
    "*bold*",
    "{order_id}",
    "{0}",
    "%s",
    "{missing}",
    "}{",
    "<https://evil.example|x>",
]


@pytest.mark.parametrize("language", ["pt-BR", "es"])
def test_hostile_vtex_text_stays_inert_in_every_language(tmp_path, language):
    from tests.bot.test_hostile_text import mrkdwn_texts
    from tests.factories import invoice

    order = stuck_order()
    trap = " ".join(TRAPS)
    order["items"][0]["name"] = trap
    order["sellers"][0]["name"] = trap
    order["packageAttachment"]["packages"] = [invoice("NF{0}%s<!channel>", 6000)]
    user = "UPTBR0001" if language == "pt-BR" else "UESLA0001"
    with LocalStack(tmp_path / "x.db", orders=[order], operators=f"{OPERATOR},{user}") as stack:
        stack.slack.locales[user] = {"pt-BR": "pt-BR", "es": "es-419"}[language]
        stack.driver.slash(user, STUCK, channel="CX")
        card = stack.slack.wait(lambda: cards_in(stack, "CX") and cards_in(stack, "CX")[0])
        assert card.blocks[0]["text"]["text"] == header(language, STUCK)
        dumped = json.dumps(card.blocks) + card.text
        assert "<!channel>" not in dumped and "<@U0ADMIN01>" not in dumped and "evil.example|" not in dumped
        stack.driver.click(user, card, "add_partial_invoice")
        view = stack.slack.wait(lambda: (v := stack.slack.top_view(user)) and v.get("submit") and v)
        assert view["title"]["text"] == said(language, "Add partial invoice")
        assert not [t for t in mrkdwn_texts(view) if "<!channel>" in t or "<@U0ADMIN01>" in t]
        assert trap in json.dumps(view, ensure_ascii=False)  # shown literally: no `.format` ate a `{...}`
        reply = stack.driver.submit(user, {**VALID, "number_block": "{order_id}%s{0}"})
        assert reply.status == 200 and set(reply.json()["errors"]) == {"number_block"}
        assert said(language, "Enter the invoice number of the fiscal document your ERP issued.") not in reply.body
        assert "Use only" not in reply.body  # the refusal is not in English
        assert stack.vtex.invoice_posts() == []


# -- 7. what nobody asked for right now: the settle message ---------------------------------------------------


def test_the_settle_message_of_an_unconfirmed_invoice_is_not_english_for_a_portuguese_team(tmp_path):
    user = "UPTBR0001"
    with LocalStack(
        tmp_path / "u.db",
        operators=f"{OPERATOR},{user}",
        settle_every=0.2,
        unstuck_settle_after=1,
        unstuck_language="pt-BR",
    ) as stack:
        stack.slack.locales[user] = "pt-BR"
        stack.driver.slash(user, ORDER, channel="CSET")
        card = stack.slack.wait(lambda: cards_in(stack, "CSET") and cards_in(stack, "CSET")[0])
        stack.driver.click(user, card, "add_partial_invoice")
        stack.slack.wait(lambda: (v := stack.slack.top_view(user)) and v.get("submit"))
        stack.driver.submit(user, VALID)
        stack.vtex.fail_next(504, "gateway timeout", method="POST")  # lost on the way in: settled later
        stack.driver.submit(user)
        with use("pt-BR"):
            portuguese = _(
                "The bot checked the unconfirmed add partial invoice of invoice {invoice_number} on order {order_id} "
                "(by {user}): {result}"
            ).split("{")[0]
        told = stack.slack.wait(
            lambda: next(
                (
                    c
                    for c in stack.slack.calls_to("response_url")
                    if "The bot checked" in str(c.body) or portuguese in str(c.body)
                ),
                None,
            ),
            5,
        )
        assert portuguese in told.body["text"] and "The bot checked" not in told.body["text"]


def test_a_hanging_slack_never_queues_more_than_a_bounded_number_of_lookups():
    import threading

    from bot.people import MAX_ASKING, Languages

    release = threading.Event()
    asked = []

    class Hanging:
        def users_info(self, user, include_locale):
            asked.append(user)
            release.wait(5)
            return {"user": {"locale": "pt-BR"}}

    languages = Languages("es", wait=0.0)
    try:
        answers = {languages.of(f"U{n:08d}", Hanging(), wait=0.0) for n in range(MAX_ASKING * 4)}
        assert answers == {"es"} and len(languages._asking) <= MAX_ASKING
    finally:
        release.set()
        languages.close()
