"""`rag ask`: questions in, cited passages out."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import click

from rag.cli.base import _common, echo, main, one_line
from rag.answer.cards import cards
from rag.types import Answer, Where
from rag.wording import written_key_words


@main.command()
@click.argument("question", required=False)
@click.option("--file", "questions_file", type=click.File("r", encoding="utf-8"),
              help="Ask every line of this file (the model and index load once).")
@click.option("--k", type=click.IntRange(1, 100), help="Passages to return (default: config retrieval.k).")
@click.option("--mode", type=click.Choice(["dense", "keyword", "hybrid"]), help="Override retrieval.mode.")
@click.option("--source", "sources", multiple=True, metavar="NAME",
              help="Only articles from this source (any case; repeat for several).")
@click.option("--since", default="", metavar="DATE", help="Only articles dated on or after DATE (YYYY-MM-DD, YYYY-MM or YYYY).")
@click.option("--until", default="", metavar="DATE", help="Only articles dated on or before DATE (\"2024-05\": to 31 May).")
@click.option("--doc", "doc_ids", multiple=True, metavar="DOC_ID", help="Only this article (repeat for several; see `rag docs`).")
@click.option("--undated", type=click.Choice(["exclude", "include"]), default="exclude", show_default=True,
              help="With --since/--until: whether articles without a date are asked too.")
@click.option("--generate/--no-generate", default=None,
              help="Have your model write the answer (each sentence checked against what it cites); "
                   "default: answer.generator in the config. Needs llm.base_url.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per question.")
@_common
def ask(make_engine, settings, question, questions_file, k, mode, sources, since, until, doc_ids, undated,
        generate, as_json) -> None:
    """Answer QUESTION with cited passages from the articles (or from some of them: --source,
    --since, --until, --doc)."""
    if question and questions_file:
        raise click.UsageError("give a QUESTION or --file FILE (one question per line), not both")
    if not question and not questions_file:
        raise click.UsageError("give a QUESTION or --file FILE (one question per line)")
    questions = [question] if question else [q.strip() for q in questions_file if q.strip()]
    where = Where(tuple(sources), since, until, tuple(doc_ids), undated == "include")
    where.days()  # a bad date says so before anything loads
    engine = make_engine()
    for i, q in enumerate(questions):
        answer = engine.ask(q, k=k, mode=mode, where=None if where.empty else where, generate=generate)
        if as_json:
            click.echo(json.dumps(answer.to_json(), ensure_ascii=False))
        else:
            echo(("\n" + "=" * 78 + "\n" if i else "") + format_answer(answer))


def format_answer(answer: Answer, width: int = 100) -> str:
    """Human-readable answer: the extractive answer with [n] markers, then the passages, numbered
    in order of first use (rag.answer.cards); those far from the best last, under "More passages"."""
    shown = cards(answer)
    number = {card.passage.rank: card.number for card in shown}
    lines = [f"Q: {answer.question}"]
    if answer.search_query and answer.search_query != answer.question:
        lines.append(f"   (searched as: {answer.search_query})")
    if answer.abstained:
        lines += ["", "The articles do not answer this question.", f"({answer.reason})"]
        if answer.passages:
            lines += ["", "Closest passages, for you to judge:"]
    elif answer.generated is not None and not answer.generated.fallback:
        lines += ["", f"Answer (written by {answer.generated.model}, each sentence checked):"]
        for sentence in answer.generated.sentences:
            marks = "".join(f" [{number[r]}]" for r in sentence.citations if r in number)
            if sentence.shown_as == "written":
                lines.append(textwrap.fill(f"{sentence.text}{marks}", width, initial_indent="  ",
                                           subsequent_indent="  "))
            elif sentence.shown_as == "evidence":  # the model's sentence did not hold: its evidence instead
                lines += [textwrap.fill(f"“{e.text}” [{number.get(e.rank, e.rank)}] (quoted from the article)", width,
                                        initial_indent="  ", subsequent_indent="  ") for e in sentence.evidence]
    elif answer.answer:
        lines += ["", "Answer:"]
        lines += [textwrap.fill(f"{s.sentence} [{number[s.passage_rank]}]", width, initial_indent="  ",
                                subsequent_indent="  ") for s in answer.answer]
    if answer.generated is not None and answer.generated.fallback:
        lines += ["", textwrap.fill(f"({answer.generated.fallback})", width, initial_indent="  ", subsequent_indent="  ")]
    if answer.note:
        lines += ["", textwrap.fill(answer.note, width, initial_indent="  ", subsequent_indent="  ")]
    folded_header = not answer.abstained
    for card in shown:
        p, c = card.passage, card.passage.citation
        if card.folded and folded_header:
            lines += ["", "More passages (further from the question):"]
            folded_header = False
        evidence = f"similarity {p.dense_score:.2f}" if p.dense_score is not None else ""
        if p.matched_terms:
            evidence += f" · words: {', '.join(written_key_words(p.matched_terms, p.text, c.title))}"
        if card.context:
            evidence = "added for context: the paragraph around a sentence the answer quotes"
        lines += ["", f"[{card.number}] {one_line(c.source or Path(c.path).name)} — {one_line(c.title)}",
                  f"    {c.location()} · {evidence}"]
        for paragraph in p.text.split("\n\n"):
            lines.append(textwrap.fill(paragraph, width, initial_indent="    ", subsequent_indent="    "))
    return "\n".join(lines)
