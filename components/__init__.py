"""Rasa server plug-ins: thin adapters from Rasa to the Rasa-free core in ``actions``.

- ``nlu``: the red-flag check on every message and the treatment names (NLU components)
- ``triage_policy``: the triage flows, enforced with the highest priority (dialogue policy)
- ``nlg``: responses in the reader's locale, triage replies built from the sources (NLG)

All of them run in the Rasa server, so triage never depends on the action server.
"""
