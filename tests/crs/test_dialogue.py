"""Triage decisions of the dialogue (Rasa-free): what must happen next, whatever else is going on."""

from __future__ import annotations

import pytest

from crs.dialogue import (
    ACTION_LISTEN,
    ANSWER,
    CHECK_RESULT,
    CHECK_STOPPED,
    DEACTIVATE,
    EMERGENCY,
    FORM,
    REPROMPT,
    RESTATE,
    SERVICE_PROBLEM,
    URGENT,
    TurnView,
    asks_past_a_background_sign,
    asks_what_crs_does,
    asks_what_would_happen,
    check_groups,
    follow_up_names_a_sign,
    is_general_question,
    plan,
    red_flag_ids,
)
from crs.triage import default_engine
from crs.triage.engine import NOT_ASKING

ENGINE = default_engine()
GROUPS = check_groups(ENGINE.rules)
FLAGS = red_flag_ids(ENGINE.rules)


def view(text: str = "", **kwargs) -> TurnView:
    kwargs.setdefault("intent", "ask_symptoms")
    # as components/triage_policy.py reads it
    asking = ENGINE.asking(text) if kwargs.get("active_loop") is None else NOT_ASKING
    kwargs.setdefault("asking", asking.spans)
    kwargs.setdefault("asks_plainly", asking.plainly)
    kwargs.setdefault("questions", asking.questions)
    return TurnView(triage=ENGINE.assess(text), text=text, **kwargs)


def decide(v: TurnView):
    return plan(v, GROUPS, FLAGS)


def outcome(v: TurnView) -> str:
    """What the turn does with a question: "answer" (no check), "answer, then check", or the
    first action (the check's path is None: the form, by the rules)."""
    first = decide(v).action
    if first != ANSWER:
        return str(first)
    v.actions_this_turn = [ANSWER]
    return "answer, then check" if decide(v).action == FORM else "answer"


def test_a_red_flag_comes_first_whatever_the_intent():
    for intent in ("ask_symptoms", "greet", "out_of_scope", "nlu_fallback", None):
        assert decide(view("my wife cant breathe", intent=intent)).action == EMERGENCY


def test_a_red_flag_inside_the_check_ends_it():
    v = view("he's fitting", active_loop=FORM, requested_slot="check_circulation")
    assert decide(v).action == EMERGENCY
    v.actions_this_turn = [EMERGENCY]
    assert decide(v).action == DEACTIVATE
    v.actions_this_turn = [EMERGENCY, DEACTIVATE]
    assert decide(v).action == "action_listen"


@pytest.mark.parametrize("answer", ["yes", "Y", "yeah", "not sure"])
def test_yes_or_unsure_to_a_red_flag_question_is_an_emergency_at_once(answer):
    v = view(
        answer, intent="affirm", active_loop=FORM, requested_slot="check_breathing", check_answer=ENGINE.answer(answer)
    )
    decision = decide(v)
    assert decision.action == EMERGENCY
    assert decision.events["red_flags"]["breathing"] in ("present", "unsure")
    assert decision.events["triage_level"] == "emergency"


def test_yes_to_the_other_symptoms_question_is_urgent():
    v = view("yes", intent="affirm", active_loop=FORM, requested_slot="check_symptoms", check_answer="present")
    assert decide(v).action == URGENT


def test_no_lets_the_check_go_on():
    v = view("no", intent="deny", active_loop=FORM, requested_slot="check_breathing", check_answer="absent")
    decision = decide(v)
    assert decision.action is None  # the form asks the next question
    assert decision.events["red_flags"]["breathing"] == "absent"


def test_an_urgent_symptom_during_the_check_then_the_check_goes_on():
    v = view(
        "no but she has a temperature",
        intent="triage_urgent",
        active_loop=FORM,
        requested_slot="check_breathing",
        check_answer="absent",
    )
    assert decide(v).action == URGENT
    v.actions_this_turn = [URGENT]
    assert decide(v).action == FORM


def test_an_urgent_symptom_with_a_question_still_gets_the_answer():
    v = view("my wife has a temp of 38.6, what is CRS", intent="triage_urgent", original_intent="ask_about_crs")
    assert decide(v).action == URGENT
    v.actions_this_turn = [URGENT]
    assert decide(v).action == ANSWER


