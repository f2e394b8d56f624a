"""The vector index: FAISS, derived from the vectors in the record and saved with its generation.

Small indexes are searched exactly (flat inner product on unit vectors = cosine). Above
`ANN_THRESHOLD` passages the saved index is an IVF index with 8-bit scalar-quantised vectors
(a quarter of the memory); callers re-score its candidates with the exact stored vectors, so
quantisation only affects which candidates are found (recall measured in the README).

A saved file is named after the generation it reflects and its kind (dense-g000042-ivf.faiss);
a process loads
the newest and applies the record's later changes in memory, so a write of one article never
rewrites this file. Writers re-save it when enough has changed since.
"""

from __future__ import annotations

import math
import os
import re
import struct
from pathlib import Path
from typing import Callable, Iterable, Iterator

import faiss
import numpy as np

from rag.errors import IndexDamagedError

ANN_THRESHOLD = 50_000  # passages; below it exact search is fast enough (README, speed)
EXACT_FILTER_MAX = 4096  # a filter allowing at most this many passages is searched exactly, by reconstruction
NPROBE_SHARE = 1 / 10  # lists searched per query (at least MIN_NPROBE): recall in the README
MIN_NPROBE = 32
_FILE = re.compile(r"dense-g(\d{6,})-(flat|ivf)\.faiss$")
# The first bytes of a saved file: the index type (IxM2: an id map over a flat index, IwSq: IVF
# with scalar-quantised vectors), then the dimension (int32) and the vector count (int64).
_HEADER = struct.Struct("<4siq")
_BYTES_PER_VECTOR = {b"IxM2": lambda d: 4 * d + 8, b"IwSq": lambda d: d + 8}  # at least, ids included


class DenseIndex:
    """Inner-product search over chunk vectors, addressed by chunk id."""

    def __init__(self, index: "faiss.Index", generation: int = 0) -> None:
        self._index = index
        self.generation = generation
        faiss.omp_set_num_threads(1)  # one query at a time: threads cost more than they give

    # building --------------------------------------------------------------------------------

    @classmethod
    def empty(cls, dimension: int) -> "DenseIndex":
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)))

    @classmethod
    def build(cls, dimension: int, count: int, batches: "Iterable[tuple[np.ndarray, np.ndarray]]",
              sample: "Iterator[np.ndarray] | None" = None, generation: int = 0) -> "DenseIndex":
        """An index of `count` vectors given as (ids, vectors) batches: flat below the
        threshold, else IVF trained on `sample` (vectors drawn from the same data)."""
        if count < ANN_THRESHOLD:
            dense = cls.empty(dimension)
        else:
            nlist = int(4 * math.sqrt(count))
            quantizer = faiss.IndexFlatIP(dimension)
            index = faiss.IndexIVFScalarQuantizer(quantizer, dimension, nlist,
                                                  faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
            training = np.vstack(list(sample)) if sample is not None else None
            if training is None or len(training) < nlist:
                raise ValueError("an IVF index needs a training sample of at least nlist vectors")
            faiss.omp_set_num_threads(os.cpu_count() or 1)  # training is one big job: all cores
            try:
                index.train(np.ascontiguousarray(training, dtype=np.float32))
            finally:
                faiss.omp_set_num_threads(1)
            index.nprobe = nprobe_for(nlist)
            index.set_direct_map_type(faiss.DirectMap.Hashtable)  # remove_ids by id
            dense = cls(index)
        for ids, vectors in batches:
            dense.add(ids.tolist(), vectors)
        dense.generation = generation
        return dense

    @property
    def approximate(self) -> bool:
        return isinstance(faiss.downcast_index(self._index), faiss.IndexIVF)

    @property
    def kind(self) -> str:
        return "ivf" if self.approximate else "flat"

    @property
    def nlist(self) -> int:
        return faiss.extract_index_ivf(self._index).nlist if self.approximate else 0

    @property
    def nprobe(self) -> int:
        return faiss.extract_index_ivf(self._index).nprobe if self.approximate else 0

    @property
    def dimension(self) -> int:
        return self._index.d

    def __len__(self) -> int:
        return self._index.ntotal

    def add(self, chunk_ids: list[int], vectors: np.ndarray) -> None:
        if chunk_ids:
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                                     np.asarray(chunk_ids, dtype=np.int64))

    def remove(self, chunk_ids: list[int]) -> None:
        if chunk_ids:
            self._index.remove_ids(np.asarray(chunk_ids, dtype=np.int64))

    def count_missing(self, chunk_ids: np.ndarray, vectors: np.ndarray,
                      stored: Callable[[list[int]], np.ndarray] | None = None) -> int:
        """How many of these stored vectors the index does not return as their own nearest
        neighbour (a damaged or stale index). Another id found first counts as found only when
        the record holds the same vector under it (`stored`: the record's vectors of ids): an exact
        duplicate, not vectors that moved to other ids."""
        if not len(chunk_ids):
            return 0
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        scores, found = self._index.search(vectors, 1)
        own = found[:, 0] == chunk_ids
        same = np.einsum("ij,ij->i", vectors, vectors) - 0.02  # a cosine this high is the same vector
        tied = scores[:, 0] >= same  # another id holds this vector in the index
        other = ~own & tied
        if stored is not None and other.any():
            theirs = stored(found[other, 0].tolist())  # ... and in the record?
            tied[other] = np.einsum("ij,ij->i", theirs, vectors[other]) >= same[other]
        return int(np.sum(~(own | tied)))

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
               ) -> tuple[list[int], list[float]]:
        """The k most similar chunk ids and their (approximate) similarities, best first; with
        `allowed` (an (n, 2) array of first chunk id and count per article), only among those
        chunks, inside the search: a narrow filter still finds k when k exist."""
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        if allowed is None:
            k = min(k, len(self))
            if k == 0:
                return [], []
            scores, ids = self._index.search(query, k)
        else:
            ids_allowed = expand_ranges(allowed)
            k = min(k, len(ids_allowed))
            if k == 0:
                return [], []
            if len(ids_allowed) <= EXACT_FILTER_MAX:
                try:
                    return self._exact_among(query[0], ids_allowed, k)
                except RuntimeError:  # an id written after this index was caught up: search instead
                    pass
            bitmap = np.packbits(_mask(ids_allowed), bitorder="little")
            selector = faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap))  # n: bytes
            if self.approximate:
                params = faiss.SearchParametersIVF(sel=selector, nprobe=self.nprobe)
                scores, ids = self._index.search(query, k, params=params)
                if int(np.sum(ids[0] >= 0)) < k:  # the probed lists held too few: look in all of them
                    params = faiss.SearchParametersIVF(sel=selector, nprobe=self.nlist)
                    scores, ids = self._index.search(query, k, params=params)
            else:
                scores, ids = self._index.search(query, k, params=faiss.SearchParameters(sel=selector))
        keep = ids[0] >= 0
        return [int(i) for i in ids[0][keep]], [float(s) for s in scores[0][keep]]

    def _exact_among(self, query: np.ndarray, chunk_ids: np.ndarray, k: int) -> tuple[list[int], list[float]]:
        """The k best of a few chunks, from their vectors as the index holds them (RuntimeError
        when it holds one of them not)."""
        vectors = self._index.reconstruct_batch(chunk_ids)
        scores = vectors @ query
        order = np.argsort(-scores, kind="stable")[:k]
        return [int(chunk_ids[i]) for i in order], [float(scores[i]) for i in order]

    # files -----------------------------------------------------------------------------------

    def save(self, folder: Path) -> Path:
        """Write dense-g<generation>-<kind>.faiss atomically; older files but the previous one
        are removed (a process may be opening it right now)."""
        final = folder / f"dense-g{self.generation:06d}-{self.kind}.faiss"
        tmp = folder / f".{final.name}.{os.getpid()}.tmp"
        try:
            faiss.write_index(self._index, str(tmp))
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        for old in saved_files(folder)[2:]:
            old[1].unlink(missing_ok=True)
        return final

    @classmethod
    def load_newest(cls, folder: Path) -> "DenseIndex | None":
        """The newest saved index (None when there is none). A file deleted between listing and
        opening (a writer saved a newer one) is retried with the next listing."""
        for _ in range(3):
            files = saved_files(folder)
            if not files:
                return None
            generation, path = files[0]
            try:
                index = faiss.read_index(str(path))
            except RuntimeError as exc:
                if path.exists():
                    raise IndexDamagedError(f"{path} is damaged ({str(exc).splitlines()[0][:120]}): "
                                            "run `rag check --repair` (it rebuilds it from the record; "
                                            "nothing is embedded again)") from exc
                continue
            if isinstance(faiss.downcast_index(index), faiss.IndexIVF):
                ivf = faiss.extract_index_ivf(index)
                ivf.nprobe = nprobe_for(ivf.nlist)
            return cls(index, generation)
        return None


