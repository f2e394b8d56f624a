"""The Milvus backend's reads of articles and files: the article list, one article, the file
records, and how many articles of each language and source the index holds (counted in the
committed state by every write)."""

from __future__ import annotations

import json
from typing import Iterable

from rag.errors import IndexProblem
from rag.index.base import FileRecord, page_of_documents
from rag.index.milvus_rows import document_info, read_document
from rag.index.milvus_schema import check_schema
from rag.index.milvus_write import MilvusWriter
from rag.types import Document, DocumentInfo


class MilvusArticles(MilvusWriter):
    """Articles and files as rag.index.base.IndexStore reads them; searching is MilvusStore's."""

    def languages(self) -> dict[str, int]:
        """How many articles of each language the index holds, most first (kept in the state,
        updated by every commit: no scan)."""
        def read(state):
            check_schema(state, self.location)
            return dict(state.get("languages") or {})
        return self._read(read, {})

    def sources(self) -> list[tuple[str, int]]:
        """Each source with its number of articles, most first (then by name): sources that
        differ only in case are one, named by the first spelling in code-point order, as the
        local record groups them (kept in the state: no scan)."""
        def read(state):
            check_schema(state, self.location)
            groups: dict[str, list] = {}
            for source, n in (state.get("sources") or {}).items():
                group = groups.setdefault(source.casefold(), [source, 0])
                group[0], group[1] = min(group[0], source), group[1] + n
            return [(name, n) for _, (name, n) in sorted(groups.items(), key=lambda kv: (-kv[1][1], kv[0]))]
        return self._read(read, [])

    def file_records(self, paths: Iterable[str] | None = None) -> dict[str, FileRecord]:
        wanted = None if paths is None else list(dict.fromkeys(paths))
        return self._read(lambda state: {p: FileRecord(r["sha256"], tuple(json.loads(r["documents"])))
                                         for p, r in self._files(state, wanted).items()}, {})

    def files_under(self, folder: str) -> list[str]:
        prefix = folder.rstrip("/") + "/"
        return [p for p in self.file_records(None) if p.startswith(prefix)]

    def existing_doc_ids(self, doc_ids: Iterable[str]) -> set[str]:
        docs = list(dict.fromkeys(doc_ids))
        return self._read(lambda state: {r["doc_id"] for r in self._query_in(
            f"{state['data']}_documents", "doc_id", docs, ["doc_id"], f"part == 0 and {self._visible(state)}")}, set())

    def document(self, doc_id: str) -> Document | None:
        def read(state):
            rows = sorted(self._query_in(f"{state['data']}_documents", "doc_id", [doc_id],
                                         ["part", "parts", "text", "meta"], self._visible(state)),
                          key=lambda r: r["part"])
            if not rows:
                return None
            if len(rows) != rows[0]["parts"]:
                raise IndexProblem(f"article {doc_id} at {self.location} lacks parts of its text: "
                                   "run `rag ingest --rebuild PATH...`")
            return read_document(doc_id, rows)
        return self._read(read, None)

    def documents(self) -> list[DocumentInfo]:
        def read(state):
            rows = self._iterate(f"{state['data']}_documents", f"part == 0 and {self._visible(state)}",
                                 ["doc_id", "meta"])
            return sorted((document_info(r) for r in rows), key=lambda d: (d.path, d.doc_id))
        return self._read(read, [])

    def find_documents(self, match: str = "", limit: int | None = None,
                       offset: int = 0) -> tuple[list[DocumentInfo], int]:
        """The default (every article read, then matched): a filter expression cannot match here
        as `DocumentInfo.matches` does (title, source and path are inside the JSON `meta` field,
        LIKE has no case folding), nor order by path."""
        return page_of_documents(self.documents(), match, limit, offset)

    def document_info(self, doc_id: str) -> DocumentInfo | None:
        def read(state):
            rows = self._query_in(f"{state['data']}_documents", "doc_id", [doc_id], ["doc_id", "meta"],
                                  f"part == 0 and {self._visible(state)}")
            return document_info(rows[0]) if rows else None
        return self._read(read, None)