@pytest.mark.parametrize(
    "text, answered",
    [
        ("I have a temperature of 38, can I drink alcohol?", True),  # a question: answered or "not covered"
        ("my temp is 38.7 and im shivery", False),  # a report: the instruction is the reply
    ],
)
def test_an_urgent_symptom_with_a_question_the_classifier_missed(text, answered):
    v = view(text, intent="triage_urgent", original_intent="nlu_fallback")
    v.text = text
    assert decide(v).action == URGENT
    v.actions_this_turn = [URGENT]
    assert (decide(v).action == ANSWER) is answered


def test_an_urgent_symptom_reported_starts_the_check():
    v = view("she has a fever, should we go to a&e", intent="triage_urgent", original_intent="ask_is_emergency")
    assert decide(v).action == URGENT
    v.actions_this_turn = [URGENT]
    assert decide(v).action == FORM


def test_no_silent_cancel():
    v = view("no I'm fine", intent="dismiss_alert", emergency_outstanding=True)
    assert decide(v).action == RESTATE
    v.actions_this_turn = [RESTATE]
    assert decide(v).action == "action_listen"
    # once restated, a further dismissal is left to the rules (acknowledged, finding kept)
    assert decide(view("ignore that", intent="dismiss_alert", emergency_outstanding=False)).action is None


def test_a_dismissal_keeps_the_finding():
    v = view(
        "ignore that",
        intent="dismiss_alert",
        emergency_outstanding=True,
        slots={"red_flags": {"seizure": "present"}, "triage_level": "emergency"},
    )
    decision = decide(v)
    assert decision.events["red_flags"]["seizure"] == "present"
    assert decision.events["triage_level"] == "emergency"


def test_a_negation_never_erases_a_red_flag_once_present():
    v = view("he is not confused now", intent="deny", slots={"red_flags": {"confusion": "present"}})
    assert decide(v).events["red_flags"]["confusion"] == "present"


def test_signs_said_absent_earlier_are_not_asked_again():
    earlier = [ENGINE.assess("he's breathing fine, no fever")]
    v = view("is this an emergency", intent="ask_is_emergency", earlier_triage=earlier)
    events = decide(v).events
    assert events["check_breathing"] == "absent"
    assert events["check_alertness"] is None  # not said: asked


def test_unclear_reply_gets_a_reminder_then_the_question_again():
    v = view(
        "what?",
        intent="nlu_fallback",
        active_loop=FORM,
        requested_slot="check_alertness",
        loop_rejected_this_turn=True,
        loop_rejected=True,
    )
    assert decide(v).action == REPROMPT
    v.actions_this_turn = [REPROMPT]
    assert decide(v).action == "utter_ask_check_alertness"


def test_the_answer_after_a_reminder_is_taken():
    v = view(
        "n",
        intent="deny",
        active_loop=FORM,
        requested_slot="check_alertness",
        loop_rejected=True,
        check_answer="absent",
    )
    decision = decide(v)
    assert decision.action == FORM and decision.events["check_alertness"] == "absent"


def test_stop_ends_the_check():
    v = view("STOP", intent="ask_prevention", active_loop=FORM, requested_slot="check_breathing", stop_requested=True)
    assert decide(v).action == DEACTIVATE
    v.actions_this_turn = [DEACTIVATE]
    assert decide(v).action == CHECK_STOPPED


def test_the_check_ends_with_its_result():
    v = view("no", intent="deny", active_loop=None, actions_this_turn=[FORM])
    assert decide(v).action == CHECK_RESULT


def test_a_failed_custom_action_gets_the_apology():
    v = view("what is crs", intent="ask_about_crs", actions_this_turn=[ANSWER], custom_actions=frozenset({ANSWER}))
    decision = decide(v)
    assert decision.action == SERVICE_PROBLEM and decision.events == {"answer_failed": True}
    v.bot_uttered_this_turn = True  # it answered: one answer a turn, then listen (issue 11)
    assert decide(v).action == ACTION_LISTEN


def test_locale_follows_the_channel():
    assert decide(view("hi", intent="greet", locale_hint="us")).events["locale"] == "us"
    assert "locale" not in decide(view("hi", intent="greet", locale_hint="fr")).events


@pytest.mark.parametrize(
    "text, findings, general",
    [
        ("can it make you sleepy or hard to wake up", [{"assertion": "hypothetical"}], True),
        ("Can CRS affect the heart?", [], True),
        ("can it make my husband sleepy?", [{"assertion": "hypothetical"}], False),  # a person: may be a report
        ("is he going to be sleepy?", [{"assertion": "hypothetical"}], False),
        ("sleepy and hard to wake", [{"assertion": "hypothetical"}], False),  # not a question
        ("can it cause fits? having one now", [{"assertion": "present"}], False),
    ],
)
def test_a_general_question_is_about_nobody_and_reports_nothing(text, findings, general):
    assert is_general_question(text, findings) is general


