"""How a mention is asserted (safety rule 6): present, negated, hypothetical or historical.

A negation governs what follows it in its clause; a hypothesis or an information question
reaches the mention unless a new statement starts; remote past makes a past-tense clause history.
Uncertainty counts as present: when in doubt, escalate.
"""

from __future__ import annotations

from typing import Any, Dict, List, Sequence, Tuple

from spacy.tokens import Doc

from crs.triage.matching import GatedMatcher
from crs.triage.phrases import matcher_patterns

# (start token, end token, level) of every symptom phrase matched in the message
Spans = Sequence[Tuple[int, int, str]]

# Tokens that end a sentence: no cue reaches across them.
_SENTENCE_BREAKS = {".", "!", "?", ";", "\n", "…", "(", ")"}  # a parenthesis is a statement of its own
# Tokens that end a clause for negation and hypotheses (commas included: "no fever, cant breathe"
# must not read as a negated breathing problem).
_CLAUSE_PUNCT = _SENTENCE_BREAKS | {",", ":", "-", "–", "—", "(", ")", "/"}
# A new subject between a negation and a symptom means the negation belongs to something else
# ("no he cant breathe", "not me, my husband is confused").
# Words that always end a statement for hypotheses and history.
_STRONG_BREAKS = {"but", "however", "although", "though", "whereas"}
# A denial between a mention and an all-clear word makes it a report: "his breathing isnt right".
_DENIALS = {"isnt", "not", "doesnt", "dont", "aint", "wasnt", "arent", "never", "hasnt", "no"}
# Words allowed between a mention and its all-clear word ("breathing is totally fine").
_ALL_CLEAR_GLUE = {
    "look",
    "looks",
    "seem",
    "seems",
    "sound",
    "sounds",
    "feel",
    "feels",
    "is",
    "s",
    "was",
    "has",
    "been",
    "are",
    "all",
    "totally",
    "completely",
    "perfectly",
    "fine",
    "now",
    "ok",
    "okay",
    "quite",
    "pretty",
    "back",
    "to",
}
_SUBJECTS = {
    "i",
    "im",
    "ive",
    "id",
    "he",
    "hes",
    "she",
    "shes",
    "they",
    "theyre",
    "we",
    "were",
    "you",
    "youre",
    "my",
    "his",
    "her",
    "their",
    "our",
    "your",
    "it",
    "its",
    "there",
    "theres",
    "mum",
    "mom",
    "dad",
    "husband",
    "wife",
    "son",
    "daughter",
    "partner",
    "mother",
    "father",
    "brother",
    "sister",
    "friend",
    "patient",
}

# A story about someone else stays a report when it is told in the present ("my friend ... just
# messaged me saying she cant breathe").
_PRESENT_TENSE = {"cant", "cannot", "wont", "isnt", "doesnt", "is", "are", "has", "keeps", "saying", "says", "now"}

_NOW_SUBJECTS = {"hes", "shes", "im", "theyre", "were"}
_POSSESSIVES = {"my", "his", "her", "our", "their"}
_NOW_VERBS = {"is", "s", "am", "are", "has", "keeps", "cant", "wont", "isnt"}


def _says_now(doc: Doc, index: int) -> bool:
    """A subject in the present at `index` ("he is", "shes", "i am", "he cant")."""
    word = doc[index].norm_
    following = doc[index + 1].norm_ if index + 1 < len(doc) else ""
    after_next = doc[index + 2].norm_ if index + 2 < len(doc) else ""
    if word in _NOW_SUBJECTS or (word in _SUBJECTS and following in _NOW_VERBS):
        return True
    return word in _POSSESSIVES and after_next in _NOW_VERBS  # "my mum is", "his wife cant"


