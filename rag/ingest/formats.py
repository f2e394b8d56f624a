"""The file types ingest reads, by extension (feeds are also recognised by content)."""

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
FEED_SUFFIXES = (".xml", ".rss", ".atom")
SUPPORTED_SUFFIXES = (*TEXT_SUFFIXES, *HTML_SUFFIXES, ".jsonl", ".pdf", ".docx", ".epub", *FEED_SUFFIXES)