@pytest.mark.parametrize(
    "text, intent, answered",
    [
        # questions about the answer just given: answered in its context
        ("is it serious?", "ask_is_emergency", True),
        ("are any of those an emergency?", "ask_is_emergency", True),
        ("which ones are an emergency?", "ask_is_emergency", True),
        ("so why is having too many bad", "report_symptom", True),
        # a person only as the subject of what would happen: a question about the future
        ("would i need a ventilator", "ask_is_emergency", True),
        ("so should I ring if it's mild?", "ask_is_emergency", True),
        ("what if she reacts to the next dose?", "report_symptom", True),
        # ... but a person in a statement, or now, keeps the check
        ("should I be worried? he's not right", "report_symptom", False),
        ("would he be ok? he is getting worse", "report_symptom", False),
        ("my son is 8, would that change things?", "report_symptom", False),
        ("is it bad if I feel like this now?", "report_symptom", False),
        # the person's situation now, or a person named: the yes/no check, as before
        ("is this an emergency?", "ask_is_emergency", False),
        ("is it serious? he's been like that all day", "ask_is_emergency", False),
        ("is that bad for my dad?", "ask_is_emergency", False),
        ("is it normal to feel like this now?", "report_symptom", False),
        ("not feeling right", "report_symptom", False),  # not a question
        ("is an emergency", "ask_is_emergency", False),  # points back at nothing
        ("/ask_is_emergency", "ask_is_emergency", False),  # the button
    ],
)
def test_a_question_about_the_last_answer_is_answered_not_checked(text, intent, answered):
    after = outcome(view(text, intent=intent, after_answer=True))
    assert (after == "answer") is answered, after
    # with no answer before it, the same message starts the check (the rules' path), unless it
    # asks what would happen (test_a_first_question_about_what_would_happen_is_answered)
    if not asks_what_would_happen(text, intent):
        assert outcome(view(text, intent=intent, after_answer=False)) != "answer"


def test_a_red_flag_in_a_question_about_the_last_answer_is_still_an_emergency():
    assert (
        decide(view("is it serious? she cant breathe", intent="ask_is_emergency", after_answer=True)).action
        == EMERGENCY
    )


@pytest.mark.parametrize(
    "text, intent, answered",
    [
        ("Is a high fever an emergency?", "ask_is_emergency", True),
        ("and the heart?", "nlu_fallback", True),
        ("can CRS make breathing difficult?", "ask_symptoms", True),
        ("my husband can't breathe, what do I do?", "ask_when_to_get_help", False),  # a person
        ("is this an emergency? cant breathe", "ask_is_emergency", False),  # now
        ("cant breathe", "report_symptom", False),  # a report, not a question
        ("what is CRS? she is fitting", "ask_about_crs", False),
    ],
)
def test_after_the_emergency_instruction_only_a_general_question_is_answered(text, intent, answered):
    v = view(text, intent="triage_emergency", original_intent=intent, actions_this_turn=[EMERGENCY])
    assert decide(v).action == (ANSWER if answered else ACTION_LISTEN)
    # inside the check the instruction ends it, as before
    v = view(text, intent="triage_emergency", original_intent=intent, actions_this_turn=[EMERGENCY], active_loop=FORM)
    assert decide(v).action == DEACTIVATE


@pytest.mark.parametrize(
    "text, intent, answered",
    [
        ("can it be later than that?", "goodbye", True),
        ("and if I'm not sure?", "deny", True),
        ("thanks, how long does it last?", "thank", True),
        ("thanks", "thank", False),
        ("bye", "goodbye", False),
    ],
)
def test_a_follow_up_question_taken_for_small_talk_is_answered(text, intent, answered):
    assert (decide(view(text, intent=intent, after_answer=True)).action == ANSWER) is answered


