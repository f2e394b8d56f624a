"""Run a question set through the Engine and compute the metrics."""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass, field

from rag.evaluate.questions import Question
from rag.generate.result import KEPT
from rag.text import answer_found

MODES = ("keyword", "dense", "hybrid")


@dataclass(frozen=True)
class QuestionResult:
    id: str
    question: str
    out_of_scope: bool
    abstained: bool
    answer_rank: int | None  # rank of the first passage holding an expected answer string
    sentence_rank: int | None  # position of the first answer sentence holding one
    doc_ids: tuple[str, ...]  # retrieved documents, best first, each once
    ms: float
    # The first answer sentence states the event the question names but no expected answer
    # (None when the question gives no event).
    event_only: bool | None = None
    noted: bool = False  # the answer says what the articles do not tell ("...but not why")
    # With --generate: what became of the written answer (rag.generate outcome), the position of the
    # first shown sentence holding an expected answer (written, quoted evidence, or the extractive
    # answer on a fallback), the model's sentences shown as written and in all, and the seconds to
    # the first shown sentence and to the end.
    generated: str | None = None
    shown_rank: int | None = None
    written: int = 0
    wrote: int = 0
    seconds_to_first: float | None = None
    seconds: float = 0.0


@dataclass
class EvalResult:
    mode: str
    k: int
    answerable: int
    out_of_scope: int
    metrics: dict[str, float | int | None]
    rows: list[QuestionResult] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"mode": self.mode, "k": self.k, "answerable": self.answerable,
                "out_of_scope": self.out_of_scope, "metrics": self.metrics,
                "questions": [asdict(r) for r in self.rows]}


def evaluate(engine, questions: list[Question], k: int = 5, mode: str | None = None,
             generate: bool = False) -> EvalResult:
    """Ask every question (with its history, if any) and score the passages returned; with
    `generate`, also the answer the configured model writes (rag.generate)."""
    mode = mode or engine.settings.retrieval.mode
    depth = max(k, 10) if any(q.relevant for q in questions) else k  # nDCG@10 needs 10
    engine.warm_up()  # so the first question's time is not the model's loading time
    rows = []
    for q in questions:
        started = time.perf_counter()
        answer = engine.ask(q.question, k=depth, history=list(q.history), mode=mode, generate=generate)
        ms = (time.perf_counter() - started) * 1000
        # Passages added to cite answer sentences from around a retrieved passage are not retrieval.
        retrieved = answer.passages[:len(answer.passages) - answer.context_passages]
        rank = next((p.rank for p in retrieved if q.answers and answer_found(q.answers, p.text)), None)
        sentence_rank = next((n for n, s in enumerate(answer.answer, start=1)
                              if q.answers and answer_found(q.answers, s.sentence)), None)
        doc_ids = tuple(dict.fromkeys(p.citation.doc_id for p in retrieved))
        event_only = None
        if q.event:
            event_only = bool(answer.answer) and sentence_rank != 1 and answer_found([q.event], answer.answer[0].sentence)
        extra = _generated_result(answer, q) if generate else {}
        rows.append(QuestionResult(q.id, q.question, q.out_of_scope, answer.abstained, rank, sentence_rank,
                                   doc_ids, ms, event_only, bool(answer.note), **extra))
    metrics = compute_metrics(rows, questions)
    if generate:
        metrics["generated"] = generation_metrics(rows)
    return EvalResult(mode, k, sum(not q.out_of_scope for q in questions),
                      sum(q.out_of_scope for q in questions), metrics, rows)


def by_group(result: EvalResult, questions: list[Question], field: str) -> list[tuple[str, EvalResult]]:
    """The result split by a question field (kind, lang): one result per value, in order of
    first appearance, each with its own metrics."""
    groups: dict[str, list[int]] = {}
    for i, q in enumerate(questions):
        groups.setdefault(q.group(field), []).append(i)
    out = []
    for name, members in groups.items():
        rows, subset = [result.rows[i] for i in members], [questions[i] for i in members]
        out.append((name, EvalResult(result.mode, result.k, sum(not q.out_of_scope for q in subset),
                                     sum(q.out_of_scope for q in subset), compute_metrics(rows, subset), rows)))
    return out


def _generated_result(answer, q: Question) -> dict:
    """The --generate fields of a question's result (see QuestionResult)."""
    generated = answer.generated
    if generated is None:
        return {}
    shown = list(generated.shown) if not generated.fallback else [s.sentence for s in answer.answer]
    return {"generated": generated.outcome,
            "shown_rank": next((n for n, text in enumerate(shown, start=1) if q.answers and answer_found(q.answers, text)),
                               None),
            "written": sum(1 for s in generated.sentences if s.shown_as == "written"),
            "wrote": sum(1 for s in generated.sentences if s.reason != KEPT), "seconds_to_first": generated.seconds_to_first,
            "seconds": round(generated.seconds, 2)}


