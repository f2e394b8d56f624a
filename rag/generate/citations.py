"""A written reply cut into sentences, and each sentence's citations read and checked.

Small models cite in many forms; every one is read, and what names nothing given is kept apart:

    "… itikaf [S1.2]."           sentence S1.2
    "… [S1.2, S3.1]" "[S1.2][S3.1]" "[S1.2; S3.1]" "(S1.2)" "S1.2-S1.4" "S1.2-4" "[1.2]"
    "… [2]" "[S2]"                all of passage 2 (weaker: the verifier picks its sentences)
    "[1], [2]", a bare "is [1]."  the same, wherever in the sentence
    "[6]" of 5 passages, "S1.9"   invalid: nothing of that number was given
    "itikaf. [S1.2] His aides…"  a citation after the full stop belongs to the sentence before

Numbers in brackets that cannot be a citation ("[2008]" of 5 passages) are invalid citations,
never text; a bracket holding words ("[sic]", "[the minister]") is text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Collection

from rag.ingest.sentences import sentence_spans

_OPEN, _CLOSE = "[(【", "])】"
# One id: "S1.2", "s1.2", "1.2", "S1", "2"; a range "S1.2-S1.4", "S1.2–4".
_ID = r"S?\d{1,4}(?:\.\d{1,4})?"
_ITEM = re.compile(rf"(?i)({_ID})(?:\s*[-–]\s*({_ID}))?")
_SEPARATOR = re.compile(r"(?i)^(?:\s*(?:,|;|&|and|\s)\s*)*$")
_GROUP = re.compile(r"(?i)[\[(【]\s*(?:sentences?\s*)?(" + rf"{_ID}(?:\s*[-–]\s*{_ID})?"
                    + rf"(?:\s*(?:,|;|&|and|\s)\s*{_ID}(?:\s*[-–]\s*{_ID})?)*" + r")\s*[\])】]")
_BARE = r"S\d{1,4}\.\d{1,4}(?:\s*[-–]\s*(?:S?\d{1,4}\.)?\d{1,4})?"
# Ids written without brackets, alone or listed: "as S1.2 and S3.1 say".
_BARE_IDS = re.compile(rf"(?i)(?<![\w.])({_BARE}(?:\s*(?:,|;|&|and)\s*{_BARE})*)(?![\w])")
_BARE_ID = re.compile(rf"(?i){_BARE}")
_LIST_MARKER = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*•–])\s+")
_MAX_RANGE = 12


@dataclass(frozen=True)
class CitedSentence:
    """A written sentence: its text without citation marks, the sentence ids it cites that were
    given (`ids`), the passages it cites whole (`passages`), and the marks naming nothing given."""

    text: str
    ids: tuple[str, ...] = ()
    passages: tuple[int, ...] = ()
    invalid: tuple[str, ...] = ()

    @property
    def cites_anything(self) -> bool:
        return bool(self.ids or self.passages or self.invalid)


def parse_citations(sentence: str, sentence_ids: Collection[str], ranks: Collection[int]) -> CitedSentence:
    """Read the citations of one written sentence against what the prompt gave: `sentence_ids`
    ("S1.2", ...) and the passage `ranks`."""
    ids: list[str] = []
    passages: list[int] = []
    invalid: list[str] = []
    given = {s.upper() for s in sentence_ids}

    def add(mark: str) -> None:
        for kind, value in _resolve(mark, given, set(ranks)):
            target = {"id": ids, "passage": passages, "invalid": invalid}[kind]
            if value not in target:
                target.append(value)

    def take_group(match: re.Match) -> str:
        if not _is_citation(match):
            return match.group(0)
        for item in _ITEM.finditer(match.group(1)):
            add(item.group(0))
        return " "

    text = _GROUP.sub(take_group, sentence)

    def take_bare(match: re.Match) -> str:
        for item in _BARE_ID.finditer(match.group(1)):
            add(item.group(0))
        return " "

    text = _BARE_IDS.sub(take_bare, text)
    return CitedSentence(_tidy(text), tuple(ids), tuple(passages), tuple(invalid))


def _resolve(mark: str, given: set[str], ranks: set[int]) -> list[tuple[str, str | int]]:
    """What one mark names: ("id", "S1.2"), ("passage", 2), or ("invalid", mark) for each."""
    mark = mark.strip()
    item = _ITEM.fullmatch(mark)
    if item is None:
        return [("invalid", mark)]
    first = _parse_id(item.group(1))
    if item.group(2) is None:
        return [_name(first, given, ranks)]
    last = _parse_id(item.group(2))
    if last[1] is None and first[1] is not None and not item.group(2).upper().startswith("S"):
        last = (first[0], last[0])  # "S1.2-4": sentences 2 to 4 of passage 1
    if first[1] is None or last[1] is None or first[0] != last[0] or not 0 <= last[1] - first[1] < _MAX_RANGE:
        return [("invalid", mark)]
    return [_name((first[0], n), given, ranks) for n in range(first[1], last[1] + 1)]


def _parse_id(token: str) -> tuple[int, int | None]:
    rank, _, number = token.upper().lstrip("S").partition(".")
    return int(rank), int(number) if number else None


def _name(parsed: tuple[int, int | None], given: set[str], ranks: set[int]) -> tuple[str, str | int]:
    rank, number = parsed
    if number is None:
        return ("passage", rank) if rank in ranks else ("invalid", f"[{rank}]")
    sid = f"S{rank}.{number}"
    return ("id", sid) if sid in given else ("invalid", sid)


def _tidy(text: str) -> str:
    """The sentence without the holes its citations left: no space before punctuation, one space."""
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"(?:\s*[,;])+\s*(?=[.!?。！？]|$)", "", text)  # "A [1], [2]." -> "A."
    text = re.sub(r"\s+([.,;:!?。！？])", r"\1", text)
    text = re.sub(r"([.!?])(?:\s*[.])+$", r"\1", text)  # "itikaf [S1.2]." -> "itikaf."
    text = re.sub(r"^[,;:]\s*", "", text)
    return text


def split_reply(reply: str) -> list[str]:
    """The sentences of a written reply, each with its citation marks (those written after its
    full stop included), list markers ("1.", "-") and empty lines left out."""
    pieces: list[str] = []
    for line in reply.splitlines():
        line = _LIST_MARKER.sub("", line).strip()
        if not line:
            continue
        for start, end in sentence_spans(line):
            piece = line[start:end]
            lead = _leading_citations(piece)
            if lead and pieces:
                pieces[-1] = f"{pieces[-1]} {piece[:lead].strip()}"
                piece = piece[lead:].strip()
            if piece:
                pieces.append(piece)
    return pieces


def _leading_citations(piece: str) -> int:
    """How many characters at the start of `piece` are citation groups and the punctuation after
    them; all of it when it opens a bracket not yet closed (a citation still being written)."""
    at = 0
    while True:
        gap = re.match(r"[\s,.;:]*", piece[at:]).end()
        rest = piece[at + gap:]
        group = _GROUP.match(rest)
        if group and _is_citation(group):
            at += gap + group.end()
            continue
        if rest[:1] in _OPEN and not any(c in _CLOSE for c in rest):
            return len(piece)
        return at + gap if at else 0


def _is_citation(group: re.Match) -> bool:
    """Square brackets hold citations; parentheses only ids with an S or a dot ("(S1.2)"), so
    that "(2008)" stays text."""
    return group.group(0)[0] != "(" or bool(re.search(r"(?i)s|\.", group.group(1)))


def complete_sentences(reply: str) -> list[str]:
    """The sentences of a reply still being written that are complete: all but the last, which
    may grow (more words, or the citations written after its full stop)."""
    return split_reply(reply)[:-1]


def is_decline(text: str) -> bool:
    """Whether a written sentence (marks removed) is the model saying the sentences do not answer."""
    return re.sub(r"[^a-z ]", "", text.lower()).strip() == "not answered"


def parse_evidence_list(text: str, evidence: list, sentence_ids: Collection[str],
                        ranks: Collection[int]) -> CitedSentence:
    """A sentence of a structured reply: its `text` (marks in it are read too) and its
    `evidence` list ("S1.2", "[S1.2]", "2" ...); an entry that is no id is an invalid citation."""
    marks, junk = [], []
    for entry in evidence if isinstance(evidence, list) else [evidence]:
        cleaned = str(entry).strip().strip("[]()【】").strip()
        if _ITEM.fullmatch(cleaned):
            marks.append(cleaned)
        elif cleaned:
            junk.append(cleaned[:20])
    cited = parse_citations(f"{text} [{', '.join(marks)}]" if marks else str(text), sentence_ids, ranks)
    if junk:
        cited = CitedSentence(cited.text, cited.ids, cited.passages, cited.invalid + tuple(junk))
    return cited
