"""The playground in headless Chromium (Debian's package, driven by Playwright): every flow a person would try.

Locally these tests are skipped when Chromium is not installed; in CI (CI=true) a missing browser fails them.
"""

import os
import shutil
import socket
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]

if not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true":
    pytest.skip("Chromium is not installed (apt-get install chromium); CI runs these", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

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


@pytest.fixture
def page(browser, tmp_path):
    playground = Playground(str(tmp_path / "play.db"), port=free_port(), reread_delay=0.3)
    context = browser.new_context(viewport={"width": 1360, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(playground.url + "/")
    expect(page.locator("#demos button").first).to_be_visible()
    page.playground = playground
    yield page
    context.close()
    playground.close()


def screenshot_path(tmp_path: Path) -> Path:
    """Where the README's picture of the playground is saved: pytest's tmp folder, so that a test run changes no
    tracked file, unless UNSTUCK_SCREENSHOTS names a folder (relative to the repository root, or absolute).
    `UNSTUCK_SCREENSHOTS=docs .venv/bin/pytest tests/playground` refreshes docs/playground.png."""
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
    expect(page.locator(".msg .eph", has_text="Only visible to you").first).to_be_visible()  # the "Looking up…" ack

    answer.get_by_role("button", name="Add partial invoice of R$ 129,90").click()  # straight to the form
    modal = page.locator("#modal")
    expect(modal).not_to_contain_text("Re-reading the order")  # the form is filled in from a fresh read
    expect(modal.locator("input[name=item_0]")).to_have_value("1")  # the T-shirt not yet invoiced
    expect(modal.locator("input[name=other_block]")).to_be_checked()  # and the R$ 9,95 of shipping still owed
    expect(modal.locator("input[name=value_block]")).to_have_value("")
    expect(modal.locator("input[name=number_block]")).to_have_value("")  # the ERP's number, never invented

    modal.locator("input[name=number_block]").fill("NF 10001/2")
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
    expect(home).to_contain_text("succeeded · resend invoice NF20001 on 1500000000002-01")


def test_a_viewer_is_refused_and_a_mention_is_answered_in_the_thread(page):
    page.select_option("#who", "UVIEW0001")
    say(page, "@unstuck why is order 1500000000002-01 stuck?")
    answer = page.locator(".thread .msg[data-from=bot]", has=page.locator("h3", has_text="1500000000002-01"))
    expect(answer).to_contain_text("Resend invoice NF20001")
    answer.get_by_role("button", name="Resend invoice NF20001").click()
    page.click("#confirm-yes")
    expect(page.locator(".msg", has_text="only operators may send invoices")).to_be_visible()
    assert page.playground.stack.vtex.invoice_posts() == []


def test_message_shortcut_on_a_customer_message(page):
    say(page, "Customer says order 1500000000007-01 never arrived")
    message = page.locator(".msg[data-from=person]", has_text="never arrived")
    message.hover()
    message.get_by_role("button", name="Why is this order stuck?").click()
    expect(card(page, "1500000000007-01")).to_contain_text("Canceled")
