"""Tables for `rag eval`: one aligned row per retrieval mode, and the questions it missed."""

from __future__ import annotations

from rag.evaluate.runner import EvalResult

_COLUMNS = ("mode", "answered@1", "@3", "@5", "MRR", "answer sentence@1", "answer sentence any", "event only@1",
            "recall@5 (ids)", "hit@5 (ids)", "nDCG@10", "abst. acc.", "false abst.", "ms/question")


def _cells(r: EvalResult) -> list[str]:
    m = r.metrics

    def opt(key: str) -> str:
        return "-" if m.get(key) is None else f"{m[key]:.3f}"

    return [r.mode, f"{m['answered@1']}/{r.answerable}", f"{m['answered@3']}/{r.answerable}",
            f"{m['answered@5']}/{r.answerable}", opt("mrr"), f"{m['answer_sentence@1']}/{r.answerable}",
            f"{m['answer_sentence_any']}/{r.answerable}",
            "-" if m.get("event_only@1") is None else f"{m['event_only@1']}/{r.answerable}",
            opt("recall@5"), opt("hit@5"), opt("ndcg@10"),
            f"{m['abstention_accuracy']:.3f}", str(m["false_abstentions"]), f"{m['ms_per_question']:.0f}"]


def format_table(results: list[EvalResult], groups: list[str] | None = None, field: str = "group") -> str:
    """One aligned row per mode (or per group of questions, named by `groups`)."""
    columns = ([field] if groups else []) + list(_COLUMNS)
    rows = [columns] + [([g] if groups else []) + _cells(r) for g, r in zip(groups or [""] * len(results), results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in rows)


def format_result(result: EvalResult) -> str:
    """The table for one mode, then the questions it did not answer within 5."""
    lines = [format_table([result]), ""]
    missed = [r for r in result.rows if not r.out_of_scope and not (r.answer_rank and r.answer_rank <= 5)]
    if missed:
        lines.append(f"not answered within 5 ({len(missed)}):")
        lines += [f"  {r.id}: {r.question}" + (" [abstained]" if r.abstained else "") for r in missed]
    wrong = [r for r in result.rows if r.out_of_scope and not r.abstained]
    if wrong:
        lines.append(f"out of scope but answered ({len(wrong)}):")
        lines += [f"  {r.id}: {r.question}" for r in wrong]
    return "\n".join(lines)


def format_generated(result: EvalResult) -> str:
    """The written answers' line (rag eval --generate)."""
    g = result.metrics.get("generated") or {}
    if not g:
        return "written answers: none (no answerable question)"
    n = result.answerable
    return (f"written answers: shown answer holds the expected answer first {g['shown_answer@1']}/{n}, anywhere "
            f"{g['shown_answer_any']}/{n} (extractive: {result.metrics['answer_sentence@1']}/{n}, "
            f"{result.metrics['answer_sentence_any']}/{n}); sentences shown as written {g['written_share']}; "
            f"outcomes {g['outcomes']}; seconds to the first shown sentence p50 {g['seconds_to_first_p50']}, "
            f"in all p50 {g['seconds_p50']}")
