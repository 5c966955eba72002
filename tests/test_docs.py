"""The README must document every command and every setting, and start with the two set-up commands."""

import re
from pathlib import Path

from bot.cli import build_parser
from bot.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_readme_starts_with_exactly_two_setup_commands():
    first_block = re.search(r"```sh\n(.*?)```", README, re.S).group(1).strip().splitlines()
    assert README.index("```sh") < 20
    assert len(first_block) == 2
    assert first_block[1].endswith(".venv/bin/pytest")


def test_every_command_is_documented():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, command in sub.choices.items():
        assert f"`unstuck {name}" in README, f"unstuck {name} is not in the README"
        for action in command._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    assert flag in README, f"unstuck {name} {flag} is not in the README"
            if action.choices and action.dest == "task":
                for task in action.choices:
                    assert task == "list" or f"`unstuck {name} {task}`" in README


def test_every_setting_is_documented():
    for name in Settings.model_fields:
        assert name.upper() in README, f"{name.upper()} is not in the README's configuration table"
