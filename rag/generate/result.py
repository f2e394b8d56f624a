"""What a generation gives: each written sentence, how it is shown, and why the extractive
answer stands when it does (`Generated.to_json` is the "generated" object of `rag ask --json`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

from rag.generate.verify import Checks

ShownAs = Literal["written", "evidence", "dropped"]
# written: at least one sentence is shown as written; declined: the model said the sentences do
# not answer; unverified: nothing written held; fault: the server failed (fallback says how);
# skipped: the model was not asked (the extractive answer abstained, or no server is configured);
# cancelled: closed before the end.
Outcome = Literal["written", "declined", "unverified", "fault", "skipped", "cancelled"]
# The reason of a sentence of the extractive answer quoted after a written answer that left it out.
KEPT = "a sentence of the answer copied from the articles, which the written answer left out"


@dataclass(frozen=True)
class EvidenceSpan:
    """An evidence sentence: the passage of `rank`, and its characters [start, end) in that
    passage's article (like `Citation.start`/`end`); `text` is those characters."""

    rank: int
    start: int
    end: int
    text: str
    sid: str = ""  # its id in the prompt ("S1.2")

    def to_json(self) -> dict[str, int]:
        return {"rank": self.rank, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class GeneratedSentence:
    """One sentence the model wrote (citation marks removed) and what became of it: shown as
    written (verified), replaced by its evidence sentences, or dropped (no valid evidence, or
    nothing new to show). `reason` says why it is not shown as written ("" when it is)."""

    text: str
    citations: tuple[int, ...]  # passage ranks it cites
    evidence: tuple[EvidenceSpan, ...]
    verified: bool
    shown_as: ShownAs
    reason: str = ""
    checks: Checks | None = None

    @property
    def shown(self) -> tuple[str, ...]:
        """What the reader sees for it: the sentence, its evidence verbatim, or nothing."""
        if self.shown_as == "written":
            return (self.text,)
        if self.shown_as == "evidence":
            return tuple(e.text for e in self.evidence)
        return ()

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "citations": list(self.citations),
                "evidence": [e.to_json() for e in self.evidence], "verified": self.verified,
                "shown_as": self.shown_as, "reason": self.reason}

    @classmethod
    def from_json(cls, data: dict[str, Any], passages: Sequence[Any]) -> "GeneratedSentence":
        """The sentence `to_json` wrote; each evidence span's text is read back from the
        passage of its rank (evidence sentences are sentences of the cited passages)."""
        by_rank = {p.rank: p for p in passages}
        spans = []
        for e in data.get("evidence", ()):
            passage = by_rank.get(int(e["rank"]))
            text = ""
            if passage is not None:
                offset = passage.citation.start
                text = passage.text[int(e["start"]) - offset:int(e["end"]) - offset]
            spans.append(EvidenceSpan(int(e["rank"]), int(e["start"]), int(e["end"]), text))
        return cls(str(data["text"]), tuple(int(r) for r in data.get("citations", ())), tuple(spans),
                   bool(data.get("verified")), data.get("shown_as", "dropped"), str(data.get("reason", "")))


@dataclass(frozen=True)
class Generated:
    """A generated answer. When `fallback` is empty the written answer is shown (each sentence as
    `shown_as` says); otherwise the extractive answer is, and `fallback` is the one line saying
    why. `seconds_to_first` is the time to the first sentence shown (None: none was)."""

    model: str
    sentences: tuple[GeneratedSentence, ...] = ()
    fallback: str = ""
    outcome: Outcome = "written"
    seconds_to_first: float | None = None
    seconds: float = 0.0
    finish_reason: str = ""  # the server's: "stop", or "length" when llm.max_tokens cut it
    reply: str = field(default="", repr=False)  # the model's raw text, for inspection and benchmarks

    @property
    def shown(self) -> tuple[str, ...]:
        """The sentences shown in place of the extractive answer (empty when it stands)."""
        return () if self.fallback else tuple(t for s in self.sentences for t in s.shown)

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "sentences": [s.to_json() for s in self.sentences], "fallback": self.fallback}

    @classmethod
    def from_json(cls, data: dict[str, Any], passages: Sequence[Any]) -> "Generated":
        """The result `to_json` wrote, over the answer's `passages` (for the evidence texts)."""
        fallback = str(data.get("fallback", ""))
        sentences = tuple(GeneratedSentence.from_json(s, passages) for s in data.get("sentences", ()))
        written = any(s.shown_as == "written" for s in sentences)
        return cls(str(data.get("model", "")), sentences, fallback,
                   "written" if written and not fallback else "unverified")


@dataclass(frozen=True)
class SentenceReady:
    """Streamed: one written sentence, verified, in reply order (`index` from 0). Show
    `sentence.shown` (nothing for a dropped one)."""

    index: int
    sentence: GeneratedSentence


@dataclass(frozen=True)
class Finished:
    """Streamed last: the whole result. When `generated.fallback` is set, replace whatever was
    shown with the extractive answer and the fallback line."""

    generated: Generated


Event = SentenceReady | Finished
