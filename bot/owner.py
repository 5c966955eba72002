"""Which process owns an action, and whether that process is still alive.

An action's lease says how long others must wait before settling it; when its owner ran on this host
and is gone (killed, restarted), there is nothing to wait for. A process is named by host, pid
namespace, pid and the kernel's start time of that pid, so neither a recycled pid nor a container
that shares the host name is taken for the owner.
"""

from __future__ import annotations

import os
import socket


def _start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            # The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _namespace() -> str:
    """The pid namespace: two containers may share a host name and a database but never their pids."""
    try:
        return os.readlink("/proc/self/ns/pid").replace("|", "")
    except OSError:
        return "?"


def this_process() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}|{_namespace()}|{pid}|{_start_time(pid) or '?'}"


def is_gone(owner: str | None) -> bool:
    """True only when the owner certainly no longer runs: same host and pid namespace, and that pid is not
    that process any more. Anything this process cannot see for itself is left to the lease."""
    if not owner or owner.count("|") != 3:
        return False
    host, namespace, pid_text, started = owner.split("|")
    if host != socket.gethostname() or namespace != _namespace() or namespace == "?":
        return False
    if not pid_text.isdigit() or started == "?":
        return False
    return _start_time(int(pid_text)) != started
