"""tests/mutation/equivalent.txt stays honest without running mutmut: each line names a mutant of one of the
mutated modules, in a function or method that still exists, with a reason; equivalent.lock (written by
`bench/mutation.sh --update-lock`) fingerprints exactly the listed mutants. Whether each listed mutant still
survives, and is still the mutation that was reviewed, only a mutmut run can tell: bench/mutation.sh checks it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.mutation.survivors import LIST, LOCK, MODULES, read_list, read_lock

ROOT = Path(__file__).resolve().parents[2]
# bot.acting.xǁActorǁ_settle__mutmut_12 (a method) or bot.ledger.x__one__mutmut_3 (a module function)
NAME = re.compile(r"^(?P<module>bot\.\w+)\.x(?:ǁ(?P<cls>\w+)ǁ(?P<method>\w+)|_(?P<function>\w+))__mutmut_\d+$")


def definitions(module: str) -> set[str]:
    """`name` for module functions and `Class.name` for methods."""
    tree = ast.parse((ROOT / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8"))
    found = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.add(node.name)
        elif isinstance(node, ast.ClassDef):
            found |= {
                f"{node.name}.{n.name}" for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            }
    return found


def test_every_line_names_a_mutant_with_a_reason():
    listed = read_list()
    assert listed, f"{LIST} lists no mutant"
    for name, reason in listed.items():
        match = NAME.match(name)
        assert match, f"{name}: not a mutmut 3 mutant name"
        assert match["module"] in MODULES, f"{name}: not one of the mutated modules {MODULES}"
        assert len(reason) >= 20, f"{name}: give the reason the mutant cannot change behaviour"


def test_every_listed_mutant_is_in_code_that_still_exists():
    for name in read_list():
        match = NAME.match(name)
        assert match
        where = f"{match['cls']}.{match['method']}" if match["cls"] else match["function"]
        assert where in definitions(match["module"]), f"{name}: {match['module']} has no {where} any more"


def test_the_lock_fingerprints_exactly_the_listed_mutants():
    if not LOCK.exists():
        pytest.skip(f"{LOCK.name} not written yet: run bench/mutation.sh --update-lock after a review")
    assert set(read_lock()) == set(read_list())


def test_a_line_without_a_reason_is_refused(tmp_path):
    bad = tmp_path / "equivalent.txt"
    bad.write_text("# comment\n\nbot.money.xǁCurrencyǁplain__mutmut_9:\n", encoding="utf-8")
    with pytest.raises(ValueError, match="expected `mutant-name: reason`"):
        read_list(bad)
    bad.write_text("bot.money.xǁCurrencyǁplain__mutmut_9: a reason\nbot.money.xǁCurrencyǁplain__mutmut_9: again\n")
    with pytest.raises(ValueError, match="listed twice"):
        read_list(bad)
