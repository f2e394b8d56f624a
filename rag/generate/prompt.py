"""The grounded prompt: the answer's passages cut into numbered sentences S<rank>.<n>.

Each number maps to exact characters: sentence n of passage `rank` is `passage.text[a:b]` for
the n-th span of `rag.ingest.sentences.piece_spans`, which is the article's text at
`citation.start + a` to `citation.start + b`. The wording of the instructions is fixed: a
labelled set of written sentences was made with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from rag.ingest.sentences import piece_spans

if TYPE_CHECKING:  # rag.types may hang a Generated on an Answer: no import cycle
    from rag.types import Passage

SYSTEM = (
    "You answer questions about news articles using only the numbered sentences below. Answer in "
    "the language of the question, in 1 to 4 short sentences. End every sentence with the ids of "
    "the sentences it rests on in square brackets, like [S1.2] or [S1.2, S3.1]. Do not use anything "
    "that the sentences do not say. If they do not answer the question, reply only: NOT ANSWERED"
)
# The same instructions for `llm.structured`: the ids go into "evidence", a decline is answerable false.
SYSTEM_STRUCTURED = (
    "You answer questions about news articles using only the numbered sentences below. Answer in "
    "the language of the question, in 1 to 4 short sentences. Give for every sentence the ids of "
    "the sentences it rests on, like [\"S1.2\"] or [\"S1.2\", \"S3.1\"]. Do not use anything that "
    "the sentences do not say. Reply in this JSON form: {\"answerable\": true, \"sentences\": "
    "[{\"text\": \"...\", \"evidence\": [\"S1.2\"]}]}. If they do not answer the question, reply "
    "{\"answerable\": false, \"sentences\": []}"
)
DECLINE = "NOT ANSWERED"

ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "answerable": {"type": "boolean"},
        "sentences": {
            "type": "array",
            "maxItems": 4,
            "items": {
                "type": "object",
                "properties": {"text": {"type": "string"},
                               "evidence": {"type": "array", "items": {"type": "string"}}},
                "required": ["text", "evidence"],
            },
        },
    },
    "required": ["answerable", "sentences"],
}
RESPONSE_FORMAT: dict[str, Any] = {"type": "json_schema", "json_schema": {"name": "answer", "schema": ANSWER_SCHEMA}}

_EARLIER_TURNS = 3  # earlier questions shown for a follow-up, the latest ones
_EARLIER_ANSWER_CHARS = 300


@dataclass(frozen=True)
class NumberedSentence:
    """Sentence `number` of the passage of rank `rank`, shown to the model as `sid` ("S1.2");
    `start`/`end` are offsets into the article's text (like `Citation.start`/`end`)."""

    sid: str
    rank: int
    number: int
    text: str
    doc_id: str
    start: int
    end: int


@dataclass(frozen=True)
class GroundedPrompt:
    """The messages to send and what their sentence ids stand for."""

    system: str
    user: str
    sentences: tuple[NumberedSentence, ...]
    ranks: tuple[int, ...]  # the passage ranks given, in order

    def messages(self) -> list[dict[str, str]]:
        # Always a system message: the GGUF chat templates insert a default one otherwise.
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]

    def by_id(self) -> dict[str, NumberedSentence]:
        return {s.sid: s for s in self.sentences}

    def of_passage(self, rank: int) -> tuple[NumberedSentence, ...]:
        return tuple(s for s in self.sentences if s.rank == rank)


def number_sentences(passages: Sequence[Passage]) -> tuple[NumberedSentence, ...]:
    """Every passage's sentences, numbered from 1 within each passage, at article offsets."""
    numbered = []
    for passage in passages:
        base = passage.citation.start
        for n, (a, b) in enumerate(piece_spans(passage.text), start=1):
            numbered.append(NumberedSentence(f"S{passage.rank}.{n}", passage.rank, n, passage.text[a:b],
                                             passage.citation.doc_id, base + a, base + b))
    return tuple(numbered)


def build_prompt(question: str, passages: Sequence[Passage], history: Sequence[str] = (),
                 earlier_answers: Sequence[str] = (), structured: bool = False) -> GroundedPrompt:
    """The prompt for `question` over `passages` (an Answer's passages). `history` holds the
    chat's earlier questions, oldest first, and `earlier_answers` what was answered to them (the
    same order; may be shorter or empty); the latest few go into the prompt for a follow-up."""
    sentences = number_sentences(passages)
    blocks = []
    for passage in passages:
        c = passage.citation
        head = f"[{passage.rank}] {c.title.strip() or c.path.rsplit('/', 1)[-1]}"
        if c.source.strip():
            head += f" — {c.source.strip()}"
        if c.date.strip():
            head += f", {c.date.strip()}"
        lines = [f"{s.sid} {_one_line(s.text)}" for s in sentences if s.rank == passage.rank]
        blocks.append("\n".join([head, *lines]))
    parts = ["Passages:", *blocks]
    earlier = _earlier(history, earlier_answers)
    if earlier:
        parts.append(earlier)
    parts.append(f"Question: {question.strip()}")
    return GroundedPrompt(SYSTEM_STRUCTURED if structured else SYSTEM, "\n\n".join(parts), sentences,
                          tuple(p.rank for p in passages))


def _earlier(history: Sequence[str], answers: Sequence[str]) -> str:
    """"Earlier questions in this chat: ..." with the latest few questions (and their answers)."""
    turns = [(q.strip(), (answers[i] if i < len(answers) else "").strip()) for i, q in enumerate(history)]
    turns = [t for t in turns if t[0]][-_EARLIER_TURNS:]
    if not turns:
        return ""
    if not any(a for _, a in turns):
        return "Earlier questions in this chat: " + " | ".join(_one_line(q) for q, _ in turns)
    lines = ["Earlier questions in this chat:"]
    for q, a in turns:
        lines.append(f"- {_one_line(q)}")
        if a:
            a = _one_line(a)
            lines.append(f"  Answer: {a if len(a) <= _EARLIER_ANSWER_CHARS else a[:_EARLIER_ANSWER_CHARS] + '…'}")
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(text.split())
