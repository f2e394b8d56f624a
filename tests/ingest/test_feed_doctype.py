"""A feed with a DOCTYPE: a plain one is read; one with an internal subset (where entities are
declared: billion laughs, XXE) is refused for that reason, whatever the file is called."""

import pytest

from rag.ingest.feeds import looks_like_feed
from rag.ingest.readers import ReadError, find_files, iter_documents
from tests.ingest.formats import rss

FEED = rss("Glacier Watch Daily", [{"title": "Ice shelf loses a slab", "link": "https://glacier.example/slab",
                                    "html": "<p>Satellites showed a slab breaking away.</p>"}])
DECLARATION, BODY = FEED.split("\n", 1)
SUBSETS = {
    "entity": '<!DOCTYPE rss [<!ENTITY who "the team">]>',
    "billion laughs": '<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                      '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>',
    "xxe": '<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/hostname">]>',
    "long subset": "<!DOCTYPE rss [" + '<!ENTITY e "x">' * 400 + "]>",  # longer than the sniffed start
}
REFUSAL = ("^is a feed whose DOCTYPE has an internal subset .*: refused for safety, as entity expansion is "
           "the 'billion laughs' attack and external entities are XXE; without the subset it is read$")


@pytest.mark.parametrize("name", ["feed.rss", "feed.xml", "feed.txt"])
@pytest.mark.parametrize("kind", list(SUBSETS))
def test_a_doctype_with_an_internal_subset_is_refused_for_safety(tmp_path, name, kind):
    path = tmp_path / name
    path.write_text(f"{DECLARATION}\n{SUBSETS[kind]}\n{BODY}")
    assert find_files([tmp_path])[0] == [path]
    with pytest.raises(ReadError, match=REFUSAL):
        list(iter_documents(path))


@pytest.mark.parametrize("doctype", [
    ('<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
     '"http://my.netscape.com/publish/formats/rss-0.91.dtd">'),
    "<!DOCTYPE rss>",
])
@pytest.mark.parametrize("name", ["feed.rss", "feed.txt"])
def test_a_plain_doctype_is_read(tmp_path, doctype, name):
    path = tmp_path / name
    path.write_text(f"{DECLARATION}\n<!-- saved -->\n{doctype}\n{BODY}")
    (document,) = iter_documents(path)
    assert (document.title, document.source, document.text) == (
        "Ice shelf loses a slab", "Glacier Watch Daily", "Satellites showed a slab breaking away.")


@pytest.mark.parametrize("start", [" " * 4000 + "Title", "<?a?>" * 800 + "x", "<!---->" * 500 + "x"])
def test_a_start_that_is_not_a_feed_is_rejected_at_once(start):
    # The old pattern backtracked exponentially here: 30 leading spaces took seconds, 40 hours.
    assert looks_like_feed(start.encode()) is False
