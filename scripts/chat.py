"""Talk to the running assistant in a terminal (make shell), over its REST channel.

Buttons are shown as numbered choices; type the number to choose one. Ctrl-D or "/quit" ends.
Settings: RASA_PORT (5005), HOST (127.0.0.1), CRS_LOCALE (uk or us, sent as message metadata).
"""

import json
import os
import sys
import urllib.error
import urllib.request
import uuid


def send(url: str, sender: str, text: str, locale: str) -> list:
    body = json.dumps({"sender": sender, "message": text, "metadata": {"locale": locale}}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read().decode() or "[]")


def main() -> int:
    url = f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('RASA_PORT', '5005')}/webhooks/rest/webhook"
    locale = os.environ.get("CRS_LOCALE", "uk")
    sender = f"shell-{uuid.uuid4().hex[:8]}"
    print(f"Talking to {url} (Ctrl-D to stop). In an emergency call 999 (UK) or 911 (US).")
    buttons: list = []
    while True:
        try:
            text = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not text:
            continue
        if text == "/quit":
            return 0
        if text.isdigit() and 0 < int(text) <= len(buttons):
            text = buttons[int(text) - 1]["payload"]
        try:
            messages = send(url, sender, text, locale)
        except (urllib.error.URLError, OSError) as error:
            print(f"bot> (cannot reach the assistant at {url}: {error}; is `make run` running?)")
            continue
        buttons = []
        for message in messages:
            if message.get("text"):
                print("bot>", message["text"])
            for button in message.get("buttons") or []:
                buttons.append(button)
                print(f"     {len(buttons)}. {button['title']}")


if __name__ == "__main__":
    sys.exit(main())
