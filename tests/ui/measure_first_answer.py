"""How long the first question in the chat waits after `rag serve` starts: model loaded when the
first page loads (the old order) or from the start (the default). Prints numbers, asserts nothing.

    .venv/bin/python tests/ui/measure_first_answer.py [--runs 3] [--index DIR] [--config FILE]

For each run: start the server, open the page in Chromium as soon as it answers, type a question
the moment the input is usable, and time the answer. Reports wall seconds from the start to a
usable page and from a usable page to the answer, and the server's CPU seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402

QUESTION = "why did Sadr cancel his itikaf?"
# The server with the warm-up order chosen: ui.server.serve(warm_up_at_start=...).
LAUNCH = """
import sys
from rag.config import load_settings
from rag.engine import Engine
from ui.server import bind, serve
index, config, port, at_start = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "start"
sock = bind("127.0.0.1", port)
serve(Engine(load_settings(config), index), sock, "127.0.0.1", warm_up_at_start=at_start)
"""


def one_run(browser, index: Path, config: Path, order: str) -> dict[str, float]:
    port = free_port()
    started = time.monotonic()
    server = subprocess.Popen([sys.executable, "-c", LAUNCH, str(index), str(config), str(port), order],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        page = browser.new_page()
        while True:
            try:
                page.goto(f"http://127.0.0.1:{port}/", wait_until="load", timeout=5_000)
                break
            except Exception:
                if time.monotonic() - started > 120:
                    raise
                time.sleep(0.1)
        box = page.locator("#question textarea")
        box.wait_for(state="visible", timeout=120_000)
        usable = time.monotonic()
        box.fill(QUESTION)
        box.press("Enter")
        page.locator("#conversation .turn .answer-sentences, #conversation .turn .abstained").first.wait_for(
            state="visible", timeout=120_000)
        answered = time.monotonic()
        cpu = psutil.Process(server.pid).cpu_times()
        page.close()
        return {"to_usable_s": usable - started, "to_answer_s": answered - usable,
                "server_cpu_s": cpu.user + cpu.system}
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--index", type=Path, help="an index of the sample (default: built in a temp folder)")
    parser.add_argument("--config", type=Path, default=ROOT / "config.yaml")
    args = parser.parse_args()
    index = args.index
    if index is None:
        index = Path(tempfile.mkdtemp(prefix="first-answer-")) / "index"
        subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(ROOT / "data" / "sample"), "--index", str(index),
                        "--config", str(args.config)], cwd=ROOT, check=True, capture_output=True)
    from playwright.sync_api import sync_playwright

    results: dict[str, list[dict[str, float]]] = {"page": [], "start": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for _ in range(args.runs):
            for order in results:  # interleaved, so both orders see the same machine load
                results[order].append(one_run(browser, index, args.config, order))
        browser.close()
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    for order, runs in results.items():
        label = "warm-up when the first page loads" if order == "page" else "warm-up at server start"
        cells = "  ".join(f"{key} {', '.join(f'{r[key]:.2f}' for r in runs)} (median {statistics.median(r[key] for r in runs):.2f})"
                          for key in runs[0])
        print(f"{label:36} {cells}")


if __name__ == "__main__":
    main()
