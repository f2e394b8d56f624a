#!/usr/bin/env python3
"""Check the multilingual evaluation set (standard library only).

Usage:  python3 check_set.py            # checks dev and heldout
        python3 check_set.py dev        # checks one split

For each split it
  * parses every article's YAML front matter (title, source, date) and body,
  * confirms every answer of every answerable question occurs in its article
    body under the matching rule (see normalize()),
  * confirms ids are unique (also across splits) and the keys / kinds / langs
    are well-formed,
  * checks the minimum counts asked for in the brief,
  * prints counts per language and kind.
It exits with status 1 if any error is found.  Warnings (e.g. an answer string
that also occurs in another article of the same split) do not fail the run,
they are listed for a human to look at.
"""
import json
import os
import re
import sys
import unicodedata
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
SPLITS = ["dev", "heldout"]
LANGS = ["ar", "fr", "de", "tr", "ru", "es", "zh", "en"]
KINDS = ["same-language", "no-diacritics", "english", "off-topic"]
LATIN = {"en", "tr", "de", "fr", "es"}
ANSWERABLE_KEYS = {"id", "question", "answers", "lang", "article", "kind"}
OOS_KEYS = {"id", "question", "answers", "out_of_scope", "lang", "kind"}

# minimum same-language questions per article, by article language
MIN_SAME = {"ar": 4, "fr": 4, "de": 4, "tr": 4, "ru": 4, "en": 4, "es": 3, "zh": 3}
# minimum articles per language
MIN_ARTICLES = {"ar": 2, "fr": 2, "de": 2, "tr": 2, "ru": 2, "es": 1, "zh": 1, "en": 3}
MIN_ENGLISH_PER_NON_EN_ARTICLE = 2
MIN_NO_DIACRITICS = 12
MIN_OOS_PER_LANG = {l: 2 for l in ["en", "ar", "fr", "de", "tr", "ru"]}


def normalize(s):
    """Matching rule: curly quotes -> straight, ellipsis -> '...', delete every
    apostrophe, collapse whitespace to one space, lowercase."""
    s = (s.replace("\u2018", "'").replace("\u2019", "'")
          .replace("\u201c", '"').replace("\u201d", '"')
          .replace("\u2026", "..."))
    s = s.replace("'", "")
    s = re.sub(r"\s+", " ", s)
    return s.strip().lower()


