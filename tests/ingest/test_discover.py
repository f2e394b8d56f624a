"""The folder walk reports every entry it does not read, with the reason, and reads the rest:
names that are not UTF-8, FIFOs, broken links, links out of the folder; links are not followed
out of the folder and cannot make it loop."""

import os
from pathlib import Path

import pytest

from rag.ingest import discover
from rag.ingest.readers import find_files, iter_documents

BAD_NAME = os.fsdecode(b"caf\xe9.txt")  # Latin-1 bytes: "caf\udce9.txt" in Python


@pytest.fixture
def tree(tmp_path):
    """tmp/news (the folder ingested) and, beside it, tmp/outside with a secret file and folder."""
    outside = tmp_path / "outside"
    (outside / "folder").mkdir(parents=True)
    (outside / "secret.txt").write_text("Secret\n\nNot an article of this folder.\n")
    (outside / "passwd").write_text("root:x:0:0\n")
    (outside / "folder" / "x.txt").write_text("X\n\nAnother outside file.\n")
    news = tmp_path / "news"
    (news / "sub").mkdir(parents=True)
    (news / "a.txt").write_text("Harbour reopens\n\nThe harbour reopened on Monday after the storm.\n")
    (news / "sub" / "b.md").write_text("# Ferry returns\n\nThe ferry runs again.\n")
    (news / BAD_NAME).write_text("Cafe\n\nA file whose name is Latin-1.\n")
    os.mkfifo(news / "pipe.txt")
    (news / "broken.txt").symlink_to(news / "gone.txt")
    (news / "etc_link.txt").symlink_to(outside / "secret.txt")
    (news / "passwd_link").symlink_to(outside / "passwd")  # no extension: would be sniffed for a feed
    (news / "dir_link").symlink_to(outside / "folder")
    (news / "inner_link.txt").symlink_to(news / "a.txt")
    (news / "loop").symlink_to(news)
    (news / "sub" / "up").symlink_to(news)
    (news / "sub_link").symlink_to(news / "sub")
    return news


def test_every_entry_not_read_is_reported_and_the_rest_is_read(tree, monkeypatch):
    opened = []
    sniff = discover._is_feed
    monkeypatch.setattr(discover, "_is_feed", lambda path: opened.append(str(path)) or sniff(path))
    files, failures, skipped = find_files([tree])
    assert files == [tree / "a.txt", tree / "sub" / "b.md"]
    assert failures == []
    assert skipped == [
        (str(tree / "broken.txt"), "broken link"),
        (f"{tree}/caf\\xe9.txt", "name is not valid UTF-8 (caf\\xe9.txt): rename the file"),
        (str(tree / "dir_link"), "link to a folder outside the folder; not followed"),
        (str(tree / "etc_link.txt"), "link to a file outside the folder; not followed"),
        (str(tree / "passwd_link"), "link to a file outside the folder; not followed"),
        (str(tree / "pipe.txt"), "not a regular file (a FIFO)"),
    ]
    outside = str(tree.parent / "outside")
    assert not any(path.startswith(outside) for path in opened)  # a link's target is never opened
    assert not any(outside in path or outside in reason for path, reason in skipped)  # nor shown
    for path, reason in skipped:
        (path + reason).encode("utf-8")  # storable and printable as they are


def test_the_files_found_are_read_and_all_their_strings_are_utf8(tree):
    files, _, _ = find_files([tree])
    documents = [d for path in files for d in iter_documents(path)]
    assert [d.title for d in documents] == ["Harbour reopens", "Ferry returns"]
    for document in documents:
        (document.path + document.doc_id + document.text + document.title).encode("utf-8")


def test_paths_given_on_the_command_line(tree):
    files, failures, skipped = find_files([
        tree / BAD_NAME, tree / "pipe.txt", tree / "broken.txt", tree / "etc_link.txt", tree / "missing.txt"])
    assert files == [tree.parent / "outside" / "secret.txt"]  # a link named by the user is followed
    assert failures == [
        (f"{tree}/caf\\xe9.txt", "name is not valid UTF-8 (caf\\xe9.txt): rename the file"),
        (str(tree / "pipe.txt"), "not a regular file (a FIFO)"),
        (str(tree / "broken.txt"), "broken link"),
        (str(tree / "missing.txt"), "no such file or folder"),
    ]
    assert skipped == []


