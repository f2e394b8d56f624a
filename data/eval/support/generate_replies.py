#!/usr/bin/env python3
"""Build prompts and collect replies for the support-labelling set.

Two steps (see README.md):

  retrieve  -- for every question in a question list, take the top-5 passages from the
               project's retrieval command (`rag ask --json`), split them into numbered
               sentences and write questions.jsonl.
  run       -- start llama.cpp's OpenAI-compatible server in-process (xllamacpp) on one
               GGUF model, send every question (plain mode, and JSON-schema mode for the
               questions marked json_mode) and append the raw replies to replies.jsonl.
               Resumable: (model, mode, question_id) triples already in replies.jsonl are
               skipped.

Usage (xllamacpp + httpx live in their own venv, the project's CLI in /work/main/.venv):

  python3 generate_replies.py retrieve --questions QSRC.jsonl \
      --index-sample /tmp/support-work/idx-sample --index-rgb /tmp/support-work/idx-rgb
  /tmp/support-work/venv/bin/python generate_replies.py run --model smollm2-135m \
      --gguf ~/.cache/rag-news/models/SmolLM2-135M-Instruct.Q4_1.gguf --threads 1

This script only builds prompts and records replies; it does not judge them.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]  # /work/main
RAG = REPO / ".venv" / "bin" / "rag"

SYSTEM_PLAIN = (
    "You answer questions about news articles using only the numbered sentences below. "
    "Answer in the language of the question, in 1 to 4 short sentences. End every sentence "
    "with the ids of the sentences it rests on in square brackets, like [S1.2] or [S1.2, S3.1]. "
    "Do not use anything that the sentences do not say. If they do not answer the question, "
    "reply only: NOT ANSWERED"
)

SYSTEM_JSON = (
    "You answer questions about news articles using only the numbered sentences below. "
    "Answer in the language of the question, in 1 to 4 short sentences. Reply with a JSON "
    'object only, in this form: {"answerable": true, "sentences": [{"text": "...", '
    '"evidence": ["S1.2", "S3.1"]}]}, where "evidence" lists the ids of the sentences that '
    "sentence rests on. Do not use anything that the sentences do not say. If they do not "
    'answer the question, reply only: {"answerable": false, "sentences": []}'
)

SCHEMA = {
    "type": "object",
    "properties": {
        "answerable": {"type": "boolean"},
        "sentences": {
            "type": "array",
            "maxItems": 4,
            "items": {
                "type": "object",
                "properties": {
                    "text": {"type": "string"},
                    "evidence": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["text", "evidence"],
            },
        },
    },
    "required": ["answerable", "sentences"],
}

# ---------------------------------------------------------------- sentence splitting

_ABBREV = {"mr", "mrs", "ms", "dr", "st", "no", "jr", "sr", "vs", "prof", "gen", "sen",
           "rep", "gov", "lt", "col", "capt", "sgt", "mt", "u.s", "u.k", "u.n", "inc",
           "co", "corp", "ltd", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
           "sept", "oct", "nov", "dec"}
_BOUNDARY = re.compile(r"([.!?])([\"'”’)\]]*)(\s+)(?=[\"'“‘(\[]?[A-Z0-9À-ÖØ-Þ])")


def split_sentences(text: str) -> list[str]:
    """Split at . ! ? (plus closing quotes) followed by space and a capital or digit.

    Lines are split first (paragraph breaks end a sentence). No split after an ellipsis
    ("...", the RGB snippets use it as a cut mark) or after a short abbreviation.
    """
    out: list[str] = []
    for line in re.split(r"\n+", text):
        line = line.strip()
        if not line:
            continue
        start = 0
        for m in _BOUNDARY.finditer(line):
            end = m.end(2)
            before = line[start:m.start(1)]
            if m.group(1) == "." and (before.endswith("..") or line[m.start(1):m.start(1) + 3] == "..."):
                continue
            word = re.search(r"([A-Za-z.]+)$", before)
            if m.group(1) == "." and word:
                w = word.group(1).lower()
                if w in _ABBREV or (len(w) == 1 and w.isalpha()):
                    continue
            piece = line[start:end].strip()
            if piece:
                out.append(piece)
            start = m.end(3)
        rest = line[start:].strip()
        if rest:
            out.append(rest)
    return out


def passage_header(i: int, p: dict) -> str:
    head = f"[{i}] {p['title']}"
    if p.get("source"):
        head += f" — {p['source']}"
        if p.get("date"):
            head += f", {p['date']}"
    elif p.get("date"):
        head += f", {p['date']}"
    return head


def user_message(q: dict) -> str:
    blocks = []
    for p in q["passages"]:
        lines = [passage_header(p["rank"], p)]
        lines += [f"{s['id']} {s['text']}" for s in p["sentences"]]
        blocks.append("\n".join(lines))
    return "Passages:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {q['question']}"


# ---------------------------------------------------------------- retrieve

def _decode_many(text: str) -> list[dict]:
    dec, objs, i = json.JSONDecoder(), [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return objs
        obj, i = dec.raw_decode(text, i)
        objs.append(obj)


def retrieve(args) -> None:
    qs = [json.loads(l) for l in open(args.questions, encoding="utf-8") if l.strip()]
    index = {"sample": args.index_sample, "rgb": args.index_rgb}
    for q in qs:
        for attempt in range(3):  # the work tree may be mid-edit by someone else: retry
            r = subprocess.run([str(RAG), "ask", q["question"], "--json", "--k", "5",
                                "--index", index[q["corpus"]]],
                               cwd=REPO, capture_output=True, text=True)
            if r.returncode == 0:
                break
            print(r.stderr[-2000:], file=sys.stderr)
            time.sleep(5)
        r.check_returncode()
        res = _decode_many(r.stdout)[0]
        assert res["question"] == q["question"], (res["question"], q["question"])
        passages = []
        for i, p in enumerate(res["passages"][:5], 1):
            c = p["citation"]
            sents = split_sentences(p["text"])
            passages.append({
                "rank": i, "doc_id": c.get("doc_id", ""), "title": c.get("title") or "",
                "source": c.get("source") or "", "date": c.get("date") or "",
                "text": p["text"],
                "sentences": [{"id": f"S{i}.{j}", "text": s} for j, s in enumerate(sents, 1)],
            })
        q["passages"] = passages
        q.setdefault("answerable", None)
        print(q["question_id"], [p["doc_id"] for p in passages], file=sys.stderr)
    out = Path(args.out)
    out.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in qs), encoding="utf-8")


# ---------------------------------------------------------------- run

def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_server(gguf: str, threads: int):
    import xllamacpp as xlc

    p = xlc.CommonParams()
    p.model.path = gguf
    p.hostnames = ["127.0.0.1"]
    p.port = _free_port()
    p.n_ctx = 4096
    p.n_parallel = 1
    p.cache_ram_mib = 0
    p.cpuparams.n_threads = threads
    p.cpuparams_batch.n_threads = threads
    server = xlc.Server(p)
    return server, f"http://127.0.0.1:{p.port}"


def ask(client, base: str, model: str, q: dict, mode: str) -> dict:
    body = {
        "model": model,
        "messages": [
            {"role": "system", "content": SYSTEM_JSON if mode == "json" else SYSTEM_PLAIN},
            {"role": "user", "content": user_message(q)},
        ],
        "temperature": 0,
        "max_tokens": 256,
        "cache_prompt": False,
        "seed": 42,
        "stream": True,
    }
    if mode == "json":
        body["response_format"] = {"type": "json_schema",
                                   "json_schema": {"name": "answer", "schema": SCHEMA}}
    t0 = time.monotonic()
    first = None
    parts: list[str] = []
    finish = None
    timings = None
    with client.stream("POST", f"{base}/v1/chat/completions", json=body, timeout=600) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            chunk = json.loads(data)
            if chunk.get("timings"):
                timings = chunk["timings"]
            for ch in chunk.get("choices", []):
                piece = (ch.get("delta") or {}).get("content")
                if piece:
                    if first is None:
                        first = time.monotonic() - t0
                    parts.append(piece)
                if ch.get("finish_reason"):
                    finish = ch["finish_reason"]
    total = time.monotonic() - t0
    reply = "".join(parts)
    if mode == "json":
        try:
            declined = json.loads(reply).get("answerable") is False
        except (ValueError, AttributeError):
            declined = None  # unparseable JSON
    else:
        declined = "NOT ANSWERED" in reply.upper()
    return {"reply": reply, "seconds": round(total, 3),
            "seconds_to_first_token": None if first is None else round(first, 3),
            "finish_reason": finish, "declined": declined,
            "prompt_tokens": (timings or {}).get("prompt_n"),
            "completion_tokens": (timings or {}).get("predicted_n")}


def run(args) -> None:
    import httpx

    qs = [json.loads(l) for l in open(args.questions_file, encoding="utf-8") if l.strip()]
    order = args.only.split(",") if args.only else None
    if order:  # run exactly these questions, in the order given
        byid = {q["question_id"]: q for q in qs}
        qs = [byid[i] for i in order]
    out = Path(args.replies)
    done = set()
    if out.exists():
        for l in open(out, encoding="utf-8"):
            r = json.loads(l)
            done.add((r["model"], r["mode"], r["question_id"]))
    if not order:
        # interleave the corpora (s01, r01, s02, r02, ...) so that a run cut short stays balanced
        by_corpus = [[q for q in qs if q["corpus"] == c] for c in ("sample", "rgb")]
        qs = [q for pair in zip(*by_corpus) for q in pair] + [
            q for q in qs if q not in [x for pair in zip(*by_corpus) for x in pair]]
    todo = [(q, m) for q in qs for m in (["plain", "json"] if q.get("json_mode") else ["plain"])
            if (args.model, m, q["question_id"]) not in done]
    if not todo:
        print("nothing to do", file=sys.stderr)
        return
    server, base = start_server(os.path.expanduser(args.gguf), args.threads)
    with httpx.Client() as client:
        for _ in range(60):
            try:
                if client.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        for q, mode in todo:
            res = ask(client, base, args.model, q, mode)
            rec = {"model": args.model, "mode": mode, "question_id": q["question_id"],
                   "corpus": q["corpus"], **res, "threads": args.threads}
            with open(out, "a", encoding="utf-8") as f:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            print(f"{args.model} {mode} {q['question_id']} {res['seconds']:.1f}s "
                  f"{res['reply'][:100]!r}", file=sys.stderr, flush=True)
    del server


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("retrieve")
    a.add_argument("--questions", required=True, help="JSONL: question_id, corpus, kind, question, split, json_mode")
    a.add_argument("--out", default=str(HERE / "questions.jsonl"))
    a.add_argument("--index-sample", default="/tmp/support-work/idx-sample")
    a.add_argument("--index-rgb", default="/tmp/support-work/idx-rgb")
    b = sub.add_parser("run")
    b.add_argument("--model", required=True, help="name recorded in replies.jsonl")
    b.add_argument("--gguf", required=True)
    b.add_argument("--threads", type=int, default=1,
                   help="1: with 2 threads on 2 busy shared cores llama.cpp was 5-10x slower")
    b.add_argument("--questions-file", default=str(HERE / "questions.jsonl"))
    b.add_argument("--replies", default=str(HERE / "replies.jsonl"))
    b.add_argument("--only", help="comma-separated question ids, run in this order")
    b = sub.add_parser("prompt", help="print the prompt for one question")
    b.add_argument("question_id")
    b.add_argument("--questions-file", default=str(HERE / "questions.jsonl"))
    args = ap.parse_args()
    if args.cmd == "retrieve":
        retrieve(args)
    elif args.cmd == "run":
        run(args)
    else:
        for l in open(args.questions_file, encoding="utf-8"):
            q = json.loads(l)
            if q["question_id"] == args.question_id:
                print("SYSTEM:", SYSTEM_PLAIN, "\n\nUSER:", user_message(q))


if __name__ == "__main__":
    main()
