"""The Milvus backend's collections, its keyword encoding, and its error messages.

Five collections share a prefix (`store.collection`, default `rag`; a rebuild writes a new data
namespace `{prefix}_{ns}_*` beside the current one, see milvus.py):

    {prefix}_chunks     chunk_id (primary key), gen, doc_id, ordinal, char_start/char_end, text, embed_hash,
                        the citation (title, source, path, url, date, file position incl. page),
                        the article's language, source_key (the source case-folded) and date_key
                        (YYYYMMDD, 0: undated): what searches are filtered by (`where_filter`),
                        keywords (our tokens, encoded, joined by spaces), sparse (BM25 function
                        output), pieces and piece_vectors (the sentences' spans, tokens and
                        vectors), vector (FLOAT_VECTOR, FLAT/IP or HNSW/IP)
    {prefix}_documents  key "gen:part:doc_id" (primary key), gen, doc_id, part, parts, text (a part
                        of the article, at most TEXT_PART characters), meta (JSON, on part 0: title,
                        source, path, url, date, language, file position, chunk count)
    {prefix}_files      key "gen:sha1(path)" (primary key), gen, path, sha256 (empty: forgotten),
                        documents (JSON): the files the index was built from, by version
    {prefix}_terms      term (primary key), df, gen: document frequencies for BM25 and IDF
    {prefix}_meta       key (primary key), value: the commit pointer "head", "cleaned", and the
                        state of each generation in parts ("state:G:i"); a rebuild's keys
                        start with "ns/"

Milvus needs a vector field in every collection; the small ones carry a 2-d placeholder.
The committed state records the SCHEMA it was written with: an index of an earlier schema is
refused with the command that rebuilds it (`check_schema`), never met as a pymilvus error.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from rag.errors import IndexMismatchError, IndexMissingError, IndexProblem, StoreUnavailableError

if TYPE_CHECKING:
    from rag.types import Where

VARCHAR_MAX = 65_535  # bytes, Milvus's limit for one VARCHAR value
TEXT_PART = 16_000  # characters of an article per documents row: at most 4 bytes each in UTF-8
PLACEHOLDER = [1.0, 0.0]  # the placeholder vector of the small collections
DATA = ("chunks", "documents", "files", "terms")  # per data namespace; meta is shared
SCHEMA = 2  # 1 (no number recorded): ASCII tokens, no filter fields; 2: tokens of every script,
# per-passage language, source_key and date_key, the state's counts of languages and sources
NEW_FIELDS = ("language", "source_key", "date_key")  # the chunks fields schema 2 added

# Milvus Standalone/Distributed split on whitespace; Milvus Lite knows only "standard" (Python's
# \w+ after lower()) and "jieba". Our tokens are encoded to letters and digits only (below), so
# both keep each one whole.
ANALYZERS = ({"tokenizer": "whitespace"}, {"tokenizer": "standard"})
_ESCAPES = {"z": "zz", ".": "zp", ",": "zc"}
_UNESCAPES = {"z": "z", "p": ".", "c": ","}


def quiet_pymilvus() -> None:
    """pymilvus logs every failed RPC with a traceback at ERROR (its logging is configured when it
    is imported, so call this after); the store raises one-line errors instead."""
    import pymilvus  # noqa: F401  (configures its loggers)

    for name in ("pymilvus", "pymilvus.milvus_client", "pymilvus.decorators",
                 "pymilvus.client.iterator.query_iterator"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def encode_token(token: str) -> str:
    """A keyword token as letters and digits only, one to one, so no analyzer splits it: letters
    of any script and digits stay ("中国", "москв"); "z" -> "zz", "." -> "zp", "," -> "zc"
    ("3.5" -> "3zp5"); any other character -> "zx<hex>z" (the Devanagari vowel sign U+093F ->
    "zx93fz"), as is a letter lower() would change (Lite lower-cases before it splits)."""
    if token.isascii() and token.isalnum() and token == token.lower():
        return token.replace("z", "zz")
    return "".join(_ESCAPES.get(c) or (c if _kept(c) else f"zx{ord(c):x}z") for c in token)


def decode_token(encoded: str) -> str:
    """The token `encode_token` made `encoded` from (ValueError: not one it makes)."""
    out, i = [], 0
    while i < len(encoded):
        c = encoded[i]
        if c != "z":
            out.append(c)
            i += 1
            continue
        mark = encoded[i + 1:i + 2]
        if mark in _UNESCAPES:
            out.append(_UNESCAPES[mark])
            i += 2
        elif mark == "x" and (end := encoded.find("z", i + 2)) > i + 2:
            out.append(chr(int(encoded[i + 2:end], 16)))
            i = end + 1
        else:
            raise ValueError(f"{encoded!r} is not an encoded keyword token")
    return "".join(out)


def _kept(c: str) -> bool:
    """Whether a character stays as it is in an encoded token: a letter or digit (a word
    character to both analyzers) that lower() leaves alone."""
    return (c.isalpha() or c.isdigit()) and c.lower() == c and c != "z"


def quote(value: str) -> str:
    """A string literal for a Milvus filter expression."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def in_list(field: str, values) -> str:
    """`field in [...]` for ints or strings."""
    items = ", ".join(str(int(v)) if not isinstance(v, str) else quote(v) for v in values)
    return f"{field} in [{items}]"


