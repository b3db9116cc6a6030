"""How the learned detector's findings join the rules' (issue 9): either one escalates.

The classifier says which signs a sentence describes; the rules still decide how they are
asserted. A learned finding is read by the same assertion rules as a phrase, on the words the
classifier relied on (its evidence), and in addition:
- words the rules already read for the same sign (a reading, "breathing is fine") keep the
  rules' reading;
- an idiom of the rules file over the evidence ("took my breath away") vetoes it;
- a word inside the evidence that speaks against the label and is a negation ("my heart isnt
  racing") makes it negated;
- an information question with nobody in it ("what does low blood pressure feel like?") makes
  it hypothetical;
- a weak guess, or the "concern" of a sentence close to a red flag, on a statement that is only
  context for a question of its own ("We have two cats. Can they stay at home during CAR-T?",
  "my dad starts teclistamab next week does he have to stay in") is dropped, unless something in
  the message is told in the present ("tonight", "since", "keeps") or the question points back at
  the statement or names a sign ("is that normal?", "is shaking a side effect?") (issue 11).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Sequence, Tuple

from spacy.tokens import Doc, Token

from crs.triage.assertion import Spans
from crs.triage.findings import Finding, with_assertion
from crs.triage.folding import original_span
from crs.triage.learned import ANY_RED_FLAG, Detection

if TYPE_CHECKING:  # pragma: no cover
    from crs.triage.engine import TriageEngine

MIN_SEGMENT_WORDS = 3
MIN_KNOWN_WORDS = 2  # words of the corpus a segment needs before the classifier is heard
WINDOW = 20  # tokens of a window over a long sentence (half of it overlaps the next)
WHOLE_MESSAGE = 30  # a message this short is also read whole
CONCERN_SHARE = 0.5  # a sentence this close to the "any red flag" threshold starts the check
# A weak guess this far below its own threshold is explained away by a milder symptom the rules
# read as present in the same sentence (measured on held-out folds of the corpus: 60 fewer
# over-triaged messages, no emergency lost), unless the symptom goes with that red flag.
EXPLAIN_SHARE = 0.3
COMPANIONS = {"dizziness": ("low_blood_pressure", "rapid_heartbeat")}
# Where the learned detector's sentences end.
SEGMENT_BREAKS = {".", "!", "?", ";", "\n", "…"}
STRONG_SEGMENT_BREAKS = {"but", "however", "although", "though", "whereas"}
# Findings that the rules read from the same words as another (a temperature reading is a fever
# or a high fever).
RELATED = {"high_fever": ("high_fever", "fever"), "fever": ("fever", "high_fever")}
NEGATIONS = {"no", "not", "isnt", "arent", "wasnt", "werent", "doesnt", "dont", "didnt", "never", "without", "nothing"}
# "he is not can wake up", "she not stop shaking": a "not" before an auxiliary is broken grammar,
# not a negation of the sign.
STRAY_NOT_BEFORE = {
    *("can", "could", "will", "would", "is", "are", "was", "were", "have", "has", "do", "does", "did"),
    *("be", "able", "stop", "stopping", "stopped", "understand", "know", "making", "make"),
}
# what is normal: "not" before one of these describes a sign ("words not correct")
NORMAL_STATES = {
    *("correct", "right", "normal", "properly", "proper", "clear", "clearly", "ok", "okay", "well"),
    *("good", "usual", "himself", "herself", "themselves", "myself", "yourself", "sense"),
}
INFO_QUESTION_STARTS = {"what", "whats", "how", "hows", "why", "which", "wat", "wot", "wht"}
PEOPLE = {
    *("i", "im", "ive", "me", "my", "he", "hes", "him", "his", "she", "shes", "her", "they", "theyre", "them"),
    *("their", "we", "our", "us", "mum", "mom", "dad", "husband", "wife", "son", "daughter", "partner"),
    *("mother", "father", "nan", "gran", "grandad", "grandma", "baby", "child", "patient", "pt"),
}


def _sentences(doc: Doc) -> List[Tuple[int, int]]:
    """The message's sentences, however short ("Why?")."""
    found, start = [], 0
    for index, token in enumerate(doc):
        if token.text in SEGMENT_BREAKS or token.norm_ in STRONG_SEGMENT_BREAKS:
            if index > start:
                found.append((start, index))
            start = index + 1
    if start < len(doc):
        found.append((start, len(doc)))
    return found


