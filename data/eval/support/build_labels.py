#!/usr/bin/env python3
"""Join the hand labels with the questions, replies and written sentences into labels.jsonl,
and print the count tables used in README.md.

Inputs (this folder): questions.jsonl, replies.jsonl, hand_labels.jsonl (one object per
labelled unit: unit_id, label, reason, note, and optionally "sentence"/"cited" when the
automatic segmentation of extract_units.py was corrected by hand).
"""
import json
from collections import Counter, defaultdict
from pathlib import Path

import extract_units as xu

HERE = Path(__file__).resolve().parent
REASONS = {"invented", "wrong_entity", "wrong_citation", "no_citation", "contradicts",
           "too_vague_to_check", "other"}


def units_for(r):
    key = f"{r['model']}|{r['mode']}|{r['question_id']}"
    if r["mode"] == "plain":
        return {f"{key}|{n}": (xu.strip_cites(p), xu.cites_in(p)) for n, p in enumerate(xu.split_plain(r["reply"]), 1)}
    items, _ = xu.json_units(r["reply"])
    return {f"{key}|{n}": (xu.strip_cites(t), ev + xu.cites_in(t)) for n, (t, ev, _) in enumerate(items, 1)}


def main():
    qs = {q["question_id"]: q for q in map(json.loads, open(HERE / "questions.jsonl", encoding="utf-8"))}
    replies = [json.loads(l) for l in open(HERE / "replies.jsonl", encoding="utf-8")]
    rep = {f"{r['model']}|{r['mode']}|{r['question_id']}": r for r in replies}
    hand = [json.loads(l) for l in open(HERE / "hand_labels.jsonl", encoding="utf-8") if l.strip()]
    out = []
    for h in hand:
        key = h["unit_id"].rsplit("|", 1)[0]
        r = rep[key]
        q = qs[r["question_id"]]
        auto = units_for(r).get(h["unit_id"], (None, None))
        sentence = h.get("sentence", auto[0])
        cited = h.get("cited", auto[1])
        assert sentence is not None, h["unit_id"]
        assert h["label"] in ("SUPPORTED", "UNSUPPORTED"), h
        assert (h["label"] == "SUPPORTED") == (h.get("reason") in (None, "")), h
        assert h["label"] == "SUPPORTED" or h["reason"] in REASONS, h
        assert all(a in REASONS for a in h.get("also", [])), h
        out.append({
            "id": h["unit_id"], "model": r["model"], "mode": r["mode"], "corpus": q["corpus"],
            "question_id": q["question_id"], "question": q["question"], "split": q["split"],
            "reply": r["reply"], "sentence": sentence, "cited": cited,
            "label": h["label"], "reason": h.get("reason") or None, "also": h.get("also", []),
            "note": h.get("note", ""),
        })
    (HERE / "labels.jsonl").write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in out), encoding="utf-8")

    def table(title, keyf, cols=("SUPPORTED", "UNSUPPORTED")):
        c = Counter((keyf(o), o["label"]) for o in out)
        rows = sorted({k for k, _ in c})
        print(f"\n{title}\n\n| {title.split(' by ')[-1]} | " + " | ".join(cols) + " | total |")
        print("|---" * (len(cols) + 2) + "|")
        for k in rows:
            vals = [c[(k, col)] for col in cols]
            print(f"| {k} | " + " | ".join(map(str, vals)) + f" | {sum(vals)} |")
        vals = [sum(c[(k, col)] for k in rows) for col in cols]
        print("| all | " + " | ".join(map(str, vals)) + f" | {sum(vals)} |")

    print(f"{len(out)} labelled sentences")
    table("labels by model", lambda o: o["model"])
    table("labels by corpus", lambda o: o["corpus"])
    table("labels by mode", lambda o: o["mode"])
    table("labels by split", lambda o: o["split"])
    table("labels by model/corpus/mode", lambda o: f"{o['model']} / {o['corpus']} / {o['mode']}")
    table("labels by split/model", lambda o: f"{o['split']} / {o['model']}")
    rc = Counter((o["model"], o["reason"]) for o in out if o["label"] == "UNSUPPORTED")
    models = sorted({m for m, _ in rc})
    print("\nreasons (UNSUPPORTED) by model\n\n| reason | " + " | ".join(models) + " | total |")
    print("|---" * (len(models) + 2) + "|")
    for reason in sorted({r for _, r in rc}):
        vals = [rc[(m, reason)] for m in models]
        print(f"| {reason} | " + " | ".join(map(str, vals)) + f" | {sum(vals)} |")
    # replies: declines and timing
    print("\nreplies by model and mode\n\n| model | mode | replies | declined | declined on answerable q | answered unanswerable q | unparseable JSON (no answerable flag) | median s | median s to first token | max s |")
    print("|---" * 10 + "|")
    g = defaultdict(list)
    for r in replies:
        g[(r["model"], r["mode"])].append(r)
    for (m, mode), rs in sorted(g.items()):
        secs = sorted(r["seconds"] for r in rs)
        ft = sorted(r["seconds_to_first_token"] for r in rs if r["seconds_to_first_token"] is not None)
        med = lambda xs: xs[len(xs) // 2] if xs else None
        import re as _re
        for r in rs:  # a cut-off JSON reply that still says "answerable": false counts as a decline
            if r["declined"] is None and _re.search(r'"answerable"\s*:\s*false', r["reply"]):
                r["declined"] = True
        dec = sum(1 for r in rs if r["declined"])
        dec_ans = sum(1 for r in rs if r["declined"] and qs[r["question_id"]]["answerable"])
        ans_un = sum(1 for r in rs if r["declined"] is False and not qs[r["question_id"]]["answerable"])
        bad = sum(1 for r in rs if r["declined"] is None)
        print(f"| {m} | {mode} | {len(rs)} | {dec} | {dec_ans} | {ans_un} | {bad} | {med(secs):.1f} | {med(ft)} | {secs[-1]:.1f} |")


if __name__ == "__main__":
    main()
