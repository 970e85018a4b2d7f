"""Where a Chinese sentence ends: one definition for splitting passages (qa.ingest), choosing
answer sentences (qa.answer.sentences) and checking written ones (qa.generate.verify)."""

from __future__ import annotations

import re

# marks that end a sentence, and the closing quotes or brackets that stay with it
STOPS = "。！？!?…"
CLOSERS = "”’」』）)\"'"
SENTENCE_END = re.compile(rf"[{STOPS}]+[{CLOSERS}]*")
# a semicolon ends a clause that can stand as a sentence of its own (lists of measures)
CLAUSE_STOPS = "；;"
