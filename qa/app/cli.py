"""Command line: `qa ingest|docs|remove|...`. Domain errors become one line and exit code 1."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from qa.errors import InputError, QAError
from qa.settings import settings


def _index_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", metavar="DIR", default=None,
                   help="index folder (default: $QA_INDEX_DIR or ./index)")
    p.add_argument("--store", metavar="SPEC", default=None,
                   help="where the collection lives: 'local' (default: SQLite + FAISS in the "
                        "index folder), 'milvus:PATH.db' (Milvus Lite) or "
                        "'milvus:http://HOST:19530' (default: $QA_STORE)")


def _strict_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--strict", action="store_true",
                   help="say 资料中没有找到 more often when the text is on topic but does not "
                        "answer (finds a few answerable questions less; see README)")


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got '{value}'")
    return n


def _index_dir(args: argparse.Namespace) -> Path:
    """The index folder: --index, else $QA_INDEX_DIR or ./index."""
    from qa.store.legacy import default_index_dir

    return Path(args.index) if args.index else default_index_dir()


def _store(args: argparse.Namespace) -> str | None:
    """--store, passed to whatever opens the index (None: QA_STORE);
    qa.store.open.open_store validates it."""
    return getattr(args, "store", None) or None



def cmd_ingest(args: argparse.Namespace) -> int:
    from qa.ingest.pipeline import ingest

    report = ingest(args.paths, _index_dir(args), progress=not args.quiet,
                    rebuild=args.rebuild, store=_store(args))
    print(report.summary())
    if report.failures:
        return 1
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from qa.store.open import has_store, open_store

    path, spec = _index_dir(args), _store(args)
    if has_store(path, spec):
        store = open_store(path, 0, create=False, spec=spec)  # no model (nor dense index) to list
        try:
            documents = store.documents()
        finally:
            store.close()
    elif (path / "passages.jsonl").exists():
        from qa.store.legacy import Collection  # the previous layout, not migrated yet

        documents = Collection(path).documents
    else:
        documents = {}
    if not documents:
        print(f"no documents in {path}; add some with `qa ingest PATH`")
        return 0
    for d in documents.values():
        flags = ",".join(f["name"] for f in d.flags) or "-"
        print(f"{d.doc_id}\t{d.passages:>4} passages\t{flags}\t{d.title}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from qa.ingest.pipeline import remove

    rec = remove(args.doc_id, _index_dir(args), store=_store(args))
    print(f"removed {rec.doc_id} ({rec.title}, {rec.passages} passages)")
    return 0


def cmd_models_fetch(args: argparse.Namespace) -> int:
    from qa.embed.embedders import get_embedder
    from qa.embed.models import fetch_default_model

    path = fetch_default_model(progress=not args.quiet)
    if args.llm:
        from qa.generate.local import choose_llm, fetch_llm_model

        spec = choose_llm(None if args.llm == "auto" else args.llm)
        print(f"local language model ready in {fetch_llm_model(spec=spec)}")
    embedder = get_embedder()
    prepare = getattr(embedder, "prepare", None)
    if callable(prepare):  # e.g. the ONNX export this machine's backend needs
        prepare(progress=not args.quiet)
    print(f"model ready in {path}")
    return 0


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def cmd_models_info(args: argparse.Namespace) -> int:
    """What runs the embedding model on this machine, and why."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from qa.embed.device import NATIVE_BF16, cpu_flags
    from qa.embed.embedders import get_embedder

    flags = cpu_flags()
    shown = [f for f in ("avx2", "avx512f", *NATIVE_BF16, "amx_tile") if f in flags]
    print(f"cpu: {_cpu_model() or platform.machine()}; flags: "
          f"{' '.join(shown) or 'no avx2/avx512/amx'}")
    for dist in ("torch", "sentence-transformers", "onnxruntime"):
        try:
            print(f"{dist}: {version(dist)}")
        except PackageNotFoundError:
            print(f"{dist}: not installed")
    emb = get_embedder()
    print(f"model: {emb.name} ({getattr(emb, 'model_path', '')})")
    print(f"fingerprint: {emb.fingerprint}")
    choice = getattr(emb, "choice", None)
    if choice is not None:
        print(choice.describe())
        from pathlib import Path as _Path

        from qa.embed.onnx_backend import export_dir, is_exported

        for backend in sorted({emb.backend, emb.query_backend} - {"torch"}):
            int8 = backend == "onnx-int8"
            path = _Path(emb.model_path).expanduser()
            state = "ready" if is_exported(path, emb.fingerprint, int8) else \
                "not made yet (`qa models fetch` makes it)"
            print(f"{backend} export: {export_dir(path, int8)}: {state}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    import json

    from qa.embed.embedders import get_embedder
    from qa.retrieve.search import search
    from qa.store.index import open_index

    index = open_index(_index_dir(args), get_embedder(), _store(args))
    hits = search(index, args.question, top_k=args.top_k, mode=args.mode)
    if args.json:
        rows = [{"rank": h.rank, "score": round(h.score, 4), "dense": round(h.dense, 4),
                 "bm25": round(h.bm25, 4), "doc_id": h.passage.doc_id,
                 "title": h.passage.title, "passage_id": h.passage.id, "text": h.passage.text}
                for h in hits]
        print(json.dumps({"question": args.question, "mode": args.mode, "hits": rows},
                         ensure_ascii=False))
        return 0
    if not hits:
        print("no passages found")
    for h in hits:
        print(f"[{h.rank}] {h.score:.3f}  {h.passage.title}  ({h.passage.doc_id})")
        print(f"    {h.passage.text.replace(chr(10), ' ')}")
    return 0


def _print_answer(ans) -> None:
    from qa.ingest.flags import LABELS

    print(ans.answer)
    if ans.citations:
        print()
        seen = set()
        for c in ans.citations:
            if c.n in seen:
                continue
            seen.add(c.n)
            flags = f" [{', '.join(LABELS.get(f, f) for f in c.flags)}]" if c.flags else ""
            also = f" (同样内容还见于另外{len(c.also_in)}篇文档)" if c.also_in else ""
            print(f"[{c.n}] {c.title} ({c.doc_id}, 第{c.start}-{c.end}字){flags}{also}")
    elif ans.passages:
        print("\n最接近的段落:")
        for p in ans.passages[:3]:
            print(f"  - {p['title']}: {p['text'][:80].replace(chr(10), ' ')}…")


def _llm_config(args: argparse.Namespace):
    """The language model for --answer generative: QA_LLM_* with --llm-url / --llm-model over
    them (the key only from QA_LLM_API_KEY, so it never sits in shell history)."""
    from qa.generate.client import LLMConfig, LLMError

    if getattr(args, "answer", "extractive") != "generative":
        return None
    env = dict(settings().env)
    if args.llm_url:
        env["QA_LLM_URL"] = args.llm_url
    if args.llm_model:
        env["QA_LLM_MODEL"] = args.llm_model
    config = LLMConfig.from_env(env)
    if config is None:
        raise LLMError("--answer generative needs a language model: set QA_LLM_URL (an "
                       "OpenAI-compatible /v1 URL) or pass --llm-url")
    return config


def cmd_ask(args: argparse.Namespace) -> int:
    from qa.answer.answerer import clean_question
    from qa.generate.local import LOCAL

    if args.batch is None and args.question is None:
        raise InputError("give a QUESTION or --batch FILE")
    if args.question is not None:
        clean_question(args.question)  # an empty question fails before the model loads
    config = _llm_config(args)  # a missing QA_LLM_URL fails before the model loads too
    if config is not None and config.url == LOCAL:
        from qa.generate.local import local_llm

        with local_llm() as served:
            return _ask(args, served)
    return _ask(args, config)


def _ask(args: argparse.Namespace, config) -> int:
    from qa.app.service import Service
    from qa.embed.embedders import get_embedder

    service = Service(_index_dir(args), get_embedder(), llm=config, store=_store(args))

    def ask(question: str):
        ans = service.ask(question, args.top_k, args.mode, args.strict)
        return ans if service.llm is None else service.generative(ans)

    if args.batch is None:
        _print_one(args, ask(args.question), generative=config is not None)
        return 0
    return _ask_batch(args, ask)


def _print_one(args: argparse.Namespace, ans, generative: bool) -> None:
    import json

    if args.json:
        print(json.dumps(ans.to_dict(), ensure_ascii=False))
        return
    _print_answer(ans)
    if generative:
        from qa.generate.written import notes

        for note in notes(ans.warnings):
            print(f"note: {note}", file=sys.stderr)


def _ask_batch(args: argparse.Namespace, ask) -> int:
    """One answer per line of --batch; a bad question is reported on its line and the run
    goes on (exit code 1 at the end)."""
    import json

    stream = sys.stdin if args.batch == "-" else open(args.batch, encoding="utf-8")  # noqa: SIM115
    failed = 0
    with stream:
        for line in stream:
            if not line.strip():
                continue
            try:
                out = ask(line.rstrip("\n")).to_dict()
            except InputError as e:
                failed += 1
                out = {"question": line.rstrip("\n"), "error": str(e)}
            if args.json:
                print(json.dumps(out, ensure_ascii=False), flush=True)
            else:
                print(out.get("answer", out.get("error")), flush=True)
    return 1 if failed else 0


def cmd_eval(args: argparse.Namespace) -> int:
    import json

    from qa.answer.answerer import Answerer
    from qa.answer.evaluate import corpus_index_dir, evaluate, format_metrics, load_questions
    from qa.embed.embedders import get_embedder
    from qa.embed.models import qa_home
    from qa.ingest.pipeline import ingest
    from qa.store.index import open_index

    rows = load_questions(Path(args.questions))
    embedder = get_embedder()
    index_dir = _index_dir(args)
    store = _store(args)
    if args.corpus:
        index_dir = corpus_index_dir(Path(args.corpus), embedder.name, qa_home())
        report = ingest([args.corpus], index_dir, embedder=embedder, progress=not args.json,
                        store=store)
        if report.failures:
            raise QAError(f"could not read the corpus: {report.failures[0]}")
    metrics, answers = evaluate(Answerer(open_index(index_dir, embedder, store),
                                         strict=args.strict),
                                rows, top_k=args.top_k, progress=not args.json)
    if args.answers:
        with open(args.answers, "w", encoding="utf-8") as f:
            for a in answers:
                f.write(json.dumps(a, ensure_ascii=False) + "\n")
    if args.json:
        print(json.dumps(metrics, ensure_ascii=False))
    else:
        print(format_metrics(metrics))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from qa.app.access import Access, auth_from
    from qa.app.ui import serve

    access = Access(auth=auth_from(args.auth), read_only=args.read_only,
                    max_upload_mb=args.max_upload_mb, max_files=args.max_files)
    served = contextlib.nullcontext(None)  # llm=None: QA_LLM_URL, if set, as before
    if args.local_llm:
        from qa.generate.local import local_llm

        served = local_llm()
    with served as config:
        serve(host=args.host, port=args.port, index_dir=_index_dir(args),
              open_browser=args.open, access=access, llm=config, store=_store(args))
    return 0


def _add_ask(sub: argparse._SubParsersAction) -> None:
    """`qa ask`: the question, search and answer options."""
    p = sub.add_parser("ask", help="answer a question with cited sentences")
    p.add_argument("question", nargs="?")
    p.add_argument("-k", "--top-k", type=_positive, default=8, metavar="K",
                   help="passages to retrieve (default 8)")
    p.add_argument("--mode", choices=("hybrid", "dense", "bm25"), default="hybrid")
    p.add_argument("--json", action="store_true", help="print one JSON object per answer")
    p.add_argument("--batch", metavar="FILE", help="one question per line ('-' for stdin)")
    p.add_argument("--answer", choices=("extractive", "generative"), default="extractive",
                   help="extractive (default): quoted source sentences; generative: written "
                        "by a language model, every sentence verified against its citation "
                        "(needs QA_LLM_URL; falls back to extractive with a note)")
    p.add_argument("--llm-url", metavar="URL", default=None,
                   help="OpenAI-compatible /v1 base URL (default: $QA_LLM_URL)")
    p.add_argument("--llm-model", metavar="NAME", default=None,
                   help="model name sent to the server (default: $QA_LLM_MODEL); the API key "
                        "is read from $QA_LLM_API_KEY only")
    _strict_arg(p)
    _index_arg(p)
    p.set_defaults(func=cmd_ask)


def _add_serve(sub: argparse._SubParsersAction) -> None:
    """`qa serve`: address, login, limits and the local model."""
    p = sub.add_parser("serve", help="start the chat page")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; 0.0.0.0 exposes it to the network)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--open", action="store_true", help="open the page in a browser")
    p.add_argument("--auth", metavar="USER:PASSWORD[,...]", default=None,
                   help="require a login (default $QA_AUTH; none on loopback is fine)")
    p.add_argument("--read-only", action="store_true",
                   help="no uploads or deletes from the page (a public lookup page)")
    p.add_argument("--max-upload-mb", type=_positive, default=50, metavar="MB",
                   help="largest file one upload may bring (default 50)")
    p.add_argument("--max-files", type=_positive, default=20, metavar="N",
                   help="most files in one upload (default 20)")
    p.add_argument("--local-llm", action="store_true",
                   help="serve the local instruct model (llama.cpp) for the 生成 answer mode; "
                        "QA_LLM_LOCAL=1.5b|0.5b picks it, else chosen from this machine")
    _index_arg(p)
    p.set_defaults(func=cmd_serve)


