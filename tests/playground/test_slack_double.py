"""The Slack stand-in's modal stacks, ephemeral messages and threads behave as Slack's do for the person."""

import json

from bot.doubles.slack import BOT_USER, SlackDouble, SlackDriver

USER, OTHER, CHANNEL = "UOPS00001", "UVIEW0001", "C0SUPPORT"
TOKEN = {"authorization": "Bearer xoxb-test", "content-type": "application/json"}


def api(slack, method, **body):
    status, _, out = slack.handle("POST", f"/api/{method}", TOKEN, json.dumps(body).encode())
    assert status == 200
    return json.loads(out)


def respond(slack, url, **body):
    return slack.handle("POST", url[len(slack.url) :], {"content-type": "application/json"}, json.dumps(body).encode())


def open_stack(slack, *views):
    """A modal of `views`, bottom first, as views.open and then pushes leave it."""
    for view in views:
        opened = api(slack, "views.open", trigger_id=slack.new_trigger(USER), view=view)
        assert opened["ok"]
    return [v["id"] for v in (slack.views[i] for i in slack.stacks[USER])]


def modal(title, **extra):
    return {"type": "modal", "title": {"type": "plain_text", "text": title}, "blocks": [], **extra}


def test_the_close_button_takes_the_top_view_off_and_the_corner_x_closes_the_modal():
    slack = SlackDouble()
    driver = SlackDriver(slack, "http://127.0.0.1:9", "secret")
    form, _ = open_stack(slack, modal("Form"), modal("Review"))
    driver.close_modal(USER)  # "Back" on the pushed view
    assert slack.top_view(USER)["id"] == form
    driver.close_modal(USER)  # "Cancel" on the only view
    assert slack.top_view(USER) is None

    open_stack(slack, modal("Form"), modal("Review"))
    driver.close_modal(USER, clear=True)  # the ×
    assert slack.top_view(USER) is None

    open_stack(slack, modal("Form"), modal("Review", clear_on_close=True))
    driver.close_modal(USER)  # a view that asks for it: its close button closes everything
    assert slack.top_view(USER) is None


def test_dismissing_an_ephemeral_message_removes_it_for_its_reader_only():
    slack = SlackDouble()
    slack.url = "http://slack.test"
    shared = api(slack, "chat.postMessage", channel=CHANNEL, text="for all")["ts"]
    mine = api(slack, "chat.postEphemeral", channel=CHANNEL, user=USER, text="for you")["message_ts"]
    assert not slack.dismiss(OTHER, mine) and not slack.dismiss(USER, shared)  # not theirs, not ephemeral
    url = slack.new_response_url(CHANNEL, USER, mine, ephemeral=True)
    assert slack.dismiss(USER, mine)
    assert [m.ts for m in slack.visible_to(CHANNEL, USER)] == [shared]
    # The app answering the click later finds the message gone: nothing reappears, no empty message is added.
    assert respond(slack, url, replace_original=True, text="updated")[0] == 200
    assert respond(slack, url, delete_original=True)[0] == 200
    assert [m.ts for m in slack.visible_to(CHANNEL, USER)] == [shared]


def test_an_interaction_in_a_thread_is_answered_in_that_thread():
    slack = SlackDouble()
    slack.url = "http://slack.test"
    parent = slack.post(CHANNEL, USER, "why is order 1500000000002-01 stuck?")
    url = slack.new_response_url(CHANNEL, USER, thread_ts=parent.ts)
    respond(slack, url, text="only operators may act")
    [answer] = slack.bot_messages(CHANNEL)
    assert answer.thread_ts == parent.ts and answer.ephemeral_to == USER and answer.user == BOT_USER