def test_a_linked_folder_given_on_the_command_line_is_walked_as_a_folder(tree):
    files, failures, skipped = find_files([tree / "dir_link"])
    assert (files, failures, skipped) == ([tree.parent / "outside" / "folder" / "x.txt"], [], [])


def test_a_folder_whose_name_is_not_utf8_is_reported_once_and_not_entered(tmp_path):
    (tmp_path / "ok.txt").write_text("Fine\n\nA fine article.\n")
    folder = tmp_path / os.fsdecode(b"r\xe9sum\xe9s")
    folder.mkdir()
    (folder / "inside.txt").write_text("Inside\n\nAn article.\n")
    files, failures, skipped = find_files([tmp_path])
    assert (files, failures) == ([tmp_path / "ok.txt"], [])
    assert skipped == [(f"{tmp_path}/r\\xe9sum\\xe9s", "name is not valid UTF-8 (r\\xe9sum\\xe9s): rename the folder")]


def test_a_file_given_inside_a_folder_whose_name_is_not_utf8_names_that_folder(tmp_path):
    folder = tmp_path / os.fsdecode(b"r\xe9sum\xe9s")
    folder.mkdir()
    (folder / "inside.txt").write_text("Inside\n\nAn article.\n")
    assert find_files([folder / "inside.txt"]) == ([], [(
        f"{tmp_path}/r\\xe9sum\\xe9s/inside.txt", "name is not valid UTF-8 (r\\xe9sum\\xe9s): rename the folder")], [])


def test_hidden_entries_stay_ignored_without_a_word_even_when_odd(tmp_path):
    (tmp_path / "a.txt").write_text("A\n\nText.\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref")
    os.mkfifo(tmp_path / ".pipe")
    (tmp_path / ".link").symlink_to("/etc/hostname")
    assert find_files([tmp_path]) == ([tmp_path / "a.txt"], [], [])


def test_a_link_inside_the_folder_to_a_file_inside_is_read_once_under_the_files_path(tmp_path):
    (tmp_path / "z_real.txt").write_text("Z\n\nText.\n")
    (tmp_path / "a_link.txt").symlink_to(tmp_path / "z_real.txt")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "inner.md").write_text("# I\n\nText.\n")
    (tmp_path / "b_link").symlink_to(tmp_path / "folder")  # walked before the folder itself
    files, failures, skipped = find_files([tmp_path])
    assert files == [tmp_path / "z_real.txt", tmp_path / "folder" / "inner.md"]
    assert (failures, skipped) == ([], [])


def test_the_walk_is_sorted_like_sorted_paths(tmp_path):
    for name in ("sub.txt", "sub/b.txt", "sub-a/c.txt", "a.txt", "B.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("T\n\nText.\n")
    files, _, _ = find_files([tmp_path])
    assert files == sorted(tmp_path.rglob("*.txt"))
    assert [str(p.relative_to(tmp_path)) for p in files] == ["B.txt", "a.txt", "sub/b.txt", "sub-a/c.txt", "sub.txt"]


def test_a_folder_that_cannot_be_listed_is_reported(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_text("A\n\nText.\n")
    (tmp_path / "locked").mkdir()
    scandir = os.scandir

    def refuse_locked(path):  # as chmod 0 does, for any user (the tests may run as root)
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(discover.os, "scandir", refuse_locked)
    files, failures, skipped = find_files([tmp_path])
    assert (files, failures) == ([tmp_path / "a.txt"], [])
    assert skipped == [(str(tmp_path / "locked"), "folder cannot be read: Permission denied")]


def test_unsupported_files_in_the_folder_are_still_reported_as_before(tmp_path):
    (tmp_path / "photo.png").write_bytes(b"\x89PNG")
    (tmp_path / "link.png").symlink_to(tmp_path / "photo.png")
    files, failures, skipped = find_files([Path(tmp_path)])
    assert (files, failures) == ([], [])
    assert skipped == [(str(tmp_path / "photo.png"), "unsupported type .png")]
