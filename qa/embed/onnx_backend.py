"""The embedding model exported to ONNX and run with ONNX Runtime: faster on CPUs without
native bfloat16, and the lowest latency for one short question on any CPU.

The export is made here, from the verified weights in $QA_HOME (never downloaded): the whole
sentence-transformers pipeline (transformer, mean pooling, the two dense layers,
normalisation) becomes one graph from token ids to the unit vector, so ONNX Runtime returns
exactly what torch float32 returns (cosine 1.0000 on the seed passages). It is written to a
folder beside the model, atomically, with the SHA-256 of every file and the weights it came
from in export.json; `qa models fetch` makes it, later runs only check it.

int8 (QA_EMBED_BACKEND=onnx-int8) is ONNX Runtime's dynamic quantisation of the MatMul
weights, per channel: about 2.5x faster on documents, but its vectors differ (cosine ~0.97)
and its retrieval quality is measured in bench/embed_speed.py; it is never the default.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.errors import ModelError

ONNX_FILE = "model.onnx"
RECORD = "export.json"
EXPORT_VERSION = 1
_HINT = "pip install 'onnxruntime>=1.20,<2' 'onnx>=1.17,<2' 'onnxscript>=0.2,<1' (or `make setup`)"


def export_dir(model_path: Path, int8: bool = False) -> Path:
    return model_path.parent / f"{model_path.name}-onnx{'-int8' if int8 else ''}"


def _record(folder: Path) -> dict | None:
    try:
        return json.loads((folder / RECORD).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def is_exported(model_path: Path, fingerprint: str, int8: bool = False) -> bool:
    rec = _record(export_dir(model_path, int8))
    return bool(rec and rec.get("source") == fingerprint
                and rec.get("version") == EXPORT_VERSION
                and all((export_dir(model_path, int8) / f).exists() for f in rec["files"]))


def ensure_exported(model_path: Path, fingerprint: str, int8: bool = False,
                    progress: bool = True) -> Path:
    """The export folder, made now if missing or made from other weights (idempotent)."""
    folder = export_dir(model_path, int8)
    if is_exported(model_path, fingerprint, int8):
        return folder
    if int8:
        source = ensure_exported(model_path, fingerprint, progress=progress)
        return _write_atomically(folder, lambda tmp: _quantize(source, tmp), fingerprint,
                                 progress, "quantising the ONNX export to int8")
    return _write_atomically(folder, lambda tmp: _export(model_path, tmp), fingerprint,
                             progress, "exporting the embedding model to ONNX (once, ~1-2 min)")


def _write_atomically(folder: Path, make, fingerprint: str, progress: bool, what: str) -> Path:
    from qa.embed.models import sha256_file

    if progress:
        print(f"{what} …", flush=True)
    t0 = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.new-", dir=folder.parent))
    os.chmod(tmp, 0o755)
    try:
        make(tmp)
        files = {p.name: sha256_file(p) for p in sorted(tmp.iterdir()) if p.is_file()}
        record = {"version": EXPORT_VERSION, "source": fingerprint, "files": files,
                  "seconds": round(time.perf_counter() - t0, 1),
                  "made_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        (tmp / RECORD).write_text(json.dumps(record, indent=2), "utf-8")
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
        if folder.exists():
            os.rename(folder, old)
        os.rename(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if progress:
        print(f"{what}: done in {time.perf_counter() - t0:.0f}s → {folder}", flush=True)
    return folder


def _export(model_path: Path, out: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ModelError(f"exporting to ONNX needs torch and sentence-transformers: {exc}") \
            from exc
    try:
        import onnxscript  # noqa: F401  (the dynamo exporter needs it)
    except ImportError as exc:
        raise ModelError(f"exporting to ONNX needs onnxscript: {_HINT}") from exc
    model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True,
                                model_kwargs={"dtype": torch.float32,
                                              "attn_implementation": "eager"})

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            out = self.model({"input_ids": input_ids, "attention_mask": attention_mask})
            return out["sentence_embedding"]

    sample = model.tokenizer(["title: none | text: 示例", "title: none | text: 较长的示例句子"],
                             padding=True, return_tensors="pt")
    batch = torch.export.Dim("batch", min=1, max=4096)
    seq = torch.export.Dim("seq", min=2, max=8192)
    pipeline = Pipeline().eval()
    with torch.no_grad():
        torch.onnx.export(
            pipeline, (sample["input_ids"], sample["attention_mask"]),
            str(out / ONNX_FILE), dynamo=True, external_data=True,
            input_names=["input_ids", "attention_mask"], output_names=["qa_sentence_vector"],
            dynamic_shapes={"input_ids": {0: batch, 1: seq},
                            "attention_mask": {0: batch, 1: seq}})
        # the export must compute what torch computes, on inputs of another shape too
        check = model.tokenizer(["task: search result | query: 卢氏模式是什么",
                                 "title: none | text: " + "靖宇县脱贫攻坚。" * 20,
                                 "title: none | text: 短"], padding=True, return_tensors="pt")
        want = pipeline(check["input_ids"], check["attention_mask"]).numpy()
    import onnxruntime as ort

    got = ort.InferenceSession(str(out / ONNX_FILE), providers=["CPUExecutionProvider"]).run(
        None, {"input_ids": check["input_ids"].numpy(),
               "attention_mask": check["attention_mask"].numpy()})[0]
    cos = (got * want).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
    if cos.min() < 0.999:
        raise ModelError(f"the ONNX export does not reproduce the model (cosine {cos.min():.4f})")


def _quantize(source: Path, out: Path) -> None:
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise ModelError(f"int8 quantisation needs onnxruntime: {_HINT}") from exc
    quantize_dynamic(str(source / ONNX_FILE), str(out / ONNX_FILE), per_channel=True,
                     weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"])


class OnnxEncoder:
    """Token ids -> unit vectors with ONNX Runtime; prompts and truncation as the
    sentence-transformers model defines them. Safe to call from several threads."""

    def __init__(self, model_path: Path, folder: Path, threads: int) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ModelError(f"the ONNX backend needs onnxruntime: {_HINT}") from exc
        from transformers import AutoTokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self.session = ort.InferenceSession(str(folder / ONNX_FILE), options,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:  # corrupt or partial files
            raise ModelError(f"cannot load the ONNX export in {folder}: {exc}; delete the "
                             "folder and run `qa models fetch`") from exc
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_path), local_files_only=True)
        config = json.loads((model_path / "config_sentence_transformers.json").read_text())
        self.prompts = config.get("prompts", {})
        bert = model_path / "sentence_bert_config.json"
        self.max_length = json.loads(bert.read_text()).get("max_seq_length", 2048) \
            if bert.exists() else 2048
        self._lock = threading.Lock()  # a fast tokenizer may not be shared across threads

    def encode(self, texts: Sequence[str], kind: str) -> np.ndarray:
        prompt = self.prompts.get(kind, "")
        with self._lock:
            enc = self.tokenizer([prompt + t for t in texts], padding=True, truncation=True,
                                 max_length=self.max_length, return_tensors="np")
        out = self.session.run(None, {"input_ids": enc["input_ids"].astype(np.int64),
                                      "attention_mask": enc["attention_mask"].astype(np.int64)})
        return np.asarray(out[0], dtype=np.float32)
