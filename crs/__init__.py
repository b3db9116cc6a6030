"""The Rasa-free core of the CRS assistant: sources and content, red-flag triage, dialogue
decisions, reply building and SMS text. No module here imports Rasa; the Rasa adapters are
``actions`` (SDK custom actions) and ``components`` (server plug-ins).

The core uses spaCy only for its tokenizer and rule matcher. spaCy's thinc probes for TensorFlow
on import, which costs about 3 s and 500 MB; outside a Rasa process (the action server, the
triage command, unit tests) nothing here needs TensorFlow, so the probe is answered "absent".
Inside a Rasa process (rasa already imported) TensorFlow is left alone.
"""

import sys

if "rasa" not in sys.modules and "tensorflow" not in sys.modules:
    sys.modules["tensorflow"] = None  # type: ignore[assignment]
