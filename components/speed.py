"""Per-turn costs of Rasa 3.6 itself that the profile of issue 13 found, removed without changing
what is checked.

``install()`` is called once when the TriagePolicy is created in the Rasa server.

- Rasa validates every custom action's response against its JSON schema with
  ``jsonschema.validate``, which checks the schema itself against the meta-schema and builds a new
  validator on every call: 37% of the server's CPU under load (py-spy, `docs/performance.md`).
  The same validation is done here with one validator built once (same schema, same draft, the
  same best-match error and message).
- Rasa's processor and RulePolicy pass ``copy.deepcopy(...)`` of the turn's events, parse data and
  dialogue states as arguments to ``structlogger.debug``: the copies are made on every turn
  whether or not debug logging is on (a tenth of the server's main thread under load). In those
  modules ``copy.deepcopy`` is used for nothing else; there it now copies only while structlog's
  debug level is enabled (``rasa run --debug``), so the debug log still gets its snapshots.
- Rasa runs the parse and the prediction graphs through dask's synchronous scheduler, which
  builds, orders and walks a task graph on every call (about a fifth of the graph's time). The
  graphs here are small chains run in one thread: ``SequentialGraphRunner.run`` evaluates the
  same minimal graph depth-first, each node once, with the same inputs, results and errors.
- The RulePolicy matches its rules against every state of the conversation, newest first
  (``_get_possible_keys``), although a rule only looks as far back as it is long: past the longest
  rule every rule matches. The same match stops there (same keys for any conversation).
- Rasa's ``EndpointConfig.request`` (the call to the action server) makes a new HTTP client
  session, and so a new TCP connection, for every request. One session per event loop is kept
  instead, with idle connections dropped after ``KEEPALIVE_SECONDS`` (below the action server's
  own keep-alive of 5 s, so a connection the server is closing is not reused); a request on a
  kept connection that the server closed meanwhile is sent once more on a new one. Same
  headers, authentication, timeouts, errors and JSON handling.
- Before running an action Rasa copies the whole tracker (replaying every event) so that it can
  drop the policy's events if the action rejects them. When the prediction carries no events and
  the action only reads the tracker (an utterance, ``action_listen``, a custom action on the
  action server, whose changes come back as events), the copy would equal the tracker and is not
  made. Forms and every other action get their copy as before.
- The server's event loop shares the GIL with the tracker store's writer thread and the helpline
  follower: with Python's default switch interval (5 ms) the loop gave it up four times as often,
  for the same work. ``CRS_GIL_SWITCH_SECONDS`` (default 0.02) lengthens the slices: about 8%
  more turns per second under load in an A/B run of the same build (docs/performance.md); the
  threads' own work is unchanged, they wait at most that long for their turn.
- Python's full garbage collection walked every object of the server (TensorFlow, spaCy, the
  models: millions), 270 to 400 ms with the server stopped, now and then under load: the
  slowest turns. ``freeze_startup_objects`` (a few seconds after the server starts, from the
  REST channel) collects once and moves what start-up made into the permanent generation, so
  later collections walk only what the conversations made.

Part D (issue 13, docs/performance.md), each tested against Rasa's own function:

- the RulePolicy's dialogue states kept on the tracker and extended by the events added since,
  instead of a replay of the whole conversation three to five times a turn
  (``_states_extended_not_recomputed``); ``format_tracker_states`` only for debug lines;
- a quick check before the full JSON-schema validation of action responses;
- event classes found once per type name (``Event.resolve_by_type``);
- no JSON key of all the states, while predicting, when it is longer than every key it is
  compared with (``_no_feature_key_longer_than_the_rules``);
- the empty domain that ``Domain.is_empty`` compares with made once.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Set

logger = logging.getLogger(__name__)

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    _cache_action_response_validator()
    _copy_for_debug_log_only()
    _run_graphs_without_dask()
    _match_rules_only_as_far_back_as_they_reach()
    _keep_http_sessions()
    _no_tracker_copy_for_reading_actions()
    _longer_gil_slices()
    _states_extended_not_recomputed()
    _format_states_for_debug_log_only()
    _event_classes_found_once()
    _no_feature_key_longer_than_the_rules()
    _empty_domain_made_once()


def _cache_action_response_validator() -> None:
    from jsonschema import ValidationError, exceptions, validators
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)

    certainly_valid = _plainly_valid_check(schema)

    def _validate_action_result(self: Any, result: Dict[str, Any]) -> bool:
        if certainly_valid(result):
            return True
        error = exceptions.best_match(validator.iter_errors(result))
        if error is None:
            return True
        assert isinstance(error, ValidationError)
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _plainly_valid_check(schema: Dict[str, Any]) -> Any:
    """A quick check that says True only for action responses the schema certainly accepts:
    a dict whose ``events`` (if any) are dicts with a string ``event``, a number or null
    ``timestamp``, an object or null ``metadata``, and of a type whose alternative of the
    schema's ``oneOf`` asks nothing more than its name, or is the ``slot`` or ``action``
    alternative (checked here); ``responses`` (if any) a list of dicts. Every other response
    (a ``user`` or ``entities`` event, anything unexpected) goes to the full validation, which
    also gives the errors. The schema validates each event against all 24 alternatives of its
    ``oneOf``: most of a custom action's validation time."""
    event_schema = schema["properties"]["events"]["items"]
    expected_top = {
        "type": "object",
        "properties": {
            "events": {"type": "array", "items": event_schema},
            "responses": {"type": "array", "items": {"type": "object"}},
        },
    }
    expected_event = {
        "event": {"type": "string"},
        "timestamp": {"type": ["number", "null"]},
        "metadata": {"type": ["object", "null"]},
    }
    if (
        schema != expected_top
        or event_schema.get("properties") != expected_event
        or event_schema.get("required") != ["event"]
    ):
        return lambda result: False  # another schema: always the full validation
    if set(event_schema) != {"type", "properties", "required", "oneOf"} or event_schema["type"] != "object":
        return lambda result: False
    only_named = set()
    slot = action = None
    for alternative in event_schema["oneOf"]:
        name = alternative.get("properties", {}).get("event", {}).get("const")
        if alternative == {"properties": {"event": {"const": name}}}:
            only_named.add(name)
        elif name == "slot" and alternative == {
            "properties": {"event": {"const": "slot"}, "name": {"type": "string"}, "value": {}},
            "required": ["name", "value"],
        }:
            slot = name
        elif name == "action" and alternative == {
            "properties": {
                "event": {"const": "action"},
                "policy": {"type": ["string", "null"]},
                "confidence": {"type": ["number", "null"]},
                "name": {"type": ["string", "null"]},
                "hide_rule_turn": {"type": "boolean"},
                "action_text": {"type": ["string", "null"]},
            }
        }:
            action = name
    names = [a.get("properties", {}).get("event", {}).get("const") for a in event_schema["oneOf"]]
    if len(names) != len(set(names)) or None in names:
        return lambda result: False  # each alternative must name one event type of its own

    def optional_string(event: Dict[str, Any], key: str) -> bool:
        return key not in event or event[key] is None or isinstance(event[key], str)

    def event_ok(event: Any) -> bool:
        if not isinstance(event, dict):
            return False
        kind = event.get("event")
        if not isinstance(kind, str):
            return False
        if "timestamp" in event and not (event["timestamp"] is None or _is_number(event["timestamp"])):
            return False
        if "metadata" in event and not (event["metadata"] is None or isinstance(event["metadata"], dict)):
            return False
        if kind in only_named:
            return True
        if kind == slot:
            return "name" in event and "value" in event and isinstance(event["name"], str)
        if kind == action:
            return (
                optional_string(event, "policy")
                and optional_string(event, "name")
                and optional_string(event, "action_text")
                and ("confidence" not in event or event["confidence"] is None or _is_number(event["confidence"]))
                and ("hide_rule_turn" not in event or isinstance(event["hide_rule_turn"], bool))
            )
        return False

    def certainly_valid(result: Any) -> bool:
        if not isinstance(result, dict):
            return False
        events = result.get("events", [])
        responses = result.get("responses", [])
        return (
            isinstance(events, list)
            and isinstance(responses, list)
            and all(isinstance(r, dict) for r in responses)
            and all(event_ok(e) for e in events)
        )

    return certainly_valid


