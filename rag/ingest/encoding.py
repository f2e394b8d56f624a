"""Bytes → text for the text formats: UTF-8 (BOM or not), UTF-16/32 with a BOM, legacy encodings.

Legacy encodings are detected with charset-normalizer. Its ties are broken towards the encodings
Western news text is most often saved in (windows-1252 before windows-1250, ...): on a short
French or German text several code pages decode the bytes equally well, and only one of them
gives "è" rather than "č".

Bytes that are not valid UTF-8 are read as UTF-8 all the same, with those bytes replaced by
U+FFFD and a warning saying how many and where, when the data is evidently UTF-8 (one damaged
byte must not turn a whole UTF-8 article into mojibake, as a legacy code page would):
- it holds at least one valid multi-byte UTF-8 sequence, and at most a quarter of its non-ASCII
  bytes are invalid. In legacy text (windows-1252, windows-1251, Shift JIS, ...) nearly every
  non-ASCII byte is invalid UTF-8: a valid sequence arises only by chance, rarely;
- or no legacy encoding fits, and at most 1 byte in 100 is invalid (ASCII or UTF-8 text with a
  few stray bytes).
Text that is ASCII apart from a few high bytes and has no valid multi-byte sequence goes to the
legacy detection first: it is most often a windows-1252 file with a curly quote or an accented
letter, which that reading gets right and UTF-8 would replace.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from rag.errors import ReadError

_BOMS = (  # longest first: the UTF-32 LE BOM begins with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32"), (codecs.BOM_UTF32_BE, "utf-32", "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16"), (codecs.BOM_UTF16_BE, "utf-16", "utf-16"),
)
# Preferred among equally good guesses, most likely first.
_PREFERRED = ("cp1252", "latin_1", "iso8859_15", "cp1250", "iso8859_2", "cp1251", "koi8_r",
              "cp1253", "cp1254", "cp1257", "mac_roman")
_DISPLAY = {"cp1250": "windows-1250", "cp1251": "windows-1251", "cp1252": "windows-1252",
            "cp1253": "windows-1253", "cp1254": "windows-1254", "cp1255": "windows-1255",
            "cp1256": "windows-1256", "cp1257": "windows-1257", "cp1258": "windows-1258",
            "latin_1": "iso-8859-1", "koi8_r": "koi8-r", "mac_roman": "mac-roman"}
_TIE = 0.01
_ASCII = bytes(range(128))
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # an invalid byte, as the "surrogateescape" handler spells it
_MAX_INVALID_SHARE_OF_NON_ASCII = 0.25  # UTF-8 with a few damaged bytes, not legacy text
_MAX_INVALID_SHARE_OF_ALL = 0.01  # stray bytes in text no legacy encoding fits


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str  # a display name: "utf-8", "utf-16", "windows-1252", ...
    legacy: bool  # decoded from a legacy (non-Unicode) encoding: worth a warning
    replaced: int = 0  # UTF-8 read with this many invalid bytes replaced by U+FFFD: worth a warning
    first_replaced: int = -1  # the offset of the first of them in the bytes

    @property
    def warning(self) -> str:
        if self.replaced:
            them = "it" if self.replaced == 1 else "them"
            return (f"not valid UTF-8 at {self.replaced:,} byte{'s' if self.replaced > 1 else ''} "
                    f"(first at byte {self.first_replaced:,}); read as UTF-8 with {them} replaced")
        return f"read as {self.encoding}" if self.legacy else ""


def decode_text(data: bytes) -> DecodedText:
    """The text of a file's bytes. Raises ReadError for binary data or undecodable bytes."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                return DecodedText(data.decode(codec).removeprefix("\ufeff"), name, False)
            except UnicodeDecodeError as exc:
                raise ReadError(f"starts with a {name} byte-order mark but is not {name} text "
                                f"(byte {exc.start})") from exc
    nul = data.find(b"\x00")
    if nul != -1:
        raise ReadError(f"looks like a binary file, not text (NUL byte at {nul})")
    try:
        return DecodedText(data.decode("utf-8"), "utf-8", False)
    except UnicodeDecodeError as exc:
        first_invalid = exc.start
    invalid = len(_ESCAPED_BYTE.findall(data.decode("utf-8", errors="surrogateescape")))
    non_ascii = len(data.translate(None, _ASCII))  # the bytes left when the ASCII ones are deleted
    utf8 = DecodedText(data.decode("utf-8", errors="replace"), "utf-8", False, invalid, first_invalid)
    if invalid < non_ascii and invalid <= _MAX_INVALID_SHARE_OF_NON_ASCII * non_ascii:
        return utf8  # valid multi-byte sequences, and few invalid bytes among them
    codec = detect_legacy(data)
    if codec is not None:
        return DecodedText(data.decode(codec, errors="replace"), _DISPLAY.get(codec, codec.replace("_", "-")), True)
    if invalid <= _MAX_INVALID_SHARE_OF_ALL * len(data):
        return utf8
    raise ReadError("is not text in any encoding recognised (tried UTF-8, UTF-16 with a BOM "
                    "and the legacy code pages)")


def detect_legacy(data: bytes) -> str | None:
    """The Python codec name of the most likely legacy encoding of `data`, or None."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        return None
    best = matches[0]
    tied = [m for m in matches
            if m.chaos <= best.chaos + _TIE and m.coherence >= best.coherence - _TIE]
    candidates = {c for m in tied for c in m.could_be_from_charset}
    for codec in _PREFERRED:
        if codec in candidates:
            return codec
    return best.encoding