def _add_models(sub: argparse._SubParsersAction) -> None:
    """`qa models fetch|info`."""
    p = sub.add_parser("models", help="manage the embedding model")
    msub = p.add_subparsers(dest="models_command", required=True)
    m = msub.add_parser("fetch", help="download and verify the default model, and make what "
                                      "this machine's backend needs (idempotent)")
    m.add_argument("-q", "--quiet", action="store_true")
    m.add_argument("--llm", nargs="?", const="auto", choices=("auto", "1.5b", "0.5b"),
                   help="also the local instruct model for generative answers (auto: the "
                        "1.5B where this machine has 2 cores and 3 GB free, else the 0.5B)")
    m.set_defaults(func=cmd_models_fetch)
    m = msub.add_parser("info", help="which device, precision and backend embed here, and why")
    m.set_defaults(func=cmd_models_info)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa", description="Answer questions from a Chinese document collection, cited.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="add files or folders to the collection")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--rebuild", action="store_true",
                   help="re-embed everything (after changing the embedding model)")
    _index_arg(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("search", help="show the passages that best match a question")
    p.add_argument("question")
    p.add_argument("-k", "--top-k", type=_positive, default=8, metavar="K")
    p.add_argument("--mode", choices=("hybrid", "dense", "bm25"), default="hybrid")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    _index_arg(p)
    p.set_defaults(func=cmd_search)

    _add_ask(sub)

    p = sub.add_parser("eval", help="score answers on a question file")
    p.add_argument("questions", metavar="QUESTIONS.jsonl")
    p.add_argument("--corpus", metavar="FILE_OR_DIR",
                   help="evaluate over this corpus (indexed once into $QA_HOME/eval-index)")
    p.add_argument("-k", "--top-k", type=_positive, default=None, metavar="K")
    p.add_argument("--answers", metavar="FILE", help="also write the answers as JSON lines")
    p.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    _strict_arg(p)
    _index_arg(p)
    p.set_defaults(func=cmd_eval)

    _add_serve(sub)
    _add_models(sub)

    p = sub.add_parser("docs", help="list documents with passage counts and flags")
    _index_arg(p)
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("remove", help="remove one document by id")
    p.add_argument("doc_id")
    _index_arg(p)
    p.set_defaults(func=cmd_remove)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except QAError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