def structlog_debug_enabled() -> bool:
    """Whether structlog writes debug lines (Rasa configures a filtering logger by level).
    Anything other than a filtering logger with ``debug`` switched off counts as enabled."""
    import structlog

    wrapper = structlog.get_config().get("wrapper_class")
    debug = getattr(wrapper, "debug", None)
    return not (debug is not None and getattr(debug, "__name__", "") == "_nop")


class _DebugLogCopy:
    """Stands for the ``copy`` module in Rasa modules whose only ``copy.deepcopy`` calls make
    arguments for debug log lines: copies while debug logging is on, else the object itself
    (which the filtered log call drops unread)."""

    def __init__(self, module: Any) -> None:
        self._copy = module

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        if structlog_debug_enabled():
            return self._copy.deepcopy(value, memo)
        return value

    def __getattr__(self, name: str) -> Any:
        return getattr(self._copy, name)


# modules of Rasa 3.6.21 in which every ``copy.deepcopy`` is an argument of ``structlogger.debug``
# (checked by tests/components/test_speed.py against the installed source)
DEBUG_COPY_MODULES = ("rasa.core.processor", "rasa.core.policies.rule_policy", "rasa.core.policies.memoization")


def _copy_for_debug_log_only() -> None:
    import copy
    import importlib

    for name in DEBUG_COPY_MODULES:
        module = importlib.import_module(name)
        if getattr(module, "copy", None) is copy:
            module.copy = _DebugLogCopy(copy)  # type: ignore[attr-defined]


