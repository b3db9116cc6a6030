"""Measure what users get: answer quality on a set of questions and short conversations.

    .venv/bin/python scripts/answer_eval.py FILE [--show] [--url http://127.0.0.1:5005] [--locale uk]

FILE (YAML): ``questions:`` each ``{text, answer}`` and ``conversations:`` each ``{turns: [{text,
answer}]}``, where ``answer`` is a list of acceptable verbatim source sentences or ``not_covered``.
Without ``--url`` the script trains the model if it is out of date and starts the real action
server and Rasa server on free ports (as the tests do), then talks to them over the REST channel.

Figures (printed; ``--show`` adds every question with what it got):
- right passage in the first two quotes: % of covered questions where one of the first two answer
  quotes (in the order shown; triage quotes aside) contains an acceptable sentence;
- honest "not covered": % of uncovered questions answered with no quote and a "not covered" reply
  (payload ``coverage: not_covered``, or, before that field existed, the words "does not cover"/
  "does not mention");
- follow-up turns right: % of conversation turns after the first judged the same way;
- reply words, median and max, over every question and turn: the words of the text messages of the
  turn, triage instructions aside (the emergency and urgent replies and the check's questions).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any, Dict, List, Sequence

import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOT_COVERED_WORDS = ("does not cover", "does not mention", "doesn't cover", "not covered")
# Our own triage texts (data/content/locales.yml, crs/replies.py): not counted as answer words.
TRIAGE_STARTS = (
    "EMERGENCY:",
    "Contact your treatment team's 24-hour",
    "I understand. But what you described",
    "That was my last question.",
    "From your answers, none of the danger signs",
    "You mentioned: ",  # the urgent reply's reasons follow (crs/replies.py)
)


def norm(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').replace("•", " ")
    return " ".join(text.lower().split())


def words(text: str) -> int:
    return len(re.findall(r"\S+", text))


class Turn:
    """What one message got back: answer quotes in display order, text, coverage."""

    def __init__(self, messages: List[Dict[str, Any]]) -> None:
        self.messages = messages
        self.payloads = [m["custom"] for m in messages if isinstance(m.get("custom"), dict)]
        self.quotes: List[Dict[str, Any]] = []
        # the quotes of a triage reply (role "triage": the urgent reply's reasons): their texts are
        # triage too, also when the reply shares its payload with the answer that follows it
        triage_quotes: List[str] = []
        for payload in self.payloads:
            triage_only = payload.get("topic") is None and payload.get("triage_reply")
            for quote in payload.get("quotes") or []:
                if quote.get("role") == "triage" and quote.get("text"):
                    triage_quotes.append(norm(quote["text"]))
                if triage_only or quote.get("role") == "triage":
                    continue
                self.quotes.append(quote)
        self.texts = [m["text"] for m in messages if m.get("text")]
        # a reply's texts come before its payload: the texts of a triage reply (its payload says
        # triage_reply) are triage, however they start
        triage_texts: set = set()
        pending: List[int] = []
        for index, message in enumerate(messages):
            if message.get("text"):
                pending.append(index)
            custom = message.get("custom")
            if isinstance(custom, dict):
                answers = any(q.get("role") == "answer" for q in custom.get("quotes") or [])
                if custom.get("triage_reply") and not answers:
                    triage_texts.update(pending)
                pending = []
        self.answer_texts = [
            m["text"]
            for index, m in enumerate(messages)
            if m.get("text")
            and index not in triage_texts
            and not m["text"].startswith(TRIAGE_STARTS)
            and not _is_triage_text(m["text"])
            and not any(quote in norm(m["text"]) for quote in triage_quotes)
        ]
        coverage = [p.get("coverage") for p in self.payloads if p.get("coverage")]
        self.coverage = coverage[-1] if coverage else None

    @property
    def words(self) -> int:
        return sum(words(text) for text in self.answer_texts)

    def right(self, answer: Any) -> bool:
        if answer == "not_covered":
            return self.honest_not_covered()
        wanted = [norm(sentence) for sentence in answer]
        return any(any(w in norm(quote["text"]) for w in wanted) for quote in self.quotes[:2])

    def honest_not_covered(self) -> bool:
        if self.quotes:
            return False
        if self.coverage is not None:
            return self.coverage == "not_covered"
        return any(phrase in norm(" ".join(self.texts)) for phrase in NOT_COVERED_WORDS)

    def summary(self) -> str:
        first = [q["text"][:90].replace("\n", " / ") for q in self.quotes[:2]]
        topics = [p.get("topic") for p in self.payloads]
        return f"topics={topics} coverage={self.coverage} words={self.words} quotes={first}"


def _is_triage_text(text: str) -> bool:
    # the check's questions and reminders (utter_ask_check_*) are triage too
    return text.rstrip().endswith("(YES / NO / NOT SURE)") or text.startswith("Please answer YES, NO or NOT SURE")


class Client:
    def __init__(self, url: str, locale: str) -> None:
        self.webhook = f"{url.rstrip('/')}/webhooks/rest/webhook"
        self.locale = locale

    def say(self, sender: str, text: str) -> Turn:
        body = {"sender": sender, "message": text, "metadata": {"locale": self.locale}}
        response = requests.post(self.webhook, json=body, timeout=120)
        if response.status_code >= 400:  # say why (the REST channel answers with a JSON error)
            raise RuntimeError(f"REST {response.status_code}: {response.text[:300]}")
        return Turn(response.json())


def evaluate(client: Client, data: Dict[str, Any], show: bool) -> Dict[str, Any]:
    covered: List[bool] = []
    uncovered: List[bool] = []
    follow_ups: List[bool] = []
    all_turns: List[bool] = []
    reply_words: List[int] = []
    for item in data.get("questions") or []:
        turn = client.say(f"eval-{uuid.uuid4().hex[:12]}x", item["text"])
        ok = turn.right(item["answer"])
        (uncovered if item["answer"] == "not_covered" else covered).append(ok)
        reply_words.append(turn.words)
        if show:
            print(f"{'OK ' if ok else 'BAD'} Q {item['text']!r}\n     {turn.summary()}")
    for conversation in data.get("conversations") or []:
        sender = f"eval-{uuid.uuid4().hex[:12]}x"
        for index, item in enumerate(conversation["turns"]):
            turn = client.say(sender, item["text"])
            reply_words.append(turn.words)
            if "answer" not in item:
                continue
            ok = turn.right(item["answer"])
            all_turns.append(ok)
            if index:
                follow_ups.append(ok)
            if show:
                print(f"{'OK ' if ok else 'BAD'} T{index} {item['text']!r}\n     {turn.summary()}")
    return {
        "covered": covered,
        "uncovered": uncovered,
        "follow_ups": follow_ups,
        "all_turns": all_turns,
        "words": reply_words,
    }


def percent(values: Sequence[bool]) -> str:
    if not values:
        return "n/a"
    return f"{100 * sum(values) / len(values):.0f}% ({sum(values)}/{len(values)})"


def report(figures: Dict[str, Any]) -> str:
    counts = figures["words"] or [0]
    return "\n".join(
        [
            f"right passage in the first two quotes: {percent(figures['covered'])}",
            f"honest 'not covered':                  {percent(figures['uncovered'])}",
            f"follow-up turns right:                 {percent(figures['follow_ups'])}",
            f"conversation turns right (all):        {percent(figures['all_turns'])}",
            f"reply words (triage aside):            median {statistics.median(counts):.0f}, max {max(counts)}",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--show", action="store_true", help="print every question with what it got")
    parser.add_argument("--url", help="a running Rasa server (default: start the real servers)")
    parser.add_argument("--locale", default="uk")
    args = parser.parse_args(argv)
    data = yaml.safe_load(args.file.read_text(encoding="utf-8"))
    if args.url:
        print(report(evaluate(Client(args.url, args.locale), data, args.show)))
        return 0
    from tests.conftest import ENV, MODEL, Servers

    trained = subprocess.run(
        ["make", "--no-print-directory", "train"], cwd=ROOT, env=ENV, capture_output=True, text=True
    )
    if trained.returncode != 0 or not MODEL.is_file():
        print(trained.stdout[-3000:], trained.stderr[-3000:], file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as workdir:
        servers = Servers(Path(workdir))
        try:
            servers.start_actions()
            servers.start_rasa()
            figures = evaluate(Client(servers.rasa_url, args.locale), data, args.show)
        finally:
            servers.stop()
    print(report(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
