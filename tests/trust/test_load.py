"""200 questions and 50 actions at once against a VTEX double with latency."""

import copy
import gc
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from bot.doubles.slack import SlackDriver
from bot.doubles.stack import OPERATOR, SIGNING_SECRET, VIEWER, LocalStack
from bot.sandbox import demo_orders


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def resend_orders(n):
    template = next(o for o in demo_orders() if o["orderId"] == "1500000000002-01")
    orders = []
    for i in range(n):
        order = copy.deepcopy(template)
        order["orderId"] = f"16000000{i:05d}-01"
        orders.append(order)
    return orders


def test_200_questions_and_50_actions_at_once(tmp_path):
    orders = demo_orders() + resend_orders(50)
    with LocalStack(
        tmp_path / "load.db",
        orders=orders,
        vtex_latency=0.1,
        reread_delay=0.05,
        unstuck_user_action_limit=100,
        unstuck_user_question_limit=1000,
    ) as stack:
        ids = [o["orderId"] for o in orders]
        local = threading.local()

        def driver() -> SlackDriver:
            # One HTTP client per agent, as each Slack delivery is its own connection.
            if not hasattr(local, "driver"):
                local.driver = SlackDriver(stack.slack, stack.url, SIGNING_SECRET)
            return local.driver

        def round_of_questions(n):
            before = len([m for m in stack.slack.messages if m.blocks])
            with ThreadPoolExecutor(max_workers=100) as pool:
                replies = list(pool.map(lambda i: driver().slash(VIEWER, ids[i % len(ids)]), range(n)))
            assert all(r.status == 200 for r in replies)
            stack.slack.wait(lambda: len([m for m in stack.slack.messages if m.blocks]) >= before + n, timeout=60)

        round_of_questions(200)
        cards = {
            m.text.split(" ")[1].rstrip(":"): m
            for m in stack.slack.messages
            if m.blocks and m.text.startswith("Order 16")
        }
        targets = [cards[f"16000000{i:05d}-01"] for i in range(50)]
        start = threading.Barrier(50)

        def act(card):
            start.wait()
            return driver().click(OPERATOR, card, "resend_invoice")

        with ThreadPoolExecutor(max_workers=50) as pool:
            assert all(r.status == 200 for r in pool.map(act, targets))
        store = stack.services.store
        stack.slack.wait(
            lambda: len([r for r in store.database.db.query("SELECT 1 FROM actions WHERE state = 'succeeded'")]) == 50,
            timeout=60,
        )

        assert len(stack.vtex.invoice_posts()) == 50
        finished = list(
            store.database.db.query(
                "SELECT action_id, count(*) AS n FROM audit_log WHERE kind = 'action' "
                "AND outcome != 'pending' GROUP BY action_id"
            )
        )
        assert len(finished) == 50 and all(r["n"] == 1 for r in finished)
        questions = store.database.conn.execute("SELECT count(*) FROM audit_log WHERE kind = 'question'").fetchone()[0]
        assert questions == 200
        assert store.log.verify().ok

        # Memory is flat once warm: thread pools grow to their working size during the first bursts,
        # after which another burst of 200 must not grow the process.
        round_of_questions(200)
        gc.collect()
        baseline = rss_mb()
        round_of_questions(200)
        gc.collect()
        grown = rss_mb() - baseline
        assert grown < 20, f"RSS grew {grown:.1f} MB over a burst of 200 questions"