def where_filter(where: "Where | None") -> str:
    """The filter expression over the chunks' fields that keeps the articles `where` names (""
    for all): sources compared case-folded, the date range as day numbers (an undated article
    has date_key 0), as the local index filters (rag.index.keyword). ValueError for a bad date."""
    if where is None or where.empty:
        return ""
    conditions = []
    if where.sources:
        conditions.append(in_list("source_key", [s.casefold() for s in where.sources]))
    if where.doc_ids:
        conditions.append(in_list("doc_id", list(where.doc_ids)))
    low, high = where.days()
    if low is not None or high is not None:
        dated = f"date_key >= {int(low or 1)}" + (f" and date_key <= {int(high)}" if high is not None else "")
        conditions.append(f"({dated} or date_key == 0)" if where.undated else f"({dated})")
    return " and ".join(conditions)


def check_schema(state: dict, location: str) -> None:
    """IndexMismatchError naming the rebuild when the committed state was written with an
    earlier SCHEMA (its collections lack what searches and writes now use)."""
    if int(state.get("schema") or 1) < SCHEMA:
        raise old_schema(location)


def old_schema(location: str) -> IndexMismatchError:
    """The error for an index an earlier version built, naming the two ways to rebuild it."""
    return IndexMismatchError(
        f"the index at {location} was built by an earlier version (its passages lack the fields that "
        "filters and keywords of every script need): rebuild it with `rag ingest --rebuild PATH...`, "
        "or copy a local index with `rag migrate --to milvus --replace`")


def missing_fields(client, name: str, timeout: float) -> list[str]:
    """The NEW_FIELDS an existing chunks collection lacks (one describe request)."""
    fields = {f["name"] for f in client.describe_collection(name, timeout=timeout)["fields"]}
    return [f for f in NEW_FIELDS if f not in fields]


