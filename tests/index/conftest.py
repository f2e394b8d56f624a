"""Fixtures of the index tests: the real Milvus Lite servers of tests/milvus_server.py, shared by
every Milvus test module (one session server, not one per module)."""

from tests.milvus_server import milvus_sample, milvus_server, milvus_uri, private_milvus  # noqa: F401
