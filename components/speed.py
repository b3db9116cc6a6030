"""Per-turn costs of Rasa 3.6 itself that the profile of issue 13 found, removed without changing
what is checked.

``install()`` is called once when the TriagePolicy is created in the Rasa server.

- Rasa validates every custom action's response against its JSON schema with
  ``jsonschema.validate``, which checks the schema itself against the meta-schema and builds a new
  validator on every call: 37% of the server's CPU under load (py-spy, `docs/performance.md`).
  The same validation is done here with one validator built once (same schema, same draft, the
  same best-match error and message).
"""

from __future__ import annotations

import logging
from typing import Any, Dict

logger = logging.getLogger(__name__)

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    _cache_action_response_validator()


def _cache_action_response_validator() -> None:
    from jsonschema import ValidationError, exceptions, validators
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)

    def _validate_action_result(self: Any, result: Dict[str, Any]) -> bool:
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
