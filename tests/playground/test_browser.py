"""The playground in headless Chromium (Debian's package, driven by Playwright): every flow a person would try.

Locally these tests are skipped when Chromium is not installed; in CI (CI=true) a missing browser fails them.
"""

import os
import re
import shutil
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]

if not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true":
    pytest.skip("Chromium is not installed (apt-get install chromium); CI runs these", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402
from slack_sdk import WebClient  # noqa: E402

from bot.doubles.stack import BOT_TOKEN  # noqa: E402
from bot.playground import Playground  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def open_page(browser, playground):
    context = browser.new_context(viewport={"width": 1360, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(playground.url + "/")
    expect(page.locator("#demos button").first).to_be_visible()
    page.playground = playground
    return context, page


@pytest.fixture
def page(browser, tmp_path):
    # No radar: its alerts (and its channel) would only be noise for the flows these tests follow.
    playground = Playground(str(tmp_path / "play.db"), port=free_port(), reread_delay=0.3, radar=False)
    context, page = open_page(browser, playground)
    yield page
    context.close()
    playground.close()


@pytest.fixture
def radar_page(browser, tmp_path):
    """The playground as `unstuck playground` starts it, radar on, at a pace a test can wait for: a poll every
    second; the order stuck from the start is invoiced after 7 s; a new order enters Handling shipping after
    4 s and is stuck 6 s later."""
    playground = Playground(
        str(tmp_path / "play.db"),
        port=free_port(),
        reread_delay=0.3,
        radar_interval=1,
        radar_enter_after=timedelta(seconds=4),
        radar_stuck_after=timedelta(seconds=6),
    )
    context, page = open_page(browser, playground)
    yield page
    context.close()
    playground.close()


def screenshot_path(tmp_path: Path) -> Path:
    """Where the README's picture of the playground is saved: pytest's tmp folder, so that a test run changes no
    tracked file, unless UNSTUCK_SCREENSHOTS names a folder (relative to the repository root, or absolute).
    `UNSTUCK_SCREENSHOTS=docs .venv/bin/pytest tests/playground` refreshes docs/playground.png (and with `-k radar`
    only docs/radar.png, the # stuck-orders channel)."""
    folder = os.environ.get("UNSTUCK_SCREENSHOTS")
    if not folder:
        return tmp_path / "playground.png"
    path = ROOT / Path(folder).expanduser() / "playground.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def say(page, text):
    page.fill("#text", text)
    page.press("#text", "Enter")


def card(page, order_id):
    return page.locator(".msg[data-from=bot]", has=page.locator("h3", has_text=f"Order {order_id}")).last


def test_ask_add_a_partial_invoice_through_the_modal_and_see_the_outcome(page):
    say(page, "/stuck 1500000000001-01")
    answer = card(page, "1500000000001-01")
    expect(answer).to_contain_text("Handling shipping")
    expect(answer).to_contain_text("R$ 129,90")
    expect(page.locator(".msg", has_text="Looking up")).to_have_count(0)  # the ack cleans up after the answer

    answer.get_by_role("button", name="Add partial invoice of R$ 129,90").click()  # straight to the form
    modal = page.locator("#modal")
    expect(modal).not_to_contain_text("Re-reading the order")  # the form is filled in from a fresh read
    expect(modal.locator("input[name=item_0]")).to_have_value("1")  # the T-shirt not yet invoiced
    expect(modal.locator("input[name=other_block]")).to_be_checked()  # and the R$ 9,95 of shipping still owed
    expect(modal.locator("input[name=value_block]")).to_have_value("")
    expect(modal.locator("input[name=number_block]")).to_have_value("")  # the ERP's number, never invented

    modal.locator("input[name=number_block]").fill("NF 10001/2")
    modal.locator("input[name=date_block]").fill("2026-11-27")  # in the past at any hour
    modal.locator("input[name=time_block]").fill("09:30")
    page.click("#modal-submit")
    expect(modal.locator(".input.has-error .error")).to_contain_text("only letters, digits and '-'")
    modal.locator("input[name=number_block]").fill("NF-10002")
    modal.locator("input[name=other_block]").uncheck()
    modal.locator("input[name=value_block]").fill("129,90")
    page.click("#modal-submit")
    expect(modal.locator(".input.has-error .error")).to_contain_text("At most R$ 119,95")
    modal.locator("input[name=other_block]").check()
    page.click("#modal-submit")
    expect(modal).to_contain_text("Exactly what will be posted to VTEX")
    expect(modal).to_contain_text('"invoiceValue": "12990"')
    expect(modal).to_contain_text("R$ 259,90 of R$ 259,90")
    page.click("#modal-submit")
    expect(page.locator("#modal-backdrop")).to_be_hidden()

    expect(answer).to_contain_text("sent to VTEX")
    expect(answer).to_contain_text("now Invoiced")
    expect(answer.locator("button[data-action-id]")).to_have_count(0)
    assert page.playground.stack.vtex.order("1500000000001-01")["status"] == "invoiced"


def test_resend_from_the_side_panel_then_app_home_lists_it(page, tmp_path):
    page.locator("#demos button", has_text="1500000000002-01").click()
    answer = card(page, "1500000000002-01")
    answer.get_by_role("button", name="Resend invoice NF20001").click()
    expect(page.locator("#confirm")).to_contain_text("R$ 304,80")
    page.click("#confirm-yes")
    expect(answer).to_contain_text("resent to VTEX")
    expect(answer).to_contain_text("now Invoiced")
    answer.locator("h3").scroll_into_view_if_needed()
    page.locator("#messages").evaluate(
        "(box) => { box.scrollTop = box.querySelector('.msg[data-from=bot] h3').closest('.msg').offsetTop - 60; }"
    )
    screenshot = screenshot_path(tmp_path)
    page.screenshot(path=str(screenshot))
    assert screenshot.stat().st_size > 0
    page.click("#tab-home")
    home = page.locator("#home-view")
    expect(home).to_contain_text("You are an operator")
    expect(home).to_contain_text("Resend of invoice NF20001 · R$ 304,80 on 1500000000002-01: sent")


REPLIES = re.compile(r"^\d+ repl(y|ies)$")


def test_a_viewer_is_refused_and_a_mention_is_answered_in_the_thread(page):
    page.select_option("#who", "UVIEW0001")
    say(page, "@unstuck why is order 1500000000002-01 stuck?")
    page.locator(".msg[data-from=person]", has_text="why is order").get_by_role("button", name=REPLIES).click()
    answer = page.locator(
        "#thread-pane .thread .msg[data-from=bot]", has=page.locator("h3", has_text="1500000000002-01")
    )
    expect(answer).to_contain_text("Resend invoice NF20001")
    answer.get_by_role("button", name="Resend invoice NF20001").click()
    page.click("#confirm-yes")
    # Slack answers a click in a thread in that thread.
    expect(page.locator("#thread-pane .msg", has_text="only the team's operators may send invoices")).to_be_visible()
    assert page.playground.stack.vtex.invoice_posts() == []


def test_message_shortcut_on_a_customer_message(page):
    say(page, "Customer says order 1500000000007-01 never arrived")
    message = page.locator(".msg[data-from=person]", has_text="never arrived")
    message.hover()
    message.get_by_role("button", name="Why is this order stuck?").click()
    expect(card(page, "1500000000007-01")).to_contain_text("Canceled")


def partial_invoice_form(page, order_id="1500000000001-01"):
    """Ask about the demo order that is short of an invoice and open the app's form from its card."""
    answer = card(page, order_id)
    answer.get_by_role("button", name=re.compile("partial invoice", re.I)).click()
    modal = page.locator("#modal")
    expect(modal.locator("input[name=number_block]")).to_be_visible()  # the form, filled in from a fresh read
    return modal


def test_cancel_back_and_the_corner_x_close_modals_as_slack_does(page):
    slack, vtex = page.playground.slack, page.playground.stack.vtex
    backdrop = page.locator("#modal-backdrop")
    say(page, "/stuck 1500000000001-01")

    modal = partial_invoice_form(page)
    modal.locator("input[name=number_block]").fill("NF-777")
    modal.get_by_role("button", name="Cancel").click()  # the only view: Cancel closes the modal
    expect(backdrop).to_be_hidden()
    assert slack.top_view("UOPS00001") is None

    modal = partial_invoice_form(page)
    expect(modal.locator("input[name=number_block]")).to_have_value("")  # a closed modal keeps nothing
    modal.locator("input[name=number_block]").fill("NF-10002")
    modal.locator("input[name=date_block]").fill("2026-11-27")  # in the past at any hour
    modal.locator("input[name=time_block]").fill("09:30")
    page.click("#modal-submit")
    expect(modal).to_contain_text("Exactly what will be posted to VTEX")  # the review, pushed on the form
    modal.get_by_role("button", name="Back").click()  # a pushed view: Back returns to the form as it was left
    expect(modal.locator("input[name=number_block]")).to_have_value("NF-10002")
    expect(modal.locator("input[name=time_block]")).to_have_value("09:30")
    assert len(slack.stacks["UOPS00001"]) == 1

    page.click("#modal-submit")
    expect(modal).to_contain_text("Exactly what will be posted to VTEX")
    page.click("#modal-x")  # the × in the corner closes the whole modal, form and review
    expect(backdrop).to_be_hidden()
    assert slack.top_view("UOPS00001") is None

    modal = partial_invoice_form(page)
    page.keyboard.press("Escape")  # Escape is the close button
    expect(backdrop).to_be_hidden()
    assert slack.top_view("UOPS00001") is None
    assert vtex.invoice_posts() == []  # nothing closed was sent


def test_an_ephemeral_message_can_be_dismissed(page):
    # Posted through Slack's Web API with the app's token, as a handler would.
    client = WebClient(token=BOT_TOKEN, base_url=page.playground.slack.api_url)
    ts = client.chat_postEphemeral(channel="C0SUPPORT", user="UOPS00001", text="Just for Olivia")["message_ts"]
    client.chat_postMessage(channel="C0SUPPORT", text="For everyone")
    message = page.locator(f'.msg[data-ts="{ts}"]')
    expect(message).to_contain_text("Only visible to you")
    expect(page.locator(".msg", has_text="For everyone")).to_be_visible()
    message.get_by_role("button", name="Dismiss").click()
    expect(message).to_have_count(0)
    assert page.playground.slack.message(ts) is None  # gone for good, not just hidden until the next poll
    expect(page.locator(".msg", has_text="For everyone").get_by_role("button", name="Dismiss")).to_have_count(0)


def test_threads_collapse_to_n_replies_and_open_beside_the_channel(page):
    say(page, "@unstuck why is order 1500000000002-01 stuck?")
    question = page.locator("#messages .msg[data-from=person]", has_text="why is order")
    question.get_by_role("button", name=REPLIES).click()
    pane = page.locator("#thread-pane")
    expect(pane.locator(".thread h3", has_text="1500000000002-01")).to_be_visible()
    expect(pane.locator(".msg").first).to_contain_text("why is order 1500000000002-01")  # the parent on top
    # The answer is in the thread only: the channel shows the question and its "N replies".
    expect(page.locator("#messages h3")).to_have_count(0)
    expect(page.locator("#messages .msg")).to_have_count(1)

    page.fill("#reply-text", "@unstuck and 1500000000007-01?")
    page.press("#reply-text", "Enter")
    expect(pane.locator(".thread h3", has_text="1500000000007-01")).to_be_visible()
    replies = len(page.playground.slack.messages) - 1
    expect(question.get_by_role("button", name=REPLIES)).to_have_text(f"{replies} replies")
    expect(pane.locator(".thread-count")).to_have_text(f"{replies} replies")
    expect(page.locator("#messages .msg")).to_have_count(1)

    page.click("#thread-close")
    expect(pane).to_be_hidden()
    question.get_by_role("button", name=REPLIES).click()
    expect(pane).to_be_visible()


# Counts the visual lines of text a card takes on screen: the distinct rows its text boxes sit on.
COUNT_LINES = """(card) => {
  const tops = new Set();
  const walker = document.createTreeWalker(card, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim() || node.parentElement.closest("button, .meta")) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const rect of range.getClientRects()) if (rect.height > 0) tops.add(Math.round(rect.top));
  }
  return tops.size;
}"""


def test_every_demo_order_gets_a_card_of_at_most_twelve_lines(page, tmp_path):
    from bot.sandbox import DEMOS

    page.set_viewport_size({"width": 1280, "height": 1000})
    folder = tmp_path  # 17 pictures for a person to look at, never into docs/
    lines = {}
    for demo in DEMOS:
        page.locator("#demos button", has_text=demo.order_id).click()
        answer = card(page, demo.order_id)
        expect(answer).to_contain_text("Open in VTEX Admin")
        for _ in range(30):  # the page re-renders on every poll: count on a settled element
            lines[demo.order_id] = answer.evaluate(COUNT_LINES)
            if lines[demo.order_id]:
                break
            page.wait_for_timeout(100)
        answer.screenshot(path=str(folder / f"card-{demo.order_id}.png"))
    assert 3 <= min(lines.values()) and max(lines.values()) <= 12, lines


RADAR_WAIT = 15000  # ms: the script's changes come seconds apart, beyond expect's default of 5 s


def alert(page, order_id, kind="Stuck"):
    """The radar's message about `order_id` in # stuck-orders: "Stuck: order …", or once updated "Resolved: order …"."""
    return page.locator(
        "#radar-messages .msg[data-from=bot]", has=page.locator("h3", has_text=f"{kind}: order {order_id}")
    )


def test_the_radar_posts_stuck_orders_in_their_channel_snoozes_from_the_menu_and_resolves_in_place(
    radar_page, tmp_path
):
    from bot.sandbox import ENTERS, STUCK_THEN_INVOICED

    page, playground = radar_page, radar_page.playground
    radar = page.locator("#tab-radar")
    expect(radar).to_have_text("# stuck-orders")
    radar.click()
    expect(page.locator("#title")).to_contain_text("# stuck-orders")
    expect(page.locator("#radar form, #radar input")).to_have_count(0)  # read-only: nobody but the radar posts

    # A demo order stuck for days: its alert has the card's fix button and the radar's menu.
    stuck = alert(page, "1500000000003-01")
    # The first sweep goes through List orders at the radar's share of VTEX's rate limit: a few seconds.
    expect(stuck).to_contain_text("The radar found it: in Handling shipping for 5 days", timeout=RADAR_WAIT)
    expect(stuck.get_by_role("button", name=re.compile("invoice", re.I))).to_be_visible()
    stuck.get_by_role("button", name="More actions").click()
    menu = stuck.get_by_role("menu")
    expect(menu.get_by_role("menuitem")).to_have_text(["Snooze for 1 hour", "Snooze for 1 day", "Mute this status"])
    menu.get_by_role("menuitem", name="Snooze for 1 day").click()
    expect(menu).to_have_count(0)
    snoozed = page.locator("#radar-messages .msg", has_text="will not alert on 1500000000003-01 again")
    expect(snoozed).to_contain_text("Only visible to you")
    now = datetime.now(UTC)
    assert playground.stack.services.store.radar.muted("1500000000003-01", "handling", now + timedelta(hours=23))
    assert not playground.stack.services.store.radar.muted("1500000000003-01", "handling", now + timedelta(hours=25))

    # The order stuck from the start gets invoiced: its alert says so in place (chat.update) and loses its buttons.
    resolved = alert(page, STUCK_THEN_INVOICED, "Resolved")
    expect(resolved).to_contain_text("no longer stuck in Handling shipping: it is now Invoiced", timeout=RADAR_WAIT)
    expect(resolved.locator("button")).to_have_count(0)
    about = [m for m in playground.slack.bot_messages("C0RADAR") if STUCK_THEN_INVOICED in m.text]
    assert len(about) == 1 and about[0].edits == 1, about  # one message, updated, never a second one

    # A new order enters Handling shipping, overstays, and its alert appears while the page is open.
    appeared = alert(page, ENTERS)
    expect(appeared).to_contain_text("The radar found it: in Handling shipping", timeout=RADAR_WAIT)
    expect(appeared.get_by_role("button", name=re.compile("invoice", re.I))).to_be_visible()
    expect(appeared.get_by_role("button", name="More actions")).to_be_visible()
    assert playground.slack.bot_messages("C0SUPPORT") == []  # the radar never posts in # support

    # The README's picture: the resolved alert at the top, then the next alert (with a menu) with its menu open.
    after = resolved.locator("xpath=following-sibling::div[@data-from='bot'][.//button[@data-overflow]]").first
    page.locator("#radar-messages").evaluate(
        "(box, m) => { box.scrollTop += m.getBoundingClientRect().top - box.getBoundingClientRect().top - 8; }",
        resolved.element_handle(),
    )
    after.get_by_role("button", name="More actions").click()
    expect(after.get_by_role("menu")).to_be_visible()
    screenshot = screenshot_path(tmp_path).parent / "radar.png"
    page.screenshot(path=str(screenshot))
    assert screenshot.stat().st_size > 0


def test_the_visitor_gives_a_person_a_slack_language_and_the_bot_answers_in_it(page):
    page.select_option("#lang", "pt-BR")
    expect(page.locator("#lang")).to_have_value("pt-BR")
    say(page, "/stuck 1500000000001-01")
    answer = page.locator(".msg[data-from=bot]", has=page.locator("h3", has_text="Pedido 1500000000001-01")).last
    expect(answer).to_contain_text("Preparando entrega")
    expect(answer).to_contain_text("R$ 129,90")
    answer.get_by_role("button", name="Adicionar nota fiscal parcial de R$ 129,90").click()
    expect(page.locator("#modal")).to_contain_text("Número da nota fiscal")

    page.click("#modal-close")
    page.select_option("#lang", "es-LA")
    say(page, "/stuck 1500000000002-01")
    spanish = page.locator(".msg[data-from=bot]", has=page.locator("h3", has_text="Pedido 1500000000002-01")).last
    expect(spanish).to_contain_text("Preparando envío")

    page.select_option("#lang", "en-US")  # and back: the same person, in English again
    say(page, "/stuck 1500000000003-01")
    expect(card(page, "1500000000003-01")).to_contain_text("Handling shipping")
