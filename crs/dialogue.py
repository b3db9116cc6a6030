"""Triage decisions of the dialogue: what the assistant must do next, whatever else is going on.

Plain Python, no Rasa import: ``components/triage_policy.py`` turns a Rasa tracker into a
``TurnView`` and the ``Plan`` back into a prediction. The rules here are the safety stance of
design.md: a red flag gets the emergency instruction first, inside the yes/no check too; a CRS
symptom gets the urgent instruction; an answer that the action server could not give gets an
apology naming the emergency number (rule 9).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, List, Sequence, Tuple

from crs.content import TOPIC_IDS
from crs.triage import LEVELS, Triage

FORM = "emergency_check_form"
CHECK_PREFIX = "check_"
ACTION_LISTEN = "action_listen"
DEACTIVATE = "action_deactivate_loop"
ANSWER = "action_answer_topic"
EMERGENCY = "utter_emergency"
URGENT = "utter_urgent"
REPROMPT = "utter_check_reprompt"
RESTATE = "utter_emergency_restate"
CHECK_STOPPED = "utter_check_stopped"
DISMISS_INTENTS = {"dismiss_alert", "deny"}
CHECK_RESULT = "utter_check_result"
SERVICE_PROBLEM = "utter_service_problem"

# Topic questions are the intents ask_<topic id> (design.md topic ids).
TOPIC_INTENTS = {f"ask_{topic}": topic for topic in TOPIC_IDS}
ANSWER_INTENTS = set(TOPIC_INTENTS) | {"ask_about_drug", "ask_more"}
CHECK_INTENTS = {"ask_is_emergency", "report_symptom"}
# intents answered after an urgent instruction only when the message is a question (issue 11:
# the instruction first, then the answer or an honest "not covered")
ANSWER_IF_QUESTION = {"nlu_fallback", "out_of_scope"}
_QUESTION = re.compile(
    r"^\s*(?:(?:so|and|but|ok|okay|then|sorry|also)\b[\s,]*)?(?:what|whats|what's|how|why|when|where|who|which|can|could|is|are|does|do|did|will|would|should|"
    r"shall|may|might|has|have|am)\b",
    re.IGNORECASE,
)


def looks_like_question(text: str) -> bool:
    """A question mark, or a question word first and a few words after it."""
    return "?" in text or (bool(_QUESTION.match(text)) and len(text.split()) >= 3)


# words that put a person in a message: a question that has one may be a report about them
_PERSON = re.compile(
    r"\b(?:i|im|i'm|ive|i've|me|my|mine|he|hes|he's|him|his|she|shes|she's|her|hers|we|our|us|they|"
    r"them|their|mum|mom|mam|dad|husband|wife|partner|son|daughter|child|kid|baby|brother|sister|"
    r"mother|father|nan|gran|grandad|grandma|grandpa|friend|boyfriend|girlfriend|patient)\b",
    re.IGNORECASE,
)


def is_general_question(text: str, findings: Sequence[Dict[str, Any]]) -> bool:
    """A question about CRS in general: asked as a question, about nobody in particular, and any
    sign in it read by the rules as the subject of the question (hypothetical), none as present."""
    if not looks_like_question(text) or _PERSON.search(text):
        return False
    return all(finding.get("assertion") == "hypothetical" for finding in findings)


# a follow-up that points back at the last answer ("is it serious?", "are any of those an
# emergency?", "which ones?")
_REFERS_BACK = re.compile(
    r"\b(?:it|its|it's|that|thats|that's|those|these|they|them|theyre|they're|which ones?|"
    r"any of (?:them|those|these|the above))\b",
    re.IGNORECASE,
)
# words that point at the person's situation now ("is this an emergency?", "is it normal now?"):
# such a question may be a report, and gets the yes/no check
_PRESENT_MOMENT = re.compile(
    r"\b(?:this|now|right now|at the moment|currently|today|tonight|still|keeps?|getting|started|since)\b",
    re.IGNORECASE,
)


# a person only as the subject of what might happen ("would I need a ventilator?", "should I ring
# if it's mild?", "what if she reacts?"): a question about the future, not a report
_WHO = r"(?:i|you|he|she|they|we|(?:my|his|her|their|our)\s+[a-z]+)"
_HYPOTHETICAL = re.compile(
    rf"\b(?:would|will|should|could|might|shall|if)\s+{_WHO}\b|\b(?:i|he|she|they|we)(?:'ll|'d)\b",
    re.IGNORECASE,
)


# what would or will happen, or an "if": "should we go to A&E?" alone is about now (the check)
_CONDITIONAL = re.compile(r"\b(?:if|would|will|could|might|wo?n't|wouldn't|in case)\b|'(?:ll|d)\b", re.IGNORECASE)


def _hypothetical_only(text: str) -> bool:
    """Every person in the question is the subject of a "would / will / should / if", the question
    is about what would happen ("would", "will", "if": not "should we go to A&E?", which is about
    now) and nothing points at now: "would I need a ventilator?", "should I ring if it's mild?",
    not "should I worry? he's not right"."""
    if _PRESENT_MOMENT.search(text) or not _HYPOTHETICAL.search(text) or not _CONDITIONAL.search(text):
        return False
    rest = _HYPOTHETICAL.sub(" ", text)
    return not _PERSON.search(rest)


# small talk that a follow-up question is sometimes taken for
SMALL_TALK = {"greet", "goodbye", "thank", "affirm", "deny"}


def _typed_question(text: str) -> bool:
    """A question in words (not a button's "/intent" payload)."""
    return looks_like_question(text) and not text.lstrip().startswith("/")


def _about_someone_or_now(text: str) -> bool:
    """Names a person, or points at what is happening now: it may be a report."""
    return bool(_PERSON.search(text) or _PRESENT_MOMENT.search(text))


def is_follow_up_question(text: str, intent: str | None) -> bool:
    """Right after an answer, with no sign read as present (the caller's triage level is none),
    is a message that the classifier took for a report or for "is this an emergency?" a question
    about that answer (issue 11)? Only a question naming nobody (or a person only as the subject
    of what would happen: "would I need a ventilator?") and pointing at nothing happening now;
    for "is ... an emergency / serious?" it must also point back at the answer
    ("it", "those", "which ones"). Anything else keeps the yes/no check (when in doubt,
    escalate)."""
    if not _typed_question(text):
        return False
    if intent in SMALL_TALK:
        # "can it be later than that?" read as goodbye, "and if I'm not sure?" as deny: these
        # intents never start the check, so a question among them is simply answered
        return True
    hypothetical = _hypothetical_only(text)
    if _about_someone_or_now(text) and not hypothetical:
        return False
    if intent == "ask_is_emergency":
        # its answer starts with what to do if it is happening now (crs.answers.answer)
        return bool(_REFERS_BACK.search(text)) or hypothetical
    return intent == "report_symptom"


def asks_what_would_happen(text: str, intent: str | None) -> bool:
    """With no answer before it, is a message that the classifier took for "is this an emergency?"
    a question about what would happen ("would I need a drip?", "if I go confused should I go to
    A&E?")? Only in a conditional frame whose every person is its subject, pointing at nothing
    happening now; its answer starts with what to do if it is happening now (crs.answers)."""
    asked = _typed_question(text) or bool(_MODAL_QUESTION.search(text) and not text.lstrip().startswith("/"))
    return intent == "ask_is_emergency" and asked and _hypothetical_only(text)


# a question without its question mark, put later in the sentence ("if I go confused should I go
# to the emergency room")
_MODAL_QUESTION = re.compile(r"\b(?:should|shall|would|will|could|can|do|must)\s+(?:i|we|you|he|she|they)\b", re.I)


def long_question_as_small_talk(text: str, intent: str | None) -> bool:
    """A question of six words or more that the classifier took for small talk ("Would I have to
    go to intensive care if it got bad?" read as goodbye): answered, not said goodbye to."""
    return intent in SMALL_TALK and _typed_question(text) and len(text.split()) >= 6


def answer_follows_urgent(original_intent: str | None, text: str, asking: Sequence[Tuple[int, int]] = ()) -> bool:
    """After the urgent instruction, is the question asked still answered (by the answer action)?
    A question the classifier could not place counts when it looks like one or asks one of its
    own (`asking`, TriageEngine.asking: also one reported, "Pt asking whether rigors are ...")."""
    if original_intent in ANSWER_INTENTS:
        return True
    return original_intent in ANSWER_IF_QUESTION and (looks_like_question(text) or bool(asking))


def asks_during_check(view: TurnView) -> bool:
    """During the yes/no check, a message that is not a yes or no but a question about CRS (the
    classifier's topic, or a question it could not place), with no sign in it: answered, and the
    check's question asked again (it does not end the check)."""
    if view.check_answer or view.triage.findings:
        return False
    intent = view.original_intent
    if intent not in ANSWER_INTENTS | ANSWER_IF_QUESTION:
        return False
    return _typed_question(view.text)


# intents that may still be a question after an emergency instruction ("is a high fever an
# emergency?" asked in general too)
ASKED_AFTER_EMERGENCY = ANSWER_INTENTS | ANSWER_IF_QUESTION | {"ask_is_emergency"}


def answer_follows_emergency(original_intent: str | None, text: str) -> bool:
    """After the emergency instruction, is the question asked still answered? Only a general
    question ("is a high fever an emergency?", "and the heart?", "can CRS make breathing
    difficult?"): asked as a question, naming nobody, pointing at nothing happening now. A
    message about a person, or about now, gets the instruction alone (issue 11)."""
    if original_intent not in ASKED_AFTER_EMERGENCY:
        return False
    return _typed_question(text) and not _about_someone_or_now(text)


def asks_after_emergency(view: TurnView) -> bool:
    """After an emergency instruction that only the learned detector gave, a message that plainly
    asks a question of its own and tells nothing in the present ("We have a dog and two cats. Is
    it OK to have pets around after CAR-T?") still gets its answer, after the instruction: the
    detector's guess may be wrong, and the instruction stands whole either way. A report ("lips
    gone blu-ish??", "tonight she keeps swatting at flies ... what do i do") gets it alone, and so
    does a red flag the rules found (unless the message is a general question:
    answer_follows_emergency)."""
    asked = view.original_intent in ANSWER_INTENTS | ANSWER_IF_QUESTION | CHECK_INTENTS
    plainly = view.asks_plainly or (view.after_answer and is_fragment_follow_up(view.text))
    return asked and plainly and learned_only(view.triage)


def asks_about_its_signs(view: TurnView) -> bool:
    """After an emergency instruction, a message whose every red flag is inside a question that
    starts as one ("Is possible to have fits from this syndrome?", "Could the CRS make her
    confused or muddled when she talks, I want to know what to expect") still gets its answer,
    after the instruction: the sign is what it asks about, and the instruction stands whole
    either way. A red flag told outside its questions or after a question's first clause ("what
    do i do, he cant breathe", "lips gone blu-ish??", "Is this the CRS?" after a report) gets the
    instruction alone."""
    if view.original_intent not in ANSWER_INTENTS | ANSWER_IF_QUESTION:
        return False  # the classifier heard a report ("what do i do, he cant breathe")
    red_flags = view.triage.red_flags
    return bool(red_flags) and all(_asked_about(view, f) for f in red_flags)


def _asked_about(view: TurnView, finding) -> bool:
    """The sign is in a question, in its first clause ("what do i do, he cant breathe" tells it
    after)."""
    return any(
        start <= finding.start and finding.end <= end and not _CLAUSE_BREAK.search(view.text[start : finding.start])
        for start, end in view.questions
    )


_CLAUSE_BREAK = re.compile(r"[,;:!?\u2013\u2014]|\s-\s")


# what makes a statement not a report of now: a state that was there before ("I get breathless
# anyway with my chest", "she already has low blood pressure", "I have low pressure always") or
# something heard or read ("Dad's nurse mentioned confusion", "someone on a forum said their dad
# started seeing things", "her friend told her"), or a past episode ("My mum was very muddled
# after hers", "last time he was confused"). Words, not phrases: any of them in the red flag's
# sentence. Not "said", "says" or "read": reports use them ("the machine says 85 over 50", "he
# just said there's a man in the corner", "read the paper, and this afternoon he became bluish")
# and every emergency of the triage sets must keep the instruction alone (the test below it).
_NOT_NOW = re.compile(
    r"\b(?:already|anyway|anyways|always|usually|normally|chronic|for years|all my life"
    r"|told|mentioned|mentions|reading|heard|forum|leaflet|apparently"
    r"|after hers|after his|last time|the first time|previous|previously|back then|years ago|in the past|at the time)\b",
    re.IGNORECASE,
)
_SENTENCE_BREAK = re.compile(r"[.!?;\n]+")
_WHAT_TO_DO = re.compile(
    r"\W*(?:so\s+|and\s+|then\s+)?(?:(?:what|wat|wot)\s+)?(?:do|should|shall|can|must)\s+(?:i|we|u|you|they)\s+do\b"
    r"(?:\s+(?:now|then|next|about it|about that))?\W*$",
    re.IGNORECASE,
)


def asks_past_a_background_sign(view: TurnView) -> bool:
    """After an emergency instruction, a message that asks a question of its own and tells its red
    flags only as something there before or something heard ("Can CRS make someone confused? My
    mum already gets a bit muddled.", "Can CRS affect the brain? Dad's nurse mentioned confusion")
    still gets its answer, after the instruction: the instruction stands whole either way (when in
    doubt, escalate), and the question is still owed an answer. A red flag told with nothing of
    the kind ("he cant breathe, can CRS do that?") gets the instruction alone."""
    if view.original_intent not in ASKED_AFTER_EMERGENCY:
        return False
    red_flags = view.triage.red_flags
    questions = view.questions + view.asking  # (asking: also a question without its question mark)
    if not red_flags or not any(not _WHAT_TO_DO.match(view.text[start:end]) for start, end in questions):
        return False  # "what do we do" asks what the instruction tells
    # a sign's sentence: from the last sentence break or question edge before it to the next after
    edges = [0, len(view.text)] + [m.end() for m in _SENTENCE_BREAK.finditer(view.text)]
    edges += [edge for span in questions for edge in span]

    def sentence_of(finding) -> str:
        start = max(edge for edge in edges if edge <= finding.start)
        end = min(edge for edge in edges if edge >= finding.end)
        return view.text[start:end]

    told = [f for f in red_flags if not _asked_about(view, f)]  # (the rest: asks_about_its_signs)
    return bool(told) and all(_NOT_NOW.search(sentence_of(f)) for f in told)


# a question in the order of a statement, with CRS as its subject ("CRS can make me dizzy or
# fainting?", "and CRS could give confusion?"): it asks what CRS does, the signs in it included
_CRS_DOES = re.compile(
    r"^\W*(?:(?:and|so|but|also)\s+)?(?:the\s+)?(?:crs|cytokine release syndrome|cytokine storm)"
    r"\s+(?:can|could|may|might|will|would|does|do|is able to)\b[^?.!]*\?\W*$",
    re.IGNORECASE,
)


def asks_what_crs_does(view: TurnView) -> bool:
    """After an emergency instruction, a question in a statement's order with CRS as its subject
    and the sign inside it ("CRS can make me dizzy or fainting?"), pointing at nothing now, still
    gets its answer, after the instruction, which stands first and whole (as asks_about_its_signs
    for a question that starts as one)."""
    return (
        view.original_intent in ANSWER_INTENTS | ANSWER_IF_QUESTION
        and bool(view.triage.red_flags)
        and bool(_CRS_DOES.match(view.text))
        and not _PRESENT_MOMENT.search(view.text)
    )


def follow_up_names_a_sign(view: TurnView) -> bool:
    """After an emergency instruction, a short follow-up question right after an answer that names
    a sign and nobody, and points at nothing now ("And skin colour change?" after the list of
    signs that need emergency care), still gets its answer, after the instruction, as "and the
    heart?" does (answer_follows_emergency); "and her lips are blue?" gets the instruction alone."""
    return (
        view.after_answer
        and bool(view.triage.red_flags)
        and is_fragment_follow_up(view.text)
        and _typed_question(view.text)
        and not _about_someone_or_now(view.text)
    )


TRIAGE_INTENTS = {"emergency": "triage_emergency", "urgent": "triage_urgent"}


@dataclass(frozen=True)
class CheckGroup:
    id: str
    findings: Sequence[str]

    @property
    def slot(self) -> str:
        return CHECK_PREFIX + self.id

    @property
    def answer_level(self) -> str:
        """A yes to this question: an emergency for the red-flag groups, urgent for the rest."""
        return "urgent" if self.id == "symptoms" else "emergency"


@dataclass
class TurnView:
    """What the triage decisions need to know about the conversation."""

    triage: Triage  # of the latest user message
    intent: str | None = None  # as given to the dialogue (may be a triage_* intent)
    original_intent: str | None = None  # the classifier's guess
    check_answer: str | None = None  # present | absent | unsure, for a short yes/no reply
    active_loop: str | None = None
    requested_slot: str | None = None
    actions_this_turn: List[str] = field(default_factory=list)  # since the latest user message
    loop_rejected_this_turn: bool = False
    loop_rejected: bool = False  # the check is waiting for an answer it could not read before
    bot_uttered_this_turn: bool = False
    custom_actions: FrozenSet[str] = frozenset()
    earlier_triage: List[Triage] = field(default_factory=list)  # earlier user messages
    slots: Dict[str, Any] = field(default_factory=dict)
    locale_hint: str | None = None  # from the channel's message metadata
    emergency_outstanding: bool = False  # an emergency instruction not yet restated after a dismissal
    stop_requested: bool = False  # "STOP" / "cancel" during the check
    text: str = ""  # the latest message (only to tell a question from a report)
    after_answer: bool = False  # the assistant's last action before this message was an answer
    # where the message asks a question of its own, not about what it tells: character spans
    # (TriageEngine.asking)
    asking: Tuple[Tuple[int, int], ...] = ()
    # ... only by questions that start as questions do, with nothing told in the present outside
    # them (TriageEngine.asking): for the answer after an emergency instruction
    asks_plainly: bool = False
    # its questions that start as questions, whatever else it tells (TriageEngine.asking): a red
    # flag inside one is what is asked about
    questions: Tuple[Tuple[int, int], ...] = ()

    @property
    def asks(self) -> bool:
        """The message asks a question of its own, or is a short follow-up right after an answer
        ("and the heart", "and if she keeps getting it")."""
        return bool(self.asking) or (self.after_answer and is_fragment_follow_up(self.text))


@dataclass
class Plan:
    action: str | None  # None: leave the decision to the other policies
    events: Dict[str, Any] = field(default_factory=dict)  # slot name -> value


def max_level(*levels: str) -> str:
    return max(levels, key=LEVELS.index)


def answered_group(view: TurnView, groups: Sequence[CheckGroup]) -> CheckGroup | None:
    if view.active_loop != FORM or not view.requested_slot:
        return None
    return next((group for group in groups if group.slot == view.requested_slot), None)


def turn_level(view: TurnView, groups: Sequence[CheckGroup]) -> str:
    """The triage level of this message: what it says, and a yes (or not sure) to a check question."""
    level = view.triage.level
    group = answered_group(view, groups)
    if group and view.check_answer in ("present", "unsure"):
        level = max_level(level, group.answer_level)
    return level


def updated_state(view: TurnView, groups: Sequence[CheckGroup], red_flag_ids: Sequence[str]) -> Dict[str, Any]:
    """The conversation's triage state after this message (kept in slots for the helpline).

    A red flag once present stays present; a denial never erases it.
    """
    red_flags = {flag: "not_asked" for flag in red_flag_ids}
    red_flags.update(view.slots.get("red_flags") or {})
    symptoms = dict(view.slots.get("symptoms") or {})

    def record(table: Dict[str, str], finding_id: str, status: str) -> None:
        current = table.get(finding_id, "not_asked")
        if current == "present":
            return
        if status == "absent" and current == "unsure":
            table[finding_id] = "absent"
        elif status in ("present", "unsure") or current == "not_asked":
            table[finding_id] = status

    for finding in view.triage.findings:
        status = {"present": "present", "negated": "absent"}.get(finding.assertion)
        if status:
            record(red_flags if finding.level == "emergency" else symptoms, finding.id, status)
    group = answered_group(view, groups)
    if group and view.check_answer:
        for finding_id in group.findings:
            record(red_flags if group.answer_level == "emergency" else symptoms, finding_id, view.check_answer)
    level = max_level(view.slots.get("triage_level") or "none", turn_level(view, groups))
    return {"red_flags": red_flags, "symptoms": symptoms, "triage_level": level}


def check_prefill(view: TurnView, groups: Sequence[CheckGroup]) -> Dict[str, Any]:
    """Before a new check: questions whose every sign was said to be absent in free text are skipped."""
    said_absent: Dict[str, bool] = {}
    for triage in view.earlier_triage + [view.triage]:
        for finding in triage.findings:
            if finding.assertion == "negated":
                said_absent.setdefault(finding.id, True)
            elif finding.assertion == "present":
                said_absent[finding.id] = False
    events: Dict[str, Any] = {}
    for group in groups:
        all_absent = all(said_absent.get(finding_id) for finding_id in group.findings)
        events[group.slot] = "absent" if all_absent else None
    return events


def plan(view: TurnView, groups: Sequence[CheckGroup], red_flag_ids: Sequence[str]) -> Plan:
    """The next action the safety rules require, or None to let the other policies decide."""
    if not view.actions_this_turn:
        return _turn_start(view, groups, red_flag_ids)
    action = _after(view, view.actions_this_turn[-1], groups)
    return Plan(action, {"answer_failed": True} if action == SERVICE_PROBLEM else {})


def check_groups(rules: Dict[str, Any]) -> List[CheckGroup]:
    """The check's questions as the triage rules define them, most severe first."""
    return [CheckGroup(group["id"], tuple(group["findings"])) for group in rules["check_groups"]]


def red_flag_ids(rules: Dict[str, Any]) -> List[str]:
    return [spec["id"] for spec in rules["findings"] if spec["level"] == "emergency"]


def _answer_only(view: TurnView, level: str) -> bool:
    """A question about the last answer, about what would happen, or one taken for chat: answered
    in place of the yes/no check."""
    if level != "none" or view.active_loop is not None:
        return False
    if (
        view.after_answer
        and view.intent in CHECK_INTENTS | SMALL_TALK
        and is_follow_up_question(view.text, view.intent)
    ):
        return True  # a question about the last answer: answered, in its context
    if view.intent == "bot_challenge" and not _ABOUT_US.search(view.text):
        # "Is this CRS catching at all?" taken for "are you a bot?"; "is there a nurse i can ring
        # abt crs" too, however it is written: the page's helpline line is quoted
        if view.asks or _ASKS_FOR_HELPLINE.search(view.text):
            return True
    if (
        view.intent in CHECK_INTENTS
        and view.triage.findings
        and not view.triage.concern
        and is_general_question(view.text, [f.as_dict() for f in view.triage.findings])
    ):
        return True  # "Is a high fever an emergency?": answered, "if this is happening now" first
    return not view.triage.concern and (  # someone's state described: the check (issue 9)
        asks_what_would_happen(view.text, view.intent) or long_question_as_small_talk(view.text, view.intent)
    )


# a question for the charity's nurses or their number ("is there a nurse I can call abt crs",
# "what's the helpline number?"): answered from the page, which gives the number and hours
_ASKS_FOR_HELPLINE = re.compile(
    r"\b(?:helpline|help line|advice line|phone|telephone|ring|call|number|freephone)\b", re.IGNORECASE
)
# a question about the assistant itself ("are you a real person?", "am I talking to a bot?")
_ABOUT_US = re.compile(
    r"\b(?:bot|robot|chatbot|human|real (?:person|nurse|doctor)|person or|computer|machine|ai|automated|talking to"
    r"|you real|are you|is this (?:a |an )?(?:nurse|person|doctor))\b",
    re.IGNORECASE,
)


def answer_before_check(view: TurnView, level: str) -> bool:
    """A message that would start the yes/no check with no sign present (someone's state
    described, or a question the classifier took for a report) but that asks a question of its
    own ("Will this CRS make my wife's hair fall out? She's very worried about her hair."): the
    question is answered first, then the check asks its questions all the same (issue 11: the
    check in place of the answer left the question unanswered)."""
    return (
        level == "none"
        and view.active_loop is None
        and view.intent in CHECK_INTENTS
        and (view.asks or asks_for_the_signs(view.text) or asks_whether_to_call(view.text))
        and not _answer_only(view, level)
    )


# a question for the danger signs themselves ("Sx warranting emergency care per source?", "red
# flags needing emergency care - full list?", "which of those would mean we need emergency
# help?"): the list is the answer, before the check
_THE_SIGNS = re.compile(
    r"\b(?:(?:which|what)\s+(?:of\s+(?:those|these|them)|(?:of\s+the\s+\w+\s+|\w+\s+)?(?:symptoms?|signs?|sx|ones?|things?))"
    r"|red[- ]flags?|warning signs?|danger signs?|sx|(?:full|complete|whole)\s+list|list\s+of)\b",
    re.IGNORECASE,
)
_EMERGENCY_WORDS = re.compile(
    r"\b(?:emergency|emergencies|escalat\w*|999|911|112|a\s*&\s*e|a and e|er|ambulance|urgent|urgently|immediate|straight away)\b",
    re.IGNORECASE,
)


# whether to ring or wait, asked for a case put as "if" ("if i get a temp after immunotherapy shud i
# ring someone or wait", "if I think it is just an infection should I still ring the doctor", "what
# if I'm not sure if it's serious, should I still phone"): when to get help is the answer, before
# the check
_IF_CASE = re.compile(r"\b(?:if|in case|when)\b", re.IGNORECASE)
_CALL_OR_WAIT = re.compile(
    r"\b(?:should|shud|shld|ought|do|must|can|would|is it better to)\s+(?:i|we|u|you|they)?\s*(?:still\s+|just\s+)?"
    r"(?:to\s+)?(?:ring|call|phone|contact|wait|go in|go to|get help|tell)\b|\bwait (?:and|n|&) see\b|\bor wait\b",
    re.IGNORECASE,
)


def asks_whether_to_call(text: str) -> bool:
    """A question whether to ring or wait in a case put as "if", naming nothing happening now."""
    return (
        not text.lstrip().startswith("/")
        and bool(_IF_CASE.search(text) and _CALL_OR_WAIT.search(text))
        and not _PRESENT_MOMENT.search(_CALL_OR_WAIT.sub(" ", text))  # ("should I still ring")
    )


def asks_for_the_signs(text: str) -> bool:
    """A question that asks which signs need emergency care, naming nothing happening now."""
    return (
        _typed_question(text)
        and bool(_THE_SIGNS.search(text) and _EMERGENCY_WORDS.search(text))
        and not _PRESENT_MOMENT.search(text)
    )


def learned_only(triage: Triage) -> bool:
    """Every red flag present was heard by the learned detector alone, none by the rules (a red
    flag the rules read inside a question is not enough: "what do i do, he cant breathe")."""
    red_flags = triage.red_flags
    return bool(red_flags) and all(f.detector == "learned" for f in red_flags)


# a short follow-up that leans on the last answer ("and the heart", "and if she keeps getting it",
# "what about the milder ones")
_FRAGMENT = re.compile(r"^\s*(?:and|or|so|but|what about|how about|then)\b", re.IGNORECASE)


def is_fragment_follow_up(text: str) -> bool:
    return bool(_FRAGMENT.match(text)) and len(text.split()) <= 8


def _turn_start(view: TurnView, groups: Sequence[CheckGroup], red_flag_ids: Sequence[str]) -> Plan:
    events = updated_state(view, groups, red_flag_ids)
    if view.locale_hint in ("uk", "us") and view.locale_hint != view.slots.get("locale"):
        events["locale"] = view.locale_hint
    if view.slots.get("answer_failed"):
        events["answer_failed"] = False
    level = turn_level(view, groups)
    if _answer_only(view, level):
        return Plan(ANSWER, events)
    starts_check = view.active_loop is None and (
        view.intent in CHECK_INTENTS or (level == "urgent" and view.original_intent in CHECK_INTENTS)
    )
    if starts_check and level != "emergency":
        events.update(check_prefill(view, groups))
    if answer_before_check(view, level):
        return Plan(ANSWER, events)  # the question first; then the check (see _after)
    if level == "emergency":
        return Plan(EMERGENCY, events)
    dismissed = view.intent in DISMISS_INTENTS or view.check_answer == "absent"
    if view.emergency_outstanding and view.active_loop is None and dismissed:
        # no silent cancel: "no I'm fine" after an emergency gets the instruction once more
        return Plan(RESTATE, events)
    if level == "urgent":
        return Plan(URGENT, events)
    if view.active_loop == FORM and view.stop_requested:
        return Plan(DEACTIVATE, events)
    if view.active_loop == FORM and view.intent != "dismiss_alert":
        if view.loop_rejected_this_turn:
            if asks_during_check(view):
                # a question instead of a yes or no: answered, then the check's question again
                return Plan(ANSWER, events)
            return Plan(REPROMPT, events)  # not a yes or no: remind, then ask again
        if view.loop_rejected:
            # the answer to the question asked again (Rasa does not extract slots for a loop
            # that was rejected, so the answer is set here)
            if view.check_answer and view.requested_slot:
                events[view.requested_slot] = view.check_answer
            return Plan(FORM, events)
    return Plan(None, events)


def _after(view: TurnView, last: str, groups: Sequence[CheckGroup]) -> str | None:
    done = view.actions_this_turn
    if last == EMERGENCY:
        if view.active_loop:
            return DEACTIVATE
        if (
            answer_follows_emergency(view.original_intent, view.text)
            or asks_after_emergency(view)
            or asks_about_its_signs(view)
            or asks_past_a_background_sign(view)
            or asks_what_crs_does(view)
            or follow_up_names_a_sign(view)
        ):
            return ANSWER  # the instruction first and whole; then the question is answered
        return ACTION_LISTEN
    if last == DEACTIVATE:
        return ACTION_LISTEN if EMERGENCY in done else CHECK_STOPPED
    if last in (RESTATE, CHECK_STOPPED):
        return ACTION_LISTEN
    if last == URGENT:
        if view.active_loop:
            return view.active_loop  # the check goes on
        if view.original_intent in CHECK_INTENTS or view.intent in CHECK_INTENTS:
            return FORM  # rule the red flags out with the yes/no check
        if answer_follows_urgent(view.original_intent, view.text, view.asking):
            return ANSWER  # and still answer the question asked
        return ACTION_LISTEN
    if last == REPROMPT:
        return f"utter_ask_{view.requested_slot}" if view.requested_slot else ACTION_LISTEN
    if last.startswith("utter_ask_" + CHECK_PREFIX) and (REPROMPT in done or ANSWER in done):
        return ACTION_LISTEN
    if last == FORM and view.active_loop is None and CHECK_RESULT not in done:
        return CHECK_RESULT
    if last in (CHECK_RESULT, SERVICE_PROBLEM):
        return ACTION_LISTEN
    if last in view.custom_actions and not view.bot_uttered_this_turn:
        return SERVICE_PROBLEM  # the action server is down or too slow (design.md rule 9)
    if last == ANSWER:
        if view.active_loop == FORM and view.requested_slot:
            return f"utter_ask_{view.requested_slot}"  # the check goes on: its question again
        if FORM not in done and answer_before_check(view, turn_level(view, groups)):
            return FORM  # the question answered, now the check
        return ACTION_LISTEN  # one answer, at most one fallback, a turn (issue 11)
    return None
