"""Whether a written sentence stays close to the evidence sentences it cites: no model, no chance.

Five checks, each reported as a value so thresholds can be chosen on labelled pairs
(rag.generate.tune) without computing anything again:

(a) citations: it cites at least one sentence that was given, and nothing that was not;
(b) key terms: every name, number and date it writes occurs in the evidence (case, diacritics
    and inflection aside: "Sadr's" = "Sadr", "Erdoğan'ın" = "Erdogan", "1,200" = "1200",
    "12,5" = "12.5", "three" = "3", "1.2 million" = "1,200,000"; meaning is not compared);
(c) coverage: the share of its content words (stop words out, Snowball stems, folded) that
    the evidence holds;
(d) similarity: the cosine of its embedding with the evidence's (the best of each evidence
    sentence alone and of all together);
(e) a stated cause: when a sentence says why ("because", "due to", "led to"), the words of its
    cause must be in what its evidence gives as a cause: after "because", "after", "blamed on",
    "traced to"... (or before "caused", "led to"). An invented cause keeps the passages' own
    words and meaning close, so (b) to (d) cannot see it.

A sentence is shown as written only when it passes all five.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Callable, Iterable, Sequence

import numpy as np
import regex

from rag.language.tokens import analyzer, fold, snowball_stemmer, stopwords, words

Embed = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class Thresholds:
    """Where checks (c), (d) and (e) pass. (c) and (d) were chosen by rag.generate.tune on the tune
    split of data/eval/support (106 hand-labelled sentences of three small models): SUPPORTED
    shown as written 19/24, UNSUPPORTED 2/82; on its held-out split 20/27 and 2/69 (2.9%)."""

    min_coverage: float = 0.7  # (c) share of the sentence's content words found in the evidence
    min_similarity: float = 0.55  # (d) cosine with the evidence (all-MiniLM-L6-v2 scale)
    # A sentence citing a whole passage ("[2]"), not sentences, may be shown as written.
    passage_citations: bool = True
    # (e) share of the words of a cause written that the evidence states as a cause (0: no check)
    min_cause_coverage: float = 0.5


@dataclass(frozen=True)
class Checks:
    """Each check's value for one written sentence and its evidence sentences."""

    citations_valid: bool  # (a)
    cited: tuple[str, ...]  # the evidence sentence ids (empty for a bare pair)
    invalid: tuple[str, ...]  # cited marks that name nothing given
    passage_level: bool  # the evidence was picked from a passage cited whole
    terms: tuple[str, ...]  # (b) names, numbers, dates written
    missing_terms: tuple[str, ...]  # (b) those the evidence does not hold
    coverage: float  # (c) 0..1
    uncovered: tuple[str, ...]  # (c) content words the evidence does not hold
    similarity: float  # (d) cosine, -1..1
    cause: str = ""  # (e) the causal words written ("because"), "" when it gives no cause
    cause_coverage: float = 1.0  # (e) share of its cause's words the evidence gives as a cause

    def passed(self, thresholds: Thresholds = Thresholds()) -> bool:
        return not self.failure(thresholds)

    def failure(self, thresholds: Thresholds = Thresholds()) -> str:
        """Why the sentence may not be shown as written ("" when it may): the first check failed."""
        if not self.cited and not self.citations_valid:
            return "it cites no sentence that was given" + (f" ({', '.join(self.invalid)})" if self.invalid else "")
        if not self.citations_valid:
            return f"it cites {', '.join(self.invalid)}, which the model was not given"
        if self.passage_level and not thresholds.passage_citations:
            return "it cites a whole passage, not its sentences"
        if self.missing_terms:
            return f"{_quoted(self.missing_terms)} not in the sentences it cites"
        if self.coverage < thresholds.min_coverage:
            return (f"only {self.coverage:.0%} of its words are in the sentences it cites "
                    f"(missing: {', '.join(self.uncovered[:4])})")
        if self.similarity < thresholds.min_similarity:
            return f"its meaning is too far from the sentences it cites (similarity {self.similarity:.2f})"
        if self.cause and self.cause_coverage < thresholds.min_cause_coverage:
            return f"it gives a cause (“{self.cause}”) that the sentences it cites do not state"
        return ""


