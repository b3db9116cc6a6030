"""The helpline console's Rasa-free core (issue 12): which conversations the nurses see and in
which order (``cases``), their structured summary and SBAR (``summary``), opening hours
(``hours``), requests for a person (``requests``), accounts and sessions (``auth``), storage in
the tracker store's database (``store``, ``schema`` and its Alembic migrations), assist mode
(``assist``) and SMS replies through Twilio's REST API (``sms``)."""
