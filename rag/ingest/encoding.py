"""Bytes → text for the text formats: UTF-8 (BOM or not), UTF-16/32 with a BOM, legacy encodings.

Legacy encodings are detected with charset-normalizer. Its ties are broken towards the encodings
Western news text is most often saved in (windows-1252 before windows-1250, ...): on a short
French or German text several code pages decode the bytes equally well, and only one of them
gives "è" rather than "č".
"""

from __future__ import annotations

import codecs
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


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str  # a display name: "utf-8", "utf-16", "windows-1252", ...
    legacy: bool  # decoded from a legacy (non-Unicode) encoding: worth a warning

    @property
    def warning(self) -> str:
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
    except UnicodeDecodeError:
        pass
    codec = detect_legacy(data)
    if codec is None:
        raise ReadError("is not text in any encoding recognised (tried UTF-8, UTF-16 with a BOM "
                        "and the legacy code pages)")
    return DecodedText(data.decode(codec, errors="replace"), _DISPLAY.get(codec, codec.replace("_", "-")), True)


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