def expand_ranges(ranges: np.ndarray) -> np.ndarray:
    """The chunk ids of (first id, count) ranges, ascending within each range."""
    ranges = np.asarray(ranges, dtype=np.int64).reshape(-1, 2)
    counts = ranges[:, 1]
    if not counts.sum():
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(ranges[:, 0] - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    return offsets + np.arange(int(counts.sum()), dtype=np.int64)


def _mask(chunk_ids: np.ndarray) -> np.ndarray:
    mask = np.zeros(int(chunk_ids.max()) + 1, dtype=bool)
    mask[chunk_ids] = True
    return mask


def file_problem(path: Path, dimension: int) -> str:
    """What is wrong with a saved index file, read from its header and size (cheap), or ""."""
    fix = "run `rag check --repair` (it rebuilds it from the record; nothing is embedded again)"
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEADER.size)
            size = handle.seek(0, 2)
    except FileNotFoundError:
        return ""  # a writer replaced it meanwhile
    if len(head) < _HEADER.size:
        return f"{path} is truncated: {fix}"
    kind, d, count = _HEADER.unpack(head)
    if kind not in _BYTES_PER_VECTOR or d <= 0 or count < 0:
        return f"{path} is damaged (its header is not a saved vector index): {fix}"
    if dimension and d != dimension:
        return f"{path} holds vectors of {d} dimensions, the record {dimension}: {fix}"
    if size < count * _BYTES_PER_VECTOR[kind](d):
        return f"{path} is truncated ({size} bytes for {count} vectors): {fix}"
    return ""


def nprobe_for(nlist: int) -> int:
    return min(nlist, max(MIN_NPROBE, int(nlist * NPROBE_SHARE)))


def saved_files(folder: Path) -> list[tuple[int, Path]]:
    """Saved index files, newest first."""
    found = []
    for path in folder.glob("dense-g*.faiss"):
        match = _FILE.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found, reverse=True)


def kind_of(path: Path) -> str:
    """"flat" or "ivf", from a saved file's name."""
    match = _FILE.match(path.name)
    return match.group(2) if match else ""


def kind_for(count: int) -> str:
    """The kind of index `count` passages get."""
    return "ivf" if count >= ANN_THRESHOLD else "flat"
