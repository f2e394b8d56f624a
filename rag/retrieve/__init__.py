"""Query → ranked Hits: dense and keyword candidates, fusion, diversity."""
