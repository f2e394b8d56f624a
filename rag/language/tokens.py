"""Words and keyword tokens of text in any script, the same in every index and in the answer.

    words("Erdoğan'ın Zürich’te")       -> ["erdoğanın", "zürichte"]
    fold("erdoğanın")                   -> "erdoganin"
    analyzer("tr").tokens(...)          -> stop words out, Turkish Snowball stems, folded

A word is a run of letters, marks and digits of any script (Unicode properties, not a-z), after
NFKC normalisation and case folding; apostrophes are dropped ("Sadr's" = "Sadrs"); a number keeps
its inner separators ("1,000.5"); digits of any script are read as 0-9. Scripts written without
spaces (Chinese, Japanese, Thai, Lao, Khmer, Burmese) become overlapping character bigrams.

Folding makes matching ignore diacritics and common spelling variants: accents and Arabic short
vowels, hamza above or below an alef, madda and tatweel go; ta marbuta reads as ha, alef maqsura
as ya; ı ø æ œ đ ł þ ð as i o ae oe d l th d (ß is ss by case folding). A word is stemmed with its
language's Snowball stemmer first (the stemmers know their accents), then folded. Indic virama
and nukta stay: they change the letter, not its accent.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import regex

_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+(?:[.,]\p{N}+)*")
_UNSPACED = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]+")
_APOSTROPHES = regex.compile("['’ʼ‘`´]")
_OTHER_DIGITS = regex.compile(r"[^\P{Nd}0-9]")  # a decimal digit of another script than 0-9
_SYMBOLS = regex.compile(r"\p{S}")  # ™ ℃ № $ + ...: separators, before NFKC would make "TM" of ™
_SPELLING = str.maketrans({"ı": "i", "ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ł": "l", "þ": "th",
                           "ð": "d", "ة": "ه", "ى": "ي", "ـ": None, "ٱ": "ا", "ی": "ي", "ک": "ك"})
_MARK_CLASS_KEPT = 10  # combining classes below this (virama 9, nukta 7) are letters' parts, kept
_STOPWORDS = Path(__file__).with_name("stopwords")

# ISO 639-1 codes of the languages PyStemmer has a Snowball stemmer for.
SNOWBALL = {"ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "cs": "czech", "da": "danish",
            "nl": "dutch", "en": "english", "eo": "esperanto", "et": "estonian", "fi": "finnish", "fr": "french",
            "de": "german", "el": "greek", "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ga": "irish",
            "it": "italian", "lt": "lithuanian", "ne": "nepali", "no": "norwegian", "nb": "norwegian",
            "nn": "norwegian", "fa": "persian", "pl": "polish", "pt": "portuguese", "ro": "romanian",
            "ru": "russian", "sr": "serbian", "st": "sesotho", "es": "spanish", "sv": "swedish", "ta": "tamil",
            "tr": "turkish", "yi": "yiddish"}


@lru_cache(maxsize=1)
def _digits() -> dict[int, str]:
    """Every decimal digit outside ASCII (Arabic-Indic ٣, Devanagari ३, ...) as its 0-9."""
    return {code: str(unicodedata.decimal(chr(code))) for code in range(0x80, 0x1FBFA)
            if unicodedata.category(chr(code)) == "Nd"}


# ASCII text (most English news) takes a fast path with the same result: it is NFKC already, its
# case folding is lower(), its symbols are these, and its words are [0-9a-z] runs.
_ASCII_SYMBOLS = bytes.maketrans(b"$+<=>^|~", b"        ")
_ASCII_WORD = re.compile(r"[0-9a-z]+(?:[.,][0-9]+)*")


def normalise(text: str) -> str:
    """NFKC, case-folded, apostrophes dropped, symbols as spaces, digits of any script as 0-9."""
    if text.isascii():
        return text.lower().encode("ascii").translate(_ASCII_SYMBOLS, b"'`").decode("ascii")
    text = _SYMBOLS.sub(" ", _APOSTROPHES.sub("", text))
    text = _APOSTROPHES.sub("", unicodedata.normalize("NFKC", text).casefold())
    # str.translate looks each character up in Python: only text holding such a digit pays it
    return text.translate(_digits()) if _OTHER_DIGITS.search(text) else text


def words(text: str) -> list[str]:
    """The words of `text` (see the module docstring), unfolded; unspaced scripts as bigrams."""
    if text.isascii():
        return _ASCII_WORD.findall(normalise(text))
    normalised = normalise(text)
    if not _UNSPACED.search(normalised):
        return _WORD.findall(normalised)
    out: list[str] = []
    for word in _WORD.findall(normalised):
        if not _UNSPACED.search(word):
            out.append(word)
            continue
        at = 0
        for run in _UNSPACED.finditer(word):
            if run.start() > at:
                out.extend(_WORD.findall(word[at:run.start()]))
            chars = run.group()
            out.extend([chars] if len(chars) == 1 else [chars[i:i + 2] for i in range(len(chars) - 1)])
            at = run.end()
        if at < len(word):
            out.extend(_WORD.findall(word[at:]))
    return out


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """`word` without diacritics and with common spelling variants made one (see the module)."""
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFD", word)
    kept = "".join(c for c in decomposed if unicodedata.combining(c) < _MARK_CLASS_KEPT)
    return unicodedata.normalize("NFC", kept.translate(_SPELLING))


@lru_cache(maxsize=None)
def stopwords(language: str) -> frozenset[str]:
    """The folded stop words of a language: English the project's own list (rag.text), others a
    list of function words in rag/language/stopwords/ (empty for a language without one)."""
    if language == "en":
        from rag.text import STOPWORDS

        return frozenset(STOPWORDS)
    path = _STOPWORDS / f"{language}.txt"
    if not path.is_file():
        return frozenset()
    lines = (line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#"))
    return frozenset(fold(w) for line in lines for w in words(line))


@dataclass(frozen=True)
class Analyzer:
    """Keyword tokens of one language: stop words out, Snowball stems (when `stemming` and the
    language has a stemmer; never another language's rules), folded."""

    language: str
    stemming: bool = True

    def tokens(self, text: str) -> list[str]:
        stop = stopwords(self.language)
        content = [w for w in words(text) if fold(w) not in stop]
        stemmer = snowball_stemmer(self.language) if self.stemming else None
        if stemmer is not None and content:
            content = stemmer.stemWords(content)
        return [fold(w) for w in content]


@lru_cache(maxsize=None)
def analyzer(language: str, stemming: bool = True) -> Analyzer:
    """The analyzer of `language` (ISO 639-1; "" or unknown: no stop words, no stemming)."""
    return Analyzer(language or "", stemming)


@lru_cache(maxsize=None)
def snowball_stemmer(language: str):
    """PyStemmer's Snowball stemmer of `language` (None: it has none)."""
    if language not in SNOWBALL:
        return None
    import Stemmer

    return Stemmer.Stemmer(SNOWBALL[language])


def keyword_tokens(text: str, stemming: bool = True, language: str = "en") -> list[str]:
    """What keyword search indexes and queries in every backend, for text in `language`."""
    return analyzer(language, stemming).tokens(text)
