"""The documents tab: which uploads are taken (type, size, count) and the handlers that
import, list and delete documents. Every rejected file is named with the reason, so a user
can fix it; nothing reaches the ingest pipeline that the page's limits refuse."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from qa.app.access import DEFAULT_MAX_FILES
from qa.app.engine import Engine
from qa.app.render import documents_table
from qa.errors import QAError
from qa.ingest.readers import MAX_HTML_MB, SUPPORTED


def check_upload(paths: Sequence[str | Path], max_mb: float,
                 max_files: int = DEFAULT_MAX_FILES) -> tuple[list[Path], list[str]]:
    """Split uploads into acceptable files and messages naming each rejected file and why.
    More than `max_files` at once: nothing is taken (the user picks again)."""
    if len(paths) > max_files:
        return [], [f"一次最多导入 {max_files} 个文件，本次选择了 {len(paths)} 个；请分批上传"]
    ok, rejected = [], []
    for p in paths:
        path = Path(p)
        name = path.name
        if path.suffix.lower() not in SUPPORTED:
            rejected.append(f"{name}：不支持的文件类型（{path.suffix or '无扩展名'}），"
                            f"支持 {' '.join(SUPPORTED)}")
            continue
        try:
            size = path.stat().st_size
        except OSError as e:
            rejected.append(f"{name}：无法读取（{e.strerror or e}）")
            continue
        if size > max_mb * 1024 * 1024:
            rejected.append(f"{name}：文件过大（{size / 1024 / 1024:.1f} MB，上限 {max_mb:g} MB）")
            continue
        if path.suffix.lower() in (".html", ".htm") and size > MAX_HTML_MB * 1_000_000:
            rejected.append(f"{name}：网页文件过大（{size / 1_000_000:.1f} MB，网页上限 "
                            f"{MAX_HTML_MB} MB），请拆分后上传")
            continue
        ok.append(path)
    return ok, rejected


def _upload_paths(files: Any) -> list[str]:
    if not files:
        return []
    if not isinstance(files, list):
        files = [files]
    out = []
    for f in files:
        if isinstance(f, dict):
            f = f.get("path") or f.get("name")
        out.append(str(getattr(f, "name", f)))
    return out



def document_handlers(engine: Engine, max_upload_mb: float, max_files: int
                      ) -> tuple[Callable[..., Any], ...]:
    """(upload, delete, pick_row) for the documents tab of the page built on `engine`;
    closures, so Gradio sees each handler's own signature."""

    def refresh_docs() -> tuple:
        rows = documents_table(engine.documents)
        ids = [r[0] for r in rows]
        return rows, gr.update(choices=ids, value=None)

    def upload(files: Any, progress: gr.Progress = gr.Progress(track_tqdm=True)) -> tuple:  # noqa: B008
        paths = _upload_paths(files)
        if not paths:
            return ("请先选择要上传的文件。", *refresh_docs(), gr.update())
        ok, messages = check_upload(paths, max_upload_mb, max_files)
        lines = [f"✗ {m}" for m in messages]
        if ok:
            # counted from the start (0 / 2 个文件): the bar never shows a bare percentage
            progress((0, len(ok)), desc="读取与索引…", unit="个文件")
            lines += _ingested(engine, ok)
        return ("\n".join(lines) or "没有可导入的文件。", *refresh_docs(), None)

    def delete(doc_id: str | None) -> tuple:
        if not doc_id:
            return ("请先选择要删除的文档。", *refresh_docs())
        try:
            engine.remove(doc_id)
            msg = f"已删除 {doc_id}"
        except QAError as e:
            msg = f"删除失败：{e}"
        return (msg, *refresh_docs())

    def pick_row(evt: gr.SelectData) -> Any:
        row = evt.row_value if evt is not None else None
        return gr.update(value=row[0]) if row else gr.update()

    return upload, delete, pick_row


def _ingested(engine: Engine, paths: Sequence[Path]) -> list[str]:
    """One line per document imported or file that failed (✓ / ✗)."""
    try:
        report = engine.ingest(paths, progress=True)
    except QAError as e:
        return [f"✗ 导入失败：{e}"]
    lines = [f"✓ {d.doc_id}：{d.title}（{d.passages} 个段落）" for d in report.documents]
    lines += [f"✗ {Path(f.path).name}：{f.reason}" for f in report.failures]
    return lines
