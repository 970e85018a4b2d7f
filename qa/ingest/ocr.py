"""OCR for scanned PDF pages (pages without a text layer).

The engine is RapidOCR (`rapidocr-onnxruntime` 1.4.x): PaddleOCR's PP-OCRv4 Chinese detection
and recognition models and its direction classifier, as ONNX files inside the wheel, run with
ONNX Runtime on the CPU. Nothing is downloaded at run time (the newer `rapidocr` 2.x/3.x
fetches its models on first use, which an offline machine cannot do).

The engine is imported on first use, built once per process and called under a lock.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from qa.errors import QAError

log = logging.getLogger(__name__)

PACKAGE = "rapidocr-onnxruntime"
REQUIREMENT = "rapidocr-onnxruntime>=1.4,<1.5"  # as pyproject.toml: these carry their models
# A page whose text layer has fewer visible characters than this is OCR'd when it has images
# (a scan often carries only a stamped page number or a producer's watermark as text).
MIN_LAYER_CHARS = 20
MIN_IMAGE_SIDE = 32  # smaller images are icons and rules, not text
# The per-line 0°/180° classifier is off: on upright pages it turned whole lines (one
# starting with 一, say) upside down and lost them (A4 test page: 25 of 27 lines with it,
# 27 of 27 without), and it costs time. Scans are upright or rotated by the scanner as a page.
USE_CLS = False
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")

_lock = threading.Lock()
_engine: Any = None


class OCRUnavailable(QAError):
    """The OCR engine is not installed or cannot start."""


@dataclass(frozen=True)
class Box:
    """One recognised text box, axis-aligned, in image pixels."""

    text: str
    score: float
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def height(self) -> float:
        return max(self.y1 - self.y0, 1.0)


def engine_version() -> str:
    try:
        from importlib.metadata import version

        return f"{PACKAGE} {version(PACKAGE)}"
    except Exception:  # not installed, or installed without metadata
        return PACKAGE


def _get_engine() -> Any:
    """The process's engine; call with `_lock` held."""
    global _engine
    if _engine is None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ModuleNotFoundError as exc:
            raise OCRUnavailable(
                f"scanned PDF pages need OCR, and its engine is not installed: "
                f"pip install '{REQUIREMENT}' ({exc})") from exc
        except ImportError as exc:  # OpenCV's wheel links libGL and GLib from the system
            raise OCRUnavailable(
                f"the OCR engine cannot be imported: {exc} (on Debian: apt-get install "
                f"libgl1 libglib2.0-0; or reinstall: pip install '{REQUIREMENT}')") from exc
        try:
            _engine = RapidOCR()
        except Exception as exc:  # a broken install: missing model file, bad onnxruntime
            raise OCRUnavailable(f"the OCR engine ({engine_version()}) cannot start: {exc}; "
                                 f"reinstall it: pip install --force-reinstall "
                                 f"'{REQUIREMENT}'") from exc
    return _engine


def _as_rgb(image: Any) -> Any:
    """A PIL image in a mode the engine reads; transparency becomes white paper."""
    from PIL import Image

    if image.mode in ("L", "RGB"):
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        paper = Image.new("RGB", rgba.size, "white")
        paper.paste(rgba, mask=rgba.getchannel("A"))
        return paper
    if image.mode == "1":
        return image.convert("L")
    return image.convert("RGB")  # CMYK, P, I;16, ...


def recognise(image: Any) -> list[Box]:
    """Text boxes found in a PIL image (any mode), in the engine's order."""
    image = _as_rgb(image)
    with _lock:
        engine = _get_engine()
        result, _ = engine(image, use_cls=USE_CLS)
    boxes = []
    for points, text, score in result or []:
        xs = [float(p[0]) for p in points]
        ys = [float(p[1]) for p in points]
        text = str(text).strip()
        if text:
            boxes.append(Box(text, float(score), min(xs), min(ys), max(xs), max(ys)))
    return boxes