DASK_RUN: Any = None  # Rasa's own ``DaskGraphRunner.run`` (tests compare the two)


def _run_graphs_without_dask() -> None:
    global DASK_RUN
    from rasa.engine.runner.dask import DaskGraphRunner

    if DaskGraphRunner.run is not _run_sequentially:
        DASK_RUN = DaskGraphRunner.run
        DaskGraphRunner.run = _run_sequentially  # type: ignore[method-assign]


def _run_sequentially(self: Any, inputs: Dict[str, Any] | None = None, targets: Any = None) -> Dict[str, Any]:
    """``DaskGraphRunner.run`` without dask: what ``dask.get`` computes on the graph that
    ``_build_dask_graph`` and ``_add_inputs_to_graph`` make (a node gets ``(name, output)`` of
    each node it needs; a name that is neither a node nor an input is passed as the name; inputs
    are ``(name, value)`` and stand in for a node of the same name), each node run once."""
    from rasa.engine.exceptions import GraphRunError

    run_targets = list(targets) if targets else self._graph_schema.target_names
    minimal = _minimal_schemas(self).get(tuple(run_targets))
    if minimal is None:
        minimal = self._graph_schema.minimal_graph_schema(run_targets)
        _minimal_schemas(self)[tuple(run_targets)] = minimal
    nodes = minimal.nodes
    results: Dict[str, Any] = {}
    for name, value in (inputs or {}).items():
        if isinstance(value, str) and (value in nodes or value in results):
            raise GraphRunError(
                f"Input value '{value}' clashes with a node name. Make sure "
                f"that none of the input names passed to the `run` method are the "
                f"same as node names in the graph schema."
            )
        results[name] = (name, value)

    def compute(name: str) -> Any:
        if name in results:
            return results[name]
        node = nodes.get(name)
        if node is None:
            return name
        output = self._instantiated_nodes[name](*(compute(needed) for needed in node.needs.values()))
        results[name] = output
        return output

    try:
        return dict(compute(target) for target in run_targets)
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error


def _minimal_schemas(runner: Any) -> Dict[Any, Any]:
    cache = runner.__dict__.get("_crs_minimal_schemas")
    if cache is None:
        cache = runner.__dict__["_crs_minimal_schemas"] = {}
    return cache


