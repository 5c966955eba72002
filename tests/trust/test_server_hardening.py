"""`unstuck serve` under hostile clients, none of which needs a valid signature: a flood of idle connections,
a huge body, a sender trickling bytes, and a worker process that dies. Everything runs on 127.0.0.1."""

from __future__ import annotations

import os
import resource
import select
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from bot.doubles.slack import SlackDouble, SlackDriver
from bot.doubles.stack import SIGNING_SECRET
from bot.server import MAX_BODY, make_server, stop_server
from tests.conftest import wait_for_serve
from tests.handlers.helpers import text_of

SECRET = "hardening-signing-secret-123"
VIEWER = "UVIEW0001"
FLOOD = 1100  # select() fails past descriptor 1023; the server must hold more than that


def free_fds_for(n: int) -> None:
    """This test process holds the client side of every connection: raise its own soft limit if needed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = n + 200
    if soft != resource.RLIM_INFINITY and soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            pytest.skip(f"the open-file hard limit ({hard}) is below the {need} this test needs")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))


def start_serve(tmp_path, slack: SlackDouble, *extra: str) -> tuple[subprocess.Popen, int]:
    """`unstuck serve --sandbox` on a port it picks itself, once /healthz answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "VTEX_", "UNSTUCK_"))}
    env.update(
        SLACK_BOT_TOKEN="xoxb-hardening",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack.api_url,
        UNSTUCK_DB=str(tmp_path / "audit.db"),
    )
    log_path = tmp_path / "serve.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--http", "--sandbox", "--host", "127.0.0.1", "--port", "0", *extra],
        env=env,
        cwd=tmp_path,
        stdout=open(log_path, "w"),
        stderr=subprocess.STDOUT,
    )
    return proc, wait_for_serve(proc, log_path, time.monotonic() + 20)


def sockets_held(pid: int) -> int:
    return sum(1 for fd in os.listdir(f"/proc/{pid}/fd") if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"))


def children_of(pid: int) -> list[int]:
    return [
        int(c) for t in os.listdir(f"/proc/{pid}/task") for c in open(f"/proc/{pid}/task/{t}/children").read().split()
    ]


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def http_get(sock: socket.socket, path: str = "/healthz") -> bytes:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    return sock.recv(4096)


@pytest.fixture
def slack():
    double = SlackDouble()
    double.serve()
    yield double
    double.close()


@pytest.fixture
def served(tmp_path, slack):
    proc, port = start_serve(tmp_path, slack)
    yield proc, port
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_a_flood_of_idle_connections_does_not_take_the_server_down(served, slack):
    proc, port = served
    free_fds_for(FLOOD)
    idle: list[socket.socket] = []
    try:
        for _ in range(FLOOD):
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        # The server has accepted them all (not just the kernel's backlog): its descriptors go past 1023.
        wait_for(lambda: sockets_held(proc.pid) > FLOOD)  # the listener and every idle connection
        assert proc.poll() is None
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        driver = SlackDriver(slack, f"http://127.0.0.1:{port}", SECRET)
        assert driver.slash(VIEWER, "1500000000001-01").status == 200
        card = slack.wait(lambda: next((m for m in slack.bot_messages() if m.blocks), None))
        assert "1500000000001-01" in text_of(card)
        # The idle connections were held, not dropped: the first and the last still serve a request.
        assert http_get(idle[0]).startswith(b"HTTP/1.1 200")
        assert http_get(idle[-1]).startswith(b"HTTP/1.1 200")
        assert proc.poll() is None
    finally:
        for sock in idle:
            sock.close()


def test_an_oversized_body_is_refused_from_its_headers_within_a_second(served):
    proc, port = served
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        started = time.perf_counter()
        # 64 MB announced, only 64 KB sent: the answer cannot depend on the rest of the body.
        sock.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 67108864\r\n\r\n" + b"a" * 65536
        )
        answer = sock.recv(4096)
        elapsed = time.perf_counter() - started
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert elapsed < 1.0, f"413 took {elapsed:.2f} s"
    assert proc.poll() is None


def test_a_body_just_over_the_limit_is_refused_and_one_at_the_limit_is_read(served):
    _, port = served
    over = httpx.post(f"http://127.0.0.1:{port}/slack/events", content=b"x" * (MAX_BODY + 1), timeout=5)
    assert over.status_code == 413
    at = httpx.post(f"http://127.0.0.1:{port}/slack/events", content=b"x" * MAX_BODY, timeout=5)
    assert at.status_code == 401  # read whole, then refused for its missing signature


@pytest.fixture
def in_process(stack):
    """A second server on the stack's app, with short limits so the tests stay quick."""
    servers = []

    def start(**limits):
        server = make_server(stack.app, "127.0.0.1", 0, SIGNING_SECRET, threads=4, **limits)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        return server.effective_port

    yield start
    for server, thread in servers:
        stop_server(server, thread)


def test_a_request_trickled_in_byte_by_byte_is_cut_off(in_process):
    # The idle timeout never fires (a byte arrives every 0.2 s); the whole request gets one second.
    port = in_process(read_deadline=1.0, idle_timeout=30)
    request = b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n0123456789"
    sent = 0
    closed = False
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        for byte in request:
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            sent += 1
            readable, _, _ = select.select([sock], [], [], 0.2)
            if readable:
                try:
                    closed = sock.recv(4096) == b""
                except ConnectionResetError:
                    closed = True
                break
    assert closed, "the server kept reading a request trickled in for over a minute"
    assert sent < len(request)


def test_at_the_connection_limit_the_most_idle_connections_make_room(in_process):
    port = in_process(connection_limit=40)
    idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(60)]
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        # The first connections, idle the longest, were the ones closed.
        readable, _, _ = select.select([idle[0]], [], [], 5)
        assert readable and idle[0].recv(1) == b""
    finally:
        for sock in idle:
            sock.close()


def test_a_killed_worker_is_restarted_and_the_service_stays_up(tmp_path, slack):
    proc, port = start_serve(tmp_path, slack, "--workers", "2")
    try:
        workers = wait_for(lambda: len(found := children_of(proc.pid)) == 2 and found)
        os.kill(workers[0], signal.SIGKILL)
        replaced = wait_for(lambda: len(found := children_of(proc.pid)) == 2 and workers[0] not in found and found)
        assert workers[1] in replaced and proc.poll() is None
        assert "was killed by signal 9; starting a new one" in (tmp_path / "serve.log").read_text()
        driver = SlackDriver(slack, f"http://127.0.0.1:{port}", SECRET)
        for order in ("1500000000001-01", "1500000000002-01", "1500000000006-01", "1500000000007-01"):
            assert driver.slash(VIEWER, order).status == 200
        slack.wait(lambda: len([m for m in slack.bot_messages() if m.blocks]) == 4)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert not any(_alive(pid) for pid in replaced)
    finally:
        if proc.poll() is None:
            proc.kill()


def _alive(pid: int) -> bool:
    try:
        return "Z" not in open(f"/proc/{pid}/stat").read().split()[2]
    except FileNotFoundError:
        return False
