"""Over-triage families of issue 9 (the messages here are the team's own, not a fresh set's):
a sign that is only the subject of a general question, a word asked about, what a leaflet or a
video says, someone else's story, an episode in hospital that is over, and a weak guess of the
learned detector explained by a milder symptom. Each family has its guards: the same words
about someone now stay an emergency."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "text",
    [
        "Is difficulty in breathing a symptom of CRS?",
        "would a racing heart be a reason to ring 999",
        "Does glofitamab cause fits?",
        "Is low blood pressure one of the warning signs?",
        "Is slurred speech something to worry about with CRS?",
    ],
)
def test_a_general_question_with_the_sign_as_its_subject_is_not_a_report(engine, text):
    assert engine.assess(text).level == "none", engine.assess(text).findings


@pytest.mark.parametrize(
    "text",
    [
        "is very confused, is it normal after car t?",  # a dropped subject: a report
        "Is a seizure dangerous? hes having one",
        "Is confusion normal? my husband is confused right now",
        "is confusion a sign of CRS? because he is really confused",
        "is his breathing fast a sign of CRS",
    ],
)
def test_a_question_about_someone_now_stays_an_emergency(engine, text):
    assert engine.assess(text).level == "emergency", engine.assess(text).findings


@pytest.mark.parametrize(
    "text",
    [
        "what mean drowsiness",
        "What is hallucinating?",
        "the word seizure, what does it mean",
        "I dont understand confusion, please explain",
    ],
)
def test_a_word_asked_about_is_not_a_report(engine, text):
    assert engine.assess(text).level == "none", engine.assess(text).findings


@pytest.mark.parametrize(
    "text",
    [
        "the word seizure scares me, he is having one now",
        "what mean confused? my father is very confused since morning",
        "he is trying to talk but the words come out wrong",
    ],
)
def test_a_word_about_someone_now_stays_an_emergency(engine, text):
    assert engine.assess(text).level == "emergency", engine.assess(text).findings


@pytest.mark.parametrize(
    "text",
    [
        "the booklet says ring for confusion or fits, does that apply at night",
        "I read in the handout that blue lips are an emergency",
        "we watched a video where a man had a seizure, scary",
        "another dad on the ward said his son had a fit after the cells",
        "Caller says a friend from the clinic had a seizure last year, asks how common",
    ],
)
def test_what_a_leaflet_says_or_someone_elses_story_is_not_a_report(engine, text):
    assert engine.assess(text).level == "none", engine.assess(text).findings


@pytest.mark.parametrize(
    "text",
    [
        "the leaflet says to ring if he gets confused and he is confused",
        "I read that blue lips are serious - his lips are blue now",
        "watched a documentary about fits, now my wife is fitting",
        "another mum on the ward said her son had a fit and my son is fitting now",
        "my friend is having a seizure right now",
        "the nurse said mums oxygen is low",
        "we were told to look out for confusion and hes confused now",
    ],
)
def test_a_source_or_a_story_beside_a_report_keeps_the_report(engine, text):
    assert engine.assess(text).level == "emergency", engine.assess(text).findings


@pytest.mark.parametrize(
    "text",
    [
        "had a temp last wk in hosp, all fine now",
        "he was confused on day 3 in hospital, they treated it and hes been himself since",
        "She had a high temperature in the hospital after her first dose but no trouble since",
    ],
)
def test_an_episode_in_hospital_that_is_over_is_history(engine, text):
    assert engine.assess(text).level == "none", engine.assess(text).findings


@pytest.mark.parametrize(
    "text",
    [
        "she had a seizure an hour ago, she's fine now",  # no remote anchor: a report
        "he had a fit last week and he's not himself now",
        "had a fever last week in hospital, all fine now, but today he cant breathe",
        "he was confused in hospital last week and hes still confused",
        "he had a high temperature on day 2 in hospital, he's fine now but his lips are blue",
    ],
)
def test_an_episode_that_is_not_over_or_a_new_sign_stays_a_report(engine, text):
    assert engine.assess(text).level == "emergency", engine.assess(text).findings


def test_a_weak_guess_is_explained_away_by_a_milder_symptom_only_below_its_share(engine):
    """The rule on the learned detector's weak guesses, on a message where the rules read a milder
    symptom: a guess far below its own threshold is dropped, one near it stays."""
    from crs.triage import learned_reading
    from crs.triage.learned import Detection

    text = "he cant stop shivering"
    triage = engine.assess(text)
    assert triage.level == "urgent", triage.findings
    from crs.triage.folding import fold

    folded, origin = fold(text)
    doc = engine._doc(folded)
    found = [f for f in triage.findings if f.detector == "rules"]
    low = engine.learned.thresholds["seizure"] * 0.2
    high = engine.learned.thresholds["seizure"] * 0.6
    segment = (0, len(doc))
    weak_low = Detection("seizure", low, 0, len(doc), segment, (), True)
    weak_high = Detection("seizure", high, 0, len(doc), segment, (), True)
    assert learned_reading._explained(engine, weak_low, doc, origin, found)
    assert not learned_reading._explained(engine, weak_high, doc, origin, found)
    # dizziness goes with low blood pressure and a fast heart (the source says so): no explaining
    dizzy = "he feels dizzy and lightheaded"
    triage = engine.assess(dizzy)
    folded, origin = fold(dizzy)
    doc = engine._doc(folded)
    found = [f for f in triage.findings if f.detector == "rules" and f.id == "dizziness"]
    assert found
    guess = Detection("low_blood_pressure", 0.01, 0, len(doc), (0, len(doc)), (), True)
    assert not learned_reading._explained(engine, guess, doc, origin, found)


@pytest.mark.parametrize(
    "text",
    [
        "im seeing tiny birds on the lampshade and i know they are not really there",
        "she keeps waving at kids in the corner, there's nobody there",
    ],
)
def test_a_hallucination_told_with_its_not_there_is_not_a_negation(engine, text):
    assert engine.assess(text).level == "emergency", engine.assess(text).findings


def test_not_seeing_things_is_still_a_negation(engine):
    assert engine.assess("he is not seeing things, he knows nobody is there").level == "none"


@pytest.mark.parametrize(
    "text",
    [
        "My nephew is 7 and about to have Kymriah. Can CRS happen to children?",
        "my wife is starting teclistamab next week. is crs likely",
        "I have had glofitamab before. Could I get CRS from epcoritamab?",
    ],
)
def test_a_background_sentence_before_a_question_is_neither_a_finding_nor_a_concern(engine, text):
    triage = engine.assess(text)
    assert triage.level == "none" and not triage.concern, (triage.findings, triage.concern)


@pytest.mark.parametrize(
    "text",
    [
        "My nephew is 7 and had Kymriah on Monday. Tonight he keeps talking to people who are not there",
        "my wife had teclistamab yesterday and she cant stay awake",
        "my husband is 78 and on glofitamab, he is very muddled tonight. is that the crs?",
    ],
)
def test_a_background_sentence_beside_a_report_keeps_the_report(engine, text):
    assert engine.assess(text).level == "emergency", engine.assess(text).findings


def test_background_is_only_what_the_lists_and_treatment_names_hold(engine):
    from crs.triage.folding import fold

    for text, expected in [
        ("my son is 9 and about to have kymriah", True),
        ("my son is 9 and about to have kymriah and is grey", False),
        ("my dad is 130", False),  # not an age
    ]:
        doc = engine._doc(fold(text)[0])
        assert engine.is_background(doc, 0, len(doc)) is expected, text


@pytest.mark.parametrize(
    "text",
    [
        "my neighbour's daughter had a fit after her cells, is that common",
        "somebody in our facebook support group went blue after CAR-T. How often does that happen?",
    ],
)
def test_a_story_about_someone_elses_relative_or_a_group_member_is_not_a_report(engine, text):
    assert engine.assess(text).level == "none", engine.assess(text).findings


@pytest.mark.parametrize(
    "text",
    ["my neighbour's daughter had a fit and is still fitting now", "my friends dad cant breathe"],
)
def test_someone_elses_relative_now_is_still_a_report(engine, text):
    assert engine.assess(text).level == "emergency", engine.assess(text).findings


@pytest.mark.parametrize(
    "text",
    [
        "the reading on his oxygen clip is 88",  # a device's reading, not something read
        "I saw that his lips were blue",
        "she is shaking all over and her eyes went back, he never had this before",
        "he never had anything like this, his whole body is jerking and he wont answer",
    ],
)
def test_a_reading_a_sight_and_never_before_stay_reports(engine, text):
    assert engine.assess(text).level == "emergency", engine.assess(text).findings


# Issue 11: questions told with context, and follow-ups. A weak guess of the learned detector, or
# its "concern", on a statement that is only context for a question of its own (who someone is,
# home, pets, work, the treatment planned) gives no finding; a follow-up that starts with "and",
# "so" ... before its question word is a question.
@pytest.mark.parametrize(
    "text",
    [
        "and then what happens",
        "so which ones do they use",
        "and how quickly",
        "We have three dogs and a cat. Can they stay at home during CAR-T?",
        "My grandad is 90 and lives by himself. Will he be kept in after his infusion?",
        "I'm 67 and work in a school. When can I go back after teclistamab?",
        "My daughter is 12 and loves swimming. After her CAR-T can she go back in the pool?",
        "I live two hours from the hospital. Do we have to stay nearby afterwards?",
        "my dad starts teclistamab next week does he have to stay in",
    ],
)
def test_context_for_a_question_of_its_own_is_not_a_report(engine, text):
    triage = engine.assess(text)
    assert (triage.level, triage.concern) == ("none", None), triage


@pytest.mark.parametrize(
    "text",
    [
        # the statement is in the present, wherever the marker is
        "My dad had CAR-T on Monday. Tonight he thinks there are people in the garden. Should I bring anything to clinic?",
        # the question names a sign, or points back at what is told
        "is shaking a side effect of this? my arms jerked about and I couldn't control them",
        "he is talking to his brother who died years ago. is that a side effect",
        "She keeps staring at the wall and won't answer me. What does CRS do to the brain?",
        "My husband is 70 and had his cells on Friday. He's not making any sense this morning. What are the signs of CRS?",
        "I live alone and my heart is pounding so hard I can see it in my neck. Who do I ring?",
        "my son is 9 and keeps seeing spiders on the wall. can CRS do that?",
    ],
)
def test_a_report_told_with_a_question_stays_an_emergency(engine, text):
    assert engine.assess(text).level == "emergency", engine.assess(text).findings


def test_a_negation_of_what_is_normal_describes_the_sign(engine):
    # "words not correct" says the words are wrong: not a denial of a language problem (fresh12's
    # one miss, an emergency the engine before this round missed too)
    assert engine.assess("now she speak strange, words not correct, she cannot say her own name").level == "emergency"
    # a denial of the sign itself still holds
    assert engine.assess("his speech is not slurred at all").level == "none"
    assert engine.assess("she is not confused, knows where she is").level == "none"


@pytest.mark.parametrize(
    "text",
    [
        # a relative "that", or "that" asked about as a cause, does not point back at a state
        "My sister is on rituximab for her lymphoma. Is that one of the drugs that can cause it?",
        "My mum was given ATG as part of her treatment. Can that cause CRS too?",
        # "good evening" is no time of day something happened; over the whole message too
        "Good evening. My dad is 81 and starts CAR-T in May. Is he at more risk because of his age?",
        # a follow-up about something else, about nobody
        "and for the milder ones",
        "what about older people",
        # a question put after a statement without a stop, about CRS
        "my wife had her infusion last week and im worried is crs dangerous",
    ],
)
def test_more_context_for_a_question_is_not_a_report(engine, text):
    triage = engine.assess(text)
    assert (triage.level, triage.concern) == ("none", None), triage


@pytest.mark.parametrize(
    "text",
    [
        "and his lips are going blue",
        "what about his breathing, it's really fast now",
        "He keeps staring at nothing. Can that cause CRS?",
        "he's been shaking and jerking for five minutes, is that one of the signs?",
    ],
)
def test_follow_ups_and_questions_about_someone_now_stay_emergencies(engine, text):
    assert engine.assess(text).level == "emergency", engine.assess(text).findings


def test_a_drug_name_heard_as_words_brings_no_sign(engine):
    # voice-to-text splits "tocilizumab" into words; "ill" in it is no report of being unwell
    assert engine.assess("my wife had a drug called toss ill is you mab last night what is it").level == "none"
    # the same word outside the name still counts
    assert engine.assess("he is ill after the toss ill is you mab").level == "urgent"


def test_a_when_question_after_context_is_a_question(engine):
    triage = engine.assess("I work in factory. When I can go back to work after I have CRS?")
    assert (triage.level, triage.concern) == ("none", None), triage
