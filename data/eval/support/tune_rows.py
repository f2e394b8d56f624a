"""The labelled sentences as rows for `python -m rag.generate.tune`: each written sentence with the
texts of the sentences it cites, read the way the product reads them (rag.generate.citations:
"1.2" is S1.2, "[2]" is passage 2 and its sentences sharing most words with the written one, an
id that was not given is invalid).

    python data/eval/support/tune_rows.py > /tmp/tune_rows.jsonl
    python -m rag.generate.tune /tmp/tune_rows.jsonl
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

from rag.generate.citations import _resolve
from rag.generate.run import _best_sentences

HERE = Path(__file__).parent


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (HERE / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def rows() -> list[dict]:
    questions = {q["question_id"]: q for q in load("questions.jsonl")}
    out = []
    for label in load("labels.jsonl"):
        passages = questions[label["question_id"]]["passages"]
        by_id = {s["id"].upper(): s["text"] for p in passages for s in p["sentences"]}
        ranks = {p["rank"] for p in passages}
        ids: list[str] = []
        invalid: list[str] = []
        picked: list[str] = []
        for mark in label["cited"]:
            for kind, value in _resolve(mark, set(by_id), ranks):
                if kind == "id" and value not in ids:
                    ids.append(value)
                elif kind == "invalid":
                    invalid.append(str(value))
                elif kind == "passage":
                    sentences = [SimpleNamespace(text=s["text"]) for p in passages if p["rank"] == value
                                 for s in p["sentences"]]
                    picked += [s.text for s in _best_sentences(label["sentence"], sentences)]
        evidence = list(dict.fromkeys([by_id[i] for i in ids] + picked))
        out.append({"id": label["id"], "sentence": label["sentence"], "evidence": evidence, "label": label["label"],
                    "split": label["split"], "invalid": invalid, "model": label["model"], "mode": label["mode"]})
    return out


if __name__ == "__main__":
    for row in rows():
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
