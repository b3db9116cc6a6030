"""components/speed.py (issue 13): Rasa's per-turn costs removed without changing results. The
graphs run without dask give what dask gives on the trained model; the RulePolicy's bounded and
remembered rule matching gives Rasa's keys; Rasa's debug-log copies are made only while debug
logging is on, and the modules patched use ``copy.deepcopy`` for nothing else."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import logging
import random
import re

import pytest
import structlog
from rasa.core.policies.rule_policy import RulePolicy

from components import speed


def test_the_patched_modules_deepcopy_only_for_debug_log_lines():
    for name in speed.DEBUG_COPY_MODULES:
        tree = ast.parse(inspect.getsource(importlib.import_module(name)))
        inside_debug = set()
        for node in ast.walk(tree):
            func = getattr(node, "func", None)
            if isinstance(node, ast.Call) and isinstance(func, ast.Attribute) and func.attr == "debug":
                if isinstance(func.value, ast.Name) and func.value.id == "structlogger":
                    inside_debug |= {id(inner) for inner in ast.walk(node)}
        copies = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr == "deepcopy" and getattr(node.value, "id", "") == "copy"
        ]
        assert copies, name
        assert all(id(node) in inside_debug for node in copies), name


def test_debug_copies_are_made_only_while_debug_logging_is_on():
    from rasa.utils.log_utils import configure_structlog

    shim = speed._DebugLogCopy(__import__("copy"))
    value = {"events": [{"a": [1, 2]}]}
    try:
        configure_structlog(logging.INFO)
        assert not speed.structlog_debug_enabled()
        assert shim.deepcopy(value) is value
        configure_structlog(logging.DEBUG)
        assert speed.structlog_debug_enabled()
        copied = shim.deepcopy(value)
        assert copied == value and copied is not value and copied["events"][0] is not value["events"][0]
    finally:
        structlog.reset_defaults()


def rasas_possible_keys(policy, lookup, states):
    """Rasa 3.6.21's ``RulePolicy._get_possible_keys``, verbatim."""
    possible_keys = set(lookup.keys())
    for i, state in enumerate(reversed(states)):
        possible_keys = set(filter(lambda _key: policy._is_rule_applicable(_key, i, state), possible_keys))
    return possible_keys


@pytest.fixture(scope="module")
def agent():
    from rasa.core.agent import Agent

    from tests.conftest import ensure_model

    return Agent.load(str(ensure_model()))


@pytest.mark.rasa
def test_rule_matching_gives_rasas_keys(agent):
    speed.install()
    policy = next(
        node._component
        for node in agent.processor.graph_runner._instantiated_nodes.values()
        if isinstance(getattr(node, "_component", None), RulePolicy)
    )
    assert getattr(RulePolicy._get_possible_keys, "_crs_bounded", False)
    rng = random.Random(13)
    for name in ("rules", "rules_for_loop_unhappy_path"):
        lookup = policy.lookup[name]
        keys = list(lookup)
        states = [state for key in keys for state in json.loads(key)]
        matched = 0
        for _ in range(600):
            history = [rng.choice(states) for _ in range(rng.randint(0, 12))]
            if rng.random() < 0.5:
                history += json.loads(rng.choice(keys))  # ends as a rule does
            for _ in range(2):  # computed, then remembered
                got = policy._get_possible_keys(lookup, history)
                assert got == rasas_possible_keys(policy, lookup, history)
            matched += bool(got)
        assert matched > 100  # the comparison covers real matches


@pytest.mark.rasa
async def test_graphs_without_dask_give_what_dask_gives(agent):
    from rasa.core.channels.channel import UserMessage

    speed.install()
    assert speed.DASK_RUN is not None
    runner = agent.processor.graph_runner
    for text in ("what is CRS?", "my dad has a temperature of 39.6 and he is confused", "no", "hello", ""):
        message = UserMessage(text, sender_id="speed-test")
        ours = runner.run(inputs={"__message__": [message]}, targets=["run_RegexMessageHandler"])
        theirs = speed.DASK_RUN(runner, inputs={"__message__": [message]}, targets=["run_RegexMessageHandler"])
        assert [m.as_dict() for m in ours["run_RegexMessageHandler"]] == [
            m.as_dict() for m in theirs["run_RegexMessageHandler"]
        ]
        tracker = await agent.processor.get_tracker("speed-test")
        await agent.processor._handle_message_with_tracker(message, tracker)
        targets = agent.processor.model_metadata.core_target
        ours = runner.run(inputs={"__tracker__": tracker}, targets=[targets])
        theirs = speed.DASK_RUN(runner, inputs={"__tracker__": tracker}, targets=[targets])
        assert ours[targets].max_confidence_index == theirs[targets].max_confidence_index
        assert ours[targets].policy_name == theirs[targets].policy_name
        assert ours[targets].probabilities == theirs[targets].probabilities


