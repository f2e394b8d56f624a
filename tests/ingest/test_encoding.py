"""Text files in any encoding: UTF-8 with or without BOM, UTF-16 with BOM, legacy code pages."""

import codecs

import pytest

from rag.ingest.encoding import decode_text
from rag.ingest.readers import ReadError, read_documents

ARTICLE = ("Café owners protest the new tax\n\n"
           "The minister’s “temporary” levy costs €40 a month — owners in the old town said it was naïve "
           "to expect them to pay it after a winter of closures.\n")
FRENCH = ("La tempête ferme le port\n\n"
          "Le café de la gare a été fermé après la tempête. Les élèves ont quitté l'école à midi, "
          "et les pêcheurs sont restés à quai.\n")


def read(path):
    return read_documents(path, path.read_bytes())


@pytest.mark.parametrize("name, data, encoding", [
    ("cp1252.txt", ARTICLE.encode("cp1252"), "windows-1252"),
    ("latin1.txt", FRENCH.encode("latin-1"), "windows-1252"),  # the same characters below 0x80–0x9F
])
def test_legacy_encodings_are_detected_and_reported(tmp_path, name, data, encoding):
    path = tmp_path / name
    path.write_bytes(data)
    result = read(path)
    expected = data.decode(encoding.replace("windows-", "cp"))
    (document,) = result.documents
    assert result.warnings == [f"read as {encoding}"]
    assert document.title == expected.split("\n")[0]
    assert expected[document.offset:document.offset + len(document.text)] == document.text
    assert document.text == expected.split("\n\n", 1)[1].strip()


@pytest.mark.parametrize("data", [
    codecs.BOM_UTF8 + ARTICLE.encode("utf-8"),
    ARTICLE.encode("utf-8"),
    ARTICLE.encode("utf-16"),  # with its BOM, in the machine's byte order
    codecs.BOM_UTF16_LE + ARTICLE.encode("utf-16-le"),
    codecs.BOM_UTF16_BE + ARTICLE.encode("utf-16-be"),
])
def test_unicode_files_read_without_a_warning(tmp_path, data):
    path = tmp_path / "a.txt"
    path.write_bytes(data)
    result = read(path)
    (document,) = result.documents
    assert result.warnings == []
    assert (document.title, document.line) == ("Café owners protest the new tax", 3)
    assert ARTICLE[document.offset:document.offset + len(document.text)] == document.text


def test_html_in_a_legacy_encoding_is_read(tmp_path):
    path = tmp_path / "page.html"
    path.write_bytes(f"<html><body><article><p>{ARTICLE}</p></article></body></html>".encode("cp1252"))
    result = read(path)
    assert "€40 a month" in result.documents[0].text and result.warnings == ["read as windows-1252"]


def test_a_nul_byte_after_the_first_8_kb_marks_the_file_as_binary(tmp_path):
    path = tmp_path / "late.txt"
    path.write_bytes(b"Title\n\n" + b"plain words " * 1000 + b"\x00more")
    with pytest.raises(ReadError, match=r"binary file, not text \(NUL byte at 12007\)"):
        read(path)


def test_utf16_without_a_bom_is_binary_rather_than_guessed():
    with pytest.raises(ReadError, match="binary"):
        decode_text("Plain words".encode("utf-16-le"))


def test_a_broken_bom_file_says_which_encoding_it_claims():
    with pytest.raises(ReadError, match="starts with a utf-8 byte-order mark but is not utf-8 text"):
        decode_text(codecs.BOM_UTF8 + b"caf\xe9")
