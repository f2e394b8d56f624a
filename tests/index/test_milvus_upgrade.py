"""An index the previous version wrote to Milvus (schema 1: no language, source_key or date_key
on the passages, no schema number in the state) is refused with the commands that rebuild it,
and those commands rebuild it (real Milvus Lite)."""

from __future__ import annotations

import json
import uuid

import pytest

from rag.errors import IndexMismatchError
from rag.index.base import IndexChange
from rag.index.milvus import MilvusStore
from rag.index.milvus_schema import VARCHAR_MAX
from rag.types import Where
from tests.conftest import SAMPLE, make_cli
from tests.index.test_milvus_store import BUILD, OIL, SADR, add, new_document

OLD_FIELDS = ["chunk_id", "gen", "doc_id", "text", "title", "source", "path", "url", "date", "embed_hash", "ordinal",
              "char_start", "char_end", "file_start", "file_end", "line_start", "line_end", "page", "keywords",
              "pieces", "piece_vectors", "vector"]
MESSAGE = r"earlier version.*rag ingest --rebuild PATH\.\.\..*rag migrate --to milvus --replace"


def old_chunks_collection(client, name: str, dimension: int) -> None:
    """The chunks collection as the previous version created it."""
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("chunk_id", DataType.INT64, is_primary=True)
    schema.add_field("gen", DataType.INT64)
    for field in ("doc_id", "text", "title", "source", "path", "url", "date"):
        schema.add_field(field, DataType.VARCHAR, max_length=VARCHAR_MAX)
    schema.add_field("embed_hash", DataType.VARCHAR, max_length=128)
    for field in ("ordinal", "char_start", "char_end", "file_start", "file_end", "line_start", "line_end", "page"):
        schema.add_field(field, DataType.INT64)
    schema.add_field("keywords", DataType.VARCHAR, max_length=VARCHAR_MAX, enable_analyzer=True,
                     analyzer_params={"tokenizer": "standard"})
    schema.add_field("pieces", DataType.VARCHAR, max_length=VARCHAR_MAX)
    schema.add_field("piece_vectors", DataType.VARCHAR, max_length=VARCHAR_MAX)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    schema.add_function(Function(name="keywords_bm25", function_type=FunctionType.BM25,
                                 input_field_names=["keywords"], output_field_names=["sparse"]))
    index = client.prepare_index_params()
    index.add_index("vector", index_type="FLAT", metric_type="IP")
    index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                    params={"bm25_k1": 1.2, "bm25_b": 0.75})
    client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")


def downgrade(uri: str, prefix: str) -> None:
    """Make the index under `prefix` what the previous version left: its passages in a chunks
    collection of the old fields, its state without a schema number or counts of languages."""
    store = MilvusStore(uri, prefix)
    state = store._load()
    name = f"{state['data']}_chunks"
    rows = store._query(name, "chunk_id >= 0", OLD_FIELDS)
    with store._guard() as client:
        client.drop_collection(name)
        old_chunks_collection(client, name, state["dimension"])
    store._write_rows(name, [{f: r[f] for f in OLD_FIELDS} for r in rows])
    store._commit({k: v for k, v in state.items() if k not in ("schema", "languages", "sources")})
    store.close()


@pytest.fixture
def old(milvus_uri) -> MilvusStore:
    """A store over an index of the previous schema holding two articles."""
    prefix = f"o{uuid.uuid4().hex[:10]}"
    writer = MilvusStore(milvus_uri, prefix, create=True)
    add(writer, new_document("mee-1", SADR), new_document("oil-1", OIL, "/news/b.txt"))
    downgrade(milvus_uri, prefix)
    store = MilvusStore(milvus_uri, prefix)  # opens: a rebuild reads the files it lists
    store.grace = 0
    yield store
    store.drop()
    store.close()


def test_an_index_of_the_previous_schema_names_the_rebuild(old):
    vector = new_document("x", SADR).vectors[0]
    for call in (old.refresh, lambda: old.search_dense(vector, 3), lambda: old.search_keyword(["sadr"], 3),
                 lambda: old.search_dense(vector, 3, Where(sources=("Reuters",))), old.languages,
                 lambda: add(old, new_document("new-1", OIL, "/news/c.txt"))):
        with pytest.raises(IndexMismatchError, match=MESSAGE) as caught:
            call()
        assert "\n" not in str(caught.value) and old.uri in str(caught.value)
    assert len(old.check()) == 1 and "rag ingest --rebuild" in old.check()[0]
    # What a rebuild reads still reads: the files the index lists and the articles.
    assert old.info().documents == 2 and old.document("mee-1").text.startswith("Muqtada")
    assert old.existing_doc_ids(["mee-1", "x"]) == {"mee-1"}

    target = old.rebuild_target()
    add(target, new_document("mee-1", SADR), new_document("oil-1", OIL, "/news/b.txt"))
    old.replace_with(target)
    old.refresh()
    assert old.check() == [] and old.languages() == {"en": 2}
    assert sorted(old.search_keyword(["export"], 5, Where(sources=("middle east EYE",)))[0]) == [8, 9]
    assert len(old.search_dense(vector, 5)[0]) == 5


def test_a_first_write_over_chunks_of_the_previous_schema_is_refused(milvus_uri):
    prefix = f"p{uuid.uuid4().hex[:10]}"
    store = MilvusStore(milvus_uri, prefix, create=True)
    try:
        with store._guard() as client:
            old_chunks_collection(client, f"{prefix}_chunks", 64)
        with pytest.raises(IndexMismatchError, match=MESSAGE):
            store.apply(IndexChange(add=(new_document("mee-1", SADR),)), BUILD, 64)
        assert store.info() is None
    finally:
        store.drop()
        store.close()


def test_the_cli_says_what_to_run_and_both_commands_rebuild(tmp_path, milvus_uri):
    prefix = f"c{uuid.uuid4().hex[:10]}"
    config = tmp_path / "milvus.yaml"
    config.write_text(f"embedding:\n  backend: fake\n  dimension: 64\n"
                      f"store:\n  backend: milvus\n  uri: {milvus_uri}\n  collection: {prefix}\n")
    cli = make_cli(config, tmp_path / "index")
    cli("ingest", str(SAMPLE))
    downgrade(milvus_uri, prefix)
    question = "why did Sadr cancel his itikaf?"
    for command in (("ask", question), ("ingest", str(SAMPLE)), ("stats",)):
        refused = cli(*command, ok=False)
        assert refused.exit_code == 1 and refused.output.count("\n") == 1 and "Traceback" not in refused.output
        assert "rag ingest --rebuild" in refused.output and "rag migrate --to milvus --replace" in refused.output

    assert "72 embedded" in cli("ingest", "--rebuild").output  # the files the old index lists
    answer = json.loads(cli("ask", "--json", question).output)
    assert any("He cancelled his itikaf" in p["text"] for p in answer["passages"])

    downgrade(milvus_uri, prefix)
    local_config = tmp_path / "local.yaml"
    local_config.write_text("embedding:\n  backend: fake\n  dimension: 64\n")
    make_cli(local_config, tmp_path / "local")("ingest", str(SAMPLE))
    copied = json.loads(make_cli(config, tmp_path / "local")("migrate", "--to", "milvus", "--replace", "--json").output)
    assert (copied["documents"], copied["chunks"]) == (5, 72)
    assert json.loads(cli("stats", "--json").output)["healthy"] is True
    store = MilvusStore(milvus_uri, prefix)
    assert store.languages() == {"en": 5}
    store.drop()