def segments(doc: Doc) -> List[Tuple[int, int]]:
    """Sentences (and statements joined by "but"), and the whole message when it is short:
    a sign may be told across two sentences ("she was talking to someone. nobody was there")."""
    sentences = _sentences(doc)
    # a run-on sentence (voice-to-text, SMS) is read in overlapping windows: a sign is told in a
    # few words, and a long stretch dilutes it
    found = []
    for start, end in sentences:
        if end - start <= WINDOW:
            found.append((start, end))
            continue
        for first in range(start, end - WINDOW // 2, WINDOW // 2):
            found.append((first, min(first + WINDOW, end)))
    if len(found) > 1 and len(doc) <= WHOLE_MESSAGE:
        found.append((0, len(doc)))
    # one or two words ("tell me", "hi there") are too little for the classifier: short reports
    # are the rules' ("hes fitting", "cant breathe")
    return [(s, e) for s, e in found if sum(1 for t in doc[s:e] if not t.is_punct) >= MIN_SEGMENT_WORDS]


def segment_probabilities(engine: TriageEngine, doc: Doc, parts: List[Tuple[int, int]]) -> List[Dict[str, float]]:
    """The classifier's probabilities for each segment, computed once per message."""
    cached = doc.user_data.get("learned_probabilities")
    if cached is not None and cached[0] == parts:
        return cached[1]
    assert engine.learned is not None
    words = [token.norm_ for token in doc]
    texts = [" ".join(words[s:e]) for s, e in parts]
    probabilities = engine.learned.probabilities(texts)
    for i, text in enumerate(texts):
        if engine.learned.known_words(text) < MIN_KNOWN_WORDS:
            # words the corpus never saw ("blorp zing wibble") leave the classifier at its prior
            probabilities[i] = {label: 0.0 for label in probabilities[i]}
    doc.user_data["learned_probabilities"] = (parts, probabilities)
    return probabilities


QUESTION_STARTS = INFO_QUESTION_STARTS | {
    *("is", "are", "can", "could", "does", "do", "did", "will", "would", "should", "has", "have", "was", "were"),
    *("who", "am"),
}
# words that join a follow-up to the conversation before the question word ("and then what
# happens", "so who do we call", "like which ones"): the question starts after them
LEADING_JOINERS = {
    *("and", "so", "but", "ok", "okay", "then", "also", "like", "right", "well", "oh", "sorry", "um", "hmm")
}
# question words that ask wherever they stand in a sentence with a question mark after it
WH_WORDS = INFO_QUESTION_STARTS | {"who", "when", "where"}


def _question_mark_after(doc: Doc, end: int) -> bool:
    return end < len(doc) and doc[end].text == "?"


def _first_word(words: Sequence[Token]) -> Token | None:
    """The first word of a sentence after any words that join it to what came before."""
    return next((t for t in words[:3] if t.norm_ not in LEADING_JOINERS), None)


def is_question(doc: Doc, start: int, end: int) -> bool:
    """A sentence that asks (a question mark after it, or a question word first, after any words
    that join it to what came before: "and then what happens")."""
    if _question_mark_after(doc, end):
        return True
    first = _first_word([t for t in doc[start:end] if not t.is_punct])
    return first is not None and first.norm_ in QUESTION_STARTS


# a question about what was just told: the told is the matter ("is that normal?", "is this CRS?")
REFERS_TO_TOLD = {
    *("this", "that", "thats", "these", "those", "normal", "ok", "okay", "fine", "serious", "bad", "dangerous"),
    *("worry", "worried", "worrying", "now", "expected", "usual"),
    *("call", "ring", "phone", "ambulance", "999", "911", "111", "ae", "a&e", "emergency", "urgent"),
}
# ... unless "this" or "that" names the subject ("this reaction", "that drug", "is that one of ...")
NAMED_SUBJECTS = {
    *("reaction", "syndrome", "crs", "cytokine", "storm", "condition", "treatment", "treatments", "therapy"),
    *("immunotherapy", "drug", "drugs", "medicine", "medicines", "medication", "one", "ones", "kind", "sort"),
    *("type", "word", "list", "page", "leaflet", "infusion", "dose", "business", "thing", "side"),
}
POINTERS = {"this", "that", "these", "those"}
# ... or is what one gets or is at risk of ("more likely to get this", "known for this")
TAKES_CRS = {
    *("get", "gets", "getting", "got", "for", "cause", "causes", "causing", "of", "from", "have", "having", "with")
}
# the words before a "that" that points back ("is that", "and that", "about that"); after
# others it is a relative pronoun ("the drugs that can cause it")
BEFORE_POINTING_THAT = QUESTION_STARTS | LEADING_JOINERS | {"about", "like"}
# ... or is asked whether it causes CRS ("can that cause CRS too?")
CAUSING = {"cause", "causes", "trigger", "triggers", "give", "gives", "bring", "lead", "linked", "raise", "increase"}
# words that put a statement in the present: it is a report, whatever the question after it
TOLD_NOW = {
    *("now", "today", "tonight", "since", "still", "currently", "keeps", "keep", "keeping", "suddenly"),
    *("morning", "afternoon", "evening", "night", "minutes", "moment"),
}
# a question put after a statement without a stop: an auxiliary before its subject ("my dad starts
# glofitamab tmrw does he have to stay in", "... is that one of the risky ones")
INVERTING = {"is", "are", "am", "r", "can", "could", "does", "do", "did", "will", "would", "should", "has", "have"}
INVERTED_SUBJECTS = {
    *("i", "he", "she", "they", "we", "you", "u", "it", "that", "this", "kids", "children", "there", "crs"),
}


def _asks(doc: Doc, start: int, end: int) -> bool:
    """A sentence that plainly asks: "what", "how", "why", "who" ... first (after "and", "so" ...),
    or a question mark after it with an auxiliary first or before its subject ("after his CAR-T
    will he be able to play?"), or with nobody in it ("this medicine make CRS?"). Not an
    auxiliary first alone ("Is since morning"), nor a statement about someone with a question
    mark ("I think he's a bit blue round the edges??")."""
    words = [t for t in doc[start:end] if not t.is_punct]
    first = _first_word(words)
    if first is not None and (first.norm_ in INFO_QUESTION_STARTS or first.norm_ == "who"):
        return True
    if not _question_mark_after(doc, end) or first is None:
        return False
    return (
        first.norm_ in QUESTION_STARTS
        or _inverted_question(doc, start, end, after=0) is not None
        or any(t.norm_ in WH_WORDS for t in words)  # "he must stay how long after?"
        or not any(t.norm_ in PEOPLE for t in words)
    )


def _about_the_told(doc: Doc, start: int, end: int, spans: Spans) -> bool:
    """A question about what the rest of the message tells: it points back at it ("is that
    normal?") or names a sign ("is shaking a side effect?")."""
    for index in range(start, end):
        word = doc[index].norm_
        if word not in REFERS_TO_TOLD:
            continue
        if word not in POINTERS:
            return True
        following = doc[index + 1].norm_ if index + 1 < len(doc) else ""
        before = doc[index - 1].norm_ if index > start else ""
        if following in NAMED_SUBJECTS or following in CAUSING or before in TAKES_CRS:
            continue  # "this reaction", "can that cause CRS?", "more likely to get this"
        if word == "that" and before and before not in BEFORE_POINTING_THAT:
            continue  # "the drugs that can cause it": a relative pronoun
        return True
    return any(start <= s_start < end for s_start, _, _ in spans)


def _inverted_question(doc: Doc, start: int, end: int, after: int = 2) -> int | None:
    """Where a question put after a statement without a stop begins (at least `after` words in),
    if one does."""
    for index in range(start + after, end - 2):
        if doc[index].norm_ in INVERTING and doc[index + 1].norm_ in INVERTED_SUBJECTS:
            return index
    return None


def asks_for_information(
    doc: Doc, parts: List[Tuple[int, int]], segment: Tuple[int, int], spans: Spans, evidence: int | None = None
) -> bool:
    """The segment is a statement with nothing in the present, and a question of its own follows
    or comes before it (another sentence, or one put after it without a stop), not about what it
    tells ("is that normal?", "should I worry?") nor naming a sign ("is shaking a side effect? my
    arms went into spasms"): the statement is context for the question ("my son is 9. is ATG a
    CRS drug?", "my dad starts glofitamab tmrw does he have to stay in"). `evidence`: where the
    words the classifier relied on end; they must be in the statement."""
    seg_start, seg_end = segment
    questions = [
        (start, end) for start, end in parts if not (start <= seg_start and seg_end <= end) and _asks(doc, start, end)
    ]
    inverted = _inverted_question(doc, seg_start, seg_end)
    if inverted is not None and (evidence is None or evidence <= inverted):
        questions.append((inverted, seg_end))
    asking = [
        (start, end)
        for start, end in questions
        if not _about_the_told(doc, start, end, spans) and (evidence is None or not start < evidence <= end)
    ]
    # nothing told in the present anywhere outside the questions ("Tonight though he's convinced
    # the nurses are hiding in the garden")
    return bool(asking) and not told_now_outside(doc, asking)


def told_now_outside(doc: Doc, parts: List[Tuple[int, int]]) -> bool:
    """A word that puts a statement in the present ("tonight", "keeps", "since", "now") outside
    the parts given (the questions)."""
    told = [t for t in doc if not any(start <= t.i < end for start, end in parts)]
    return any(t.norm_ in TOLD_NOW and not _greeting(doc, t.i) for t in told)


# words that judge what was told ("is that normal?", "is it serious?"): about CRS itself when the
# question names it ("how serious is CRS?", "can this reaction be dangerous?")
JUDGING = {"normal", "ok", "okay", "fine", "serious", "bad", "dangerous", "expected", "usual"}
JUDGING |= {"worry", "worried", "worrying"}
ACTIONS = {"call", "ring", "phone", "ambulance", "999", "911", "111", "ae", "a&e", "emergency", "urgent"}
PERMITTING = {"ok", "okay", "fine", "safe"}
# what a judging question may name to be about CRS, not what was told ("how serious is CRS?")
CRS_NAMES = {
    *("crs", "reaction", "syndrome", "cytokine", "cytokines", "storm", "condition", "treatment", "treatments"),
    *("therapy", "immunotherapy", "drug", "drugs", "medicine", "medicines", "medication", "infusion", "business"),
}


# a question told as asked ("pt asking what cytokines are", "I wondered whether one might take
# steps", "caller wants to know who to contact", "I would be grateful to know whether ...")
ASKING_VERBS = {"asking", "asks", "wondered", "wondering", "wonder", "querying", "enquiring"}
ASKED_WORDS = WH_WORDS | {"if", "whether", "re", "about"}


def _reported_question(doc: Doc, start: int, end: int) -> int | None:
    for index in range(start, end - 1):
        word, before = doc[index].norm_, doc[index - 1].norm_ if index > start else ""
        if word in ASKING_VERBS and doc[index + 1].norm_ in ASKED_WORDS:
            if before in ("keeps", "keep", "kept", "still"):
                continue  # "dad keeps asking where he is": what someone does, not a question
            return index + 1
        if word in ("know", "understand") and doc[index + 1].norm_ in ASKED_WORDS and before == "to":
            if index - 2 >= start and doc[index - 2].norm_ in WANTING:
                return index + 1  # "I'd like to know whether", "wants to know who to contact"
    return None


# "... to know": a wish to know asks ("I'd like to know if"); not knowing is told ("she doesn't
# seem to know where she is", "I don't know how long I was out")
WANTING = {"like", "love", "want", "wants", "wanted", "wish", "need", "needs", "grateful", "trying", "try"}


# words that start a question, as people type them
ASKING_FIRST = INFO_QUESTION_STARTS | {"who", "where", "when", "wheres", "whens", "whos", "wats", "whys"}
ASKING_AUXILIARIES = INVERTING | {"shud", "shld", "cud", "wud", "must", "may", "might", "shall", "was", "were"}


def _asking_start(doc: Doc, start: int, end: int, plainly: bool = False) -> int | None:
    """Where a sentence starts to ask, if it does: its first word when that asks ("what ...", "do
    I ...", "can it ..."), or a question word or an auxiliary before its subject later in it, when
    a question mark follows ("she keeps shaking, what is CRS?": the question is "what is CRS")."""
    words = [t for t in doc[start:end] if not t.is_punct]
    first = _first_word(words)
    if first is None:
        return None
    following = doc[first.i + 1].norm_ if first.i + 1 < len(doc) else ""
    if first.norm_ in ASKING_FIRST or (first.norm_ == "y" and following in INVERTING):
        return first.i  # "what ...", "wheres the nearest centre", "y are too many bad"
    if first.norm_ in ASKING_AUXILIARIES and following in INVERTED_SUBJECTS:
        return first.i  # "do I ...", "shud i wait ...", "can it ..."
    marked = _question_mark_after(doc, end)
    nobody = not any(t.norm_ in PEOPLE for t in words)
    if first.norm_ in ASKING_AUXILIARIES and len(words) >= 4 and nobody and (marked or not plainly):
        return first.i  # "is cytokine release syndrome a side effect ..." (not "Is since morning he have fever")
    inverted = _inverted_question(doc, start, end)
    if inverted is not None and (marked or not plainly):
        return inverted  # (plainly, with its question mark: not "My husband ... has this evening been")
    reported = _reported_question(doc, start, end)
    if reported is not None:
        return reported
    if not marked:
        return None
    if first.norm_ in QUESTION_STARTS:
        return first.i
    later = next((t.i for t in words if t.norm_ in WH_WORDS), None)
    if later is not None:
        return later
    return start if nobody and not plainly else None  # "this medicine make CRS?" (but "lips gone blu-ish??")


def _points_back(doc: Doc, start: int, end: int, plainly: bool = False) -> bool:
    """A question about the state the rest of the message tells: it judges it ("is that
    normal?", "is it bad?", "should I be worried?", unless it names what it judges: "how serious
    is this CRS business?") or asks what to do ("should we ring?", "is this an emergency?",
    unless only if something happens: "who does she ring if it starts")."""
    words = [t.norm_ for t in doc[start:end] if not t.is_punct]
    names = any(word in CRS_NAMES for word in words)
    conditional = any(word in ("if", "when") for word in words)
    if plainly and len(words) > 1 and words[0] in ASKING_AUXILIARIES and words[1] in ("this", "that"):
        if len(words) < 3 or words[2] not in CRS_NAMES | {"one", "ones", "drug", "medicine"}:
            return True  # "is this the car t?", "is that normal?", "could that be it?" (not "is this CRS catching?")
    while words and words[-1] in ("question", "mark", "now", "then", "please"):
        words = words[:-1]  # "what do we do question mark"
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else ""
        if word in JUDGING and not names and not (word in PERMITTING and following in ("to", "for")):
            return True  # ... but "is it ok to have pets around?" asks leave
        if word in ACTIONS and not conditional:
            return True
    if words and words[-1] == "do" and "what" in words and not conditional:
        return True  # "what do I do", "what should we do": what to do now
    return False


def asking_parts(doc: Doc, plainly: bool = False) -> List[Tuple[int, int]]:
    """The parts of a message that ask a question of its own (from where a sentence starts to
    ask, to its end), not about the state the rest of it tells ("is that normal?", "should we
    ring?"). In "Will this CRS make my wife's hair fall out? She's very worried about her hair."
    the first sentence; in "he's not himself, is that normal?" none. For crs.dialogue: such a
    message gets its answer before the yes/no check, or after an emergency instruction (neither is
    left out). `plainly`: only questions that start as questions do (not "lips gone blu-ish??");
    whether the message also tells something in the present outside them ("tonight she keeps
    swatting at flies ... what do i do") is told_now_outside (TriageEngine.asking)."""
    parts = []
    for start, end in _sentences(doc):
        begins = _asking_start(doc, start, end, plainly)
        if begins is not None and not _points_back(doc, begins, end, plainly):
            parts.append((begins, end))
    return parts


def _greeting(doc: Doc, index: int) -> bool:
    """ "Good morning", "good evening": not a time something happened."""
    return index > 0 and doc[index - 1].norm_ == "good"


def is_information_question(doc: Doc, start: int, end: int) -> bool:
    """A wh-question about a sign with nobody in it ("what does low blood pressure feel like")."""
    tokens = [t for t in doc[start:end] if not t.is_punct]
    if not tokens or tokens[0].norm_ not in INFO_QUESTION_STARTS:
        return False
    return not any(t.norm_ in PEOPLE for t in tokens)


def learned_findings(
    engine: TriageEngine, doc: Doc, text: str, origin: List[int], spans: Spans, found: List[Finding]
) -> List[Finding]:
    """What the classifier finds that the rules do not already report as present."""
    assert engine.learned is not None
    words = [token.norm_ for token in doc]
    present = {finding.id for finding in found if finding.assertion == "present"}
    idioms = engine.idiom_spans(doc)
    results: Dict[str, Finding] = {}
    parts = segments(doc)
    probabilities = segment_probabilities(engine, doc, parts)

    def wanted(label: str, segment: Tuple[int, int]) -> bool:
        if label in present or label not in engine.findings:
            return False
        char_start, char_end = original_span(doc, origin, *segment)
        # the rules read these words for this sign already (a reading, "breathing is fine"):
        # their reading stands
        return not any(f.id in RELATED.get(label, (label,)) and char_start <= f.start < char_end for f in found)

    idioms_of_negation = engine.assertions.matches("negation_idioms", doc)  # "he never had this before"
    for detection in engine.learned.detect(words, parts, engine.is_red_flag, probabilities, wanted):
        label = detection.label
        seg_start, seg_end = detection.segment
        if any(detection.start < i_end and i_start < detection.end for i_start, i_end in idioms):
            continue
        if detection.weak and is_question(doc, seg_start, seg_end):
            continue  # a weak guess on a question ("can CRS happen with blinatumomab too?")
        # (over the whole message, a weak guess may take words of the question too)
        evidence_end = None if detection.segment == (0, len(doc)) else detection.end
        if detection.weak and asks_for_information(doc, parts, detection.segment, spans, evidence_end):
            continue  # context before an information question ("my son is 9. is ATG a CRS drug?")
        if detection.weak and _within_a_question(doc, parts, detection):
            continue  # read over the whole message, its words are a question's ("who decides where")
        if detection.weak and _explained(engine, detection, doc, origin, found):
            continue
        if engine.is_background(doc, seg_start, seg_end):
            continue  # "my son is 9 and about to have kymriah": who and what treatment, no report
        if engine.vetoed(label, doc, detection.start, detection.end):
            continue
        finding = engine.finding(
            label, doc, detection.start, detection.end, text, origin, spans,
            detector="learned", score=round(detection.probability, 3),
        )  # fmt: skip
        if finding.assertion == "negated" and not any(_negates(doc, i) for i in range(seg_start, detection.start)):
            # the only "not" before it is the stray one of broken grammar ("he is not can wake up")
            finding = with_assertion(finding, "present")
        if finding.assertion == "present":
            if any(
                _negates(doc, i)
                and not _denies_existence(doc, i, label)
                and not any(s <= i < e for s, e in idioms_of_negation)
                for i in detection.against
            ):
                finding = with_assertion(finding, "negated")
            elif is_information_question(doc, seg_start, seg_end):
                finding = with_assertion(finding, "hypothetical")
        current = results.get(label)
        if current is None or (finding.assertion == "present" and current.assertion != "present"):
            results[label] = finding
    return list(results.values())


def _explained(engine: TriageEngine, detection: Detection, doc: Doc, origin: List[int], found: List[Finding]) -> bool:
    """A weak guess (only "some red flag", its own label far below its threshold) on a sentence
    where the rules read a milder symptom as present: the symptom's words are what the
    classifier heard ("he cant stop shivering", "throwing up and cant keep water down"). Not
    for a red flag the symptom goes with (the source: "dizziness and feeling faint due to low
    blood pressure or a fast heartbeat")."""
    assert engine.learned is not None
    if detection.probability >= EXPLAIN_SHARE * engine.learned.thresholds[detection.label]:
        return False
    char_start, char_end = original_span(doc, origin, *detection.segment)
    return any(
        f.level == "urgent"
        and f.assertion == "present"
        and char_start <= f.start < char_end
        and detection.label not in COMPANIONS.get(f.id, ())
        for f in found
    )


# "they're not really there", "nobody was there": for a hallucination the denial is the sign itself
EXISTENCE = {"there", "real", "present", "here"}
EXISTENCE_SIGNS = {"hallucinations"}


def _denies_existence(doc: Doc, index: int, label: str) -> bool:
    """A negation that says what is seen or heard does not exist ("they're not really there"):
    for a hallucination that is the description, not a denial of the sign."""
    if label not in EXISTENCE_SIGNS:
        return False
    return any(t.norm_ in EXISTENCE for t in doc[index + 1 : index + 4] if not t.is_punct)


def _negates(doc: Doc, index: int) -> bool:
    """A negation word that is not the stray "not" of broken grammar, nor one that denies what is
    normal ("words not correct", "not right", "not himself"): that describes the sign."""
    if doc[index].norm_ not in NEGATIONS:
        return False
    following = doc[index + 1].norm_ if index + 1 < len(doc) else ""
    return following not in STRAY_NOT_BEFORE and following not in NORMAL_STATES


def _within_a_question(doc: Doc, parts: List[Tuple[int, int]], detection: Detection) -> bool:
    """The words the classifier relied on all lie in a sentence that asks."""
    return any(
        start <= detection.start
        and detection.end <= end
        and (start, end) != detection.segment
        and _asks(doc, start, end)
        for start, end in parts
    )


FRAGMENT_STARTS = {"and", "or", "what", "how"}


def _fragment_follow_up(doc: Doc, start: int, end: int) -> bool:
    """ "and for the severe ones", "what about older people": a follow-up that asks the last
    question about something else, about nobody."""
    words = [t.norm_ for t in doc[start:end] if not t.is_punct]
    if len(words) < 2 or words[0] not in FRAGMENT_STARTS:
        return False
    if words[0] in ("what", "how") and words[1] != "about":
        return False
    return not any(word in PEOPLE for word in words)


def learned_concern(engine: TriageEngine, doc: Doc, spans: Spans) -> Tuple[int, int] | None:
    """A sentence the classifier finds close to a red flag (at least half-way to its "any red
    flag" threshold) that is not a question, read as present by the assertion rules."""
    assert engine.learned is not None
    parts = segments(doc)
    threshold = engine.learned.thresholds.get(ANY_RED_FLAG, 1.0)
    for (start, end), probs in zip(parts, segment_probabilities(engine, doc, parts), strict=True):
        if is_question(doc, start, end) or engine.is_background(doc, start, end):
            continue  # a question is answered; the check is for reports
        if asks_for_information(doc, parts, (start, end), spans):
            continue  # context for a question of its own ("I live alone. who do I ring?")
        if _fragment_follow_up(doc, start, end):
            continue  # "and for the severe ones": the last question again about something else
        if probs.get(ANY_RED_FLAG, 0.0) >= CONCERN_SHARE * threshold:
            if engine.assertions.read(doc, start, end, "emergency", spans) == "present":
                return start, end
    return None
