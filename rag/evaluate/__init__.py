"""`rag eval`: score question sets with the shared answer-string rule and ranx metrics."""