def _match_rules_only_as_far_back_as_they_reach() -> None:
    from rasa.core.policies.rule_policy import RulePolicy

    original = RulePolicy._get_possible_keys
    if getattr(original, "_crs_bounded", False):
        return

    def _get_possible_keys(self: Any, lookup: Dict[str, str], states: List[Any]) -> Set[str]:
        # ``_is_rule_applicable`` is True for every key once the turn index reaches the key's
        # length, so the states older than the longest key change nothing
        recent = states[-_longest_rule(self, lookup) :] if states else states
        # and the keys that match depend only on the lookup and those states: remembered
        memo = _rule_memo(self, lookup)
        key = _frozen(recent)
        found = memo.get(key)
        if found is None:
            found = frozenset(original(self, lookup, recent))
            if len(memo) >= RULE_MEMO_SIZE:
                memo.clear()
            memo[key] = found
        return set(found)

    _get_possible_keys._crs_bounded = True  # type: ignore[attr-defined]
    RulePolicy._get_possible_keys = _get_possible_keys  # type: ignore[method-assign]


RULE_MEMO_SIZE = 5000


def _rule_memo(policy: Any, lookup: Dict[str, str]) -> Dict[Any, frozenset]:
    """Matched keys per (recent states), for this lookup as it is (dropped if it changes)."""
    memos = policy.__dict__.setdefault("_crs_rule_memo", {})
    key = (id(lookup), len(lookup))
    held = memos.get(key)
    if held is None or held[0] is not lookup:
        held = memos[key] = (lookup, {})
    return held[1]


def _frozen(value: Any) -> Any:
    """A hashable, type-preserving copy of dialogue states (dicts, lists, tuples, scalars)."""
    if isinstance(value, dict):
        return ("d", tuple(sorted((k, _frozen(v)) for k, v in value.items())))
    if isinstance(value, list):
        return ("l", tuple(_frozen(v) for v in value))
    if isinstance(value, tuple):
        return ("t", tuple(_frozen(v) for v in value))
    if isinstance(value, (set, frozenset)):
        return ("s", frozenset(_frozen(v) for v in value))
    return (type(value).__name__, value)


def _longest_rule(policy: Any, lookup: Dict[str, str]) -> int:
    """The number of states of the longest rule key in ``lookup`` (cached per lookup and size)."""
    cache = policy.__dict__.setdefault("_crs_longest_rule", {})
    key = (id(lookup), len(lookup))
    held = cache.get(key)
    if held is None or held[0] is not lookup:  # the lookup itself is kept, so its id is not reused
        held = cache[key] = (lookup, max((len(policy._rule_key_to_state(rule)) for rule in lookup), default=0) + 1)
    return held[1]


KEEPALIVE_SECONDS = 2.0
_SESSIONS: Dict[Any, Any] = {}


def _keep_http_sessions() -> None:
    from rasa.utils.endpoints import EndpointConfig

    if getattr(EndpointConfig.request, "_crs_kept", False):
        return
    EndpointConfig.request = _request  # type: ignore[method-assign]


def _session_for(endpoint: Any) -> Any:
    """One client session per event loop and headers/authentication (Rasa's settings)."""
    import asyncio
    import json

    import aiohttp
    import rasa.utils.endpoints as endpoints

    loop = asyncio.get_running_loop()
    key = (
        id(loop),
        json.dumps(endpoint.headers, sort_keys=True, default=str),
        json.dumps(endpoint.basic_auth, sort_keys=True, default=str),
    )
    held = _SESSIONS.get(key)
    if held is not None and held[0] is loop and not held[1].closed:
        return held[1]
    auth = None
    if endpoint.basic_auth:
        auth = aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
    session = aiohttp.ClientSession(
        headers=endpoint.headers,
        auth=auth,
        timeout=aiohttp.ClientTimeout(total=endpoints.DEFAULT_REQUEST_TIMEOUT),
        connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
    )
    _SESSIONS[key] = (loop, session)
    return session


