import json
import subprocess
import sys

import pytest

from bot.cli import main
from bot.doubles.vtex import VtexDouble
from bot.sandbox import demo_orders


def test_why_sandbox_prints_the_diagnosis(capsys):
    assert main(["why", "--sandbox", "1500000000001-01"]) == 0
    out = capsys.readouterr().out
    assert "Order 1500000000001-01: Handling shipping" in out
    assert "Short by R$ 129,90: add a partial invoice" in out
    assert "add partial invoice of R$ 129,90, under the number of a new invoice from your ERP" in out


def test_why_json_for_machines(capsys):
    assert main(["why", "--sandbox", "--json", "1500000000002-01"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] and data["diagnosis"]["actions"][0]["kind"] == "resend_invoice"
    assert data["diagnosis"]["invoices"]["display"]["invoiced"] == "R$ 304,80"


def test_several_orders_and_a_missing_one_exit_non_zero_with_one_line(capsys):
    assert main(["why", "--sandbox", "1500000000006-01", "9999999999999-01"]) == 1
    captured = capsys.readouterr()
    assert "Order 1500000000006-01: Invoiced" in captured.out
    assert captured.err.strip().count("\n") == 0 and "9999999999999-01" in captured.err and "404" in captured.err


def test_bad_id_is_a_usage_error(capsys):
    assert main(["why", "--sandbox", "../etc/passwd"]) == 2
    assert "not a VTEX order id" in capsys.readouterr().err


def test_missing_configuration_is_one_line(capsys):
    assert main(["why", "1500000000001-01"]) == 2
    assert capsys.readouterr().err.strip() == "unstuck: VTEX_ACCOUNT is not set (or set VTEX_BASE_URL)"


def test_real_http_vtex_double_through_vtex_base_url(monkeypatch, capsys):
    double = VtexDouble(demo_orders(), app_key="vtexappkey-acme-K", app_token="T0KEN")
    with double.serve() as server:
        monkeypatch.setenv("VTEX_BASE_URL", server.url)
        monkeypatch.setenv("VTEX_APP_KEY", "vtexappkey-acme-K")
        monkeypatch.setenv("VTEX_APP_TOKEN", "T0KEN")
        assert main(["why", "1500000000004-01"]) == 0
        assert "Ready for handling" in capsys.readouterr().out
        monkeypatch.setenv("VTEX_APP_TOKEN", "wrong")
        assert main(["why", "1500000000004-01"]) == 1
        err = capsys.readouterr().err
        assert "401" in err and "wrong" not in err and "T0KEN" not in err
    assert double.calls[0].headers["x-vtex-api-appkey"] == "vtexappkey-acme-K"


def test_console_entry_point_runs():
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "why", "--sandbox", "1500000000007-01"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "Canceled" in result.stdout


@pytest.mark.parametrize(
    ("flag", "status", "verdict"),
    [
        ("pt-BR", "Preparando entrega", "Short by *{missing}*: add a partial invoice for what is missing."),
        ("es", "Preparando envío", "Short by *{missing}*: add a partial invoice for what is missing."),
    ],
)
def test_why_speaks_the_language_asked_for(capsys, flag, status, verdict):
    from bot.i18n import _, use

    assert main(["why", "--sandbox", "--lang", flag, "1500000000001-01"]) == 0
    out = capsys.readouterr().out
    with use(flag):
        expected = _(verdict).format(missing="R$ 129,90").replace("*", "")
    assert status in out and expected in out and "Short by" not in out


def test_why_follows_unstuck_language_unless_told(capsys, monkeypatch):
    monkeypatch.setenv("UNSTUCK_LANGUAGE", "pt-BR")
    assert main(["why", "--sandbox", "1500000000001-01"]) == 0
    assert "Preparando entrega" in capsys.readouterr().out
    assert main(["why", "--sandbox", "--lang", "en", "1500000000001-01"]) == 0
    assert "Handling shipping" in capsys.readouterr().out
