"""The errors the CLI, the UI and the API catch: each message says what happened and what to run.

Import them from here (not from the index's modules): this is the one public place.
"""

from __future__ import annotations


class IndexProblem(RuntimeError):
    """Base for index problems whose message tells the user what to run."""


class IndexMismatchError(IndexProblem):
    """The index was built with settings that differ from the current config."""


class IndexMissingError(IndexProblem):
    """No index at the given folder yet."""


class IndexDamagedError(IndexProblem):
    """A file of the index is missing, truncated or corrupt; the message names it and the repair."""


class StoreUnavailableError(IndexProblem):
    """The index's storage (e.g. a Milvus server) cannot be reached; the message names where."""


class ReadError(ValueError):
    """A file cannot be read as articles; the message says why."""


__all__ = ["IndexProblem", "IndexMismatchError", "IndexMissingError", "IndexDamagedError",
           "StoreUnavailableError", "ReadError"]
