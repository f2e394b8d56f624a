"""`rag`: a thin command line over Engine. Every command takes --index and --config."""

from __future__ import annotations

import functools
import json
import sys
import textwrap
from pathlib import Path

import click

from rag.config import ConfigError, load_settings
from rag.index.manifest import IndexProblem
from rag.types import Answer, IngestReport

EXIT_ERROR = 1


def _common(command):
    """--index and --config for every command, handed on as one Engine factory."""

    @click.option("--index", "index_dir", type=click.Path(file_okay=False, path_type=Path),
                  help="Index folder (default: config index_dir, else the user data dir).")
    @click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
                  help="Config file (default: $RAG_CONFIG, else ./config.yaml, else built-in).")
    @functools.wraps(command)
    def wrapper(index_dir, config_file, **kwargs):
        try:
            settings = load_settings(config_file)

            def make_engine():
                from rag.engine import Engine

                return Engine(settings, index_dir)

            return command(make_engine, settings=settings, **kwargs)
        except (ConfigError, IndexProblem, FileNotFoundError, ValueError, RuntimeError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_ERROR)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Ask questions of your news articles, offline; answers are passages with citations."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--rebuild", is_flag=True, help="Re-read and re-embed everything (no PATHS: the files already indexed).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@_common
def ingest(make_engine, settings, paths, rebuild, as_json) -> None:
    """Add or update articles from files and folders (.txt .md .html .jsonl)."""
    if not paths and not rebuild:
        raise click.UsageError("give at least one file or folder (or --rebuild)")
    engine = make_engine()
    with _ProgressBar(enabled=not as_json) as bar:
        report = engine.ingest(list(paths), progress=bar.update, rebuild=rebuild)
    if as_json:
        click.echo(json.dumps(report.to_json()))
    else:
        click.echo(_format_report(report, engine.stats()))
    if report.failures:
        sys.exit(EXIT_ERROR)  # the files that did read are indexed; the exit code flags the rest


@main.command()
@click.argument("question", required=False)
@click.option("--file", "questions_file", type=click.File("r", encoding="utf-8"),
              help="Ask every line of this file (the model and index load once).")
@click.option("--k", type=click.IntRange(1, 100), help="Passages to return (default: config retrieval.k).")
@click.option("--mode", type=click.Choice(["dense", "keyword", "hybrid"]), help="Override retrieval.mode.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per question.")
@_common
def ask(make_engine, settings, question, questions_file, k, mode, as_json) -> None:
    """Answer QUESTION with cited passages from the articles."""
    if bool(question) == bool(questions_file):
        raise click.UsageError('give a QUESTION or --file FILE (one question per line), not both')
    questions = [question] if question else [q.strip() for q in questions_file if q.strip()]
    engine = make_engine()
    for i, q in enumerate(questions):
        answer = engine.ask(q, k=k, mode=mode)
        if as_json:
            click.echo(json.dumps(answer.to_json(), ensure_ascii=False))
        else:
            click.echo(("\n" + "=" * 78 + "\n" if i else "") + format_answer(answer))


@main.command()
@click.option("--json", "as_json", is_flag=True)
@_common
def stats(make_engine, settings, as_json) -> None:
    """Counts and settings of the index."""
    data = make_engine().stats()
    if as_json:
        click.echo(json.dumps(data))
    else:
        for key, value in data.items():
            click.echo(f"{key:>15}: {value}")


@main.command()
@click.option("--json", "as_json", is_flag=True)
@_common
def docs(make_engine, settings, as_json) -> None:
    """List the indexed articles."""
    infos = make_engine().documents()
    if as_json:
        click.echo(json.dumps([info.__dict__ for info in infos]))
        return
    for info in infos:
        click.echo(f"{info.doc_id}\t{info.source or '-'}\t{info.chunks} chunks\t{info.title}")
    click.echo(f"{len(infos)} articles")


@main.command()
@click.argument("doc_ids", nargs=-1, required=True)
@_common
def remove(make_engine, settings, doc_ids) -> None:
    """Remove articles from the index by document id (see `rag docs`)."""
    removed = make_engine().remove(list(doc_ids))
    missing = sorted(set(doc_ids) - set(removed))
    click.echo(f"removed {len(removed)} article(s)" + (f"; not in the index: {', '.join(missing)}" if missing else ""))
    if missing:
        sys.exit(EXIT_ERROR)