# Question words and the words of a question about CRS in general (not about anyone).
_YES_NO_STARTS = {
    *("is", "are", "does", "do", "can", "could", "would", "will", "should", "might", "may"),
}
# The sign is the subject ("is shortness of breath a sign ...") or the object of "cause" ("does
# CRS cause seizures"), not a predicate with a dropped subject ("is very confused, normal?").
_AFTER_SUBJECT = {
    *("a", "an", "one", "the", "be", "normal", "common", "dangerous", "serious", "something", "part", "related"),
    *("linked", "cause", "causes", "mean", "means", "considered", "always", "usually", "also", "ever"),
}
_CAUSE_VERBS = {"cause", "causes", "give", "gives", "mean", "means", "trigger", "triggers"}
_PEOPLE_AND_NOW = {
    *("i", "im", "ive", "id", "me", "my", "mine", "myself", "he", "hes", "him", "his", "himself", "she", "shes"),
    *("her", "hers", "herself", "they", "theyre", "them", "their", "we", "were", "us", "our", "mum", "mom", "dad"),
    *("husband", "wife", "son", "daughter", "partner", "mother", "father", "brother", "sister", "baby", "child"),
    *("kid", "boy", "girl", "nan", "gran", "grandad", "grandma", "pt", "patient", "friend", "this", "these"),
    *("still", "keeps", "again", "here", "there", "theres", "currently", "yet"),
}
_GENERAL_WORDS = {
    *("crs", "c", "cytokine", "sign", "signs", "symptom", "symptoms", "side", "effect", "warning", "emergency"),
    *("dangerous", "serious", "normal", "common", "likely", "cause", "causes", "mean", "reason", "risk"),
    *("related", "part", "one", "treatment", "immunotherapy", "bispecific", "bispecifics", "car", "cart"),
    *("should", "worry", "worrying", "concern", "call", "ring", "999", "911", "ae", "a&e", "ambulance"),
}
_SERVICE_NUMBERS = {"999", "111", "911", "112"}
_WHAT_IS = [["what", "is"], ["whats"], ["what"], ["wat", "is"], ["what", "is", "a"], ["what", "is", "an"]]
_WORD_NOUNS = {"word", "term", "understand", "meaning", "define", "definition"}

CUE_LISTS = (
    "negation_cues",
    "all_clear_cues",
    "uncertainty_cues",
    "hypothetical_cues",
    "hypothetical_after_cues",
    "present_markers",
    "historical_cues",
    "hypothetical_idioms",
    "negation_idioms",
    "past_markers",
    "ongoing_markers",
    "others_cues",
    "reported_after_question",
    "resolved_cues",
    "remote_anchors",
    "over_cues",
)


