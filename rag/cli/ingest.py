"""`rag ingest` and `rag remove`: adding, updating and removing articles."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import click

from rag.cli.base import EXIT_ERROR, _common, echo, main, one_line
from rag.ingest.formats import SUPPORTED_SUFFIXES
from rag.types import IngestReport


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--rebuild", is_flag=True, help="Re-read and re-embed everything (no PATHS: the files already indexed).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@_common
def ingest(make_engine, settings, paths, rebuild, as_json) -> None:
    """Add or update articles from files and folders (.txt .md .html .jsonl .pdf .docx .epub, RSS/Atom feeds)."""
    if not paths and not rebuild:
        raise click.UsageError("give at least one file or folder (or --rebuild)")
    engine = make_engine()
    with _ProgressBar(enabled=not as_json) as bar:
        report = engine.ingest(list(paths), progress=bar.update, rebuild=rebuild)
    if as_json:
        click.echo(json.dumps(report.to_json()))
    else:
        echo(_format_report(report, engine.stats()))
    if report.failures or not _readable(report):
        sys.exit(EXIT_ERROR)  # the files that did read are indexed; the exit code flags the rest


@main.command()
@click.argument("doc_ids", nargs=-1, required=True)
@_common
def remove(make_engine, settings, doc_ids) -> None:
    """Remove articles from the index by document id (see `rag docs`)."""
    removed = make_engine().remove(list(doc_ids))
    missing = sorted(set(doc_ids) - set(removed))
    echo(f"removed {len(removed)} article(s)" + (f"; not in the index: {one_line(', '.join(missing))}" if missing else ""))
    if missing:
        sys.exit(EXIT_ERROR)


def _format_report(report: IngestReport, stats: dict) -> str:
    lines = [
        f"files: {len(report.files_added)} added, {len(report.files_updated)} updated, "
        f"{len(report.files_skipped)} unchanged, {len(report.files_removed)} removed, "
        f"{len(report.failures)} failed, {len(report.files_unsupported)} skipped",
        f"documents: {report.documents_added} added, {report.documents_removed} replaced or removed; "
        f"chunks: {report.chunks_added} added, {report.chunks_embedded} embedded",
        f"index: {stats['documents']} documents, {stats['chunks']} chunks at {stats.get('location') or stats['index']} "
        f"({report.seconds:.1f} s)",
    ]
    lines += [f"failed: {one_line(f.path)}: {one_line(f.error)}" for f in report.failures]
    lines += _skipped_lines(report)
    if not _readable(report):
        lines.append(f"nothing readable in the given paths ({len(report.failures)} failed, "
                     f"{len(report.files_unsupported)} skipped); "
                     f"supported: {', '.join(SUPPORTED_SUFFIXES)}, and RSS/Atom feeds by content")
    lines += [f"warning: {one_line(w)}" for w in report.warnings]
    return "\n".join(lines)


def _readable(report: IngestReport) -> bool:
    """Whether any given file was read now or is indexed unchanged."""
    return bool(report.files_added or report.files_updated or report.files_skipped)


def _skipped_lines(report: IngestReport, listed: int = 10) -> list[str]:
    """Each entry skipped (an unsupported type, a name that is not UTF-8, a FIFO, a broken link, a
    link out of the folder), or for many of them a count per reason (all are in --json)."""
    skipped = report.files_unsupported
    if len(skipped) <= listed:
        return [f"skipped: {one_line(f.path)}: {one_line(f.error)}" for f in skipped]
    reasons = Counter(f.error for f in skipped)
    return [f"skipped: {n} file(s): {reason}" for reason, n in reasons.most_common()] + [
        "(each skipped file is listed by `rag ingest --json` under files_unsupported)"]


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
