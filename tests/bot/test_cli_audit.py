import csv
import io
import json
from datetime import timedelta

from bot.audit import Who
from bot.cli import main
from bot.ledger import State
from bot.store import Store


def seed(path):
    store = Store(path)
    store.log.question(Who("U1", "T1", "C1"), "1500000000001-01", "acme", "answered")
    claim = store.ledger.claim(
        Who("U2", "T1", "C1"),
        order_id="1500000000001-01",
        account="acme",
        action="add_partial_invoice",
        invoice_number="NF-2",
        value=12990,
        click_key="k",
        lease=timedelta(minutes=1),
    )
    store.ledger.mark_posting(claim.action_id, timedelta(minutes=1))
    store.ledger.finish(claim.action_id, State.SUCCEEDED, http_status=200, receipt="rcpt-1")
    store.close()


def test_audit_lists_who_when_order_action_outcome(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("UNSTUCK_DB", str(tmp_path / "a.db"))
    seed(tmp_path / "a.db")
    assert main(["audit"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["when", "(UTC)", "who"]
    assert "U2" in out[-1] and "1500000000001-01" in out[-1] and "add_partial_invoice NF-2" in out[-1]
    assert "succeeded" in out[-1] and "rcpt-1" in out[-1]


def test_audit_exports_csv_and_json(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("UNSTUCK_DB", str(tmp_path / "a.db"))
    seed(tmp_path / "a.db")
    main(["audit", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["outcome"] for r in rows] == ["answered", "pending", "succeeded"]
    main(["audit", "--format", "json", "--limit", "1"])
    data = json.loads(capsys.readouterr().out)
    assert len(data) == 1 and data[0]["receipt"] == "rcpt-1" and json.loads(data[0]["inputs"])["value"] == 12990


def test_audit_verify_reports_the_first_broken_link(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("UNSTUCK_DB", str(tmp_path / "a.db"))
    seed(tmp_path / "a.db")
    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert "3 entries" in out and "intact" in out and "head: 3:" in out
    head = out.split("head: ")[1].split()[0]
    assert main(["audit", "verify", "--expect-head", head]) == 0
    capsys.readouterr()
    store = Store(tmp_path / "a.db")
    store.database.conn.execute("DROP TRIGGER audit_log_no_update")
    store.database.conn.execute("UPDATE audit_log SET detail = 'edited' WHERE seq = 2")
    store.close()
    assert main(["audit", "verify"]) == 1
    assert "BROKEN at entry 2" in capsys.readouterr().err


def test_audit_reconcile_against_the_sandbox(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("UNSTUCK_DB", str(tmp_path / "a.db"))
    store = Store(tmp_path / "a.db")
    claim = store.ledger.claim(
        Who("U1"),
        order_id="1500000000001-01",
        account="sandbox",
        action="add_partial_invoice",
        invoice_number="NF10001",
        value=1,
        click_key="k",
        lease=timedelta(minutes=1),
    )
    store.ledger.mark_posting(claim.action_id, timedelta(0))  # it posted, then its owner was gone
    store.close()
    assert main(["audit", "reconcile", "--sandbox"]) == 0
    out = capsys.readouterr().out
    assert "succeeded" in out and "1 open action(s) checked" in out
    assert Store(tmp_path / "a.db").ledger.open() == []


def test_empty_log(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("UNSTUCK_DB", str(tmp_path / "empty.db"))
    assert main(["audit"]) == 0
    assert "no audit entries yet" in capsys.readouterr().out


def test_csv_neutralises_formula_cells_and_json_stays_exact(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("UNSTUCK_DB", str(tmp_path / "a.db"))
    store = Store(tmp_path / "a.db")
    hostile = ['=HYPERLINK("https://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]
    for text in hostile:
        store.log.question(Who("U1", "T1", "C1"), "1500000000001-01", "acme", "error", text)
    store.log.question(Who("U1", "T1", "C1"), "1500000000001-01", "acme", "answered", "plain - text = fine")
    store.close()
    main(["audit", "--format", "csv", "--limit", "0"])
    details = [r["detail"] for r in csv.DictReader(io.StringIO(capsys.readouterr().out))]
    assert details == ["'" + text for text in hostile] + ["plain - text = fine"]
    main(["audit", "--format", "json", "--limit", "0"])
    assert [r["detail"] for r in json.loads(capsys.readouterr().out)] == hostile + ["plain - text = fine"]


def test_audit_after_the_playground_says_where_its_log_is_and_creates_no_empty_log(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("UNSTUCK_DB", raising=False)
    seed(tmp_path / "unstuck-playground.db")  # what `unstuck playground` left in this folder
    for task, command in [([], "unstuck audit`"), (["verify"], "unstuck audit verify`")]:
        assert main(["audit", *task]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        [line] = captured.err.splitlines()
        assert "./unstuck-playground.db" in line and f"`UNSTUCK_DB=./unstuck-playground.db {command}" in line
    assert not (tmp_path / "unstuck.db").exists()

    monkeypatch.setenv("UNSTUCK_DB", "./unstuck-playground.db")  # the command it printed
    assert main(["audit"]) == 0
    assert "add_partial_invoice NF-2" in capsys.readouterr().out


def test_audit_reads_its_own_log_even_when_the_playground_left_one(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("UNSTUCK_DB", raising=False)
    seed(tmp_path / "unstuck.db")
    (tmp_path / "unstuck-playground.db").touch()
    assert main(["audit"]) == 0
    assert "add_partial_invoice NF-2" in capsys.readouterr().out