class AssertionReader:
    """Reads the assertion of a mention from the cue lists of the rules file."""

    def __init__(self, vocab: Any, assertion: Dict[str, Any]) -> None:
        self.negation_window = int(assertion.get("negation_window", 5))
        self.clause_words = set(assertion.get("clause_breaks", []))
        self.list_joiners = set(assertion.get("list_joiners", ["or", "nor", "any", "and/or"]))
        self.cues: Dict[str, GatedMatcher] = {}
        for name in CUE_LISTS:
            matcher = GatedMatcher(vocab)
            for phrase in assertion.get(name, []):
                matcher.add(name, matcher_patterns(phrase))
            self.cues[name] = matcher

    def bounds(self, doc: Doc, start: int, end: int, breaks: set, words: set) -> Tuple[int, int]:
        """The stretch around tokens [start, end) up to a breaking token on each side."""
        left = start
        while left > 0 and doc[left - 1].text not in breaks and doc[left - 1].norm_ not in words:
            left -= 1
        right = end
        while right < len(doc) and doc[right].text not in breaks and doc[right].norm_ not in words:
            right += 1
        return left, right

    def matches(self, name: str, doc: Doc) -> List[Tuple[int, int]]:
        """Every match of a cue list in the message, found once per message."""
        cache = doc.user_data.setdefault("cue_matches", {})
        if name not in cache:
            cache[name] = [(s, e) for _, s, e in self.cues[name](doc)]
        return cache[name]

    def cues_in(self, name: str, doc: Doc, left: int, right: int) -> List[Tuple[int, int]]:
        found = [(s, e) for s, e in self.matches(name, doc) if s >= left and e <= right]
        idioms_name = {"hypothetical_cues": "hypothetical_idioms", "negation_cues": "negation_idioms"}.get(name)
        if idioms_name and found:
            idioms = self.matches(idioms_name, doc)
            found = [(s, e) for s, e in found if not any(i_s <= s and e <= i_e for i_s, i_e in idioms)]
        return found

    def uncertain(self, doc: Doc, start: int, end: int) -> bool:
        """An uncertainty cue before the mention in its comma-bounded clause."""
        left, _ = self.bounds(doc, start, end, _CLAUSE_PUNCT, set())
        return any(s < start for s, _ in self.cues_in("uncertainty_cues", doc, left, end))

    def _negated(self, doc: Doc, start: int, end: int, level: str, spans: Spans) -> bool:
        """A negation governs this mention: it comes shortly before it in its clause, and either
        this is the first symptom after it or the symptoms between are joined by "or"
        ("no fever or cough"). Commas join only milder symptoms: "no fever, cant breathe" keeps
        the red flag present."""
        left, _ = self.bounds(doc, start, end, _CLAUSE_PUNCT | {","}, self.clause_words)
        left_comma, _ = self.bounds(doc, start, end, _SENTENCE_BREAKS, self.clause_words)
        scope_left = left if level == "emergency" else left_comma
        for _cue_start, cue_end in sorted(self.cues_in("negation_cues", doc, scope_left, start), reverse=True):
            if cue_end > start:
                continue
            chain = [(s, e) for s, e, _ in spans if cue_end <= s and e <= start]
            # symptoms between the cue and this one, overlapping ones taken as one
            previous_end = cue_end
            first = True
            ok = True
            for s, e in chain + [(start, end)]:
                if s < previous_end:
                    continue
                between = doc[previous_end:s]
                if first:
                    ok = len(between) < self.negation_window and not any(t.norm_ in _SUBJECTS for t in between)
                    first = False
                else:
                    joiners = self.list_joiners | ({","} if level != "emergency" else set())
                    ok = ok and all(t.norm_ in joiners or t.text in joiners for t in between)
                previous_end = e
                if not ok:
                    break
            if ok:
                return True
        return False

    def _hypothesis_reaches(self, doc: Doc, cue_end: int, start: int) -> bool:
        """Nothing between a hypothesis cue and the mention starts a new statement."""
        for index in range(cue_end, start):
            token = doc[index]
            if token.text in _SENTENCE_BREAKS or token.norm_ in _STRONG_BREAKS:
                return False
            if token.text == "," and index + 1 < len(doc) and doc[index + 1].norm_ in _SUBJECTS:
                return False
            # "reading about it and I would like to... he is having a fit": someone is doing
            # something now, away from the cue, so a new statement has started
            if index > cue_end and _says_now(doc, index):
                return False
        return True

    def read(self, doc: Doc, start: int, end: int, level: str, spans: Spans = (), reading: bool = False) -> str:
        sentence = self.bounds(doc, start, end, _SENTENCE_BREAKS, _STRONG_BREAKS)
        clause = self.bounds(doc, start, end, _CLAUSE_PUNCT, set())

        # Uncertainty counts as present: when in doubt, escalate.
        if self.uncertain(doc, start, end):
            return "present"
        if self._negated(doc, start, end, level, spans):
            return "negated"
        # "right now", "this morning" in the mention's own clause: a report, whatever else is said
        # (but not the "now" of "all fine now", which says it is over).
        resolved = self.matches("resolved_cues", doc) + self.matches("over_cues", doc)
        if any(
            not any(r_start <= m_start and m_end <= r_end for r_start, r_end in resolved)
            for m_start, m_end in self.cues_in(
                "present_markers", doc, *self.bounds(doc, start, end, _CLAUSE_PUNCT, _STRONG_BREAKS)
            )
        ):
            return "present"
        # Remote past anywhere in the sentence ("I had a fit as a child"), when the mention's clause
        # is in the past and nothing in it says it goes on ("she is breathless, same as last time").
        # Over and done with: a mention in the past followed by "went away", "now he is good".
        statement = self.bounds(doc, start, end, _CLAUSE_PUNCT, _STRONG_BREAKS)
        if any(cue_start >= end for cue_start, _ in self.cues_in("resolved_cues", doc, end, sentence[1])) and (
            self.cues_in("past_markers", doc, *statement) or self.cues_in("historical_cues", doc, *sentence)
        ):
            return "historical"
        # Told in the past with a remote anchor in its sentence ("had fever last wk in hosp"),
        # and said to be over later in the message ("... all fine now", "been himself since").
        if (
            self.cues_in("past_markers", doc, *statement)
            and self.cues_in("remote_anchors", doc, *sentence)
            and any(cue_start >= end for cue_start, _ in resolved)
        ):
            return "historical"
        # Someone else's story, told in the past, counts the same way.
        others = [cue for cue in self.cues_in("others_cues", doc, *sentence) if cue[0] < start]
        if self.cues_in("historical_cues", doc, *sentence) or others:
            statement = self.bounds(doc, start, end, _CLAUSE_PUNCT, _STRONG_BREAKS)
            past = self.cues_in("past_markers", doc, *statement) or any(
                token.norm_.endswith("ed") and len(token.norm_) > 4 for token in doc[statement[0] : statement[1]]
            )
            # what is said now is read from the story itself (the other person up to the sign):
            # "the caller says a friend had a fit" and "my friend's son had a fit is that
            # common" are still stories
            told = (max(statement[0], others[0][0]), min(statement[1], end)) if others else statement
            reported_now = bool(others) and any(t.norm_ in _PRESENT_TENSE for t in doc[told[0] : told[1]])
            if past and not reported_now and not self.cues_in("ongoing_markers", doc, *told):
                return "historical"
        # A hypothesis or an information question reaching the mention ("what if I get a
        # seizure?", "is confusion a symptom of CRS?", "would a rash be a sign of CRS?").
        hypothetical = any(
            cue_start <= start and (cue_end >= start or self._hypothesis_reaches(doc, cue_end, start))
            for cue_start, cue_end in self.cues_in("hypothetical_cues", doc, *sentence)
        ) or bool(self.cues_in("hypothetical_after_cues", doc, end, clause[1]))
        if hypothetical and not self._answered_at_once(doc, sentence[1]):
            return "hypothetical"
        if not reading and (
            self._names_the_word(doc, start, end, sentence) or self._general_question(doc, start, end, sentence)
        ):
            if not self._answered_at_once(doc, sentence[1]):
                return "hypothetical"
        return "present"

    @staticmethod
    def _names_the_word(doc: Doc, start: int, end: int, sentence: Tuple[int, int]) -> bool:
        """The sign's word is itself the subject: "what is 'hallucinating'?", "I dont understand
        drowsiness", "drowsiness means what?"."""
        words = [t.norm_ for t in doc[sentence[0] : sentence[1]] if not t.is_punct]
        mention = [t.norm_ for t in doc[start:end] if not t.is_punct]
        if words and words[-len(mention) :] == mention and words[: -len(mention)] in _WHAT_IS:
            return True
        if any(_says_now(doc, i) for i in range(end, sentence[1])):
            return False  # "the word seizure scares me, he is having one now"
        before = [t for t in doc[sentence[0] : start] if not t.is_punct]
        after = [t for t in doc[end : sentence[1]] if not t.is_punct]
        if before and before[-1].norm_ in _WORD_NOUNS:
            return True
        return (
            bool(after)
            and after[0].norm_ in {"mean", "means"}
            and (len(after) == 1 or after[1].norm_ in {"what", "wat"})
        )

    def _general_question(self, doc: Doc, start: int, end: int, sentence: Tuple[int, int]) -> bool:
        """A yes/no question about CRS in general, with the sign as its subject and nobody in
        it: "is shortness of breath a sign of CRS?", "would a fast heartbeat be a reason to go
        to A&E?", "does C R S cause seizures". A person, a pointer to now ("this", "still") or a
        number keeps it a possible report."""
        tokens = [t for t in doc[sentence[0] : sentence[1]] if not t.is_punct]
        if len(tokens) < 3 or tokens[0].norm_ not in _YES_NO_STARTS:
            return False
        words = {t.norm_ for t in tokens}
        if words & _PEOPLE_AND_NOW or any(t.like_num and t.norm_ not in _SERVICE_NUMBERS for t in tokens):
            return False
        if self.cues_in("present_markers", doc, *sentence):
            return False
        following = []  # the next two words, within the clause ("slurred speech something")
        for token in doc[end : sentence[1]]:
            if token.text in _CLAUSE_PUNCT or len(following) == 2:
                break
            following.append(token.norm_)
        preceding = next((t.norm_ for t in reversed(doc[sentence[0] : start]) if not t.is_punct), "")
        return bool(words & _GENERAL_WORDS) and (bool(set(following) & _AFTER_SUBJECT) or preceding in _CAUSE_VERBS)

    def _answered_at_once(self, doc: Doc, sentence_end: int) -> bool:
        """A short sentence right after the question says it is happening ("is it crs if shes
        breathing fast? she is right now", "is a headache a sign? ive had one all day")."""
        start = sentence_end + 1 if sentence_end < len(doc) else sentence_end
        end = start
        while end < len(doc) and doc[end].text not in _SENTENCE_BREAKS and end - start < 10:
            end += 1
        return bool(start < end and self.cues_in("reported_after_question", doc, start, end))