@pytest.mark.rasa
async def test_actions_without_a_tracker_copy_give_the_same_conversation(agent, monkeypatch):
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.processor import MessageProcessor

    speed.install()
    assert speed.RASA_RUN_ACTION is not None
    script = [
        "hello",
        "what is CRS?",
        "he's just not right today",
        "no",
        "not sure",
        "I have a headache and I feel sick",
    ]

    async def conversation(sender):
        replies = []
        for text in script:
            output = CollectingOutputChannel()
            await agent.handle_message(UserMessage(text, output, sender))
            replies.append([(m.get("text"), json.dumps(m.get("custom"), sort_keys=True)) for m in output.messages])
        tracker = await agent.processor.get_tracker(sender)
        events = [{k: v for k, v in e.as_dict().items() if k not in ("timestamp", "metadata")} for e in tracker.events]
        return replies, events

    ours = await conversation("speed-copy-a")
    monkeypatch.setattr(MessageProcessor, "_run_action", speed.RASA_RUN_ACTION)
    theirs = await conversation("speed-copy-b")
    assert ours[0] == theirs[0]

    def strip(events):  # what differs between two runs: the conversation id and message ids
        text = json.dumps(events).replace("speed-copy-a", "x").replace("speed-copy-b", "x")
        return re.sub(r'"message_id": "[0-9a-f]+"', '"message_id": ""', text)

    assert strip(ours[1]) == strip(theirs[1])
    assert any(e.get("name") == "action_answer_topic" for e in ours[1])  # a custom action ran (and failed: no server)


def test_startup_objects_are_frozen_out_of_later_collections():
    import gc

    assert speed.FREEZE_AFTER_SECONDS > 0
    try:
        speed.freeze_startup_objects()
        frozen = gc.get_freeze_count()
        assert frozen > 1000  # what exists now: modules, classes, this test session's objects
        made_later = [[] for _ in range(10)]
        gc.collect()
        assert gc.get_freeze_count() == frozen  # later objects are not frozen
        assert made_later
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("first_error", ["disconnected", "write"])
async def test_a_kept_connection_closed_under_the_request_is_sent_again(monkeypatch, first_error):
    """The cluster fault test once lost an answer: nginx, reloaded as a replica left the rotation,
    closed the kept connection as the request was written ("Can not write request body")."""
    import aiohttp
    from rasa.utils.endpoints import EndpointConfig

    from components import speed

    calls = []

    class Response:
        status = 200

        async def json(self):
            return {"events": [], "responses": [{"text": "answered"}]}

    class Attempt:
        async def __aenter__(self):
            calls.append(1)
            if len(calls) == 1:
                if first_error == "disconnected":
                    raise aiohttp.ServerDisconnectedError()
                raise aiohttp.ClientOSError(32, "Can not write request body for http://127.0.0.1:1/webhook")
            return Response()

        async def __aexit__(self, *args):
            return False

    class Session:
        closed = False

        def request(self, *args, **kwargs):
            return Attempt()

    monkeypatch.setattr(speed, "_session_for", lambda endpoint: Session())
    result = await speed._request(EndpointConfig("http://127.0.0.1:1/webhook"), json={"next_action": "x"})
    assert result == {"events": [], "responses": [{"text": "answered"}]} and len(calls) == 2


def _states_text(states):
    """States as compared: equal, and with their keys in the same order (rule keys are JSON)."""
    return json.dumps(states), states