async def _request(
    self: Any,
    method: str = "post",
    subpath: Any = None,
    content_type: Any = "application/json",
    compress: bool = False,
    **kwargs: Any,
) -> Any:
    """Rasa 3.6.21's ``EndpointConfig.request`` on a kept session (see the module docstring)."""
    import os
    import ssl

    import aiohttp
    from aiohttp.client_exceptions import ContentTypeError
    from rasa.shared.exceptions import FileNotFoundException
    from rasa.utils.endpoints import ClientResponseError, concat_url

    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if "headers" in kwargs:
        headers.update(kwargs["headers"])
        del kwargs["headers"]
    if self.headers:
        headers.update(self.headers)
    url = concat_url(self.url, subpath)
    sslcontext = None
    if self.cafile:
        try:
            sslcontext = ssl.create_default_context(cafile=self.cafile)
        except FileNotFoundError as e:
            raise FileNotFoundException(
                f"Failed to find certificate file, '{os.path.abspath(self.cafile)}' does not exist."
            ) from e
    params = self.combine_parameters(kwargs)
    for attempt in (1, 2):
        session = _session_for(self)
        try:
            async with session.request(
                method, url, headers=headers, params=params, compress=compress, ssl=sslcontext, **kwargs
            ) as response:
                if response.status >= 400:
                    raise ClientResponseError(response.status, response.reason, await response.content.read())
                try:
                    return await response.json()
                except ContentTypeError:
                    return None
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as error:
            # a kept connection that the other end (the action server, or nginx reloading when a
            # replica leaves the rotation) closed as the request went out: "Server disconnected",
            # "Can not write request body". Sent once more on a new connection; the actions are
            # pure functions of the tracker, so a repeat is harmless
            if attempt == 2:
                raise
            logger.debug("endpoint closed a kept connection (%s); sending again url=%s", type(error).__name__, url)
    return None


_request._crs_kept = True  # type: ignore[attr-defined]


RASA_RUN_ACTION: Any = None  # Rasa's own ``MessageProcessor._run_action`` (tests compare the two)


def _no_tracker_copy_for_reading_actions() -> None:
    from rasa.core.actions.action import ActionBotResponse, ActionListen, RemoteAction
    from rasa.core.processor import MessageProcessor

    global RASA_RUN_ACTION
    original = MessageProcessor._run_action
    if getattr(original, "_crs_reading", False):
        return
    RASA_RUN_ACTION = original
    # exact types: subclasses (forms, validation actions) may change the tracker they are given
    reading = (ActionBotResponse, ActionListen, RemoteAction)

    async def _run_action(self: Any, action: Any, tracker: Any, output_channel: Any, nlg: Any, prediction: Any) -> Any:
        if prediction.events or type(action) not in reading:
            return await original(self, action, tracker, output_channel, nlg, prediction)

        def itself() -> Any:  # the first call only: ``temporary_tracker = tracker.copy()``
            tracker.__dict__.pop("copy", None)
            return tracker

        tracker.copy = itself
        try:
            return await original(self, action, tracker, output_channel, nlg, prediction)
        finally:
            tracker.__dict__.pop("copy", None)

    _run_action._crs_reading = True  # type: ignore[attr-defined]
    MessageProcessor._run_action = _run_action  # type: ignore[method-assign]


SWITCH_ENV = "CRS_GIL_SWITCH_SECONDS"
DEFAULT_SWITCH_SECONDS = 0.02


def _longer_gil_slices() -> None:
    import os
    import sys

    seconds = float(os.environ.get(SWITCH_ENV) or DEFAULT_SWITCH_SECONDS)
    if seconds > 0:
        sys.setswitchinterval(seconds)


FREEZE_AFTER_SECONDS = 5.0


def freeze_startup_objects() -> None:
    """Collect once, then leave everything that exists now out of later collections."""
    import gc

    gc.collect()
    gc.freeze()
    logger.info("startup objects frozen for the garbage collector count=%d", gc.get_freeze_count())


RASA_STATES: Any = None  # Rasa's own ``Domain.states_for_tracker_history`` (tests compare the two)
STATES_MEMO = "_crs_states_memo"


def _user_fingerprint(message: Any) -> Any:
    """Everything of a user message that its dialogue state is made from (``as_sub_state`` and
    ``_get_featurized_entities``): text, intent, how it is featurised, the entities' types,
    roles and groups. Events applied later change some of them in place
    (``DefinePrevUserUtteredFeaturization``, ``EntitiesAdded``)."""
    if message is None:
        return None
    return (
        message.text,
        message.intent.get("name") if isinstance(message.intent, dict) else message.intent,
        message.use_text_for_featurization,
        tuple(
            (e.get("entity"), "entity" in e, e.get("role"), "role" in e, e.get("group"), "group" in e)
            for e in message.entities
        ),
    )


