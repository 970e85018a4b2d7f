"""Many users at once: the running page driven through gradio_client on loopback.

Starts `qa serve` (real embedding model) on a copy of the default-corpus index, warms it up,
measures a single user asking one question after another (the baseline), then runs `--users`
simulated users for `--seconds` (the script stops by itself): each asks a question from a
mixed pool (dev and held-out questions over the default corpus, about a quarter followed by a
follow-up such as 那共青城呢 sent with the question before it), reads the answer for a random
think time, and asks again. Meanwhile one more user uploads a new document and then asks
about it. Reported: latency p50/p95/p99 under load against the single-user p50 of the same
run, errors, and the server's memory (RSS) after warm-up, at its peak and at the end.

    .venv/bin/python bench/load.py --out bench/results/load.md
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import EXT, ROOT, ensure_index, machine_info, percentile, report

FOLLOW_UPS = ("那共青城呢", "那卢氏县呢", "那靖宇县呢", "寻乌县呢", "那绵阳呢")
UPLOAD_TEXT = ("压力测试县茶油产业\n"
               "压力测试县位于虚构的丘陵地区，2024年全县种植油茶3.6万亩。\n"
               "油茶产业由县供销社牵头，带动了412户农户增收。\n"
               "县里还建设了一座年加工能力800吨的茶油加工厂。\n") * 3
UPLOAD_QUESTION = "压力测试县种植了多少亩油茶"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of the server process, MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def question_pool() -> list[str]:
    pool = []
    for path in (EXT.parent / "dev_qa.jsonl", ROOT / "bench/data/heldout_seed.jsonl"):
        if path.exists():
            pool += [json.loads(x)["question"] for x in path.read_text("utf-8").splitlines()
                     if x.strip()]
    return pool


def start_server(index: Path, port: int, log: Path) -> subprocess.Popen:
    # no vector cache: an upload embeds its text, as a new document would
    env = {**os.environ, "QA_VECTOR_CACHE": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "qa.app.cli", "serve", "--index", str(index),
                             "--port", str(port)], stdout=log.open("w"),
                            stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    import httpx

    deadline = time.monotonic() + 300
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited; see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"the server did not come up in 300 s; see {log}")
        time.sleep(1)


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors: list[str] = []

    def call(self, client, *args) -> dict | None:
        t0 = time.perf_counter()
        try:
            out = client.predict(*args, api_name="/ask")
        except Exception as e:
            with self.lock:
                self.errors.append(f"{type(e).__name__}: {str(e)[:200]}")
            return None
        dt = time.perf_counter() - t0
        with self.lock:
            if not isinstance(out, dict) or "answer" not in out:
                self.errors.append(f"malformed reply: {str(out)[:200]}")
                return None
            self.latencies.append(dt)
        return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", default="5,15",
                        help="seconds a user reads and types before the next question: MIN,MAX")
    parser.add_argument("--baseline", type=int, default=40, help="single-user questions")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    think = tuple(float(x) for x in args.think.split(","))

    from gradio_client import Client, handle_file

    from qa.embed.embedders import get_embedder

    rng = random.Random(7)
    pool = question_pool()
    work = Path(tempfile.mkdtemp(prefix="qa-load-"))
    index = work / "idx"
    shutil.copytree(ensure_index("seeds", ROOT / "corpus", get_embedder()), index)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    t_start = time.perf_counter()
    server = start_server(index, port, work / "server.log")
    start_s = time.perf_counter() - t_start
    try:
        client = Client(url, verbose=False)
        for q in pool[:10]:  # warm-up: model, caches, the first requests' allocations
            client.predict(q, api_name="/ask")
        warm_doc = work / "预热县.txt"  # and one upload: the document model gets loaded
        warm_doc.write_text("预热县概况\n预热县2024年修建了12座桥。\n", "utf-8")
        client.predict([handle_file(str(warm_doc))], api_name="/upload")
        client.predict("预热县修建了多少座桥", api_name="/ask")
        rss_warm = rss_mb(server.pid)

        base = Recorder()
        for q in rng.sample(pool, min(args.baseline, len(pool))):
            base.call(client, q)

        load, samples, stop = Recorder(), [], threading.Event()
        clients = [Client(url, verbose=False) for _ in range(args.users)]
        upload = {}

        def user(c) -> None:
            r = random.Random(id(c))
            time.sleep(r.uniform(0, think[1]))  # users arrive spread over the first seconds
            while not stop.is_set():
                q = r.choice(pool)
                load.call(c, q)
                if r.random() < 0.25 and not stop.is_set():
                    time.sleep(r.uniform(*think) / 2)
                    load.call(c, r.choice(FOLLOW_UPS), 8, "hybrid", False, "extractive", q)
                stop.wait(r.uniform(*think))

        def uploader(c) -> None:
            stop.wait(5)
            doc = work / "压力测试县茶油产业.txt"
            doc.write_text(UPLOAD_TEXT, "utf-8")
            t0 = time.perf_counter()
            try:
                status = c.predict([handle_file(str(doc))], api_name="/upload")[0]
            except Exception as e:
                load.errors.append(f"upload: {type(e).__name__}: {str(e)[:200]}")
                return
            upload["seconds"] = time.perf_counter() - t0
            upload["status"] = status
            out = load.call(c, UPLOAD_QUESTION)
            upload["found"] = bool(out and out["found"] and "3.6万亩" in out["answer"])

        def sampler() -> None:
            while not stop.wait(1.0):
                samples.append(rss_mb(server.pid))

        threads = [threading.Thread(target=user, args=(c,)) for c in clients]
        threads += [threading.Thread(target=uploader, args=(Client(url, verbose=False),)),
                    threading.Thread(target=sampler)]
        t0 = time.perf_counter()
        cpu0 = cpu_seconds(server.pid), cpu_seconds(os.getpid())
        for t in threads:
            t.start()
        stop.wait(args.seconds)
        stop.set()
        for t in threads:
            t.join(120)
        elapsed = time.perf_counter() - t0
        cpu = cpu_seconds(server.pid) - cpu0[0], cpu_seconds(os.getpid()) - cpu0[1]
        alive = server.poll() is None
        rss_end = rss_mb(server.pid) if alive else float("nan")
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()

    b50 = statistics.median(base.latencies) * 1000
    lat = [x * 1000 for x in load.latencies]
    p95 = percentile(lat, 0.95)
    lines = [
        f"Machine: {machine_info()}",
        f"Server: `qa serve` (real embedding model, {get_embedder().name}), default corpus; "
        f"started and answering in {start_s:.1f} s. Load: {args.users} users for "
        f"{args.seconds:g} s, think time {think[0]:g}-{think[1]:g} s, ~25% of questions "
        "followed by a follow-up; one more user uploads a document and asks about it. "
        "Warm-up: 10 questions and one upload.",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| single user: questions / p50 / p95 ms | {len(base.latencies)} / {b50:.0f} / "
        f"{percentile([x * 1000 for x in base.latencies], 0.95):.0f} |",
        f"| under load: answers / errors | {len(lat)} / {len(load.errors) + len(base.errors)} |",
        f"| under load: answers per second | {len(lat) / elapsed:.1f} |",
        f"| under load: p50 / p95 / p99 ms | {percentile(lat, 0.5):.0f} / {p95:.0f} / "
        f"{percentile(lat, 0.99):.0f} |",
        f"| p95 under load / single-user p50 (floor <= 20) | {p95 / b50:.1f} |",
        f"| upload during load: seconds / then found by a question | "
        f"{upload.get('seconds', float('nan')):.1f} / {upload.get('found', False)} |",
        f"| server RSS MB: after warm-up / peak / end (end within 10%: "
        f"{abs(rss_end - rss_warm) <= 0.1 * rss_warm}) | {rss_warm:.0f} / "
        f"{max(samples or [rss_end]):.0f} / {rss_end:.0f} |",
        f"| server alive at the end | {alive} |",
        f"| CPU seconds during the load: server / load generator (of {2 * elapsed:.0f} on "
        f"{os.cpu_count()} cores) | {cpu[0]:.0f} / {cpu[1]:.0f} |",
    ]
    if load.errors or base.errors:
        lines += ["", "Errors (first 5):", *[f"- {e}" for e in (base.errors + load.errors)[:5]]]
    report("\n".join(lines), args.out, "Many users at once (bench/load.py)")
    shutil.rmtree(work, ignore_errors=True)
    return 0 if alive and not load.errors and not base.errors else 1


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())