def generation_metrics(rows: list[QuestionResult]) -> dict:
    """The written answers' tallies: how often the shown answer holds an expected answer (first
    sentence, any), the share of the model's sentences shown as written, each outcome, and the
    seconds to the first shown sentence and in all (medians)."""
    answerable = [r for r in rows if not r.out_of_scope and r.generated is not None]
    if not answerable:
        return {}
    outcomes: dict[str, int] = {}
    for r in answerable:
        outcomes[r.generated] = outcomes.get(r.generated, 0) + 1
    firsts = [r.seconds_to_first for r in answerable if r.seconds_to_first is not None]
    wrote = sum(r.wrote for r in answerable)
    return {"shown_answer@1": sum(1 for r in answerable if r.shown_rank == 1),
            "shown_answer_any": sum(1 for r in answerable if r.shown_rank is not None),
            "written_share": round(sum(r.written for r in answerable) / wrote, 3) if wrote else None,
            "outcomes": outcomes,
            "seconds_to_first_p50": round(statistics.median(firsts), 2) if firsts else None,
            "seconds_p50": round(statistics.median(r.seconds for r in answerable), 2)}


def compare(engine, questions: list[Question], k: int = 5, modes=MODES) -> list[EvalResult]:
    """The same set under each retrieval mode."""
    return [evaluate(engine, questions, k, mode) for mode in modes]


def compute_metrics(rows: list[QuestionResult], questions: list[Question]) -> dict:
    """answered@1/3/5 and MRR by answer strings; how often the extractive answer holds one (first
    sentence, any sentence) and, on why/how sets, how often its first sentence states only the
    event; recall@5, MRR and nDCG@10 over `relevant` ids (ranx); abstention accuracy and error
    counts; time per question."""
    answerable = [r for r in rows if not r.out_of_scope]
    metrics: dict = {}
    for cutoff in (1, 3, 5):
        hits = sum(1 for r in answerable if r.answer_rank is not None and r.answer_rank <= cutoff)
        metrics[f"answered@{cutoff}"] = hits
        metrics[f"answered@{cutoff}_rate"] = round(hits / len(answerable), 4) if answerable else None
    # The extractive answer: does its first sentence (any sentence) hold an expected answer?
    for key, limit in (("answer_sentence@1", 1), ("answer_sentence_any", 10**6)):
        metrics[key] = sum(1 for r in answerable if r.sentence_rank is not None and r.sentence_rank <= limit)
    metrics["answer_sentences"] = metrics["answer_sentence_any"]  # the older name, kept for --json readers
    # Why/how sets: how often the first sentence states the event instead of its reason, and how
    # often the answer says the articles do not tell (None on sets that give no event).
    with_event = [r for r in answerable if r.event_only is not None]
    metrics["event_only@1"] = sum(1 for r in with_event if r.event_only) if with_event else None
    metrics["answers_noted"] = sum(1 for r in answerable if r.noted)
    metrics["mrr"] = round(sum(1 / r.answer_rank for r in answerable if r.answer_rank) / len(answerable), 4) \
        if answerable else None
    metrics.update(relevance_metrics(rows, questions))
    metrics["false_abstentions"] = sum(1 for r in answerable if r.abstained)
    metrics["missed_abstentions"] = sum(1 for r in rows if r.out_of_scope and not r.abstained)
    metrics["abstention_accuracy"] = round(sum(r.abstained == r.out_of_scope for r in rows) / len(rows), 4)
    times = sorted(r.ms for r in rows)
    metrics["ms_per_question"] = round(statistics.fmean(times), 1)
    metrics["ms_p95"] = round(times[min(len(times) - 1, round(0.95 * (len(times) - 1)))], 1)
    return metrics


def relevance_metrics(rows: list[QuestionResult], questions: list[Question]) -> dict:
    """recall@5, hit@5 (a relevant document in the top 5), MRR and nDCG@10 over the judged
    `relevant` documents, computed by ranx."""
    judged = {q.id: q for q in questions if q.relevant}
    if not judged:
        return {"recall@5": None, "hit@5": None, "mrr_relevant": None, "ndcg@10": None}
    from ranx import Qrels, Run
    from ranx import evaluate as ranx_evaluate

    qrels = Qrels({qid: {doc: 1 for doc in q.relevant} for qid, q in judged.items()})
    run = Run({r.id: ({doc: 1.0 / rank for rank, doc in enumerate(r.doc_ids, start=1)} or {"-": 0.0})
               for r in rows if r.id in judged})
    scores = ranx_evaluate(qrels, run, ["recall@5", "hit_rate@5", "mrr", "ndcg@10"], make_comparable=True)
    return {"recall@5": round(float(scores["recall@5"]), 4), "hit@5": round(float(scores["hit_rate@5"]), 4),
            "mrr_relevant": round(float(scores["mrr"]), 4), "ndcg@10": round(float(scores["ndcg@10"]), 4)}