def check_sentence(sentence: str, evidence: Sequence[str], embed: Embed | None = None, *,
                   cited: Sequence[str] = (), invalid: Sequence[str] = (), passage_level: bool = False,
                   language: str | None = None, vectors: dict[str, np.ndarray] | None = None) -> Checks:
    """The five checks of `sentence` (its citation marks removed) against its `evidence`
    sentences. `cited`/`invalid` are its citations as read (rag.generate.citations); for a bare
    (sentence, evidence) pair they default to "valid when there is evidence". `embed` gives
    unit vectors (None: similarity 0); `vectors` caches them across calls. `language` is the
    evidence's ISO code (None: detected)."""
    evidence = [e for e in evidence if e.strip()]
    lang = language if language is not None else evidence_language(" ".join(evidence) or sentence)
    held = EvidenceTerms.of(evidence, lang)
    terms = key_terms(sentence, lang)
    missing = tuple(t.surface for t in terms if not held.holds(t))
    content = _content(sentence, lang)
    uncovered = tuple(w for w in content if w not in held.content)
    coverage = 1.0 - len(uncovered) / len(content) if content else 0.0  # no content word: nothing to check
    similarity = _similarity(sentence, evidence, embed, vectors) if evidence and embed is not None else 0.0
    valid = bool(evidence) and not invalid
    cause, cause_coverage = _cause(sentence, evidence, lang)
    return Checks(valid, tuple(cited), tuple(invalid), passage_level, tuple(t.surface for t in terms), missing,
                  round(coverage, 4), uncovered, round(similarity, 4), cause, round(cause_coverage, 4))


def check_pairs(pairs: Iterable[tuple[str, Sequence[str]]], embed: Embed | None = None,
                language: str | None = None) -> list[Checks]:
    """`check_sentence` for each (written sentence, evidence sentences) pair, embedding in one
    batch: what the tuning and the labelled set's report run."""
    pairs = [(s, list(e)) for s, e in pairs]
    vectors: dict[str, np.ndarray] = {}
    if embed is not None:
        texts = list(dict.fromkeys(t for s, e in pairs for t in (s, *e, " ".join(e)) if t.strip()))
        if texts:
            vectors.update(zip(texts, embed(texts)))
    return [check_sentence(s, e, embed, language=language, vectors=vectors) for s, e in pairs]


# (b) names, numbers, dates ------------------------------------------------------------------------

@dataclass(frozen=True)
class Term:
    """A name, number or date written in a sentence: `values` are a number's readings, `word`
    a name's normalised word."""

    surface: str
    kind: str  # "name" | "number" | "month"
    word: str = ""
    values: frozenset[Decimal] = frozenset()


_NUMBER = regex.compile(r"(?<![\p{L}\p{N}])(\d{1,3}(?:[,.\u00a0\u202f]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)(?![\p{N}])")
_SCALE = {"thousand": 10**3, "thousands": 10**3, "tausend": 10**3, "k": 10**3, "million": 10**6, "millions": 10**6,
          "m": 10**6, "mn": 10**6, "mln": 10**6, "millionen": 10**6, "millón": 10**6, "millones": 10**6,
          "milioni": 10**6, "billion": 10**9, "billions": 10**9, "bn": 10**9, "milliard": 10**9,
          "milliards": 10**9, "milliarde": 10**9, "milliarden": 10**9, "trillion": 10**12}
_NUMBER_WORDS = {w: n for n, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split())} | {
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "hundred": 100, "dozen": 12, "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "half": 0.5,
    "twice": 2, "once": 1}
_MONTHS = {}
for _n, _names in enumerate((
        "january janvier januar enero gennaio janeiro januari",
        "february février februar febrero febbraio fevereiro februari",
        "march mars märz marzo março maart", "april avril abril aprile", "may mai mayo maggio maio mei",
        "june juin juni junio giugno junho", "july juillet juli julio luglio julho",
        "august août agosto augustus", "september septembre septiembre settembre setembro",
        "october octobre oktober octubre ottobre outubro", "november novembre noviembre novembro",
        "december décembre dezember diciembre dicembre dezembro"), start=1):
    for _name in _names.split():
        _MONTHS[fold(_name)] = _n
for _name, _n in (("jan", 1), ("feb", 2), ("mar", 3), ("apr", 4), ("jun", 6), ("jul", 7), ("aug", 8), ("sep", 9),
                  ("sept", 9), ("oct", 10), ("nov", 11), ("dec", 12)):
    _MONTHS[_name] = _n
# Capitalised only because they open a sentence, or words of every sentence: never a name.
_OPENERS = frozenset("""however also meanwhile additionally furthermore moreover therefore thus instead yes no despite
although while overall finally first second third today yesterday currently initially later earlier according
in on at after before during since until by for from with without as the a an this that these those it its he she
they we his her their there here when where why how what who which but and or so if then""".split())