class _StatesMemo:
    """The dialogue states of one tracker so far, and the replayed tracker they were read from,
    to be extended by the events added since (see ``_states_extended_not_recomputed``)."""

    __slots__ = ("domain", "omit", "events", "replay", "states", "sources", "fingerprints")

    def __init__(self, domain: Any, omit: bool, replay: Any) -> None:
        self.domain = domain
        self.omit = omit
        self.events: List[Any] = []  # the applied events replayed so far (the same objects)
        self.replay = replay  # ``init_copy()`` of the tracker, updated with ``events``
        self.states: List[Any] = []  # the state before each ActionExecuted among ``events``
        self.sources: List[Any] = []  # the user message each of those states was read from
        self.fingerprints: Dict[int, Any] = {}  # id(message) -> (message, its fingerprint)

    def extends(self, applied: List[Any]) -> bool:
        if len(applied) < len(self.events):
            return False
        return all(a is b for a, b in zip(self.events, applied[: len(self.events)], strict=True))

    def _state(self) -> Any:
        message = self.replay.latest_message
        if id(message) not in self.fingerprints:
            self.fingerprints[id(message)] = (message, _user_fingerprint(message))
        return self.domain.get_active_state(self.replay, omit_unset_slots=self.omit), message

    def states_for(self, applied: List[Any]) -> List[Any]:
        from rasa.shared.core.events import ActionExecuted

        # the user messages changed in place since their states were made: those states get
        # their user part again (all the rest of a state comes from the replay's own objects)
        changed = {
            key
            for key, (message, fingerprint) in self.fingerprints.items()
            if _user_fingerprint(message) != fingerprint
        }
        if changed:
            for index, message in enumerate(self.sources):
                if id(message) in changed:
                    self.states[index] = self._with_user_of(self.states[index], message)
            for key in changed:
                message = self.fingerprints[key][0]
                self.fingerprints[key] = (message, _user_fingerprint(message))
        for event in applied[len(self.events) :]:
            if isinstance(event, ActionExecuted):
                state, source = self._state()
                self.states.append(state)
                self.sources.append(source)
            self.replay.update(event)
            self.events.append(event)
        final, _ = self._state()
        return [_copy_state(state) for state in self.states] + [final]

    def _with_user_of(self, state: Any, message: Any) -> Any:
        """``get_active_state``'s result with the user part made again from ``message``."""
        from rasa.shared.core.constants import ACTIVE_LOOP, PREVIOUS_ACTION, SLOTS, USER

        class _Latest:
            latest_message = message

        rebuilt = {
            USER: self.domain._get_user_sub_state(_Latest),
            SLOTS: state.get(SLOTS, {}),
            PREVIOUS_ACTION: state.get(PREVIOUS_ACTION, {}),
            ACTIVE_LOOP: state.get(ACTIVE_LOOP, {}),
        }
        return self.domain._clean_state(rebuilt)


def _copy_state(state: Any) -> Any:
    """A state is a dict of sub-state dicts whose values are strings or tuples: callers change
    the dicts (``_choose_last_user_input`` deletes keys), so each gets its own."""
    return {key: dict(sub) for key, sub in state.items()}