@pytest.mark.parametrize(
    "text, intent, answered",
    [
        # with no answer before it: a question about what would happen, its person only the subject
        ("would I need a drip?", "ask_is_emergency", True),
        ("if I go confused should I go to the emergency room", "ask_is_emergency", True),
        ("is this an emergency?", "ask_is_emergency", False),  # now: the check
        ("should we go to a&e", "ask_is_emergency", False),  # now, not what would happen
        ("should I call 999?", "ask_is_emergency", False),
        ("is it serious?", "ask_is_emergency", False),  # may be about what they see: the check
        ("should I go in? he's not right", "ask_is_emergency", False),  # a person in a statement
        ("would he be ok, he is getting worse", "ask_is_emergency", False),  # now
        ("would I need a drip?", "report_symptom", False),  # a report is checked
        # a long question taken for small talk is answered; small talk is not
        ("Would I have to go to intensive care if it got bad?", "goodbye", True),
        ("bye, thanks", "goodbye", False),
        ("thanks, is that all?", "thank", False),
    ],
)
def test_a_first_question_about_what_would_happen_is_answered(text, intent, answered):
    assert (outcome(view(text, intent=intent, after_answer=False)) == "answer") is answered


def test_a_concern_about_someone_keeps_the_check_even_in_a_conditional_frame():
    v = view("would I need a drip?", intent="ask_is_emergency")
    v.triage = type(v.triage)(v.triage.level, v.triage.findings, "he's not himself")
    assert outcome(v) == "answer, then check"  # answered, and the check all the same


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        # a question of its own: answered first, then the check asks its questions all the same
        ("Will this CRS make my wife's hair fall out? She's very worried about her hair.", "report_symptom", True),
        ("Pt asking what cytokines are.", "report_symptom", True),
        ("my son is 11 and has a big tumour load. does that make CRS more likely?", "report_symptom", True),
        ("mum lives alone. who does she ring if it starts", "report_symptom", True),
        ("I'm now having CAR-T. Is ATG one of the CRS drugs?", "report_symptom", True),
        ("she keeps shaking, what is CRS?", "report_symptom", True),  # the question, from "what"
        # about what the message tells (judged, or what to do now): the check alone, as before
        ("he's not himself, is that normal?", "report_symptom", False),
        ("he's hot, who do I ring?", "report_symptom", False),
        ("should I be worried? he's not right", "report_symptom", False),
        ("is this an emergency?", "ask_is_emergency", False),
        ("dad keeps asking where he is", "report_symptom", False),  # what he does, not a question
        ("not feeling right", "report_symptom", False),
    ],
)
def test_a_question_of_its_own_is_answered_before_the_check(text, intent, expected):
    v = view(text, intent=intent)
    v.triage = type(v.triage)("none", (), "someone's state")  # no sign present: the check's path
    assert outcome(v) == ("answer, then check" if expected else "None")
    # once the check has started, the answer does not start it again
    v.actions_this_turn = [ANSWER, FORM]
    assert decide(v).action != FORM


def _red_flag(text):
    from crs.triage import Finding

    return Finding("confusion", "emergency", "confusion", text, "present", 0, len(text), "", detector="learned")


@pytest.mark.parametrize(
    "text, intent, answered",
    [
        # a question taken for "are you a bot?" is answered; one about us is not
        ("Is this CRS catching at all? My grandchildren are keen to visit.", "bot_challenge", True),
        ("are you a real person?", "bot_challenge", False),
        ("am I talking to a computer", "bot_challenge", False),
        # a question for the helpline's number is answered from the page; one for a person is not
        ("is there a nurse i can call abt crs", "bot_challenge", True),
        ("Is there a telephone number I can ring to talk to a nurse about all this?", "bot_challenge", True),
        ("hello is this a real nurse", "bot_challenge", False),
        ("am i talking to a robot or a nurse, can I ring someone", "bot_challenge", False),
        # "is <a sign> an emergency?" in general: answered ("if this is happening now" first)
        ("Is a high fever an emergency?", "ask_is_emergency", True),
        ("is a seizure an emergency with crs", "ask_is_emergency", True),
        ("is this an emergency?", "ask_is_emergency", False),  # the check
        ("is it serious? he's been like that all day", "ask_is_emergency", False),  # now: the check
    ],
)
def test_a_question_taken_for_a_bot_challenge_or_a_general_emergency_question_is_answered(text, intent, answered):
    assert (outcome(view(text, intent=intent)) == "answer") is answered


def _learned(triage, detector):
    from dataclasses import replace

    return type(triage)(triage.level, tuple(replace(f, detector=detector) for f in triage.findings), triage.concern)