def create_collections(client, prefix: str, data: str, dimension: int, dense_index: str, timeout: float) -> None:
    """Create whichever collection is missing: `{prefix}_meta` and `{data}_*` for the data (strong consistency: a reader sees a
    committed write at once)."""
    from pymilvus import DataType, Function, FunctionType, MilvusException

    # Milvus Lite scans every filter in Python anyway, and each scalar index costs it half a second
    # to create; a real server gets inverted indexes on the fields every read and write filters by.
    lite = "lite" in str(client.get_server_version(timeout=timeout)).lower()

    def placeholder(schema, index):
        schema.add_field("placeholder", DataType.FLOAT_VECTOR, dim=2)
        index.add_index("placeholder", index_type="FLAT", metric_type="IP")

    def scalar_indexes(index, *names):
        for name in () if lite else names:
            index.add_index(name, index_type="INVERTED")

    def make(name, build):
        if client.has_collection(name, timeout=timeout):
            return
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        index = client.prepare_index_params()
        build(schema, index)
        client.create_collection(name, schema=schema, index_params=index,
                                 consistency_level="Strong", timeout=timeout)

    def chunks(schema, index, analyzer):
        schema.add_field("chunk_id", DataType.INT64, is_primary=True)
        schema.add_field("gen", DataType.INT64)
        for name in ("doc_id", "text", "title", "source", "path", "url", "date"):
            schema.add_field(name, DataType.VARCHAR, max_length=VARCHAR_MAX)
        schema.add_field("embed_hash", DataType.VARCHAR, max_length=128)
        schema.add_field("language", DataType.VARCHAR, max_length=64)
        schema.add_field("source_key", DataType.VARCHAR, max_length=VARCHAR_MAX)
        schema.add_field("date_key", DataType.INT64)
        for name in ("ordinal", "char_start", "char_end", "file_start", "file_end", "line_start", "line_end", "page"):
            schema.add_field(name, DataType.INT64)
        schema.add_field("keywords", DataType.VARCHAR, max_length=VARCHAR_MAX, enable_analyzer=True,
                         analyzer_params=analyzer)
        schema.add_field("pieces", DataType.VARCHAR, max_length=VARCHAR_MAX)  # sentences: spans, tokens
        schema.add_field("piece_vectors", DataType.VARCHAR, max_length=VARCHAR_MAX)  # their vectors
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
        schema.add_function(Function(name="keywords_bm25", function_type=FunctionType.BM25,
                                     input_field_names=["keywords"], output_field_names=["sparse"]))
        if dense_index == "hnsw":
            index.add_index("vector", index_type="HNSW", metric_type="IP",
                            params={"M": 16, "efConstruction": 200})
        else:
            index.add_index("vector", index_type="FLAT", metric_type="IP")
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                        params={"bm25_k1": 1.2, "bm25_b": 0.75})
        scalar_indexes(index, "gen", "doc_id", "embed_hash", "source_key", "date_key")

    def documents(schema, index):
        schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=VARCHAR_MAX)
        schema.add_field("gen", DataType.INT64)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=VARCHAR_MAX)
        schema.add_field("part", DataType.INT64)
        schema.add_field("parts", DataType.INT64)
        schema.add_field("text", DataType.VARCHAR, max_length=VARCHAR_MAX)
        schema.add_field("meta", DataType.VARCHAR, max_length=VARCHAR_MAX)
        placeholder(schema, index)
        scalar_indexes(index, "gen", "doc_id", "part")

    def files(schema, index):
        schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=256)
        schema.add_field("gen", DataType.INT64)
        schema.add_field("path", DataType.VARCHAR, max_length=VARCHAR_MAX)
        schema.add_field("sha256", DataType.VARCHAR, max_length=128)
        schema.add_field("documents", DataType.VARCHAR, max_length=VARCHAR_MAX)
        placeholder(schema, index)
        scalar_indexes(index, "gen", "path")

    def terms(schema, index):
        schema.add_field("term", DataType.VARCHAR, is_primary=True, max_length=VARCHAR_MAX)
        schema.add_field("df", DataType.INT64)
        schema.add_field("gen", DataType.INT64)
        placeholder(schema, index)

    def meta(schema, index):
        schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=256)
        schema.add_field("value", DataType.VARCHAR, max_length=VARCHAR_MAX)
        placeholder(schema, index)

    for analyzer in ANALYZERS[1:] if lite else ANALYZERS:
        try:
            make(f"{data}_chunks", lambda s, i: chunks(s, i, analyzer))
            break
        except MilvusException as exc:
            if "tokenizer" not in str(exc.message) or analyzer is ANALYZERS[-1]:
                raise
    make(f"{data}_documents", documents)
    make(f"{data}_files", files)
    make(f"{data}_terms", terms)
    make(f"{prefix}_meta", meta)


def translate(exc: Exception, uri: str, prefix: str) -> IndexProblem:
    """A pymilvus or gRPC error as a one-line message naming the server and the fix."""
    code = getattr(exc, "code", None)
    message = str(getattr(exc, "message", "") or exc)
    lowered = message.lower()
    if code == 1800 or re.search(r"auth|credential|password|permission denied|(invalid|expired|bad) token"
                                 r"|token (is )?(invalid|expired)", lowered):
        return StoreUnavailableError(
            f"the Milvus server at {uri} refused the credentials ({message[:120]}): set RAG_MILVUS_TOKEN "
            "to a valid token (\"user:password\" or an API key)")
    if code == 2 or any(word in lowered for word in ("fail connecting", "unavailable", "connection refused",
                                                     "deadline exceeded", "timed out", "socket closed")):
        return StoreUnavailableError(
            f"cannot reach the Milvus server at {uri}: start it (or set store.uri in the config to "
            "where it runs); answers resume once it is back")
    if code == 100 or ("collection" in lowered and ("not exist" in lowered or "not found" in lowered)):
        return IndexMissingError(
            f"the Milvus server at {uri} has no collection {prefix}_*: build it with `rag ingest PATH...` "
            "or copy a local index with `rag migrate --to milvus`")
    if "dim" in lowered and ("mismatch" in lowered or "expected" in lowered):
        return IndexMismatchError(
            f"the vectors do not fit the collections {prefix}_* at {uri} ({message[:120]}): "
            "run `rag ingest --rebuild` (or set store.collection to a new prefix)")
    return IndexProblem(f"Milvus at {uri} ({prefix}_*): {message[:200]}")