FOLD = {"ı": "i", "İ": "I", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "Ae",
        "ß": "ss", "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "œ": "oe"}


def ascii_fold(s):
    s = "".join(FOLD.get(c, c) for c in s)
    s = unicodedata.normalize("NFKD", s)
    return "".join(c for c in s if not unicodedata.combining(c))


def parse_article(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.S)
    if not m:
        raise ValueError("no YAML front matter")
    meta = {}
    for line in m.group(1).splitlines():
        if not line.strip():
            continue
        k, sep, v = line.partition(":")
        if not sep:
            raise ValueError("bad front-matter line: %r" % line)
        v = v.strip()
        if len(v) >= 2 and v[0] == v[-1] == '"':
            v = v[1:-1]
        meta[k.strip()] = v
    for k in ("title", "source", "date"):
        if not meta.get(k):
            raise ValueError("front matter lacks %s" % k)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", meta["date"]):
        raise ValueError("date not YYYY-MM-DD: %r" % meta["date"])
    body = m.group(2).strip()
    return meta, body


def length_of(lang, body):
    if lang == "zh":
        return len(re.findall(r"[\u4e00-\u9fff]", body))
    return len(body.split())


def check_split(split, errors, warnings, seen_ids):
    base = os.path.join(HERE, split)
    art_dir = os.path.join(base, "articles")
    articles = {}
    for name in sorted(os.listdir(art_dir)):
        if not name.endswith(".txt"):
            continue
        lang = name.split("-")[0]
        if lang not in LANGS:
            errors.append("%s/%s: unknown language prefix" % (split, name))
        try:
            meta, body = parse_article(os.path.join(art_dir, name))
        except (ValueError, UnicodeDecodeError) as e:
            errors.append("%s/%s: %s" % (split, name, e))
            continue
        n = length_of(lang, body)
        lo, hi = (400, 1200) if lang == "zh" else (250, 600)
        unit = "CJK chars" if lang == "zh" else "words"
        if not lo <= n <= hi:
            errors.append("%s/%s: body length %d %s outside %d-%d" % (split, name, n, unit, lo, hi))
        if "\n\n" not in body:
            errors.append("%s/%s: no blank-line paragraph breaks" % (split, name))
        articles[name] = {"lang": lang, "meta": meta, "body": body,
                          "norm": normalize(body), "len": n, "unit": unit}
    n_by_lang = Counter(a["lang"] for a in articles.values())
    for l, k in MIN_ARTICLES.items():
        if n_by_lang[l] < k:
            errors.append("%s: only %d %s articles (need %d)" % (split, n_by_lang[l], l, k))

    qs = []
    with open(os.path.join(base, "questions.jsonl"), encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                qs.append(json.loads(line))
            except json.JSONDecodeError as e:
                errors.append("%s questions.jsonl line %d: %s" % (split, i, e))

    per_art = defaultdict(Counter)
    counts = defaultdict(Counter)
    oos_lang = Counter()
    for q in qs:
        qid = q.get("id", "?")
        where = "%s %s" % (split, qid)
        if qid in seen_ids:
            errors.append("%s: duplicate id" % where)
        seen_ids.add(qid)
        if not str(qid).startswith("ml-%s-" % split):
            errors.append("%s: id does not start with ml-%s-" % (where, split))
        kind, lang = q.get("kind"), q.get("lang")
        if kind not in KINDS:
            errors.append("%s: bad kind %r" % (where, kind))
        if lang not in LANGS:
            errors.append("%s: bad lang %r" % (where, lang))
        if not isinstance(q.get("question"), str) or not q["question"].strip():
            errors.append("%s: empty question" % where)
        counts[lang][kind] += 1
        if kind == "off-topic":
            if set(q) != OOS_KEYS:
                errors.append("%s: keys %s != %s" % (where, sorted(q), sorted(OOS_KEYS)))
            if q.get("out_of_scope") is not True or q.get("answers") != []:
                errors.append("%s: off-topic needs out_of_scope true and answers []" % where)
            oos_lang[lang] += 1
            continue
        if set(q) != ANSWERABLE_KEYS:
            errors.append("%s: keys %s != %s" % (where, sorted(q), sorted(ANSWERABLE_KEYS)))
        art = q.get("article")
        if art not in articles:
            errors.append("%s: article %r not found" % (where, art))
            continue
        a = articles[art]
        answers = q.get("answers")
        if not isinstance(answers, list) or not answers:
            errors.append("%s: answers must be a non-empty list" % where)
            continue
        for ans in answers:
            if not isinstance(ans, str) or not ans.strip():
                errors.append("%s: empty answer" % where)
                continue
            if normalize(ans) not in a["norm"]:
                errors.append("%s: answer %r not found in %s" % (where, ans, art))
            if len(ans.split()) > 8:
                warnings.append("%s: answer longer than 8 words: %r" % (where, ans))
            # answers that also occur (as whole words) in another article of the same split
            if len(normalize(ans)) >= 3 and not re.fullmatch(r"[\d.,]+", ans):
                pat = r"(?<!\w)" + re.escape(normalize(ans)) + r"(?!\w)"
                others = [n for n, b in articles.items()
                          if n != art and re.search(pat, b["norm"])]
                if others:
                    warnings.append("%s: answer %r also occurs in %s" % (where, ans, ", ".join(others)))
        per_art[art][kind] += 1
        if kind == "same-language" and lang != a["lang"]:
            errors.append("%s: same-language but lang %s != article lang %s" % (where, lang, a["lang"]))
        if kind == "english":
            if lang != "en":
                errors.append("%s: english question must have lang en" % where)
            if a["lang"] == "en":
                errors.append("%s: english kind must point at a non-English article" % where)
        if kind == "no-diacritics":
            if a["lang"] not in LATIN:
                errors.append("%s: no-diacritics must point at a Latin-script article" % where)
            if lang not in ("en", a["lang"]):
                errors.append("%s: no-diacritics question must be in English or the article's language" % where)
            # the question must contain a diacritic-bearing article word in folded form
            qwords = set(re.findall(r"[\w-]+", q["question"]))
            awords = set(re.findall(r"[\w-]+", a["body"]))
            folded = {w: ascii_fold(w) for w in awords if ascii_fold(w) != w}
            hit = [w for w, fw in folded.items() if fw in qwords and w not in qwords]
            if not hit:
                errors.append("%s: no-diacritics question contains no de-accented article name" % where)

    # per-article minimums
    for name, a in articles.items():
        need = MIN_SAME[a["lang"]]
        if per_art[name]["same-language"] < need:
            errors.append("%s/%s: %d same-language questions (need %d)" % (
                split, name, per_art[name]["same-language"], need))
        if a["lang"] != "en" and per_art[name]["english"] < MIN_ENGLISH_PER_NON_EN_ARTICLE:
            errors.append("%s/%s: %d english questions (need %d)" % (
                split, name, per_art[name]["english"], MIN_ENGLISH_PER_NON_EN_ARTICLE))
    n_nd = sum(c["no-diacritics"] for c in counts.values())
    if n_nd < MIN_NO_DIACRITICS:
        errors.append("%s: %d no-diacritics questions (need %d)" % (split, n_nd, MIN_NO_DIACRITICS))
    for l, k in MIN_OOS_PER_LANG.items():
        if oos_lang[l] < k:
            errors.append("%s: %d off-topic questions in %s (need %d)" % (split, oos_lang[l], l, k))

    # report
    print("=" * 72)
    print("split: %s   articles: %d   questions: %d" % (split, len(articles), len(qs)))
    print("-" * 72)
    print("articles:")
    for name, a in articles.items():
        c = per_art[name]
        print("  %-24s %4d %-9s  same=%d nodiac=%d english=%d" % (
            name, a["len"], a["unit"], c["same-language"], c["no-diacritics"], c["english"]))
    print("-" * 72)
    print("questions by question language x kind:")
    header = "  %-5s" % "lang" + "".join("%15s" % k for k in KINDS) + "%8s" % "total"
    print(header)
    tot = Counter()
    for l in LANGS:
        row = counts.get(l, Counter())
        print("  %-5s" % l + "".join("%15d" % row[k] for k in KINDS) + "%8d" % sum(row.values()))
        tot.update(row)
    print("  %-5s" % "all" + "".join("%15d" % tot[k] for k in KINDS) + "%8d" % sum(tot.values()))
    return articles


def main():
    splits = sys.argv[1:] or SPLITS
    errors, warnings = [], []
    seen_ids = set()
    arts = {}
    for s in splits:
        arts[s] = check_split(s, errors, warnings, seen_ids)
    if len(arts) == 2:
        # the two splits must not share articles
        t0 = {a["meta"]["title"] for a in arts["dev"].values()}
        t1 = {a["meta"]["title"] for a in arts["heldout"].values()}
        for t in t0 & t1:
            errors.append("title in both splits: %r" % t)
        b0 = {a["norm"] for a in arts["dev"].values()}
        for n, a in arts["heldout"].items():
            if a["norm"] in b0:
                errors.append("heldout/%s: same body as a dev article" % n)
    print("=" * 72)
    for w in warnings:
        print("WARNING:", w)
    for e in errors:
        print("ERROR:", e)
    print("%d error(s), %d warning(s)" % (len(errors), len(warnings)))
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