def key_terms(sentence: str, language: str = "en") -> list[Term]:
    """The names (capitalised words; a sentence's first word unless it is a common opener),
    numbers (digits or number words, with a scale word) and months next to a number."""
    terms: list[Term] = []
    seen: set[str] = set()
    for reading, surface in _numbers(sentence):
        if surface not in seen:
            seen.add(surface)
            terms.append(Term(surface, "number", values=reading))
    tokens = list(regex.finditer(r"[\p{L}\p{M}][\p{L}\p{M}\p{N}'’.-]*", sentence))
    stop = stopwords(language) | stopwords("en")
    for i, match in enumerate(tokens):
        surface = match.group().strip("'’.-")
        normal = words(surface)
        if not normal:
            continue
        word = normal[0]
        month = _MONTHS.get(fold(word))
        if month and _next_to_number(sentence, match.start(), match.end()):
            if word not in seen:
                seen.add(word)
                terms.append(Term(surface, "month", word, frozenset({Decimal(month)})))
            continue
        if not (surface[:1].isupper() or surface[:1].istitle()) or fold(word) in _NUMBER_WORDS:
            continue
        first = i == 0 or bool(re.search(r"[.!?:;\"“]\s*$", sentence[:match.start()]))
        if first and (fold(word) in stop or fold(word) in _OPENERS):
            continue
        shown = regex.findall(r"[\p{L}\p{M}\p{N}]+", surface) if len(normal) > 1 else [surface]
        for part, written in zip(normal, shown if len(shown) == len(normal) else normal):
            if part not in seen and not part.isdigit() and len(part) > 1:
                seen.add(part)
                terms.append(Term(written, "name", part))
    return terms


def _numbers(text: str) -> list[tuple[frozenset[Decimal], str]]:
    """Every number of `text` with its readings: "1,200" {1200}; "1.200" {1.2, 1200} (either
    convention); "12,5" {12.5}; "1.2 million" {1.2, 1200000}; "three" {3}."""
    found = []
    for match in _NUMBER.finditer(text):
        readings = _readings(match.group(1))
        scale = re.match(r"\s*([A-Za-zÀ-ÿ]+)", text[match.end():])
        factor = _SCALE.get(scale.group(1).lower()) if scale else None
        if factor:
            readings |= {r * factor for r in readings}
        found.append((frozenset(readings), match.group(1)))
    for match in regex.finditer(r"\p{L}+", text):
        value = _NUMBER_WORDS.get(match.group().lower())
        if value is not None and match.group().lower() not in ("one", "first", "second", "once", "half"):
            found.append((frozenset({Decimal(str(value))}), match.group()))
    return found


def _readings(digits: str) -> set[Decimal]:
    digits = digits.replace("\u00a0", ",").replace("\u202f", ",")
    options = set()
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", digits):
        options.add(digits.replace(",", ""))
    if re.fullmatch(r"\d{1,3}(\.\d{3})+(,\d+)?", digits):
        options.add(digits.replace(".", "").replace(",", "."))
    if re.fullmatch(r"\d+[.,]\d+", digits):
        options.add(digits.replace(",", "."))
    if re.fullmatch(r"\d+", digits):
        options.add(digits)
    out = set()
    for option in options:
        try:
            out.add(Decimal(option).normalize())
        except InvalidOperation:
            pass
    return out


def _next_to_number(text: str, start: int, end: int) -> bool:
    return bool(re.search(r"\d[\s,]*$", text[max(0, start - 6):start]) or re.match(r"[\s,.]*\d", text[end:end + 6]))


@dataclass(frozen=True)
class EvidenceTerms:
    """What the evidence holds, for (b) and (c): its words (folded), their stems, its numbers'
    readings (and its months' numbers), and its content tokens."""

    words: frozenset[str]
    stems: frozenset[str]
    numbers: frozenset[Decimal]
    content: frozenset[str]
    language: str

    @classmethod
    def of(cls, evidence: Sequence[str], language: str) -> "EvidenceTerms":
        text = " ".join(evidence)
        folded = frozenset(fold(w) for w in words(text))
        numbers = {r for readings, _ in _numbers(text) for r in readings}
        numbers |= {Decimal(_MONTHS[w]) for w in folded if w in _MONTHS}
        return cls(folded, frozenset(_stems(folded, language)), frozenset(numbers),
                   frozenset(analyzer(language).tokens(text)), language)

    def holds(self, term: Term) -> bool:
        if term.kind in ("number", "month"):
            if term.values & self.numbers:
                return True
            return term.kind == "month" and fold(term.word) in self.words
        word = fold(term.word)
        if word in self.words or _stems({word}, self.language) & self.stems:
            return True
        # Inflected names in languages without a stemmer here ("Erdoğan'ın", "Bagdads"): one word
        # a prefix of the other, at least 4 letters shared, at most 4 more.
        return any(_prefix_match(word, w) for w in self.words)


