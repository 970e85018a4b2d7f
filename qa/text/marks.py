"""The citation marks of an answer: [1], [1,2], ［2］ or 【3】 as the model or a source writes
them. One pattern for the prompt (a passage's own footnote marks must not look like
citations), the verifier (which passage a sentence cites) and the page (a literal [2] in a
quote is not a citation)."""

from __future__ import annotations

import re

_BODY = r"[0-9０-９]+(?:\s*[,，、]\s*[0-9０-９]+)*"
# group 1 or 2: the numbers inside the brackets
CITATION = re.compile(rf"[\[［]\s*({_BODY})\s*[\]］]|【\s*({_BODY})\s*】")


def strip_marks(text: str) -> str:
    """The text without its citation marks."""
    return CITATION.sub("", text)


def escape_brackets(text: str) -> str:
    """Square brackets as their full-width forms, so that quoted text never carries a mark
    the page would open as a citation."""
    return text.replace("[", "［").replace("]", "］")
