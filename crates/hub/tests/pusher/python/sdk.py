"""The Python `pusher` server SDK (PyPI) against ictdesk's Pusher HTTP API.

Run by tests/python-sdk.test.js with HUB_HOST, HUB_PORT, APP_ID, APP_KEY, APP_SECRET;
each command prints one JSON line for the Node test to check.
"""

import json
import os
import sys

import pusher
from pusher.errors import PusherBadAuth


def client(secret=None):
    return pusher.Pusher(
        app_id=os.environ["APP_ID"],
        key=os.environ["APP_KEY"],
        secret=secret or os.environ["APP_SECRET"],
        host=os.environ["HUB_HOST"],
        port=int(os.environ["HUB_PORT"]),
        ssl=False,
    )


def main(command, *args):
    if command == "trigger":
        channel, event, data = args
        result = client().trigger([channel], event, json.loads(data))
    elif command == "trigger_batch":
        result = client().trigger_batch(json.loads(args[0]))
    elif command == "channels_info":
        result = client().channels_info(prefix_filter=args[0] if args else None)
    elif command == "channel_info":
        result = client().channel_info(args[0], ["subscription_count"])
    elif command == "users_info":
        result = client().users_info(args[0])
    elif command == "authenticate":
        channel, socket_id = args[:2]
        custom = json.loads(args[2]) if len(args) > 2 else None
        result = client().authenticate(channel=channel, socket_id=socket_id, custom_data=custom)
    elif command == "wrong_secret":
        try:
            client(secret="not-the-secret").trigger(["orders"], "x", {})
            result = {"refused": False}
        except PusherBadAuth as error:
            result = {"refused": True, "message": str(error)}
    else:
        raise SystemExit(f"unknown command {command}")
    print(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:])