def _joiner(left: str, right: str, gap: float, height: float) -> str:
    """Nothing between two touching pieces of Chinese; a space between words or distant boxes."""
    if gap < 0.5 * height and (_CJK.match(left[-1]) or _CJK.match(right[0])):
        return ""
    return " "


def reading_order(boxes: Sequence[Box]) -> list[str]:
    """Lines of text top to bottom; boxes whose heights overlap by half form one line, left to
    right."""
    lines: list[list[Box]] = []
    extents: list[tuple[float, float]] = []
    for box in sorted(boxes, key=lambda b: ((b.y0 + b.y1) / 2, b.x0)):
        if lines:
            top, bottom = extents[-1]
            overlap = min(bottom, box.y1) - max(top, box.y0)
            if overlap >= 0.5 * min(box.height, bottom - top):
                lines[-1].append(box)
                extents[-1] = (min(top, box.y0), max(bottom, box.y1))
                continue
        lines.append([box])
        extents.append((box.y0, box.y1))
    out = []
    for line in lines:
        line.sort(key=lambda b: b.x0)
        text = line[0].text
        for prev, box in pairwise(line):
            text += _joiner(prev.text, box.text, box.x0 - prev.x1,
                            min(prev.height, box.height)) + box.text
        out.append(text)
    return out


def image_text(image: Any) -> str:
    """The text of one image, one recognised line per line."""
    return "\n".join(reading_order(recognise(image)))


def _page_images(page: Any, label: str) -> list[Any]:
    try:
        found = list(page.images)
    except Exception as exc:  # an image filter pypdf cannot decode (JBIG2 without jbig2dec...)
        log.warning("%s: images unreadable (%s)", label, exc)
        return []
    images = []
    for n, item in enumerate(found, start=1):
        try:
            image = item.image
        except Exception as exc:
            log.warning("%s: image %d unreadable (%s)", label, n, exc)
            continue
        if image is not None and min(image.size) >= MIN_IMAGE_SIDE:
            images.append(image)
    return images


def _visible(text: str) -> int:
    """Characters other than whitespace."""
    return len(re.sub(r"\s", "", text))


def needs_ocr(text: str) -> bool:
    return _visible(text) < MIN_LAYER_CHARS


def ocr_pages(pages: Sequence[Any], texts: list[str], *, label: str = "",
              progress: bool | None = None) -> list[int]:
    """OCR the images of every page whose text layer is (nearly) empty, in place.

    `texts[i]` is page i's text layer; a page's OCR text replaces it when the OCR found more
    than twice as many characters (a stamped page number gives way to the scan's text; a
    short last page keeps its text over an OCR'd seal). Returns the 1-based numbers of the
    pages whose text now comes from OCR. When the engine is missing, a document with text on
    other pages keeps that text (with a warning); one with none raises OCRUnavailable.
    """
    todo = [i for i, text in enumerate(texts) if needs_ocr(text)]
    if not todo:
        return []
    if progress is None:
        progress = sys.stderr.isatty()
    from tqdm import tqdm

    done: list[int] = []
    for i in tqdm(todo, desc=f"OCR {label}".strip(), unit="page", disable=not progress,
                  leave=False):
        where = f"{label}: page {i + 1}" if label else f"page {i + 1}"
        images = _page_images(pages[i], where)
        if not images:
            continue
        parts = []
        for image in images:
            try:
                parts.append(image_text(image))
            except OCRUnavailable as exc:
                if all(needs_ocr(t) for t in texts):
                    raise
                log.warning("%s: not OCR'd, the rest of the document is kept (%s)", where, exc)
                return done
            except Exception as exc:  # one bad image should not lose the page
                log.warning("%s: OCR failed (%s)", where, exc)
        found = "\n".join(p for p in parts if p)
        if _visible(found) > 2 * _visible(texts[i]):
            texts[i] = found
            done.append(i + 1)
    return done
