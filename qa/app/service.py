"""Answering questions from one index folder: the service behind `qa ask` and the page.

Both answer through `Service`, so a question gets the same answer (and the same generative
answer, with the same fallbacks) from either. The command line opens it once per run; the
page keeps one for its whole life and calls `refresh` before each question, so documents the
command line added or removed meanwhile are seen without a restart.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from qa.answer.answerer import Answer, Answerer
from qa.embed.embedders import Embedder, get_embedder
from qa.errors import IndexStateError, QAError
from qa.generate.client import LLMConfig
from qa.generate.written import Progress, generative_answer, stream_generative
from qa.store.index import SearchIndex, open_index

MODES = ("hybrid", "dense", "bm25")  # search modes (qa.retrieve.search)
ANSWERS = ("extractive", "generative")  # kinds of answer


class Service:
    """The open index, an answerer per operating point (default and strict), and the language
    model for generative answers (None: extractive only).

    `missing_ok`: a folder without an index yet is not an error (the page starts empty and
    takes uploads); `index` is None and `error` says why until `reload` finds one. Without
    it, opening raises IndexStateError, which the command line reports in one line.
    """

    def __init__(self, index_dir: str | Path, embedder: Embedder | None = None,
                 llm: LLMConfig | None = None, missing_ok: bool = False,
                 store: str | None = None) -> None:
        self.index_dir = Path(index_dir)
        self.store = store  # --store; None: QA_STORE
        self.embedder = embedder or get_embedder()
        self.llm = llm
        self.index: SearchIndex | None = None
        self.error = ""
        self._answerers: dict[bool, Answerer] = {}
        self.reload(missing_ok)

    def reload(self, missing_ok: bool = True) -> None:
        """Open the index from disk (again, after a write through this process)."""
        try:
            index = open_index(self.index_dir, self.embedder, self.store)
        except IndexStateError as e:
            if not missing_ok:
                raise
            self.index, self.error, self._answerers = None, str(e), {}
            return
        self.index, self.error, self._answerers = index, "", {}

    def refresh(self) -> None:
        """Catch up with the index on disk: open it if there was none yet, and see writes
        another process committed. Answerers keep what they read of the documents, so they
        are made anew after a change."""
        if self.index is None:
            self.reload()
        elif self.index.refresh():
            self._answerers = {}

    def answerer(self, strict: bool = False) -> Answerer:
        """The answerer of one operating point, made at its first question (a run of `qa ask`
        uses one of the two)."""
        if self.index is None:
            raise QAError("还没有可检索的文档：请先在“文档”页上传文档。"
                          f"（{self.error or 'no index'}）")
        found = self._answerers.get(strict)
        if found is None:  # a page answers several questions at once: no check-then-read
            found = self._answerers[strict] = Answerer(self.index, strict=strict)
        return found

    def ask(self, question: str, top_k: int = 8, mode: str = "hybrid",
            strict: bool = False) -> Answer:
        """The extractive answer: quoted source sentences, cited."""
        answerer = self.answerer(strict)
        if mode not in MODES:
            raise QAError(f"unknown search mode {mode!r}; use one of {', '.join(MODES)}")
        return answerer.ask(question, top_k=int(top_k), mode=mode)

    def generative(self, extractive: Answer, history: Sequence[tuple[str, str]] = ()) -> Answer:
        """The generative answer to the question `extractive` answers, or `extractive` with a
        note when the model fails, declines or writes nothing verifiable."""
        return generative_answer(extractive, self._model(), history)

    def answer(self, question: str, top_k: int = 8, mode: str = "hybrid",
               strict: bool = False, answer: str = "extractive",
               history: Sequence[tuple[str, str]] = ()) -> Iterator[Progress]:
        """Progress events of qa.generate.written for a generative answer (tokens as they
        come), or one event holding the extractive answer; the last event's `answer` is the
        answer. The kind of answer is checked before anything is searched."""
        if answer not in ANSWERS:
            raise QAError(f"unknown answer mode {answer!r}; use extractive or generative")
        if answer == "generative":
            self._model()
        extractive = self.ask(question, top_k, mode, strict)
        if answer == "extractive":
            yield Progress(answer=extractive)
            return
        yield from stream_generative(extractive, self._model(), history)

    def _model(self) -> LLMConfig:
        if self.llm is None:
            raise QAError("生成回答需要语言模型：请设置 QA_LLM_URL / generative answers need "
                          "QA_LLM_URL")
        return self.llm