def _prefix_match(a: str, b: str) -> bool:
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return len(short) >= 4 and long.startswith(short) and len(long) - len(short) <= 4


def _stems(folded: Iterable[str], language: str) -> set[str]:
    out = set(folded)
    for lang in {language, "en"}:
        stemmer = snowball_stemmer(lang)
        if stemmer is not None:
            out |= set(stemmer.stemWords(list(folded)))
    return out


# (e) a stated cause ---------------------------------------------------------------------------------

# "was due to head to Kufa" is a plan, not a cause
_NOT_SCHEDULED = (r"(?!\s+(?:be|head|go|come|meet|take|make|start|begin|open|leave|return|arrive|visit|attend|travel"
                  r"|speak|hold|appear|sign|vote|announce|release|launch|end|close|give|finish|fly|deliver|face|stand)\b)")
_CAUSE_WRITTEN = regex.compile(
    r"(?i)\b(?:because|due to" + _NOT_SCHEDULED + r"|owing to|caused|causing|led to|leading to|as a result of"
    r"|in order to|the reason"
    r"|parce que?|à cause|en raison|weil|wegen|aufgrund|porque|debido a|a causa|perché|a causa di)\b")
_CAUSE_STATED = regex.compile(
    r"(?i)\b(?:because|due to" + _NOT_SCHEDULED + r"|owing to|cause[ds]?|causing|led to|leading to|lead to"
    r"|result(?:ed|s)?|reason"
    r"|why|after|following|therefore|thus|thanks to|blam\w*|trac\w* .{0,60}\bto|in order to"
    r"|to protest|in response|response to|triggered|prompted|sparked|forced"
    r"|parce que?|à cause|en raison|car|après|weil|wegen|aufgrund|nach|porque|debido a|a causa|tras|perché)\b")


# Markers after which the cause comes; for these, it comes before ("a cracked bearing caused it").
_CAUSE_BEFORE = ("caus", "led", "lead", "result", "trigger", "prompt", "spark", "forc")


def _cause(sentence: str, evidence: Sequence[str], language: str) -> tuple[str, float]:
    """(the causal words of `sentence`, the share of its cause's content words that the evidence
    gives as a cause); ("", 1.0) when it gives no cause."""
    written = _CAUSE_WRITTEN.search(sentence)
    if written is None:
        return "", 1.0
    before = written.group(0).lower().startswith(_CAUSE_BEFORE)
    tokenize = analyzer(language).tokens
    cause = set(tokenize(sentence[:written.start()] if before else sentence[written.end():]))
    if not cause:
        return written.group(0), 1.0
    stated: set[str] = set()
    for text in evidence:
        for marker in _CAUSE_STATED.finditer(text):
            stated |= set(tokenize(text[marker.end():]))
            if marker.group(0).lower().startswith(_CAUSE_BEFORE):
                stated |= set(tokenize(text[:marker.start()]))
    return written.group(0), len(cause & stated) / len(cause)


# (c) coverage, (d) similarity -----------------------------------------------------------------

def _content(sentence: str, language: str) -> tuple[str, ...]:
    """The sentence's distinct content tokens, in order; numbers are left to check (b), which
    reads "1,200" and "1200" alike."""
    return tuple(dict.fromkeys(t for t in analyzer(language).tokens(sentence) if not _NUMBER.fullmatch(t)))


def _similarity(sentence: str, evidence: Sequence[str], embed: Embed,
                vectors: dict[str, np.ndarray] | None) -> float:
    cache = vectors if vectors is not None else {}
    texts = [sentence, *evidence] + ([" ".join(evidence)] if len(evidence) > 1 else [])
    missing = [t for t in dict.fromkeys(texts) if t not in cache]
    if missing:
        cache.update(zip(missing, embed(missing)))
    own = cache[sentence]
    return float(max(np.dot(own, cache[t]) for t in texts[1:]))


@lru_cache(maxsize=4096)
def evidence_language(text: str) -> str:
    """The language whose stop words and stems the checks use: the evidence's, "en" when unsure."""
    from rag.language import detect_language

    detected = detect_language(text)
    # (code, probability) or, before the index format that stores it, the code alone
    code, probability = detected if isinstance(detected, tuple) else (detected, 1.0)
    return code if code and probability >= 0.5 else "en"


def _quoted(terms: Sequence[str]) -> str:
    shown = ", ".join(f"“{t}”" for t in terms[:3])
    return f"{shown} {'is' if len(terms) == 1 else 'are'}"
