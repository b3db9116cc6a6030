"""Answers to questions: the most relevant passages first, short, with follow-ups (issue 11).

Plain Python, no Rasa import. ``answer()`` takes what the NLU found in a message (intent, treatments,
triage findings) and the context of the last answer (kept by the action in the slot
``answer_context``), ranks the passages (``crs.content.retrieval``) and returns the reply with its
payload (``coverage``: answered, not_covered or unclear) and the new context.

How a question is answered:
- "Tell me more" (intent ``ask_more``, MORE by SMS) gives the next passages of the last answer.
- A drug the sources do not name, or a question whose words the sources never use (after
  synonyms), is "not covered": said honestly, with whom to ask and the topics; never a quote.
- Otherwise the ranked passages: one to three, most relevant first, about 100 words in all.
- A short follow-up ("and older people?", "how long?") is read with the last answer's topic,
  treatment, grade, person and words; a question that names a new topic starts afresh.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Dict, List, Sequence

from crs.content import Library, Locale, Quote, Segment, Treatment
from crs.content.retrieval import Passage, Query, Ranked, first_reply, following, grade_of, is_follow_up, lemmas
from crs.content.treatments import fold
from crs.dialogue import looks_like_question
from crs.replies import Reply, payload, quote_payloads, render_segments

MORE_INTENT = "ask_more"
MORE_BUTTON = {"title": "Tell me more", "payload": f"/{MORE_INTENT}"}
TOPIC_BUTTONS = [
    {"title": "What is CRS?", "payload": "/ask_about_crs"},
    {"title": "Symptoms", "payload": "/ask_symptoms"},
    {"title": "When to get help", "payload": "/ask_when_to_get_help"},
    {"title": "Treatment", "payload": "/ask_treatment"},
]
FALLBACK_BUTTONS = [
    {"title": "What is CRS?", "payload": "/ask_about_crs"},
    {"title": "Symptoms", "payload": "/ask_symptoms"},
    {"title": "Causes", "payload": "/ask_causes"},
    {"title": "Who is at risk", "payload": "/ask_risk_factors"},
    {"title": "Grades of CRS", "payload": "/ask_grading"},
    {"title": "When to get help", "payload": "/ask_when_to_get_help"},
    {"title": "Prevention", "payload": "/ask_prevention"},
    {"title": "Treatment", "payload": "/ask_treatment"},
    {"title": "Diagnosis", "payload": "/ask_diagnosis"},
    {"title": "Outlook", "payload": "/ask_outlook"},
    {"title": "Can it happen again?", "payload": "/ask_recurrence"},
    {"title": "Is this an emergency?", "payload": "/ask_is_emergency"},
]
# words of "tell me more" itself ("any more?", "more details?"): a typed "more" with other words
# the sources know ("and mild?") is a question of its own
MORE_WORDS = {"more", "else", "other", "detail", "details", "info", "further", "extra", "go", "carry"}
# words that ask how long or how often, not about what: a follow-up made of these ("how long?",
# "for how long?") leans wholly on the last answer
# "what about ...?", "and ...?": the same question about something else
_ALSO = re.compile(
    r"^\s*(?:(?:ok|okay|so|but|right)\b[\s,]*)?(?:what about|how about|and|or|also|what if)\b", re.IGNORECASE
)
# a question that asks why ("why is that?", "y?", "how come?")
_WHY = re.compile(r"^\W*(?:(?:and|so|but|ok|okay)\b[\s,]*)?(?:why|y|how come)\b", re.IGNORECASE)
FRAME_WORDS = {"long", "often", "soon", "quickly", "fast", "many", "much", "last", "time"}
FRAME_WORDS |= {"minute", "hour", "day", "night", "week", "month", "year"}  # "how many days?"
CAUSE_WORDS = {"cause", "trigger", "give", "link", "risk", "bring", "lead", "side", "effect", "likely"}
# topics whose passages tell what a treatment for CRS is or does
REMEDY_TOPICS = {"treatment", "prevention"}
# "how long?" after a question about a stay in hospital, being monitored or going home: the sources
# give a length only for some stays (glofitamab's first infusion, intensive care), in passages that
# name the stay and its end ("until 24 hours after", "once your CRS is under control"); a passage
# about how long CRS lasts, or one about the stay that gives no length, does not answer it
_HOW_LONG = re.compile(r"\b(?:how long|how many (?:days|hours|weeks|nights)|till when|until when)\b", re.IGNORECASE)
STAY_WORDS = {"stay", "hospital", "monitor", "check", "observe", "observation", "obs", "home", "ward", "admit"}
STAY_WORDS |= {"admission", "inpatient", "intensive", "icu", "itu", "hdu", "day-case", "case", "discharge"}
PASSAGE_STAY_WORDS = {"stay", "ward", "hospital", "intensive", "home"}
PASSAGE_LENGTH_WORDS = {"hour", "day", "night", "week", "month", "until", "once"}


_SENTENCE = re.compile(r"[^.!?\n]+[.!?\n]*")
_ASKING_START = re.compile(
    r"^\W*(?:(?:and|so|but|ok|okay|then|also|sorry|please|thanks|thank you)\b[\s,]*)*"
    r"(?:what|whats|what's|wat|how|why|which|who|when|where|is|are|am|can|could|does|do|did|will|would|"
    r"should|shall|may|might|has|have|any|anything)\b",
    re.IGNORECASE,
)


def asked_part(text: str) -> str:
    """The sentences of a message that ask, when others only give context ("My son is 8 and
    loves football. After his CAR-T will he play again?"): what is asked decides the passage;
    who someone is and what they have is context. The whole message when nothing, or everything,
    asks."""
    sentences = [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
    if len(sentences) < 2:
        return text
    asking = [s for s in sentences if s.endswith("?") or _ASKING_START.match(s)]
    if not asking or len(asking) == len(sentences):
        return text
    return " ".join(asking)


# a question word inside a sentence: the question starts there ("just been told im getting car t
# next month wat is crs", "If I get a temperature after CAR-T, what should I do?")
_QUESTION_WORD = re.compile(r"\b(?:what|whats|what's|wat|how|why|which|who|when|where)\b", re.IGNORECASE)
# words that point back at a drug named before the question ("Can that cause CRS too?", "what is it")
_POINTERS = {"it", "that", "this", "those", "these", "one", "ones", "thing"}
# ... unless it names CRS itself ("as far as this reaction goes")
_CRS_NOUNS = {"reaction", "syndrome", "crs", "cytokine", "cytokines", "storm", "condition", "problem", "side"}


def question_of(text: str) -> str:
    """The part of a message that asks: its asking sentences (asked_part) or, in a single
    sentence, from a question word inside it on."""
    question = asked_part(text)
    if question != text:
        return question
    if _ASKING_START.match(text):
        return text
    match = _QUESTION_WORD.search(text)
    return text[match.start() :] if match else text


def treatment_is_setting(library: Library, text: str, treatments: Sequence[Treatment]) -> bool:
    """Every treatment named is named in what comes before the question, which does not point
    back at it: the treatment is the setting, not the subject ("My mum starts CAR-T next week. Is
    her age a risk?", "just been told im getting car t next month wat is crs"). Not so in "I'm
    having TIL therapy. Can that cause CRS too?", "... can it happen with that?", "a drug called
    toss ill is you mab, what is it", "If tocilizumab not working, then what medicine they give?"
    or "glofitamab - how long inpatient obs?" (the name alone before the question is its topic)."""
    question = question_of(text)
    if not treatments or question == text:
        return False
    if {t.id for t, _ in library.find_treatments(question)} & {t.id for t in treatments}:
        return False
    before = text[: len(text) - len(question)].lower()
    heard = {word for _, name in library.find_treatments(before) for word in re.findall(r"[a-z0-9]+", name)}
    if not _tells_a_setting(before, heard):
        return False
    # "can that cause CRS too?", "... happen with that?", "what is it": about the treatment
    return not _points_back_at_it(re.findall(r"[a-z']+", question.lower()))


def _tells_a_setting(before: str, name_words: set) -> bool:
    """What comes before the question tells something besides the name ("My mum starts CAR-T
    next week."), and is not a condition ("If tocilizumab not working, ...")."""
    told = [word for word in re.findall(r"[a-z0-9']+", before) if word not in name_words]
    return len(told) >= 2 and told[0] != "if"


def _points_back_at_it(words: Sequence[str]) -> bool:
    """A word of the question points back at something named before it ("it", "that"), not at
    CRS ("this reaction")."""
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else ""
        if word in _POINTERS and following not in _CRS_NOUNS:
            return True
    return False


def unknown_is_setting(text: str, name: str | None) -> bool:
    """A drug the sources never name, named only in what comes before the question, which does
    not point back at it: the question is about CRS, the drug its setting ("My wife has myeloma
    and is starting teclistamab. What is CRS?", "Mum is 80 and starting teclistamab. Can CRS be
    worse in elderly people?"). Not so in "My dad starts teclistamab. Can it cause CRS?", nor
    where the question names it ("does teclistamab cause crs?")."""
    question = question_of(text)
    if not name or question == text:
        return False
    name_words = set(re.findall(r"[a-z0-9]+", fold(name)))
    asked_words = re.findall(r"[a-z']+", fold(question))
    if not name_words or name_words & set(asked_words):
        return False
    before = fold(text[: len(text) - len(question)])
    if name_words - set(re.findall(r"[a-z0-9]+", before)):
        return False  # not named before the question either: not the setting
    return _tells_a_setting(before, name_words) and not _points_back_at_it(asked_words)


@dataclass
class Asked:
    """What the NLU found in the message."""

    text: str
    intent: str | None
    topic: str | None = None  # the topic of a topic intent
    treatments: Sequence[Treatment] = ()
    unknown_treatment: str | None = None
    triage: Dict[str, Any] | None = None
    by_button: bool = False  # "/ask_symptoms": a topic chosen, no words to rank by


@dataclass
class Answer:
    reply: Reply
    context: Dict[str, Any] = field(default_factory=dict)


def _segments(library: Library, passage: Passage, locale: Locale) -> List[Segment]:
    segments = library.passage_segments(passage, locale)
    if passage.context and segments:
        return [f"{passage.context} …", *segments]
    return segments


def _focused(segments: List[Segment], focus: Sequence[str]) -> List[Segment]:
    """A list split into several quotes around a gap ("You might have symptoms affecting the: •
    skin ...", "• lungs ...", "• brain ..."): the quotes after the first (which holds the lead-in)
    that name a word of the question come first, so that the item asked about is not the third
    quote ("can CRS affect the brain?"). Each quote stays verbatim and whole; only their order
    within the passage changes, and only when a later one names a word the earlier ones do not."""
    quotes = [index for index, segment in enumerate(segments) if isinstance(segment, Quote)]
    if len(quotes) < 3 or not focus:
        return segments
    # the question's words that the first quote does not already have ("brain" in "can CRS
    # affect the brain?", not "affect")
    wanted = set(focus) - set(lemmas(segments[quotes[0]].text))

    def names(index: int) -> bool:
        return bool(wanted & set(lemmas(segments[index].text)))

    if not wanted or names(quotes[1]):
        return segments
    rest = quotes[1:]
    order = [i for i in rest if names(i)] + [i for i in rest if not names(i)]
    if order == rest:
        return segments
    result = list(segments)
    for slot, index in zip(rest, order, strict=True):
        result[slot] = segments[index]
    return result


def passages_reply(
    library: Library,
    passages: Sequence[Passage],
    locale: Locale,
    topic: str | None,
    triage: Dict[str, Any] | None,
    more: bool,
    intro: str | None = None,
    focus: Sequence[str] = (),
    **extra: Any,
) -> Reply | None:
    segments: List[Segment] = []
    for passage in passages:
        segments.extend(_focused(_segments(library, passage, locale), focus))
    if not any(isinstance(segment, Quote) for segment in segments):
        return None
    label = library.topics[topic].label if topic in library.topics else None
    intro = intro or (library.phrases["intro"].format(label=label) if label else library.phrases["intro_any"])
    quotes = quote_payloads(library, segments)
    excerpts = {passage.units[0].id for passage in passages if passage.context}
    for quote in quotes:
        quote["role"] = "answer"
        if quote["passage_id"] in excerpts:
            quote["excerpt"] = True
    reply = Reply([intro, *render_segments(library, segments)], payload(topic, triage, quotes, coverage="answered"))
    if more:
        reply.buttons = [MORE_BUTTON]
    reply.payload.update(extra, more_available=more)
    return reply


def blend_follow_up(first: Dict[str, float], after: Dict[str, float], share: float) -> Dict[str, float]:
    """The two answer models' readings of a follow-up, the follow-up model weighing ``share``. A
    passage the follow-up model has no classifier for (too few follow-up examples) keeps the first
    model's value instead of counting as 0 there."""
    return {pid: (1 - share) * value + share * after.get(pid, value) for pid, value in first.items()}


def not_covered_reply(
    library: Library,
    locale: Locale,
    topic: str | None,
    triage: Dict[str, Any] | None,
    name: str | None = None,
    drug: bool = False,
) -> Reply:
    what = f"“{name}”" if name else ("that treatment" if drug else "that")
    verb = "mention" if name or drug else "cover"
    paragraphs = [
        library.phrases["not_covered"].format(verb=verb, what=what, helpline=locale.helpline),
        library.phrases["offer_topics"],
    ]
    extra: Dict[str, Any] = {"coverage": "not_covered"}
    if drug:
        extra.update(treatments=[], unknown_treatment=name)
    reply = Reply(paragraphs, payload(topic, triage, [], **extra))
    reply.buttons = list(TOPIC_BUTTONS)
    return reply


def out_of_scope_reply(library: Library, locale: Locale, triage: Dict[str, Any] | None) -> Reply:
    reply = Reply(
        [library.phrases["out_of_scope"].format(helpline=locale.helpline)],
        payload(None, triage, [], coverage="not_covered"),
    )
    reply.buttons = list(TOPIC_BUTTONS)
    return reply


def unclear_reply(library: Library, locale: Locale, triage: Dict[str, Any] | None) -> Reply:
    reply = Reply(
        [library.phrases["unclear"].format(emergency_number=locale.emergency_number)],
        payload(None, triage, [], coverage="unclear"),
    )
    reply.buttons = list(FALLBACK_BUTTONS)
    return reply


@lru_cache(maxsize=4)
def remedy_ids(library: Library) -> frozenset:
    """The treatments the sources name as given for CRS (tocilizumab, steroids, paracetamol ...):
    those named inside the treatment and prevention topics."""
    units = {unit.id for topic_id in REMEDY_TOPICS for _, units in library.topics[topic_id].ranges for unit in units}
    return frozenset(t.id for t in library.treatments if any(unit.id in units for unit in t.units))


def _treatment_topic(library: Library, treatments: Sequence[Treatment], words: Sequence[str]) -> str:
    """A named drug: what a treatment for CRS does -> treatment; whether it causes CRS -> causes."""
    if set(words) & CAUSE_WORDS:
        return "causes"
    return "treatment" if any(t.id in remedy_ids(library) for t in treatments) else "causes"


def answer(library: Library, asked: Asked, locale: Locale, context: Dict[str, Any] | None) -> Answer:
    """The reply to a question and the context to keep for the next one (see module docstring).

    A question about a red flag ("can it cause fits?"), or whether something is an emergency, may
    come from someone who sees it now: its reply starts with what to do if it is happening now
    (the emergency number first)."""
    result = _answer(library, asked, locale, context)
    asks_about_red_flag = any(
        finding.get("level") == "emergency" and finding.get("assertion") == "hypothetical"
        for finding in (asked.triage or {}).get("findings") or []
    )
    # "is it serious?", "are any of those an emergency?" about the last answer (routed here by
    # crs.dialogue.is_follow_up_question) also starts with what to do if it is happening now
    asks_if_emergency = asked.intent == "ask_is_emergency"
    if (asks_about_red_flag or asks_if_emergency) and (asked.triage or {}).get("level") == "none":
        reply = result.reply
        line = library.phrases["if_now"].format(instruction=locale.emergency_instruction)
        payload_ = {key: value for key, value in reply.payload.items() if key != "display"}
        result.reply = Reply([line, *reply.paragraphs], payload_, reply.buttons, spoken=reply.spoken)
    return result


def _answer(library: Library, asked: Asked, locale: Locale, context: Dict[str, Any] | None) -> Answer:
    context = dict(context or {})
    ranker = library.ranker()
    budget = ranker.config.words_budget
    by_id = {passage.id: passage for passage in ranker.passages}

    # after the emergency instruction (crs.dialogue.answer_follows_emergency) the danger signs it
    # quoted are not quoted again
    said = set()
    if (asked.triage or {}).get("level") == "emergency" and "danger_signs" in library.passage_sets:
        said = {unit.id for _, units in library.passage_sets["danger_signs"].ranges for unit in units}

    def usable(passage: Passage) -> bool:
        if said and passage.unit_ids() & said:
            return False
        return bool(library.passage_segments(passage, locale))

    if asked.intent == MORE_INTENT and not asked.by_button and looks_like_question(asked.text):
        # "what else could raise her risk?", "can I carry on my immunotherapy after?": a question
        # of its own (read as a follow-up), not "tell me more"
        asks = [word for word in ranker.informative(asked.text, []) if word not in MORE_WORDS]
        if len(asks) >= 2 or ranker.known(asks):
            asked = replace(asked, intent="nlu_fallback")
    if asked.intent == MORE_INTENT:
        pending = [by_id[pid] for pid in context.get("more") or [] if pid in by_id]
        if not pending and not asked.by_button and looks_like_question(asked.text) and context.get("treatments"):
            # "what else do they use?" after a drug question that was not covered: nothing more
            # to give, but a question about that drug to answer
            return _answer(library, replace(asked, intent="nlu_fallback"), locale, context)
        if not pending:
            reply = Reply(
                [library.phrases["nothing_more"]],
                payload(context.get("topic"), asked.triage, [], coverage="not_covered"),
            )
            reply.buttons = list(TOPIC_BUTTONS)
            return Answer(reply, {**context, "more": []})
        chosen: List[Passage] = []
        for passage in pending:
            if chosen and sum(p.words for p in chosen) + passage.words > budget:
                break
            chosen.append(passage)
        rest = [p.id for p in pending[len(chosen) :]]
        reply = passages_reply(
            library, chosen, locale, context.get("topic"), asked.triage, bool(rest), intro=library.phrases["more_intro"]
        )
        if reply is None:
            return Answer(unclear_reply(library, locale, asked.triage), context)
        shown = list(context.get("shown") or []) + [p.id for p in chosen]
        return Answer(reply, {**context, "shown": shown, "more": rest, "last": [p.id for p in chosen]})

    # a treatment named only as the setting of the question: the question decides the passage,
    # the treatment weighs as little as in any topic question (issue 11: a drug or treatment name
    # takes over the question)
    setting = not asked.by_button and treatment_is_setting(library, asked.text, asked.treatments)
    if setting and asked.intent == "ask_about_drug":
        asked = replace(asked, intent="nlu_fallback")
    names = [name for treatment in asked.treatments for name in (*treatment.names, *treatment.aliases)]
    model_text = asked.text  # what the answer model reads: a drug by its name, however heard
    # what is asked, without the sentences that only give context (who, what treatment): the
    # answer model reads it as well as the whole message, and the two readings count equally
    question = question_of(asked.text) if setting else asked_part(asked.text)
    model_question = question
    if asked.treatments:
        # and the words it was heard as ("toss ill is you mab"): they say nothing else
        found = library.find_treatments(asked.text)
        names += [heard for _, heard in found]
        model_text, model_question = fold(asked.text), fold(question)
        for treatment, heard in found:
            named = fold(treatment.names[0])
            model_text = model_text.replace(heard, named)
            # a drug named in the context is what the question is about ("I take lenalidomide.
            # Could that cause CRS?")
            if heard in model_question:
                model_question = model_question.replace(heard, named)
            elif not setting:
                model_question = f"{named} {model_question}"
    informative = [] if asked.by_button else ranker.informative(asked.text, names)
    words = ranker.expand(informative)
    follow_up = bool(context.get("words") or context.get("topic")) and not asked.by_button
    follow_up = follow_up and is_follow_up(asked.text, informative)
    grade = grade_of(asked.text)
    person = ranker.person_of(asked.text)
    treatments = list(asked.treatments)
    # "peds?", "and older people?" after a drug's risk: the person is what is asked now, the drug
    # of the last question only its setting
    other_person = not treatments and person is not None and person != context.get("person")
    topic = asked.topic
    # the last question was not covered: a follow-up to it ("what about flying?" after "can I
    # drive after CAR-T?") is judged below; unless a treatment carries over, it is not read in
    # that question's context
    after_uncovered = bool(context.get("not_covered")) and not asked.by_button
    carried = bool(treatments or context.get("treatments"))
    if after_uncovered and not carried:
        follow_up = False

    # a drug the sources never name, told only as the setting of a question about CRS: the
    # question is answered in general, after saying that the drug is not mentioned
    unknown_setting = None
    if not treatments and not asked.by_button:
        unknown = asked.unknown_treatment or _drug_shaped(ranker, asked.text)
        if unknown and unknown_is_setting(asked.text, unknown):
            unknown_setting = unknown
            names += [unknown]
            informative = ranker.informative(asked.text, names)
            words = ranker.expand(informative)
            model_text = re.sub(re.escape(unknown), " ", model_text, flags=re.IGNORECASE)
            if asked.intent == "ask_about_drug":
                asked = replace(asked, intent="nlu_fallback")
            asked = replace(asked, unknown_treatment=None)
    if asked.intent == "ask_about_drug" and not treatments and asked.unknown_treatment:
        return Answer(not_covered_reply(library, locale, None, asked.triage, asked.unknown_treatment, drug=True), {})
    if asked.intent == "ask_about_drug" and not treatments:
        # a name the sources never use ("does pembrolizumab cause CRS?", "is Herceptin linked to
        # CRS?", "is crs a side effect of keytruda?"): named when it is shaped like a drug's or
        # written as a brand; in a follow-up ("and pembrolizumab?") only such a name counts, since
        # its other words lean on the last answer
        unknown_drug = _drug_shaped(ranker, asked.text) or _brand_named(ranker, asked.text)
        if unknown_drug or (not follow_up and ranker.unknown(ranker.informative(asked.text, names))):
            return Answer(not_covered_reply(library, locale, None, asked.triage, unknown_drug, drug=True), {})
        if not follow_up:
            # taken for a drug question, but every word is one the sources use ("can my medicine
            # cause it?"): judged like any question
            asked = replace(asked, intent="nlu_fallback")
    known = ranker.known(informative)
    # the answer model (crs.content.learned): how likely some passage answers this, and which
    covered, learned = (1.0, None)
    leaning_covered = 1.0  # for a follow-up: the model's "covered", read after the last question
    after: Dict[str, float] | None = None  # for a follow-up: the follow-up model's reading
    unknown_words = ranker.unknown_share(informative) >= ranker.config.unknown_share
    if ranker.learned is not None and not asked.by_button:
        covered, learned = ranker.learned.predict(model_text)
        if question != asked.text:
            asked_covered, asked_learned = ranker.learned.predict(model_question)
            covered = (covered + asked_covered) / 2
            learned = {pid: (learned.get(pid, 0.0) + asked_learned.get(pid, 0.0)) / 2 for pid in learned}
        if unknown_words and asked.intent == "out_of_scope" and not treatments and not follow_up:
            # the classifier says off the subject and most words are ones the sources never use
            # ("can you recommend a good pizza place?"): the answer model has seen nothing like
            # it and its "covered" means little; only a passage it is all but certain of counts
            covered = 0.0
        covered = max(covered, _sure_passage(learned))
        if follow_up and (context.get("words") or context.get("treatments")):
            # a short follow-up leans on the last question: read after its words too (the model
            # learned follow-ups this way: crs.content.learned.load_corpus)
            by_id = {treatment.id: treatment for treatment in library.treatments}
            named = [by_id[tid].names[0] for tid in context.get("treatments") or [] if tid in by_id]
            if other_person:
                named = []
            kept = [*_without_contrasts(ranker, context.get("words") or [], asked.text), *named]
            if context.get("grade") is not None and grade is None and not _OTHER_GRADE.search(asked.text):
                kept.append(f"grade {context['grade']}")  # "is that serious?" after "I had grade 2"
            kept_text = " ".join(kept)
            leaning_covered, leaning = ranker.learned.predict(kept_text + " " + model_text)
            # and the follow-up model: the follow-up's words after the passages just given ("what
            # signs?" after the brain, "then what?" after a step); it ranks, it does not judge
            after = ranker.learned.predict_follow_up(model_text, kept_text, context.get("last") or [])
            if after:
                leaning = blend_follow_up(leaning, after, ranker.config.weights.get("follow_up_model", 0.5))
            learned = leaning
    thresholds = ranker.config.not_covered
    sure_covered = learned is not None and covered >= thresholds.get("covered_over", 0.8)
    sure_uncovered = learned is not None and covered < thresholds.get("covered_below", 0.2) and not follow_up
    if follow_up and learned is not None and set(informative) - FRAME_WORDS - set(_name_words(names)):
        # a follow-up with words of its own ("what dose?", "does it have side effects?" after a
        # drug): not covered when the model, reading it after the last question, says no passage
        # answers it ("how long?" alone leans wholly on the last answer and is not judged so)
        # ... unless the follow-up model is sure of a passage ("onset?" after a drug's risk)
        sure_of_one = max((after or {}).values(), default=0.0) >= thresholds.get("follow_up_passage_over", 1.0)
        # ... or the follow-up stands as a question of its own that the model, reading it alone,
        # is sure the sources answer ("would I end up in intensive care with that?")
        stands_alone = len(informative) >= 2 and covered >= thresholds.get("covered_over", 0.8)
        sure_uncovered = (
            leaning_covered < thresholds.get("follow_up_below", 0.3) and not sure_of_one and not stands_alone
        )
    if follow_up and context.get("topic") in REMEDY_TOPICS and asks_medicine_detail(asked.text):
        # the dose or the side effects of a medicine given for CRS ("how much do they give?",
        # "do they have side effects?" after tocilizumab, steroids or premedication): the
        # sources name these medicines but never give either
        sure_uncovered = True
    if asks_remedy_detail(library, asked.text, treatments):
        # ... and so for any question that names such a medicine ("Tocilizumab have side effects?
        # What are they?", "paeds toci dosing?", "how much does dex cost?")
        sure_uncovered = True
    if follow_up and context.get("topic") == "risk_factors" and _WHY.match(asked.text) and len(informative) <= 2:
        # "why is that?" after who is at higher risk (children, older people, a cancer type): the
        # sources say who, never why
        sure_uncovered = True
    also = bool(_ALSO.match(asked.text)) or not informative
    # ... unless it is plainly a question the sources answer: its words known to them, and a
    # treatment carried over ("what does it do?" after "what dose of tocilizumab?"), or the model
    # sure, or the classifier naming a topic and the model leaning that way ("what about a glass
    # of wine?" after "can I eat normally during CAR-T?" stays not covered)
    plainly = not unknown_words and (
        carried or sure_covered or (topic is not None and covered >= thresholds.get("unknown_words_below", 0.6))
    )
    if after_uncovered and also and not plainly:
        kept_context = _uncovered_context(context, known, treatments)
        return Answer(not_covered_reply(library, locale, topic, asked.triage), kept_context)
    if asked.intent == "dismiss_alert" and not (looks_like_question(asked.text) and (known or treatments or follow_up)):
        text = library.phrases["ok"].format(advice_line=locale.advice_line, emergency_number=locale.emergency_number)
        reply = Reply([text], payload(None, asked.triage, []))
        return Answer(reply, context)
    if asked.intent == "out_of_scope" and not (known and follow_up) and not sure_covered:
        if not known and not looks_like_question(asked.text):
            return Answer(unclear_reply(library, locale, asked.triage), context)  # gibberish
        if not known or unknown_words or sure_uncovered:
            return Answer(out_of_scope_reply(library, locale, asked.triage), _uncovered_context({}, known, treatments))
    if asked.intent == "nlu_fallback" and not known and not treatments and not looks_like_question(asked.text):
        if not sure_covered:
            return Answer(unclear_reply(library, locale, asked.triage), context)
    # not covered: the model is sure no passage answers, or the question's words are unknown to
    # the sources and the model does not say otherwise (either alone, without a model)
    uncertain = learned is not None and covered < thresholds.get("unknown_words_below", 0.6)
    if sure_uncovered or (unknown_words and (learned is None or uncertain)):
        kept_context = _uncovered_context(context if follow_up else {}, known, treatments)
        return Answer(not_covered_reply(library, locale, topic, asked.triage), kept_context)
    if (
        not informative
        and not treatments
        and not follow_up
        and topic is None
        and not asked.by_button
        and not sure_covered
    ):
        return Answer(unclear_reply(library, locale, asked.triage), context)
    drug_question = not setting and asked.intent in ("ask_about_drug", "ask_causes", "ask_risk_factors", "nlu_fallback")
    if treatments and drug_question:
        topic = _treatment_topic(library, treatments, words)

    query = Query(
        asked.text if not asked.by_button else "",
        topic=topic,
        treatments=tuple(t.id for t in treatments),
        treatment_weight=1.0 if drug_question else 0.3,
        words=tuple(w for w in ranker.content_words(asked.text) if w not in _name_words(names)),
        grade=grade,
        person=person,
        learned=learned,
        learned_weight=1.0 if not follow_up else ranker.config.weights.get("learned_follow_up", 0.5),
        symptom_passages=tuple(
            f.get("passage_id", "") for f in (asked.triage or {}).get("findings", []) if f.get("assertion") == "present"
        ),
    )
    if follow_up:
        query.context_text = " ".join(_without_contrasts(ranker, context.get("words") or [], asked.text))
        query.context_topic = context.get("topic")
        if not treatments and context.get("treatments"):
            query.treatments = tuple(context["treatments"])
            if other_person:
                query.treatment_weight = min(query.treatment_weight, 0.3)
        query.grade = grade if grade is not None else context.get("grade")
        query.person = person or context.get("person")
        query.shown = frozenset(context.get("shown") or [])
        query.after = frozenset(context.get("last") or [])
        if topic is None or asked.intent == "nlu_fallback":
            query.topic = context.get("topic")
    ranked: List[Ranked] = ranker.rank(query, usable)
    if not ranked or (ranked[0].score <= 0.05):
        return Answer(not_covered_reply(library, locale, topic, asked.triage), {})
    if follow_up and asks_how_long_a_stay(ranker, asked.text, context) and not gives_a_stay_length(ranked[0].passage):
        kept_context = _uncovered_context(context, known, treatments)
        return Answer(not_covered_reply(library, locale, topic, asked.triage), kept_context)
    chosen = first_reply(ranked, budget)
    answer_topic = query.topic or _main_topic(chosen[0].passage)
    shown = list(query.shown) + [r.passage.id for r in chosen]
    rest = following(ranked, shown)
    extra: Dict[str, Any] = {}
    if treatments:
        extra["treatments"] = [t.id for t in treatments]
    # the question's words and the words they stand for ("neuro" -> "brain", "neurological")
    focus = list(ranker.weighted(query.words or ()))
    if follow_up:
        # "what signs?" after "can CRS affect the brain?": the item about the brain first
        focus += list(ranker.weighted(ranker.content_words(query.context_text)))
    intro = None
    if unknown_setting:
        label = library.topics[answer_topic].label if answer_topic in library.topics else None
        intro = library.phrases["unknown_setting"].format(
            name=unknown_setting, about=f" about {label}" if label else ""
        )
        extra["unknown_treatment"] = unknown_setting
    reply = passages_reply(
        library,
        [r.passage for r in chosen],
        locale,
        answer_topic,
        asked.triage,
        bool(rest),
        intro=intro,
        focus=focus,
        **extra,
    )
    if reply is None:
        return Answer(not_covered_reply(library, locale, topic, asked.triage), {})
    new_context = {
        "topic": answer_topic,
        "treatments": list(query.treatments),
        "grade": query.grade,
        "person": query.person,
        # only words the sources (or the synonyms) know: nothing personal is kept in the slot
        "words": (known or (context.get("words") if follow_up else []) or [])[:12],
        "shown": shown,
        "more": rest,
        "last": [r.passage.id for r in chosen],
    }
    return Answer(reply, new_context)


# a follow-up about another grade than the last one ("and 4?", "and the worst one?")
_OTHER_GRADE = re.compile(r"\b(?:[1-4]|one|two|three|four|worst|mildest|highest|lowest|next|other|severe|mild)\b", re.I)
# the endings of drug names (monoclonal antibodies, cell therapies, kinase inhibitors ...)
_DRUG_SHAPE = re.compile(
    r"\b(?:[a-z]{3,}(?:mab|cel|cept|nib|platin|lidomide|rubicin|tinib|ciclib|parib|stat|kin|leukin)|mab)\b"
)


def _drug_shaped(ranker: Any, text: str) -> str | None:
    """A word shaped like a drug's name that the sources never use ("pembrolizumab"), or a name
    heard as words that ends so ("tech list a mab")."""
    folded = fold(text)
    for match in _DRUG_SHAPE.finditer(folded):
        word = match.group(0)
        if word == "mab":
            before = re.findall(r"[a-z]+", folded[: match.start()])[-3:]
            while before and before[0] in ranker.stop:
                before = before[1:]
            return " ".join([*before, word]) if before else None
        if word not in ranker.vocabulary:
            return word
    return None


_BRAND = re.compile(r"\b[A-Z][a-z]{3,}\b")


def _brand_named(ranker: Any, text: str) -> str | None:
    """A capitalised word the sources never use, in a question about a drug: a brand name
    ("Herceptin", "Keytruda"). Not a person the persons map knows ("Mum")."""
    for match in _BRAND.finditer(text):
        words = ranker.content_words(match.group(0))
        if words and not ranker.people.intersection(words) and ranker.unknown(words) == words:
            return match.group(0)
    return None


# the amount of a medicine or its own side effects; not "the next dose" (of the treatment that
# causes CRS: when it is given) nor "how much longer"
_MEDICINE_DETAIL = re.compile(
    r"\b(?:side[- ]?effects?|adverse effects?|dosage|dosing|mg|milligrams?|doses?|how much)\b", re.IGNORECASE
)
_WHICH_DOSE = {"next", "second", "2nd", "third", "later", "subsequent", "following", "first", "1st", "each", "every"}
_HOW_MUCH_OF = {"longer", "time", "more", "worse", "better", "later", "sooner", "risk", "of", "chance", "difference"}


def asks_how_long_a_stay(ranker, text: str, context: Dict[str, Any]) -> bool:
    """A follow-up that asks how long ("for how long?", "how many days exactly?") with no words of
    its own but a stay's, after a question about a stay in hospital, being monitored or going home
    ("Will she be kept in hospital for it?", "Will they monitor me for CRS?")."""
    if not _HOW_LONG.search(text):
        return False
    own = set(ranker.content_words(text)) - FRAME_WORDS
    if own - STAY_WORDS:
        return False  # "how long to recover?", "how long does it last?" ask something else
    return bool((own | set(context.get("words") or [])) & STAY_WORDS)


def gives_a_stay_length(passage: Passage) -> bool:
    """The passage names a stay and when it ends ("until 24 hours after", "once your CRS is under
    control")."""
    words = set(lemmas(passage.text))
    return bool(PASSAGE_STAY_WORDS & words and PASSAGE_LENGTH_WORDS & words)


def asks_medicine_detail(text: str) -> bool:
    """Asks the dose of a medicine or its side effects ("how much do they give?", "doses?",
    "side effect of it?"), not when the next dose comes or how much longer something lasts."""
    lowered = text.lower()
    for match in _MEDICINE_DETAIL.finditer(lowered):
        before = re.findall(r"[a-z0-9]+", lowered[: match.start()])[-1:]
        after = re.findall(r"[a-z]+", lowered[match.end() :])[:1]
        phrase = match.group(0)
        if phrase.startswith("dose") and before and before[0] in _WHICH_DOSE:
            continue
        if phrase == "how much" and after and after[0] in _HOW_MUCH_OF:
            continue
        return True
    return False


# what a side effect is asked with when it is not the medicine's own ("steroids to reduce the side
# effects of CAR-T", "side effects from the immunotherapy")
_LESSEN = frozenset(
    "reduce prevent lessen stop ease manage control treat help against avoid minimise minimize lower cut for with".split()
)
_OTHER_THAN_A_MEDICINE = {"immunotherapy", "treatment", "therapy", "chemo", "chemotherapy", "cancer", "infusion", "crs"}
_SIDE_EFFECT_OF = re.compile(
    r"side[- ]?effects?\s+(?:of|from|with|after)\s+(?:the\s+|my\s+|his\s+|her\s+|their\s+)?([\w-]+(?:\s+[\w-]+)?)", re.I
)


def asks_remedy_detail(library: Library, text: str, treatments: Sequence[Treatment]) -> bool:
    """A question that names a medicine given for CRS (tocilizumab, steroids, paracetamol ...) and
    asks its dose, cost or its own side effects ("Tocilizumab have side effects? What are they?",
    "paeds toci dosing?"): the sources name these medicines and never give any of these. Not the
    side effects the medicine is given against ("steroids to reduce the side effects of CAR-T")."""
    if not any(t.id in remedy_ids(library) for t in treatments) or not asks_medicine_detail(text):
        return False
    lowered = text.lower()
    for match in re.finditer(r"side[- ]?effects?", lowered):
        before = re.findall(r"[a-z]+", lowered[: match.start()])[-4:]
        of = _SIDE_EFFECT_OF.match(lowered, match.start())
        of_other = bool(of) and (
            any(t.id not in remedy_ids(library) for t, _ in library.find_treatments(of.group(1)))
            or of.group(1).split()[0] in _OTHER_THAN_A_MEDICINE
        )
        if _LESSEN & set(before) or of_other:
            return False
    return True


def _without_contrasts(ranker: Any, kept: Sequence[str], text: str) -> List[str]:
    """The last question's words, less those that the follow-up replaces ("and severe?" after
    "how is mild CRS treated?" drops "mild"): see ``contrasts`` in data/content/retrieval.yml."""
    now = set(ranker.content_words(text))
    dropped: set = set()
    for group in ranker.config.contrasts:
        if now & group:
            dropped |= group - now
    return [word for word in kept if word not in dropped]


def _uncovered_context(
    context: Dict[str, Any], known: Sequence[str], treatments: Sequence[Treatment] = ()
) -> Dict[str, Any]:
    """What a "not covered" reply keeps for the next message: that it was not covered, the
    treatments named and the words the sources know (so "what about ...?" after it is read so)."""
    kept_treatments = [t.id for t in treatments] or list(context.get("treatments") or [])
    return {
        "not_covered": True,
        "treatments": kept_treatments,
        "words": list(known or context.get("words") or [])[:12],
    }


def _name_words(names: Sequence[str]) -> set:
    return {word for name in names for word in lemmas(name)}


def _main_topic(passage: Passage) -> str | None:
    return sorted(passage.topics)[0] if passage.topics else None


SURE_PASSAGE = 0.97


def _sure_passage(learned: Dict[str, float]) -> float:
    """A passage the answer model is all but certain of makes the question covered."""
    best = max(learned.values(), default=0.0)
    return best if best >= SURE_PASSAGE else 0.0