def _states_extended_not_recomputed() -> None:
    """``tracker.past_states`` (``Domain.states_for_tracker_history``) replays every event of the
    conversation into a new tracker and reads a state before each action, for every prediction:
    the RulePolicy asks twice after a user message (text, then intent) and again after each
    action, three to five times a turn for the same events and a few more. Here the replay and
    the states are kept on the tracker (for Rasa's plain trackers, and only where Rasa computes
    them this simple way: ``ignore_rule_only_turns`` off, which is the RulePolicy's case) and
    extended by the events added since; when the applied events are no longer an extension of
    those replayed (a rewind, a restart, a new session), everything is made again. The states of
    a user message that an event changed in place afterwards (``DefinePrevUserUtteredFeaturization``
    follows every first prediction) get their user part again, as Rasa's fresh replay would show
    them. Tested equal to Rasa's method on every call of real conversations."""
    global RASA_STATES
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    original = Domain.states_for_tracker_history
    if getattr(original, "_crs_extended", False):
        return
    RASA_STATES = original

    def states_for_tracker_history(
        self: Any,
        tracker: Any,
        omit_unset_slots: bool = False,
        ignore_rule_only_turns: bool = False,
        rule_only_data: Any = None,
    ) -> List[Any]:
        if ignore_rule_only_turns or type(tracker) is not DialogueStateTracker:
            return original(self, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        applied = tracker.applied_events()
        memo = tracker.__dict__.get(STATES_MEMO)
        if memo is None or memo.domain is not self or memo.omit != omit_unset_slots or not memo.extends(applied):
            memo = _StatesMemo(self, omit_unset_slots, tracker.init_copy())
            tracker.__dict__[STATES_MEMO] = memo
        return memo.states_for(applied)

    states_for_tracker_history._crs_extended = True  # type: ignore[attr-defined]
    Domain.states_for_tracker_history = states_for_tracker_history  # type: ignore[method-assign]


RASA_FORMAT_STATES: Any = None


def _format_states_for_debug_log_only() -> None:
    """``Policy.format_tracker_states`` makes a text of all the states for one debug log line of
    the RulePolicy (its only caller in Rasa 3.6.21, checked by the tests): made only while debug
    logging is on."""
    global RASA_FORMAT_STATES
    from rasa.core.policies.policy import Policy

    original = Policy.__dict__["format_tracker_states"]
    if getattr(original.__func__, "_crs_debug_only", False):
        return
    RASA_FORMAT_STATES = original.__func__

    def format_tracker_states(states: List[Any]) -> Any:
        if structlog_debug_enabled():
            return RASA_FORMAT_STATES(states)
        return ""

    format_tracker_states._crs_debug_only = True  # type: ignore[attr-defined]
    Policy.format_tracker_states = staticmethod(format_tracker_states)  # type: ignore[assignment]


RASA_RESOLVE_BY_TYPE: Any = None  # Rasa's own ``Event.resolve_by_type`` (tests compare the two)
_EVENT_CLASSES: Dict[str, Any] = {}


def _event_classes_found_once() -> None:
    """``Event.resolve_by_type`` (every event read from JSON: the action server's reply, the
    tracker store) lists all subclasses of ``Event`` again, recursively, each time: a twentieth
    of a turn. The class found for a type name is remembered; defining any new subclass of
    ``Event`` (``__init_subclass__``, which every subclass calls) forgets them all, so the answer
    is always Rasa's: the first non-abstract subclass of that name, in Rasa's order. Names not
    found (``topic``, a default, an error) go to Rasa's method every time."""
    global RASA_RESOLVE_BY_TYPE
    from rasa.shared.core.events import Event

    original = Event.__dict__["resolve_by_type"]
    if getattr(original.__func__, "_crs_found_once", False):
        return
    RASA_RESOLVE_BY_TYPE = original.__func__
    rasa_init_subclass = Event.__dict__.get("__init_subclass__")

    def __init_subclass__(cls: Any, **kwargs: Any) -> None:
        _EVENT_CLASSES.clear()
        if rasa_init_subclass is not None:
            rasa_init_subclass.__func__(cls, **kwargs)
        else:
            super(Event, cls).__init_subclass__(**kwargs)

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        found = _EVENT_CLASSES.get(type_name)
        if found is not None:
            return found
        found = RASA_RESOLVE_BY_TYPE(type_name, default)
        if found is not None and found is not default and getattr(found, "type_name", None) == type_name:
            _EVENT_CLASSES[type_name] = found
        return found

    resolve_by_type._crs_found_once = True  # type: ignore[attr-defined]
    Event.__init_subclass__ = classmethod(__init_subclass__)  # type: ignore[assignment]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[assignment]


RASA_PREDICT_RULES: Any = None  # Rasa's own ``RulePolicy._predict``
RASA_FEATURE_KEY: Any = None  # Rasa's own ``RulePolicy._create_feature_key``
LONGER_THAN_ANY_RULE = "\x00crs: states longer than any rule not in the stories"


def _longest_rule_not_in_stories(policy: Any) -> int | None:
    """The number of states of the longest key in ``rules_not_in_stories`` that is a list of
    states (cached per lookup and size); None when there is no such lookup."""
    import json

    listed = policy.lookup.get("rules_not_in_stories")
    if not isinstance(listed, list) or LONGER_THAN_ANY_RULE in listed:
        return None
    cache = policy.__dict__.setdefault("_crs_not_in_stories", {})
    key = (id(listed), len(listed))
    held = cache.get(key)
    if held is None or held[0] is not listed:
        longest = 0
        for entry in listed:
            if isinstance(entry, str) and entry.startswith("["):
                try:
                    longest = max(longest, len(json.loads(entry)))
                except ValueError:
                    return None
        held = cache[key] = (listed, longest)
    return held[1]


def _no_feature_key_longer_than_the_rules() -> None:
    """When no rule matches, the RulePolicy makes a key of the whole conversation's states
    (``json.dumps``, sorted) only to ask whether it is among ``rules_not_in_stories`` (whether the
    turn is hidden from ML policies): a key of more states than any of those can't be. While
    predicting (``_predict`` called by ``predict_action_probabilities``; not in training, where
    ``_predict_next_action`` calls it and keeps the key) such a key is not made: a string that is
    in no lookup stands for it, so the answer is the same, ``False``. States with a rule snippet
    (``...``, only in training data) get Rasa's key."""
    global RASA_PREDICT_RULES, RASA_FEATURE_KEY
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.shared.core.constants import PREVIOUS_ACTION, RULE_SNIPPET_ACTION_NAME

    if getattr(RulePolicy._predict, "_crs_predicting", False):
        return
    RASA_PREDICT_RULES = RulePolicy._predict
    RASA_FEATURE_KEY = RulePolicy._create_feature_key
    rasa_next_action = RulePolicy._predict_next_action

    def _predict(self: Any, *args: Any, **kwargs: Any) -> Any:
        self.__dict__["_crs_predicting"] = self.__dict__.get("_crs_predicting", 0) + 1
        try:
            return RASA_PREDICT_RULES(self, *args, **kwargs)
        finally:
            self.__dict__["_crs_predicting"] -= 1

    def _predict_next_action(self: Any, *args: Any, **kwargs: Any) -> Any:  # training: keys kept
        self.__dict__["_crs_training"] = self.__dict__.get("_crs_training", 0) + 1
        try:
            return rasa_next_action(self, *args, **kwargs)
        finally:
            self.__dict__["_crs_training"] -= 1

    def _create_feature_key(self: Any, states: List[Any]) -> Any:
        if self.__dict__.get("_crs_predicting") and not self.__dict__.get("_crs_training"):
            longest = _longest_rule_not_in_stories(self)
            if (
                longest is not None
                and len(states) > longest
                and not any(
                    (state.get(PREVIOUS_ACTION) or {}).get("action_name") == RULE_SNIPPET_ACTION_NAME
                    for state in states
                )
            ):
                return LONGER_THAN_ANY_RULE
        return RASA_FEATURE_KEY(self, states)

    _predict._crs_predicting = True  # type: ignore[attr-defined]
    RulePolicy._predict = _predict  # type: ignore[method-assign]
    RulePolicy._predict_next_action = _predict_next_action  # type: ignore[method-assign]
    RulePolicy._create_feature_key = _create_feature_key  # type: ignore[method-assign]


RASA_IS_EMPTY: Any = None  # Rasa's own ``Domain.is_empty``
_EMPTY_DOMAIN: List[Any] = []


def _empty_domain_made_once() -> None:
    """``Domain.is_empty`` (asked by the processor for every message, before it checks the
    parse against the domain) builds a new empty domain from ``{}`` each time to compare with:
    a fortieth of a turn. The empty domain's dict is made once (Rasa's ``Domain.empty()``, kept
    as a private deep copy) and compared with in the same way."""
    global RASA_IS_EMPTY
    import copy

    from rasa.shared.core.domain import Domain

    if getattr(Domain.is_empty, "_crs_once", False):
        return
    RASA_IS_EMPTY = Domain.is_empty

    def is_empty(self: Any) -> bool:
        if not _EMPTY_DOMAIN:
            _EMPTY_DOMAIN.append(copy.deepcopy(Domain.empty().as_dict()))
        return self.as_dict() == _EMPTY_DOMAIN[0]

    is_empty._crs_once = True  # type: ignore[attr-defined]
    Domain.is_empty = is_empty  # type: ignore[method-assign]