@main.command(name="eval")
@click.argument("questions_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--k", type=click.IntRange(1, 100), default=5, show_default=True)
@click.option("--mode", type=click.Choice(["dense", "keyword", "hybrid"]), help="Override retrieval.mode.")
@click.option("--compare", is_flag=True, help="Run keyword, dense and hybrid on the same set.")
@click.option("--json", "as_json", is_flag=True)
@_common
def evaluate_command(make_engine, settings, questions_file, k, mode, compare, as_json) -> None:
    """Score a question set (JSON Lines with expected answer strings)."""
    from rag.evaluate.questions import load_questions
    from rag.evaluate.report import format_result, format_table
    from rag.evaluate.runner import compare as compare_modes
    from rag.evaluate.runner import evaluate

    engine = make_engine()
    questions = load_questions(questions_file)
    results = compare_modes(engine, questions, k) if compare else [evaluate(engine, questions, k, mode)]
    if as_json:
        payload = [r.to_json() for r in results]
        click.echo(json.dumps(payload if compare else payload[0]))
    elif compare:
        click.echo(format_table(results))
    else:
        click.echo(format_result(results[0]))


@main.command()
@click.option("--host", help="Address to bind (default: config ui.host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: config ui.port, 7860).")
@_common
def serve(make_engine, settings, host, port) -> None:
    """Start the chat UI in the browser."""
    from ui.app import launch

    launch(make_engine(), host=host or settings.ui.host, port=port or settings.ui.port)


@main.command()
@click.option("--corpus", "corpus", type=click.Path(exists=True, path_type=Path),
              help="Articles to ingest (default: the bundled sample).")
@click.option("--questions", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Question set to time (default: the bundled benchmark questions).")
@click.option("--json", "as_json", is_flag=True)
@_common
def bench(make_engine, settings, corpus, questions, as_json) -> None:
    """Measure ingest, re-ingest and question latency and memory; prints numbers, asserts nothing."""
    from rag.bench import format_bench, run_bench

    results = run_bench(settings, corpus, questions)
    click.echo(json.dumps(results) if as_json else format_bench(results))


# output ----------------------------------------------------------------------------------------


def format_answer(answer: Answer, width: int = 100) -> str:
    """Human-readable answer: the extractive answer with [n] markers, then the cited passages."""
    lines = [f"Q: {answer.question}"]
    if answer.search_query and answer.search_query != answer.question:
        lines.append(f"   (searched as: {answer.search_query})")
    if answer.abstained:
        lines += ["", "The articles do not answer this question.", f"({answer.reason})"]
        if answer.passages:
            lines += ["", "Closest passages, for you to judge:"]
    elif answer.answer:
        lines += ["", "Answer:"]
        lines += [textwrap.fill(f"{s.sentence} [{s.passage_rank}]", width, initial_indent="  ",
                                subsequent_indent="  ") for s in answer.answer]
    for p in answer.passages:
        c = p.citation
        evidence = f"similarity {p.dense_score:.2f}" if p.dense_score is not None else ""
        if p.matched_terms:
            evidence += f" · words: {', '.join(p.matched_terms)}"
        lines += ["", f"[{p.rank}] {c.source or Path(c.path).name} — {c.title}",
                  f"    {c.location()} · {evidence}"]
        for paragraph in p.text.split("\n\n"):
            lines.append(textwrap.fill(paragraph, width, initial_indent="    ", subsequent_indent="    "))
    return "\n".join(lines)


def _format_report(report: IngestReport, stats: dict) -> str:
    lines = [
        f"files: {len(report.files_added)} added, {len(report.files_updated)} updated, "
        f"{len(report.files_skipped)} unchanged, {len(report.files_removed)} removed, "
        f"{len(report.failures)} failed",
        f"documents: {report.documents_added} added, {report.documents_removed} replaced or removed; "
        f"chunks: {report.chunks_added} added, {report.chunks_embedded} embedded",
        f"index: {stats['documents']} documents, {stats['chunks']} chunks at {stats['index']} "
        f"({report.seconds:.1f} s)",
    ]
    lines += [f"failed: {f.path}: {f.error}" for f in report.failures]
    lines += [f"warning: {w}" for w in report.warnings]
    return "\n".join(lines)


class _ProgressBar:
    """tqdm bars on stderr, one per ingest stage."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.bars: dict = {}

    def __enter__(self) -> "_ProgressBar":
        return self

    def __exit__(self, *exc) -> None:
        for bar in self.bars.values():
            bar.close()

    def update(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or total == 0:
            return
        from tqdm import tqdm

        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = tqdm(total=total, desc=f"{stage:>9}", unit="chunk" if stage == "embedding" else "file", file=sys.stderr, leave=False)
        bar.update(done - bar.n)


if __name__ == "__main__":
    main()
