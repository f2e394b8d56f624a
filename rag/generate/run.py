"""One generation: prompt the user's model, read its reply as it streams, verify each sentence,
and decide what is shown. See the package docstring for the rules."""

from __future__ import annotations

import json
import re
import threading
import time
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

import numpy as np

from rag.config import Settings
from rag.generate.citations import (
    CitedSentence,
    complete_sentences,
    is_decline,
    parse_citations,
    parse_evidence_list,
    split_reply,
)
from rag.generate.client import ChatStream, GeneratorUnavailable
from rag.generate.prompt import RESPONSE_FORMAT, GroundedPrompt, NumberedSentence, build_prompt
from rag.generate.result import (KEPT, Event, EvidenceSpan, Finished, Generated, GeneratedSentence, Outcome,
                                 SentenceReady)
from rag.generate.verify import Embed, Thresholds, check_sentence, evidence_language
from rag.language.tokens import analyzer

if TYPE_CHECKING:  # rag.types may hang a Generated on an Answer: no import cycle
    from rag.types import Answer

ArticleText = Callable[[str], "str | None"]
MAX_SENTENCES = 4  # the prompt asks for 1 to 4: the stream is closed once 4 are shown,
MAX_READ = 6  # or once 6 are read (a small model repeats itself until max_tokens)