@pytest.mark.parametrize(
    "text, intent, detector, answered",
    [
        # a red flag only the learned detector heard, in a message that asks: the instruction
        # whole, then the answer (the guess may be wrong; the instruction stands either way)
        ("My husband and I are so confused by all this. What is CRS?", "ask_about_crs", "learned", True),
        # the rules heard it: the instruction alone, as before
        ("My husband and I are so confused by all this. What is CRS?", "ask_about_crs", "rules", False),
        # no question of its own, or a report told with one: the instruction alone
        ("my husband is so confused", "report_symptom", "learned", False),
        ("he is confused, is that normal?", "ask_is_emergency", "learned", False),
        ("lips gone blu-ish??", "report_symptom", "learned", False),
        (
            "tonight she keeps swatting at flies but there aren't any flies what do i do",
            "nlu_fallback",
            "learned",
            False,
        ),
        ("she doesn't understand what I'm saying to her, just stares", "nlu_fallback", "learned", False),
        (
            "My husband has this evening been holding a conversation with his late mother.",
            "nlu_fallback",
            "learned",
            False,
        ),
        ("mum seein ppl in the garden at nite that aint there. is this the car t", "ask_about_drug", "learned", False),
        ("I came over queer and went down, I don't know how long I was out for", "nlu_fallback", "learned", False),
    ],
)
def test_after_an_emergency_only_the_learned_detector_heard_a_question_is_answered(text, intent, detector, answered):
    v = view(text, intent="triage_emergency", original_intent=intent, actions_this_turn=[EMERGENCY])
    if v.triage.level != "emergency":  # a red flag the learned detector may hear (or not): as if it did
        v.triage = type(v.triage)("emergency", (_red_flag(text),), None)
    v.triage = _learned(v.triage, detector)
    assert decide(v).action == (ANSWER if answered else ACTION_LISTEN)


@pytest.mark.parametrize(
    "text, intent, answered",
    [
        # the red flag is what the question asks about: the instruction whole, then the answer
        ("Is possible to have fits from this syndrome?", "nlu_fallback", True),
        ("what do they do for low blood pressure then", "ask_treatment", True),
        ("What should I do if my husband is ever very hard to wake after his treatment?", "ask_treatment", True),
        # told after the question's first clause, outside the question, or heard as a report
        ("what do i do, he cant breathe", "nlu_fallback", False),
        ("he cant breathe, can CRS do that?", "ask_symptoms", False),
        ("is it crs if shes breathing really fast? she is rite now", "report_symptom", False),
        # the red flag is told as a state there before, or as something heard or read: the
        # instruction whole, then the answer
        (
            "Can CRS make someone confused? My mum already gets a bit muddled.",
            "ask_symptoms",
            True,
        ),
        (
            "I'm 80 and I get breathless anyway with my chest. What breathing symptoms can CRS cause?",
            "ask_symptoms",
            True,
        ),
        (
            "my husband already has low blood pressure what do they give for low blood pressure with crs",
            "ask_treatment",
            True,
        ),
        ("Can CRS affect the brain? Dad's nurse mentioned confusion and now I'm worried.", "ask_symptoms", True),
        (
            "Someone on a forum said their dad started seeing things. Is hallucinating part of CRS?",
            "ask_symptoms",
            True,
        ),
        # told with nothing of the kind, no question of its own, or heard as a report: alone
        ("my husband has low blood pressure, what do they give for it?", "ask_treatment", False),
        ("she already cant breathe properly", "report_symptom", False),
        ("the nurse said his lips are blue, what do we do", "nlu_fallback", False),
        ("the machine says eighty five over fifty what does that mean", "ask_symptoms", False),
    ],
)
def test_after_an_emergency_a_question_about_its_red_flag_or_past_a_background_one_is_answered(text, intent, answered):
    v = view(text, intent="triage_emergency", original_intent=intent, actions_this_turn=[EMERGENCY])
    assert v.triage.level == "emergency"
    assert decide(v).action == (ANSWER if answered else ACTION_LISTEN)


