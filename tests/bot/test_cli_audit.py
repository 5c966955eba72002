import csv
import io
import json

from bot.audit import AuditStore, Who
from bot.cli import main


def seed(path):
    store = AuditStore(path)
    store.question(Who("U1", "T1", "C1"), "1500000000001-01", "acme", "answered")
    claim = store.claim_action(
        Who("U2", "T1", "C1"),
        order_id="1500000000001-01",
        account="acme",
        action="add_partial_invoice",
        invoice_number="NF-2",
        value=12990,
        click_key="k",
    )
    store.log_pending(claim.action_id)
    store.finish_action(claim.action_id, "succeeded", http_status=200, receipt="rcpt-1")
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
    assert "3 entries, hash chain intact" in capsys.readouterr().out
    store = AuditStore(tmp_path / "a.db")
    store.db.execute("DROP TRIGGER audit_log_no_update")
    store.db.execute("UPDATE audit_log SET detail = 'edited' WHERE seq = 2")
    store.close()
    assert main(["audit", "verify"]) == 1
    assert "BROKEN at entry 2" in capsys.readouterr().err


def test_audit_reconcile_against_the_sandbox(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("UNSTUCK_DB", str(tmp_path / "a.db"))
    store = AuditStore(tmp_path / "a.db")
    store.claim_action(
        Who("U1"),
        order_id="1500000000001-01",
        account="sandbox",
        action="add_partial_invoice",
        invoice_number="NF10001",
        value=1,
        click_key="k",
    )
    store.close()
    assert main(["audit", "reconcile", "--sandbox"]) == 0
    assert "1 pending action(s) reconciled" in capsys.readouterr().out
    assert AuditStore(tmp_path / "a.db").pending_actions() == []


def test_empty_log(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("UNSTUCK_DB", str(tmp_path / "empty.db"))
    assert main(["audit"]) == 0
    assert "no audit entries yet" in capsys.readouterr().out