class Generation:
    """The events of one generation (`SentenceReady`..., then `Finished`), as an iterator.
    `close()`, from any thread, cancels it: the request to the server is closed and the
    iteration ends. `result` is the `Generated` once finished (or closed)."""

    def __init__(self, question: str, answer: Answer, settings: Settings, embed: Embed | None,
                 article_text: ArticleText | None, history: Sequence[str], earlier_answers: Sequence[str],
                 thresholds: Thresholds, evidence_answers: bool) -> None:
        self.question, self.answer, self.settings = question, answer, settings
        self.embed, self.article_text = embed, article_text
        self.history, self.earlier_answers = history, earlier_answers
        self.thresholds, self.evidence_answers = thresholds, evidence_answers
        self.result: Generated | None = None
        self._cancelled = threading.Event()
        self._stream: ChatStream | None = None
        self._events = self._run()

    def __iter__(self) -> "Generation":
        return self

    def __next__(self) -> Event:
        return next(self._events)

    def __enter__(self) -> "Generation":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Cancel: safe from any thread, and more than once."""
        self._cancelled.set()
        stream = self._stream
        if stream is not None:
            stream.close()
        try:
            self._events.close()
        except ValueError:  # running in another thread: it sees the flag and the closed stream
            return
        if self.result is None:  # closed before it finished, in this thread
            self.result = Generated(self.settings.llm.model or "(server default)", (), "the question was cancelled",
                                    "cancelled")

    # the work ------------------------------------------------------------------------------

    def _run(self) -> Iterator[Event]:
        started = time.monotonic()
        llm = self.settings.llm
        model = llm.model or "(server default)"
        skipped = self._skip_reason()
        if skipped:
            self.result = Generated(model, fallback=skipped, outcome="skipped")
            yield Finished(self.result)
            return
        prompt = build_prompt(self.question, self.answer.passages, self.history, self.earlier_answers,
                              llm.structured)
        judge = _Judge(prompt, self.embed, self.thresholds, self.article_text)
        shown: list[GeneratedSentence] = []
        held: list[SentenceReady] = []  # not shown until a sentence is shown as written
        first_at: float | None = None
        declined = False
        first_written = False  # once one is shown as written, the others stream as they come
        replied: list[str] = []  # the reply so far, as _read receives it
        fault = ""
        stream = ChatStream(llm, prompt.messages(), RESPONSE_FORMAT if llm.structured else None)
        self._stream = stream
        try:
            for item, final in _read(stream, llm.structured, self._cancelled, replied):
                if item is None:
                    declined = declined or final
                    continue
                sentence = judge.judge(item)
                if sentence is _NOTHING:
                    continue
                if sentence is None:  # the decline sentence
                    declined = True
                    continue
                shown.append(sentence)
                event = SentenceReady(len(shown) - 1, sentence)
                if sentence.shown_as == "written" or self.evidence_answers or first_written:
                    first_written = True
                    for ready in [*held, event]:
                        if first_at is None and ready.sentence.shown_as != "dropped":
                            first_at = time.monotonic() - started
                        yield ready
                    held.clear()
                else:
                    held.append(event)
                if sum(s.shown_as != "dropped" for s in shown) >= MAX_SENTENCES or len(shown) >= MAX_READ:
                    stream.close()
                    break
        except GeneratorUnavailable as exc:
            fault = str(exc)
        finally:
            stream.close()
        model = llm.model or stream.model or model
        seconds = time.monotonic() - started
        if self._cancelled.is_set():
            outcome: Outcome = "cancelled"
            fallback = "the question was cancelled"
        elif fault:
            outcome, fallback = "fault", fault
        else:
            outcome, fallback = _outcome(shown, declined, "".join(replied), stream, self.evidence_answers, model)
        if not fallback:  # never worse than the extractive answer: what it says and the model left out, quoted
            for sentence in kept_sentences(self.answer, shown):
                shown.append(sentence)
                yield SentenceReady(len(shown) - 1, sentence)
        self.result = Generated(model, tuple(shown), fallback, outcome, first_at if not fallback else None,
                                round(seconds, 3), stream.finish_reason, "".join(replied))
        yield Finished(self.result)

    def _skip_reason(self) -> str:
        if self.answer.abstained:
            return "the articles do not answer this, so the model was not asked"
        if not self.answer.passages:
            return "no passage to answer from, so the model was not asked"
        if not self.settings.llm.base_url:
            return "no model server is configured (llm.base_url), so the extractive answer is shown"
        return ""


def kept_sentences(answer: Answer, shown: Sequence[GeneratedSentence]) -> list[GeneratedSentence]:
    """The extractive answer's sentences that nothing shown says (not written, not quoted), as
    quoted evidence after the written answer: a small model drops facts (SmolLM2 left out the
    cost it was asked for), and a written answer may add to the extractive one, never lose it."""
    said = " ".join(t for s in shown for t in s.shown)
    by_rank = {p.rank: p for p in answer.passages}
    kept = []
    for sentence in answer.answer:
        passage = by_rank.get(sentence.passage_rank)
        at = passage.text.find(sentence.sentence) if passage is not None else -1
        if at < 0 or sentence.sentence in said:
            continue
        start = passage.citation.start + at
        span = EvidenceSpan(passage.rank, start, start + len(sentence.sentence), sentence.sentence)
        kept.append(GeneratedSentence(sentence.sentence, (passage.rank,), (span,), True, "evidence", KEPT))
        said += " " + sentence.sentence
    return kept


def generate(question: str, answer: Answer, settings: Settings, embed: Embed | None,
             article_text: ArticleText | None = None, history: Sequence[str] = (),
             earlier_answers: Sequence[str] = (), thresholds: Thresholds = Thresholds(),
             evidence_answers: bool = False) -> Generation:
    """Stream a written answer to `question` over `answer.passages` (see the package docstring)."""
    return Generation(question, answer, settings, embed, article_text, history, earlier_answers,
                      thresholds, evidence_answers)


def generate_answer(question: str, answer: Answer, settings: Settings, embed: Embed | None,
                    article_text: ArticleText | None = None, history: Sequence[str] = (),
                    earlier_answers: Sequence[str] = (), thresholds: Thresholds = Thresholds(),
                    evidence_answers: bool = False) -> Generated:
    """`generate`, run to the end: the whole result."""
    with generate(question, answer, settings, embed, article_text, history, earlier_answers, thresholds,
                  evidence_answers) as generation:
        for event in generation:
            if isinstance(event, Finished):
                return event.generated
    raise AssertionError("a generation always finishes")  # pragma: no cover


def _outcome(shown: list[GeneratedSentence], declined: bool, reply: str, stream: ChatStream,
             evidence_answers: bool, model: str) -> tuple[Outcome, str]:
    written = any(s.shown_as == "written" for s in shown)
    visible = any(s.shown_as != "dropped" for s in shown)
    if written or (evidence_answers and visible and not declined):
        return "written", ""
    if declined:
        return "declined", f"the model ({model}) found no answer in the passages; the extractive answer is shown"
    if not reply.strip():
        return "fault", (f"the model server at {stream.llm.base_url} sent an empty reply; the extractive "
                         "answer is shown")
    if not shown or not any(s.citations or s.evidence or s.checks and s.checks.invalid for s in shown):
        return "fault", (f"the model ({model}) did not cite the sentences as asked (like [S1.2]), so nothing it "
                         "wrote can be checked; try llm.structured: true or a larger model")
    return "unverified", ("no sentence the model wrote held against the sentences it cites; the extractive "
                          "answer is shown")


# reading the reply ---------------------------------------------------------------------------

def _read(stream: ChatStream, structured: bool, cancelled: threading.Event,
          replied: list[str]) -> Iterator[tuple[object | None, bool]]:
    """(a complete sentence item, False) as the reply streams (a plain item is the sentence with
    its marks, a structured one a dict), or (None, True) when the model declined. The pieces
    of the reply are appended to `replied`."""
    done = 0
    for piece in stream:
        if cancelled.is_set():
            return
        replied.append(piece)
        reply = "".join(replied)
        if structured:
            answerable, items, _ = _structured_items(reply)
            items = items if answerable is not False else []  # a decline's sentences are not read
        else:
            items = complete_sentences(reply)
        for item in items[done:]:
            yield item, False
        done = max(done, len(items))
    if cancelled.is_set():
        return
    reply = "".join(replied)
    if structured:
        answerable, items, whole = _structured_items(reply, final=True)
        if whole is None and not items:
            raise GeneratorUnavailable(
                f"the model at {stream.llm.base_url} did not reply in the asked JSON form"
                + (" (cut at llm.max_tokens)" if stream.finish_reason == "length" else "")
                + ": set llm.structured: false, or use a server and model that support response_format")
        if answerable is False or not items:
            yield None, True
            return
    else:
        items = split_reply(reply)
    for item in items[done:]:
        yield item, False


def _structured_items(reply: str, final: bool = False) -> tuple[bool | None, list[dict], object | None]:
    """(answerable, the complete sentence objects so far, the whole reply parsed or None)."""
    text = re.sub(r"^\s*```(?:json)?|```\s*$", "", reply.strip())
    whole = None
    if final:
        try:
            whole = json.loads(text)
        except json.JSONDecodeError:
            whole = None
    if isinstance(whole, dict):
        answerable = whole.get("answerable")
        items = whole.get("sentences") if isinstance(whole.get("sentences"), list) else []
        return (answerable if isinstance(answerable, bool) else None,
                [i for i in items if isinstance(i, dict) and isinstance(i.get("text"), str)], whole)
    flag = re.search(r'"answerable"\s*:\s*(true|false)', text)
    answerable = None if flag is None else flag.group(1) == "true"
    start = re.search(r'"sentences"\s*:\s*\[', text)
    items: list[dict] = []
    if start is not None:
        decoder = json.JSONDecoder()
        at = start.end()
        while True:
            at = re.compile(r"[\s,]*").match(text, at).end()
            if at >= len(text) or text[at] != "{":
                break
            try:
                item, at = decoder.raw_decode(text, at)
            except json.JSONDecodeError:
                break
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                items.append(item)
    return answerable, items, None


# judging one sentence --------------------------------------------------------------------------

_NOTHING = GeneratedSentence("", (), (), False, "dropped")  # judged: not a sentence at all


class _Judge:
    """Reads, verifies and places the written sentences of one reply, in order."""

    def __init__(self, prompt: GroundedPrompt, embed: Embed | None, thresholds: Thresholds,
                 article_text: ArticleText | None) -> None:
        self.prompt = prompt
        self.by_id = prompt.by_id()
        self.embed = embed
        self.thresholds = thresholds
        self.article_text = article_text
        self.vectors: dict[str, np.ndarray] = {}
        self.articles: dict[str, str | None] = {}
        self.shown_ids: set[str] = set()
        self.written: set[str] = set()

    def judge(self, item: object) -> GeneratedSentence | None:
        """The sentence placed; None when it is the model's "NOT ANSWERED", _NOTHING when it is
        no sentence."""
        ranks = self.prompt.ranks
        if isinstance(item, dict):
            cited = parse_evidence_list(item.get("text", ""), item.get("evidence", []), self.by_id, ranks)
        else:
            cited = parse_citations(str(item), self.by_id, ranks)
        if is_decline(cited.text):
            return None
        if not cited.cites_anything and not re.search(r"\w\w", cited.text):
            return _NOTHING  # a stray list number or mark: not a sentence
        evidence, passage_level = self._evidence(cited)
        checks = check_sentence(cited.text, [e.text for e in evidence], self.embed, cited=[e.sid for e in evidence],
                                invalid=cited.invalid, passage_level=passage_level, vectors=self.vectors)
        reason = checks.failure(self.thresholds)
        if not cited.text.strip(" .") and not reason:
            reason = "it has no words"
        spans = tuple(self._span(e) for e in evidence)
        citations = tuple(dict.fromkeys([*(e.rank for e in evidence), *cited.passages]))
        key = " ".join(cited.text.lower().split())
        if re.search(r"[?？؟]\W*$", cited.text):
            # Copied from a passage that asks ("What is the date of the Super Bowl in 2022?"): supported
            # by its evidence, and no answer.
            return GeneratedSentence(cited.text, citations, spans, False, "dropped",
                                     "it asks a question instead of answering", checks)
        if not reason and key in self.written:
            return GeneratedSentence(cited.text, citations, spans, True, "dropped", "it repeats an earlier sentence",
                                     checks)
        if not reason:
            self.written.add(key)
            self.shown_ids.update(e.sid for e in evidence)
            return GeneratedSentence(cited.text, citations, spans, True, "written", "", checks)
        fresh = tuple(s for s, e in zip(spans, evidence) if e.sid not in self.shown_ids)
        if not evidence:
            return GeneratedSentence(cited.text, citations, spans, False, "dropped", reason, checks)
        if not fresh:
            return GeneratedSentence(cited.text, citations, spans, False, "dropped",
                                     f"{reason}; its evidence is already shown", checks)
        self.shown_ids.update(e.sid for e in evidence)
        return GeneratedSentence(cited.text, citations, fresh, False, "evidence", reason, checks)

    def _evidence(self, cited: CitedSentence) -> tuple[list[NumberedSentence], bool]:
        """The cited sentences; for a passage cited whole, its sentences that share the most words
        with the written one (up to 2: the model named the passage, the words name the sentences)."""
        evidence = [self.by_id[sid] for sid in cited.ids]
        picked = False
        for rank in cited.passages:
            if any(e.rank == rank for e in evidence):
                continue
            chosen = _best_sentences(cited.text, self.prompt.of_passage(rank))
            picked = picked or bool(chosen)
            evidence.extend(chosen)
        evidence.sort(key=lambda e: (e.rank, e.number))
        return list(dict.fromkeys(evidence)), picked and not cited.ids

    def _span(self, sentence: NumberedSentence) -> EvidenceSpan:
        start, end = sentence.start, sentence.end
        if self.article_text is not None:
            if sentence.doc_id not in self.articles:
                self.articles[sentence.doc_id] = self.article_text(sentence.doc_id)
            text = self.articles[sentence.doc_id]
            if text is not None and text[start:end] != sentence.text:
                # The index moved under the answer (an article re-ingested): find the sentence again.
                found = text.find(sentence.text)
                if found >= 0:
                    start, end = found, found + len(sentence.text)
        return EvidenceSpan(sentence.rank, start, end, sentence.text, sentence.sid)


def _best_sentences(written: str, candidates: Sequence[NumberedSentence], most: int = 2) -> list[NumberedSentence]:
    """The candidates holding most of the written sentence's content words: the best, and the
    next if it adds words the best lacks; none when no candidate shares a word."""
    tokenize = analyzer(evidence_language(" ".join(c.text for c in candidates))).tokens
    tokens = set(tokenize(written))
    held = [tokens & set(tokenize(c.text)) for c in candidates]
    order = sorted((i for i in range(len(candidates)) if held[i]), key=lambda i: (-len(held[i]), i))
    chosen: list[NumberedSentence] = []
    covered: set[str] = set()
    for i in order:
        if held[i] - covered and len(chosen) < most:
            chosen.append(candidates[i])
            covered |= held[i]
    return chosen
