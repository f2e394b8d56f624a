"""Languages: words and keyword tokens for any script, detection, and a question's key words."""

from rag.language.detect import detect_among, detect_language
from rag.language.query import QueryTerms, group_coverage, query_terms
from rag.language.tokens import analyzer, fold, keyword_tokens, words

__all__ = ["QueryTerms", "analyzer", "detect_among", "detect_language", "fold", "group_coverage",
           "keyword_tokens", "query_terms", "words"]