@pytest.mark.rasa
async def test_states_extended_give_rasas_states_on_every_call(agent, monkeypatch):
    """Every call of ``states_for_tracker_history`` in real conversations (answers, the yes/no
    check, triage, a restart) gives what Rasa's own method gives for the same tracker."""
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.shared.core.domain import Domain

    speed.install()
    assert speed.RASA_STATES is not None and getattr(Domain.states_for_tracker_history, "_crs_extended", False)
    ours = Domain.states_for_tracker_history
    calls = {"checked": 0, "extended": 0}

    def checked(self, tracker, omit_unset_slots=False, ignore_rule_only_turns=False, rule_only_data=None):
        had_memo = speed.STATES_MEMO in tracker.__dict__
        got = ours(self, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        expected = speed.RASA_STATES(self, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        assert _states_text(got) == _states_text(expected)
        calls["checked"] += 1
        calls["extended"] += had_memo
        return got

    monkeypatch.setattr(Domain, "states_for_tracker_history", checked)
    script = [
        "hello",
        "what is CRS?",
        "he's just not right today",
        "no",
        "not sure",
        "yes",
        "I have a headache and I feel sick",
        "my dad has a temperature of 39.6 and he is confused",
        "ok",
        "/restart",
        "she can't breathe properly",
        "thanks",
    ]
    for text in script:
        await agent.handle_message(UserMessage(text, CollectingOutputChannel(), "speed-states"))
    assert calls["checked"] > 2 * len(script) and calls["extended"] > len(script)


@pytest.mark.rasa
async def test_states_extended_through_changes_in_place_and_rewinds(agent):
    """Event by event, a conversation with the events that change an earlier user message in
    place (featurisation, added entities) and those that rewind it: Rasa's states after each."""
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionReverted,
        DefinePrevUserUtteredFeaturization,
        EntitiesAdded,
        Restarted,
        SessionStarted,
        SlotSet,
        UserUtteranceReverted,
        UserUttered,
    )
    from rasa.shared.core.trackers import DialogueStateTracker

    speed.install()
    for text in ("what is CRS?", "he's just not right today", "no", "I feel sick"):
        await agent.handle_message(UserMessage(text, CollectingOutputChannel(), "speed-states-2"))
    recorded = list((await agent.processor.get_tracker("speed-states-2")).events)
    domain = agent.domain
    rng = random.Random(13)
    for run in range(30):
        events = [e for e in recorded]
        extra = [
            lambda: DefinePrevUserUtteredFeaturization(rng.random() < 0.5),
            lambda: EntitiesAdded([{"entity": "treatment", "value": "x", "role": "r"}]),
            lambda: UserUtteranceReverted(),
            lambda: ActionReverted(),
            lambda: SlotSet("locale", rng.choice(["uk", "us"])),
            lambda: UserUttered("again", {"name": "greet", "confidence": 1.0}),
            lambda: ActionExecuted("action_listen"),
            lambda: Restarted(),
            lambda: SessionStarted(),
        ]
        for _ in range(6):
            events.insert(rng.randint(1, len(events)), rng.choice(extra)())
        tracker = DialogueStateTracker("speed-states-3", domain.slots)
        for event in events:
            tracker.update(event)
            for omit in (False, True):
                got = domain.states_for_tracker_history(tracker, omit_unset_slots=omit)
                assert _states_text(got) == _states_text(speed.RASA_STATES(domain, tracker, omit)), run
        assert speed.STATES_MEMO in tracker.__dict__


def test_format_tracker_states_is_only_an_argument_of_a_debug_line():
    from rasa.core.policies import rule_policy
    from rasa.core.policies.policy import Policy

    speed.install()
    source = inspect.getsource(rule_policy)
    assert source.count("format_tracker_states") == 1
    assert re.search(
        r"current_states = self\.format_tracker_states\(states\)\s+structlogger\.debug\(\s*"
        r'"rule_policy\.actions\.find", current_states=copy\.deepcopy\(current_states\)\s*\)',
        source,
    )
    assert source.count("current_states") == 3  # assigned, then only the keyword and its value
    from rasa.utils.log_utils import configure_structlog

    states = [{"user": {"intent": "greet"}, "prev_action": {"action_name": "action_listen"}}]
    try:
        configure_structlog(logging.INFO)
        assert Policy.format_tracker_states(states) == ""
        configure_structlog(logging.DEBUG)
        assert Policy.format_tracker_states(states) == speed.RASA_FORMAT_STATES(states) != ""
    finally:
        structlog.reset_defaults()


def test_the_quick_check_of_action_responses_says_valid_only_for_what_the_schema_accepts():
    """Rasa validates every custom action's response against a schema whose ``oneOf`` has 24
    alternatives per event; the quick check passes only responses the schema accepts (random
    responses, valid and not), and our actions' responses (bot, slot and action events) pass it."""
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator = validators.validator_for(schema)(schema)
    quick = speed._plainly_valid_check(schema)
    names = [a["properties"]["event"]["const"] for a in schema["properties"]["events"]["items"]["oneOf"]]
    values = [None, True, False, 0, 1, 1.5, -2, "", "x", "action_listen", [], [1], {}, {"a": 1}, float("nan")]
    keys = ["event", "timestamp", "metadata", "name", "value", "policy", "confidence", "hide_rule_turn", "action_text"]
    keys += ["text", "entities", "parse_data", "data"]
    rng = random.Random(13)

    def event():
        made = {"event": rng.choice(names + ["nonsense", 3, None])} if rng.random() < 0.95 else {}
        for key in rng.sample(keys, rng.randint(0, 6)):
            made[key] = rng.choice(values + [rng.choice(names)])
        return made if rng.random() < 0.97 else rng.choice(values)

    passed = 0
    for _ in range(20000):
        response = {}
        if rng.random() < 0.9:
            response["events"] = (
                [event() for _ in range(rng.randint(0, 4))] if rng.random() < 0.95 else rng.choice(values)
            )
        if rng.random() < 0.8:
            response["responses"] = [rng.choice([{}, {"text": "x"}, "x", None]) for _ in range(rng.randint(0, 3))]
        if rng.random() < 0.02:
            response = rng.choice(values)
        if quick(response):
            passed += 1
            assert validator.is_valid(response), response
    assert passed > 2000
    ours = {
        "events": [
            {"event": "bot", "timestamp": None, "metadata": {"utter_action": "x"}, "text": "a", "data": {"custom": {}}},
            {"event": "slot", "timestamp": None, "name": "answer_failed", "value": False},
            {
                "event": "action",
                "name": "action_answer_topic",
                "policy": None,
                "confidence": None,
                "hide_rule_turn": False,
            },
        ],
        "responses": [{"text": "a", "custom": {"triage": {"level": "none"}}}],
    }
    assert quick(ours) and validator.is_valid(ours)
    assert not quick({"events": [{"event": "user", "text": "x"}]})  # the rest: the full validation


def test_event_classes_found_once_are_rasas():
    """Every event type name gives Rasa's class (remembered after the first time); a new
    subclass of Event forgets what was remembered; unknown names still go to Rasa's method."""
    from rasa.shared.core.events import Event, SlotSet
    from rasa.shared.utils.common import all_subclasses

    speed.install()
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert len(names) > 20
    for _ in range(2):  # found, then remembered
        for name in names:
            assert Event.resolve_by_type(name) is speed.RASA_RESOLVE_BY_TYPE(name)
    assert speed._EVENT_CLASSES
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no-such-event", SlotSet) is SlotSet
    with pytest.raises(ValueError):
        Event.resolve_by_type("no-such-event")

    class CrsTestEvent(Event):  # a new subclass (with a name of its own: it stays registered)
        type_name = "crs_test_event_type"

        def __eq__(self, other):
            return isinstance(other, CrsTestEvent)

        def __hash__(self):
            return 13

        def as_story_string(self):
            return None

    assert not speed._EVENT_CLASSES
    assert Event.resolve_by_type("crs_test_event_type") is CrsTestEvent
    assert Event.from_parameters({"event": "slot", "name": "x", "value": 1}) == SlotSet("x", 1)


@pytest.mark.rasa
async def test_rule_predictions_without_long_feature_keys_are_rasas(agent, monkeypatch):
    """Every RulePolicy prediction of real conversations equals Rasa's (probabilities, events,
    hidden turn), with the long feature keys not made; the shortcut is taken; training (not
    predicting) still gets Rasa's key."""
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    speed.install()
    ours_predict = RulePolicy._predict
    ours_key = RulePolicy._create_feature_key
    seen = {"predictions": 0, "shortcuts": 0}

    def counting_key(self, states):
        key = ours_key(self, states)
        seen["shortcuts"] += key == speed.LONGER_THAN_ANY_RULE
        return key

    def checked(self, tracker, domain):
        got, source = ours_predict(self, tracker, domain)
        monkeypatch.setattr(RulePolicy, "_create_feature_key", speed.RASA_FEATURE_KEY)
        try:
            expected, _ = speed.RASA_PREDICT_RULES(self, tracker, domain)
        finally:
            monkeypatch.setattr(RulePolicy, "_create_feature_key", counting_key)
        assert got == expected and got.hide_rule_turn == expected.hide_rule_turn
        seen["predictions"] += 1
        return got, source

    monkeypatch.setattr(RulePolicy, "_create_feature_key", counting_key)
    monkeypatch.setattr(RulePolicy, "_predict", checked)
    script = ["hello", "what is CRS?", "he's just not right today", "no", "not sure", "thanks", "what causes CRS?"]
    script += ["she can't breathe properly", "ok", "bye"]
    for text in script:
        await agent.handle_message(UserMessage(text, CollectingOutputChannel(), "speed-feature-key"))
    assert seen["predictions"] > len(script) and seen["shortcuts"] > len(script) // 2
    policy = next(
        node._component
        for node in agent.processor.graph_runner._instantiated_nodes.values()
        if isinstance(getattr(node, "_component", None), RulePolicy)
    )
    long_states = [{"prev_action": {"action_name": "action_listen"}}] * 20
    assert ours_key(policy, long_states) == speed.RASA_FEATURE_KEY(policy, long_states)  # not predicting


@pytest.mark.rasa
def test_empty_domain_compared_as_rasa_does(agent):
    from rasa.shared.core.domain import Domain

    speed.install()
    for domain in (agent.domain, Domain.empty(), Domain.from_dict({"intents": ["greet"]})):
        assert domain.is_empty() == speed.RASA_IS_EMPTY(domain)
    assert Domain.empty().is_empty() and not agent.domain.is_empty()
