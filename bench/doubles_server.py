"""The bench's VTEX and Slack stand-ins, in their own process so the load generator does not steal their CPU.

Prints one JSON line with both URLs, then serves until killed. GET /bench/arrivals on the Slack side
returns, for each response_url, when the first in-channel answer reached it (time.time());
GET /bench/wait/KEY waits (up to 30 s) for that answer.
"""

import argparse
import json
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.doubles.slack import SlackDouble  # noqa: E402
from bot.doubles.vtex import VtexDouble  # noqa: E402
from bot.sandbox import demo_orders  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.3)
    args = parser.parse_args()
    vtex = VtexDouble(demo_orders(), latency=args.latency)
    slack = SlackDouble()
    arrivals: dict[str, float] = {}
    lock = threading.Condition()

    def extra(method, target, headers, body):
        now = time.time()
        if target.startswith("/bench/wait/"):
            key = target.rsplit("/", 1)[1]
            with lock:
                lock.wait_for(lambda: key in arrivals, timeout=30)
                at = arrivals.get(key)
            return 200, {"Content-Type": "application/json"}, json.dumps({"at": at}).encode()
        if target.startswith("/bench/arrivals"):
            with lock:
                data = dict(arrivals)
            return 200, {"Content-Type": "application/json"}, json.dumps(data).encode()
        if target.startswith("/response/"):
            key = target.rsplit("/", 1)[1]
            with lock:
                slack.response_urls.setdefault(
                    key, {"channel": "C0BENCH", "user": "UBENCH", "message_ts": None, "uses": 0, "ephemeral": False}
                )
                if b"in_channel" in body and key not in arrivals:
                    arrivals[key] = now
                    lock.notify_all()
        return None

    slack.extra = extra
    vtex_server = vtex.serve()
    slack.serve()
    # Keep memory flat over long runs: the bench reads arrivals, not the recorded calls.
    vtex.calls = _Discard()
    print(json.dumps({"vtex": vtex_server.url, "slack": slack.url}), flush=True)
    threading.Event().wait()


class _Discard(list):
    def append(self, item):  # noqa: D401
        pass


if __name__ == "__main__":
    main()
