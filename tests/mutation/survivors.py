"""Checks a finished `mutmut run` against tests/mutation/equivalent.txt (bench/mutation.sh runs it).

Exit 1 when a mutant survived (or no test reached it) that the list does not name, when a listed mutant
no longer survives (remove it), or when a listed mutant is not the mutation that was reviewed: mutmut
numbers mutants per function, so editing a function can hand a listed name to a different mutation.
equivalent.lock keeps a fingerprint of each listed mutant's changed lines; `--update-lock` rewrites it
after a review. Timeouts count as killed (the mutant made a test hang).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
LIST = HERE / "equivalent.txt"
LOCK = HERE / "equivalent.lock"
NOT_KILLED = {"survived", "no tests", "suspicious", "not checked", "skipped"}
MODULES = ("bot.money", "bot.invoices", "bot.diagnosis", "bot.acting", "bot.ledger")


def read_list(path: Path = LIST) -> dict[str, str]:
    """`mutant-name: reason` per line; blank lines and `#` comments are skipped."""
    entries: dict[str, str] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, reason = line.partition(": ")
        if not sep or not reason.strip() or not name or any(c.isspace() for c in name):
            raise ValueError(f"{path.name}:{n}: expected `mutant-name: reason`, got {line!r}")
        if name in entries:
            raise ValueError(f"{path.name}:{n}: {name} is listed twice")
        entries[name] = reason.strip()
    return entries


def read_lock(path: Path = LOCK) -> dict[str, str]:
    if not path.exists():
        return {}
    return dict(line.split(" ", 1) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def statuses(mutmut: str) -> dict[str, str]:
    out = subprocess.run([mutmut, "results", "--all", "true"], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep:
            found[name] = status
    return found


def diff(mutmut: str, name: str) -> str:
    """mutmut's diff of one mutant: in this process when mutmut is importable (fast), else `mutmut show`."""
    try:
        from mutmut.mutation.diff_apply import get_diff_for_mutant
    except ImportError:
        return subprocess.run([mutmut, "show", name], capture_output=True, text=True, check=True).stdout
    return str(get_diff_for_mutant(name))


def fingerprint(mutmut: str, name: str) -> str:
    """The lines the mutation changes, not where they are: edits elsewhere in the function keep it."""
    changed = [
        line[0] + line[1:].strip()
        for line in diff(mutmut, name).splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    return hashlib.sha256("\n".join(changed).encode()).hexdigest()[:16]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutmut", default="mutmut")
    parser.add_argument("--update-lock", action="store_true")
    args = parser.parse_args()
    os.chdir(HERE.parents[1])  # mutmut reads pyproject.toml and mutants/ from the repository root

    status = statuses(args.mutmut)
    listed = read_list()
    per_module: dict[str, Counter[str]] = {m: Counter() for m in MODULES}
    for name, state in status.items():
        module = next((m for m in MODULES if name.startswith(m + ".")), None)
        if module:
            per_module[module]["killed" if state in ("killed", "timeout") else "not killed"] += 1
    print(f"{'module':<14} {'mutants':>7} {'killed':>7} {'survived':>8} {'equivalent':>10}")
    for module, counts in per_module.items():
        equivalent = sum(1 for n in listed if n.startswith(module + ".") and status.get(n) in NOT_KILLED)
        total = counts["killed"] + counts["not killed"]
        print(f"{module:<14} {total:>7} {counts['killed']:>7} {counts['not killed']:>8} {equivalent:>10}")

    unexpected = sorted(n for n, s in status.items() if s in NOT_KILLED and n not in listed)
    stale = sorted(n for n in listed if status.get(n) not in NOT_KILLED)
    survivors = sorted(n for n in listed if status.get(n) in NOT_KILLED)
    prints = {name: fingerprint(args.mutmut, name) for name in survivors}
    if args.update_lock:
        LOCK.write_text("".join(f"{n} {prints[n]}\n" for n in survivors), encoding="utf-8")
        print(f"wrote {len(survivors)} fingerprints to {LOCK}")
    lock = read_lock()
    changed = sorted(n for n in survivors if lock.get(n) != prints[n])

    for title, names in (
        ("surviving mutants not listed as equivalent (kill each with a test, or list it with a reason)", unexpected),
        ("listed as equivalent but no longer surviving (remove them from equivalent.txt)", stale),
        ("listed mutants that changed since the review (check them, then run with --update-lock)", changed),
    ):
        if names:
            print(f"\n{len(names)} {title}:")
            for name in names:
                print(f"  {name} ({status.get(name, 'gone')})")
    if unexpected or stale or changed:
        print("\nFAILED: see `mutmut show NAME` for each mutant above.")
        return 1
    print(f"\nOK: every mutant is killed or one of the {len(survivors)} listed equivalent mutants.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
