#!/usr/bin/env python3
"""Split raw replies into written sentences with the citation marks as written.

Reads replies.jsonl, writes units.jsonl: one object per written sentence with
"unit_id" (model|mode|question_id|n), "sentence" (citation marks removed), "raw"
(the piece of the reply it came from) and "cited" (raw citation strings, e.g. ["S1.2", "6"]).
This only segments the replies; every label in labels.jsonl was given by hand.
"""
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# a bracket group [ ... ] or ( ... ) whose content is only ids / numbers / separators / "S"/"Sentence"
_GROUP = re.compile(r"[\[(]\s*((?:(?:Sentences?\s*)?S?\s?\d+(?:\.\d+)?(?:\s*[-–]\s*S?\d+(?:\.\d+)?)?\s*(?:,|;|and|&)?\s*)+)[\])]", re.I)
_BARE = re.compile(r"(?<![\w.\[])S\d+\.\d+\b")
_ID = re.compile(r"S?\s?\d+(?:\.\d+)?(?:\s*[-–]\s*S?\d+(?:\.\d+)?)?", re.I)
_END = re.compile(r"(?<=[.!?])(?<!\.\.\.)[\"'”’]?\s+(?=[\"'“‘]?[A-Z0-9\[(¿¡ÀÉÎ])")


def cites_in(text):
    out = []
    for m in _GROUP.finditer(text):
        for i in _ID.finditer(re.sub(r"(?i)sentences?", "", m.group(1))):
            out.append(re.sub(r"\s+", "", i.group(0)))
    rest = _GROUP.sub(" ", text)
    out += [m.group(0) for m in _BARE.finditer(rest)]
    return out


def strip_cites(text):
    t = _GROUP.sub("", text)
    t = _BARE.sub("", t)
    t = re.sub(r"\s+([.,;:!?])", r"\1", t)
    t = re.sub(r"(?:\s*,)+\s*([.!?]|$)", r"\1", t)
    t = re.sub(r"\s{2,}", " ", t).strip()
    t = re.sub(r"^[:\-–\s]+", "", t)
    return t


def split_plain(reply):
    """Sentence pieces; a citation group that follows a sentence end belongs to that sentence."""
    pieces = []
    for line in reply.split("\n"):
        line = line.strip()
        if not line:
            continue
        parts = _END.split(line)
        for p in parts:
            p = p.strip()
            if not p:
                continue
            # a piece that is only citation marks joins the previous piece
            if pieces and not strip_cites(p).strip(" .") and cites_in(p):
                pieces[-1] += " " + p
            else:
                pieces.append(p)
    return pieces


def json_units(reply):
    try:
        obj = json.loads(reply)
        sents = obj.get("sentences") or []
        return [(s.get("text", ""), [str(e) for e in s.get("evidence", [])], "") for s in sents], obj.get("answerable")
    except ValueError:
        # truncated JSON: take the complete {"text":..., "evidence":[...]} items that are there
        items = []
        for m in re.finditer(r'"text"\s*:\s*"((?:[^"\\]|\\.)*)"\s*,\s*"evidence"\s*:\s*\[([^\]]*)(\]?)', reply):
            ev = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2))
            items.append((json.loads('"' + m.group(1) + '"'), ev, "" if m.group(3) else "evidence list cut off"))
        if not items:
            m = re.search(r'"text"\s*:\s*"((?:[^"\\]|\\.)*)', reply)
            if m:
                items.append((m.group(1), [], "reply cut off inside text"))
        ans = re.search(r'"answerable"\s*:\s*(true|false)', reply)
        return items, (None if not ans else ans.group(1) == "true")


def main():
    replies = [json.loads(l) for l in open(HERE / "replies.jsonl", encoding="utf-8")]
    out = []
    for r in replies:
        key = f"{r['model']}|{r['mode']}|{r['question_id']}"
        if r["mode"] == "plain":
            for n, p in enumerate(split_plain(r["reply"]), 1):
                out.append({"unit_id": f"{key}|{n}", "sentence": strip_cites(p), "raw": p, "cited": cites_in(p)})
        else:
            items, _ = json_units(r["reply"])
            for n, (text, ev, note) in enumerate(items, 1):
                out.append({"unit_id": f"{key}|{n}", "sentence": strip_cites(text), "raw": text,
                            "cited": ev + cites_in(text), "parse_note": note})
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/support-work/units.jsonl")
    path.write_text("".join(json.dumps(u, ensure_ascii=False) + "\n" for u in out), encoding="utf-8")
    print(len(out), "units", file=sys.stderr)


if __name__ == "__main__":
    main()
