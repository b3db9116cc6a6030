"""NLU components: the red-flag check on every message, and treatment names."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.intake import FULL_TRIAGE, merge_triage, triage_text
from crs.content import default_library
from crs.dialogue import CHECK_INTENTS, TRIAGE_INTENTS, is_general_question
from crs.languages import default_languages
from crs.triage import default_engine

TRIAGE = "triage"
ORIGINAL_INTENT = "original_intent"
# config.yml: FallbackClassifier threshold; below UNSURE_TRIAGE_GUESS the classifier's symptom
# guess is too weak to start the yes/no check on its own
FALLBACK_THRESHOLD = 0.3
UNSURE_TRIAGE_GUESS = 0.5


def _entity(name: str, value: str, start: int, end: int, extractor: str) -> Dict[str, Any]:
    return {
        "entity": name,
        "value": value,
        "start": start,
        "end": end,
        "confidence_entity": 1.0,
        "extractor": extractor,
    }


class _RuleComponent(GraphComponent, EntityExtractorMixin):
    """A component with nothing to train: rules and content are data, loaded when it is created."""

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        return cls(config)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class RedFlagDetector(_RuleComponent):
    """Runs the red-flag triage on every message (design.md rule 4).

    Adds the triage result to the parse data (``triage``), a ``check_answer`` entity for short
    yes/no replies, and, when a symptom is present now, sets the intent to ``triage_emergency``
    or ``triage_urgent`` whatever the classifier guessed (its guess is kept as
    ``original_intent``, so the rest of the turn can still answer the question).

    The triage covers every character it is given, whatever the first one ("/intent" syntax
    included), the red-flag words of other languages (data/languages.yml), and the triage of the
    whole message that a channel made when it gave the dialogue a shortened copy (metadata
    ``crs_full_triage``, set by ``components.intake`` only): findings of both, the higher level.
    """

    def __init__(self, config: Dict[str, Any]) -> None:
        self.component_config = config
        self.engine = default_engine()  # loads the rules now: a broken rule file stops the server
        default_languages()  # and the other languages' words

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._process(message)
        return messages

    def _process(self, message: Message) -> None:
        text: str = message.get(TEXT) or ""
        metadata = message.get("metadata")
        full = metadata.get(FULL_TRIAGE) if isinstance(metadata, dict) else None
        data = merge_triage(triage_text(text), full if isinstance(full, dict) else None)
        message.set(TRIAGE, data, add_to_output=True)
        if not text:
            return
        entities = list(message.get(ENTITIES, []))
        answer = self.engine.answer(text) if not text.startswith("/") else None
        if answer:
            entities.append(_entity("check_answer", answer, 0, len(text), self.__class__.__name__))
        message.set(ENTITIES, entities, add_to_output=True)
        triage_intent = TRIAGE_INTENTS.get(data["level"])
        if triage_intent:
            # the question asked, if any: the classifier's best guess that is not itself a triage
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") not in TRIAGE_INTENTS.values()]
            original = ranking[0] if ranking else (message.get(INTENT) or {})
            guesses = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != "nlu_fallback"]
            if (
                original.get("name") == "nlu_fallback"
                and guesses
                and guesses[0].get("name") in TRIAGE_INTENTS.values()
                and len(ranking) > 1
                and ranking[1].get("confidence", 0) >= FALLBACK_THRESHOLD
            ):
                # the classifier was torn between a symptom report and a question ("a temp of
                # 38.6, what is CRS exactly"): the rules have settled the symptom, so the question
                # is its next guess, when that guess is sure enough on its own
                original = ranking[1]
            message.set(ORIGINAL_INTENT, original.get("name"), add_to_output=True)
            message.set(INTENT, {"name": triage_intent, "confidence": 1.0}, add_to_output=True)
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != triage_intent]
            message.set(INTENT_RANKING_KEY, [{"name": triage_intent, "confidence": 1.0}] + ranking, add_to_output=True)
        elif data.get("concern") and (message.get(INTENT) or {}).get("name") not in CHECK_INTENTS:
            # someone's state described without a sign the detectors can name ("he's not
            # himself"): the yes/no check, severest question first (issue 9), not an answer
            message.set(ORIGINAL_INTENT, (message.get(INTENT) or {}).get("name"), add_to_output=True)
            message.set(INTENT, {"name": "report_symptom", "confidence": 1.0}, add_to_output=True)
        else:
            intent = (message.get(INTENT) or {}).get("name")
            if intent in TRIAGE_INTENTS.values():
                # The classifier heard a symptom report that the rules do not find present (a
                # question about a symptom, a negation). Only the rules decide triage: take the
                # classifier's next guess, or treat it as a symptom report, which starts the yes/no
                # check (when in doubt, ask about the danger signs).
                ranking = [
                    r
                    for r in message.get(INTENT_RANKING_KEY) or []
                    if r.get("name") not in TRIAGE_INTENTS.values() and r.get("name") != "report_symptom"
                ]
                best = ranking[0] if ranking and ranking[0].get("confidence", 0) >= 0.2 else None
                replacement = best or {"name": "report_symptom", "confidence": 1.0}
                guess = (message.get(INTENT) or {}).get("confidence", 0.0)
                if best is None and is_general_question(text, data.get("findings") or []):
                    # a question about CRS in general ("can it make you sleepy?", "can CRS affect
                    # the heart?"): answered (issue 11), with "if this is happening now, call
                    # 999" where it names a red flag; the check is for reports about someone
                    replacement = {"name": "nlu_fallback", "confidence": 1.0}
                elif guess < UNSURE_TRIAGE_GUESS and (best is None or best.get("confidence", 0) < FALLBACK_THRESHOLD):
                    # neither guess is sure (gibberish, a question in other words): the answer
                    # action decides between an answer, "not covered" and the topics (issue 11)
                    replacement = {"name": "nlu_fallback", "confidence": 1.0}
                message.set(ORIGINAL_INTENT, replacement["name"], add_to_output=True)
                message.set(INTENT, dict(replacement), add_to_output=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class TreatmentExtractor(_RuleComponent):
    """Recognises the treatments and drugs named in the sources (brand names and typos too).

    Adds a ``treatment`` entity whose value is the treatment id; a drug the sources do not name
    is left to the classifier's own ``treatment`` entity (value: the words as typed).
    """

    def __init__(self, config: Dict[str, Any]) -> None:
        self.component_config = config
        self.library = default_library()  # invalid content stops the server

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text or text.startswith("/"):
                continue
            found = self.library.find_treatments(text)
            if not found:
                continue
            folded = text.lower()
            entities = [
                e
                for e in message.get(ENTITIES, [])
                if not (
                    e.get("entity") == "treatment"
                    and any(
                        words in str(e.get("value", "")).lower() or str(e.get("value", "")).lower() in words
                        for _, words in found
                    )
                )
            ]
            for treatment, words in found:
                start = max(folded.find(words.split()[0]), 0)
                entities.append(_entity("treatment", treatment.id, start, start + len(words), self.__class__.__name__))
            message.set(ENTITIES, entities, add_to_output=True)
        return messages
