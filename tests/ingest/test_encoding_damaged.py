"""UTF-8 text with a few damaged bytes stays UTF-8 (the bytes replaced, and a warning saying so)
instead of being read as a legacy code page; genuine legacy text is still detected."""

import pytest

from rag.ingest.encoding import decode_text
from rag.ingest.readers import read_documents

ARTICLE = ("Café owners protest the new tax\n\n"
           "The minister’s “temporary” levy costs €40 a month — owners in the old town said it was naïve "
           "to expect them to pay it after a winter of closures.\n")
JAPANESE = "港の再開\n\n嵐の後、月曜日に港が再開した。漁師たちは朝早くから船を出した。\n" * 3
RUSSIAN = "Порт снова открыт\n\nПосле шторма порт открылся в понедельник. Рыбаки вышли в море рано утром.\n"


def damaged(text: str, at: int, bad: bytes) -> tuple[bytes, int]:
    """The text's UTF-8 with `bad` put in before character `at`, and the byte offset it is at."""
    offset = len(text[:at].encode("utf-8"))
    data = text.encode("utf-8")
    return data[:offset] + bad + data[offset:], offset


@pytest.mark.parametrize("text", [ARTICLE, JAPANESE, RUSSIAN], ids=["english", "japanese", "russian"])
def test_one_bad_byte_in_utf8_text_is_replaced_not_read_as_a_code_page(tmp_path, text):
    data, offset = damaged(text, 40, b"\x92")  # a windows-1252 quote pasted into the body
    decoded = decode_text(data)
    assert decoded.encoding == "utf-8" and not decoded.legacy
    assert decoded.text == text[:40] + "\ufffd" + text[40:]
    assert decoded.warning == f"not valid UTF-8 at 1 byte (first at byte {offset}); read as UTF-8 with it replaced"
    path = tmp_path / "a.txt"
    path.write_bytes(data)
    result = read_documents(path, data)
    assert result.warnings == [decoded.warning]


def test_several_bad_bytes_are_counted_and_the_first_located():
    text = JAPANESE[:10] + "\x00" + JAPANESE[10:60] + "\x01" + JAPANESE[60:]
    data = text.encode("utf-8").replace(b"\x00", b"\xfe").replace(b"\x01", b"\xe3\x81")  # a stray byte, a cut pair
    decoded = decode_text(data)
    first = len(JAPANESE[:10].encode("utf-8"))
    assert decoded.warning == f"not valid UTF-8 at 3 bytes (first at byte {first}); read as UTF-8 with them replaced"
    assert decoded.text == JAPANESE[:10] + "\ufffd" + JAPANESE[10:60] + "\ufffd" + JAPANESE[60:]


@pytest.mark.parametrize("text, codec, display", [
    (ARTICLE, "cp1252", "windows-1252"),
    (RUSSIAN, "cp1251", "windows-1251"),
])
def test_genuine_legacy_text_is_still_detected(text, codec, display):
    decoded = decode_text(text.encode(codec))
    assert (decoded.text, decoded.warning) == (text, f"read as {display}")


def test_ascii_with_one_curly_quote_byte_is_windows_1252_as_before():
    # No valid multi-byte UTF-8 at all: the legacy reading gets the quote right, UTF-8 would lose it.
    decoded = decode_text(b"The minister\x92s levy costs forty a month, owners in the old town said.\n" * 3)
    assert (decoded.encoding, decoded.text[:15]) == ("windows-1252", "The minister’s ")