def test_no_emergency_of_the_triage_sets_gets_an_answer_for_a_background_sign():
    """Every emergency message of the triage sets reports a red flag present now: none may pass for
    a sign told as background, for a question about what CRS does or for a follow-up naming a sign,
    even if the classifier took it for a question and it came right after an answer (the worst
    case)."""
    import yaml

    from tests.conftest import ROOT

    passed, emergencies = [], 0
    for path in sorted((ROOT / "tests" / "crs" / "triage" / "sets").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in data if isinstance(data, list) else data.get("cases", []):
            if not isinstance(case, dict) or case.get("level") != "emergency":
                continue
            v = view(
                case["text"],
                intent="triage_emergency",
                original_intent="ask_symptoms",
                actions_this_turn=[EMERGENCY],
                after_answer=True,
            )
            if v.triage.level == "emergency":
                emergencies += 1
                if asks_past_a_background_sign(v) or asks_what_crs_does(v) or follow_up_names_a_sign(v):
                    passed.append(case["text"])
    assert emergencies > 1000 and passed == []


def test_a_reported_question_after_the_urgent_instruction_is_answered():
    v = view(
        "Pt asking whether rigors are a CRS feature",
        intent="triage_urgent",
        original_intent="nlu_fallback",
        actions_this_turn=[URGENT],
    )
    assert v.triage.level == "urgent" and v.asking
    assert decide(v).action == ANSWER
    v = view("he has rigors", intent="triage_urgent", original_intent="nlu_fallback", actions_this_turn=[URGENT])
    assert decide(v).action == ACTION_LISTEN


def check_view(text, intent, **kwargs):
    return view(
        text, intent=intent, original_intent=intent, active_loop=FORM, requested_slot="check_breathing",
        loop_rejected_this_turn=True, **kwargs,
    )  # fmt: skip


@pytest.mark.parametrize(
    "text, intent, answered",
    [
        ("will she definitely get it?", "nlu_fallback", True),
        ("what should we watch for?", "ask_symptoms", True),
        ("can I drive myself home afterwards?", "nlu_fallback", True),
        ("banana", "nlu_fallback", False),  # not a question: reminded
        ("tell me more", "ask_more", False),  # not a question
        ("what else could raise her risk?", "ask_more", True),
        ("is it bad that she is so sleepy?", "ask_symptoms", False),  # a sign: triage decides
    ],
)
def test_a_question_during_the_check_is_answered_and_the_check_goes_on(text, intent, answered):
    first = decide(check_view(text, intent))
    if not answered:
        assert first.action != ANSWER
        return
    assert first.action == ANSWER
    again = decide(check_view(text, intent, actions_this_turn=[FORM, ANSWER], bot_uttered_this_turn=True))
    assert again.action == "utter_ask_check_breathing"
    done = decide(
        check_view(
            text, intent, actions_this_turn=[FORM, ANSWER, "utter_ask_check_breathing"], bot_uttered_this_turn=True
        )
    )
    assert done.action == ACTION_LISTEN


@pytest.mark.parametrize(
    "text, intent, after_answer, answered",
    [
        # a question in a statement's order about what CRS does, the sign inside it
        ("CRS can make me dizzy or fainting?", "ask_symptoms", False, True),
        ("CRS can make him confused? he is now", "ask_symptoms", False, False),  # now
        # a sign told only as a past episode
        ("Can CRS cause long-term memory problems? My mum was very muddled after hers.", "ask_symptoms", False, True),
        # a short follow-up naming a sign and nobody, right after an answer
        ("And skin colour change?", "nlu_fallback", True, True),
        ("and her lips are blue?", "nlu_fallback", True, False),  # a person
        # a red flag told as someone's state now keeps the instruction alone
        ("what is CRS? she is fitting", "ask_about_crs", True, False),
    ],
)
def test_after_the_emergency_instruction_a_question_about_a_sign_is_answered(text, intent, after_answer, answered):
    v = view(
        text,
        intent="triage_emergency",
        original_intent=intent,
        actions_this_turn=[EMERGENCY],
        after_answer=after_answer,
    )
    assert v.triage.level == "emergency"
    assert decide(v).action == (ANSWER if answered else ACTION_LISTEN)


@pytest.mark.parametrize(
    "text, expected",
    [
        # the danger signs asked for: the list first, then the check all the same
        ("CRS red flags needing emergency care?", "answer, then check"),
        ("Sx warranting emergency care per source?", "answer, then check"),
        ("and which of those would mean we need emergency help?", "answer, then check"),
        # whether to ring or wait, for a case put as "if"
        ("if i get a temp after immunotherapy shud i ring someone or wait", "answer, then check"),
        ("if its only mild shud i still call or wait", "answer, then check"),
        ("if we weren't sure it was serious, ought we to phone anyway?", "answer, then check"),
        # about now: the check alone
        ("if it is happening right now should we ring or wait?", "check"),
        ("is this an emergency?", "check"),
    ],
)
def test_a_question_for_the_signs_or_whether_to_ring_is_answered_before_the_check(text, expected):
    v = view(text, intent="ask_is_emergency", original_intent="ask_is_emergency")
    assert v.triage.level == "none"
    got = outcome(v)
    assert (got if got.startswith("answer") else "check") == expected
