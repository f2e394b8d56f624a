"""`rag eval` and `rag bench`: quality and speed, measured."""

from __future__ import annotations

import json
from pathlib import Path

import click

from rag.cli.base import _common, main


@main.command(name="eval")
@click.argument("questions_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--k", type=click.IntRange(1, 100), default=5, show_default=True)
@click.option("--mode", type=click.Choice(["dense", "keyword", "hybrid"]), help="Override retrieval.mode.")
@click.option("--compare", is_flag=True, help="Run keyword, dense and hybrid on the same set.")
@click.option("--by", "by", type=click.Choice(["kind", "lang"]),
              help="Also one row per value of this question field (multilingual sets: lang, kind).")
@click.option("--generate", is_flag=True,
              help="Also the answer your model writes (llm.base_url): how often the shown answer holds the "
                   "expected answer, the share of sentences shown as written, seconds to the first sentence.")
@click.option("--json", "as_json", is_flag=True)
@_common
def evaluate_command(make_engine, settings, questions_file, k, mode, compare, by, generate, as_json) -> None:
    """Score a question set (JSON Lines with expected answer strings)."""
    from rag.evaluate.questions import load_questions
    from rag.evaluate.report import format_generated, format_result, format_table
    from rag.evaluate.runner import by_group
    from rag.evaluate.runner import compare as compare_modes
    from rag.evaluate.runner import evaluate

    engine = make_engine()
    questions = load_questions(questions_file)
    if generate and compare:
        raise click.UsageError("--generate runs one mode: leave out --compare")
    results = compare_modes(engine, questions, k) if compare else [evaluate(engine, questions, k, mode, generate)]
    if by:
        for result in results:
            named = by_group(result, questions, by)
            if as_json:
                continue
            click.echo(f"{result.mode}, by {by}:\n" + format_table([r for _, r in named], [n for n, _ in named], by))
        if not as_json:
            return
        for result in results:
            result.metrics["by_" + by] = {name: r.metrics for name, r in by_group(result, questions, by)}
    if as_json:
        payload = [r.to_json() for r in results]
        click.echo(json.dumps(payload if compare else payload[0]))
    elif compare:
        click.echo(format_table(results))
    else:
        click.echo(format_result(results[0]))
        if generate:
            click.echo(format_generated(results[0]))


@main.command()
@click.option("--corpus", "corpus", type=click.Path(exists=True, path_type=Path),
              help="Articles to ingest (default: the bundled sample).")
@click.option("--questions", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Question set to time (default: the bundled benchmark questions).")
@click.option("--scale", type=click.IntRange(100, 100_000_000),
              help="Instead: build a synthetic index of this many passages and time writes and questions on it.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path),
              help="With --scale: keep the synthetic index here (reused by the next run) instead of a temp folder.")
@click.option("--json", "as_json", is_flag=True)
@_common
def bench(make_engine, settings, corpus, questions, scale, workdir, as_json) -> None:
    """Measure ingest, re-ingest and question latency and memory; prints numbers, asserts nothing."""
    from rag.bench import format_bench, run_bench

    if scale:
        from rag.bench.scale import run_scale_bench

        results = run_scale_bench(settings, scale, workdir)
    else:
        results = run_bench(settings, corpus, questions)
    click.echo(json.dumps(results) if as_json else format_bench(results))
