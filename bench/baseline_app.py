"""The bar to beat: a plain Bolt app as Slack's starter template suggests.

Sync `App` with its defaults and the built-in server; ack, then GET the order from VTEX, then respond.
The only change from the template is where its Slack and VTEX calls go (the bench's stand-ins).
"""

import json
import os
import urllib.request

from slack_bolt import App
from slack_sdk import WebClient

VTEX = os.environ["VTEX_BASE_URL"]
app = App(
    signing_secret=os.environ["SLACK_SIGNING_SECRET"],
    client=WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
)


@app.command("/stuck")
def stuck(ack, command, respond):
    ack(f"Looking up {command['text']}...")
    with urllib.request.urlopen(f"{VTEX}/api/oms/pvt/orders/{command['text'].strip()}", timeout=10) as response:
        order = json.loads(response.read())
    respond(response_type="in_channel", text=f"Order {order['orderId']} is in status {order['status']}.")


if __name__ == "__main__":
    app.start(port=int(os.environ.get("PORT", 3000)), path="/slack/events")
