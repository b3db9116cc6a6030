"""Content: the reviewed sources kept verbatim, and what is quoted from them.

- ``sources``: loading a source, its passages (units) with stable ids, extraction gaps
- ``model``: quotes, locales, topics and the topic ids (a contract: design.md)
- ``treatments``: treatments and drugs named in messages
- ``library``: everything loaded and validated once (``default_library()``)
- ``report``: ``python -m crs.content.report`` (``make content-report``)
"""

from crs.content.library import Library, default_library
from crs.content.model import REQUIRED_PASSAGE_SETS, TOPIC_IDS, Locale, Quote, Segment, Topic, format_date
from crs.content.sources import ContentError
from crs.content.treatments import Treatment

__all__ = [
    "REQUIRED_PASSAGE_SETS",
    "TOPIC_IDS",
    "ContentError",
    "Library",
    "Locale",
    "Quote",
    "Segment",
    "Topic",
    "Treatment",
    "default_library",
    "format_date",
]
