"""The common victim identification form as data: loading, checking, cleaning, scoring.

Pure Python (no Django): the definition is a versioned JSON file (``ctip/cases/data/
identification_form/<version>.json``) with sections, questions, answer types, relevance
conditions, the trafficking indicators grouped as act / means / purpose, and scoring rules.
The same definition drives the web form, the printable paper form, the XLSForm for ODK
Collect and KoboToolbox, and the import of their submissions.

Conditions are small JSON objects, so they can be evaluated here and written as XPath:
``{"q": id, "eq": v}``, ``{"q": id, "in": [..]}``, ``{"q": id, "selected": v}``,
``{"q": id, "empty": true}``, ``{"q": id, "lt": n}``, ``{"q": id, "gte": n}``,
``{"all": [..]}``, ``{"any": [..]}``, ``{"not": c}``.
"""

from .definition import (
    LANGUAGES,
    Choice,
    FormDefinition,
    FormDefinitionError,
    Question,
    Section,
    language_of,
)
from .engine import CleanResult, Score, clean_answers, evaluate, is_child, score_answers

__all__ = [
    "LANGUAGES",
    "Choice",
    "CleanResult",
    "FormDefinition",
    "FormDefinitionError",
    "Question",
    "Score",
    "Section",
    "clean_answers",
    "evaluate",
    "is_child",
    "language_of",
    "score_answers",
]
