import csv
import io
import json
from datetime import UTC, datetime, timedelta

from bot.audit import Who
from bot.cli import main
from bot.ledger import State
from bot.store import Store
from tests.conftest import edit_audit_row, fresh_postgres_database

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)

# The tests taking `db_target` run on SQLite and on PostgreSQL (tests/conftest.py).


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


def test_audit_lists_who_when_order_action_outcome(db_target, monkeypatch, capsys):
    monkeypatch.setenv("UNSTUCK_DB", db_target)
    seed(db_target)
    assert main(["audit"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["when", "(UTC)", "who"]
    assert "U2" in out[-1] and "1500000000001-01" in out[-1] and "add_partial_invoice NF-2" in out[-1]
    assert "succeeded" in out[-1] and "rcpt-1" in out[-1]


def test_audit_exports_csv_and_json(db_target, monkeypatch, capsys):
    monkeypatch.setenv("UNSTUCK_DB", db_target)
    seed(db_target)
    main(["audit", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["outcome"] for r in rows] == ["answered", "pending", "succeeded"]
    main(["audit", "--format", "json", "--limit", "1"])
    data = json.loads(capsys.readouterr().out)
    assert len(data) == 1 and data[0]["receipt"] == "rcpt-1" and json.loads(data[0]["inputs"])["value"] == 12990


def test_audit_verify_reports_the_first_broken_link(db_target, monkeypatch, capsys):
    monkeypatch.setenv("UNSTUCK_DB", db_target)
    seed(db_target)
    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert "3 entries" in out and "intact" in out and "head: 3:" in out
    head = out.split("head: ")[1].split()[0]
    assert main(["audit", "verify", "--expect-head", head]) == 0
    capsys.readouterr()
    edit_audit_row(db_target, 2, "edited")
    assert main(["audit", "verify"]) == 1
    assert "BROKEN at entry 2" in capsys.readouterr().err


def test_audit_reconcile_against_the_sandbox(db_target, monkeypatch, capsys):
    monkeypatch.setenv("UNSTUCK_DB", db_target)
    store = Store(db_target)
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
    store = Store(db_target)
    assert store.ledger.open() == []
    store.close()


def test_empty_log(db_target, monkeypatch, capsys):
    monkeypatch.setenv("UNSTUCK_DB", db_target)
    assert main(["audit"]) == 0
    assert "no audit entries yet" in capsys.readouterr().out


def test_csv_neutralises_formula_cells_and_json_stays_exact(db_target, monkeypatch, capsys):
    monkeypatch.setenv("UNSTUCK_DB", db_target)
    store = Store(db_target)
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


def test_audit_copy_moves_a_sqlite_log_to_postgresql_and_back_verified(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("UNSTUCK_AUDIT_KEY", "copy-test-key-0123456789")
    source = str(tmp_path / "a.db")
    seed(source)  # unkeyed rows first, as a log from before keys has them
    keyed = Store(source, key=b"copy-test-key-0123456789")
    keyed.log.question(Who("U3"), "1500000000002-01", "acme", "answered")
    keyed.radar.claim_alert(
        "1500000000002-01", "short", status=None, status_name=None, stuck_since=None, channel="C", now=NOW
    )
    keyed.close()
    monkeypatch.setenv("UNSTUCK_DB", source)
    assert main(["audit", "verify"]) == 0
    head = capsys.readouterr().out.split("head: ")[1].split()[0]
    with fresh_postgres_database() as url:
        assert main(["audit", "copy", "--to", url]) == 0
        out = capsys.readouterr().out
        assert "4 audit_log" in out and "1 actions" in out and "1 radar_alerts" in out and head in out
        monkeypatch.setenv("UNSTUCK_DB", url)
        assert main(["audit", "verify", "--expect-head", head]) == 0
        assert "keyed hash chain intact" in capsys.readouterr().out
        assert main(["audit", "copy", "--to", url]) == 1  # never into a database that holds data
        assert "already holds data (audit_log: 4 rows" in capsys.readouterr().err
        moved = Store(url, key=b"copy-test-key-0123456789")
        try:  # new rows carry on after the copied ones
            assert moved.ledger.claim(
                Who("U2"), order_id="2-01", account="acme", action="resend_invoice", invoice_number="NF-9",
                value=1, click_key="new", lease=timedelta(minutes=1),
            ).action_id == 2  # fmt: skip
            assert not moved.radar.claim_alert(
                "1500000000002-01", "short", status=None, status_name=None, stuck_since=None, channel="C", now=NOW
            )  # the radar remembers what it alerted on
        finally:
            moved.close()
        back = str(tmp_path / "back.db")
        assert main(["audit", "copy", "--to", back]) == 0
        assert "audit chain verified on both sides" in capsys.readouterr().out
    monkeypatch.setenv("UNSTUCK_DB", back)
    assert main(["audit", "verify"]) == 0


def test_audit_copy_refuses_a_broken_source_or_no_destination(tmp_path, monkeypatch, capsys):
    source = str(tmp_path / "a.db")
    seed(source)
    monkeypatch.setenv("UNSTUCK_DB", source)
    assert main(["audit", "copy"]) == 2
    assert "--to" in capsys.readouterr().err
    edit_audit_row(source, 2, "edited")
    assert main(["audit", "copy", "--to", str(tmp_path / "b.db")]) == 1
    err = capsys.readouterr().err
    assert "does not verify" in err and "nothing was copied" in err
    assert Store(str(tmp_path / "b.db")).log.head().startswith("0:")  # nothing copied
