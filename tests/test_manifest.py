"""The manifest must declare every command, shortcut, event and scope the code uses."""

import re
from pathlib import Path

import yaml

from bot.blocks import ACTION_IDS
from handlers.shortcuts import CALLBACK_ID

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text())
CODE = "\n".join(p.read_text() for p in (ROOT / "handlers").glob("*.py"))
CODE += "\n".join(p.read_text() for p in (ROOT / "bot").glob("*.py"))


def test_every_slash_command_in_the_code_is_declared():
    used = set(re.findall(r'app\.command\("(/[a-z-]+)"\)', CODE))
    declared = {c["command"] for c in MANIFEST["features"]["slash_commands"]}
    assert used == declared == {"/stuck"}


def test_every_event_listened_to_is_subscribed():
    used = set(re.findall(r'app\.event\("([a-z_]+)"\)', CODE))
    declared = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    assert used == {"app_mention", "message", "app_home_opened"}
    assert {"app_mention", "app_home_opened", "message.im"} == declared


def test_the_message_shortcut_is_declared():
    shortcuts = MANIFEST["features"]["shortcuts"]
    assert [(s["callback_id"], s["type"]) for s in shortcuts] == [(CALLBACK_ID, "message")]


def test_scopes_cover_every_web_api_method_used():
    needs = {
        "chat_postMessage": "chat:write",
        "chat_update": "chat:write",
        "chat_delete": "chat:write",
        "chat_postEphemeral": "chat:write",
        "usergroups_users_list": "usergroups:read",
        "users_info": "users:read",
        "app.command": "commands",
        "app.shortcut": "commands",
        '"app_mention"': "app_mentions:read",
        '"message"': "im:history",
    }
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    for usage, scope in needs.items():
        if usage in CODE:
            assert scope in scopes, f"{usage} needs {scope}"
    assert set(
        re.findall(r"client\.((?:chat|views|usergroups|auth|conversations|users|reactions)_[a-zA-Z]+)\(", CODE)
    ) <= {
        "chat_postMessage",
        "chat_update",
        "chat_delete",
        "chat_postEphemeral",
        "views_open",
        "views_update",
        "views_publish",
        "users_info",
        "usergroups_users_list",
        "auth_test",
    }


def test_http_urls_end_in_slack_events_and_interactivity_and_home_are_on():
    urls = [c["url"] for c in MANIFEST["features"]["slash_commands"]]
    urls += [
        MANIFEST["settings"]["event_subscriptions"]["request_url"],
        MANIFEST["settings"]["interactivity"]["request_url"],
    ]
    assert all(u.endswith("/slack/events") for u in urls)
    assert MANIFEST["settings"]["interactivity"]["is_enabled"]
    assert (
        MANIFEST["features"]["app_home"]["home_tab_enabled"]
        and MANIFEST["features"]["app_home"]["messages_tab_enabled"]
    )
    assert not MANIFEST["features"]["app_home"]["messages_tab_read_only_enabled"]
    assert set(ACTION_IDS) == {"resend_invoice", "add_partial_invoice"}


def test_display_name_satisfies_the_schema():
    assert re.fullmatch(r"[\w\-.]+", MANIFEST["features"]["bot_user"]["display_name"])
    assert len(MANIFEST["display_information"]["name"]) <= 35
