"""Question sets: JSON Lines with expected answer strings (format in data/eval/README.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...] = ()
    out_of_scope: bool = False
    relevant: tuple[str, ...] = ()
    history: tuple[str, ...] = ()  # earlier questions of the chat, for follow-up sets
    kind: str = ""  # the kind of question (why/how/after sets; same-language, english, ... multilingual)
    event: str = ""  # why/how/after sets: the text stating the event the question names (not its reason)
    lang: str = ""  # the question's language (multilingual sets)

    def group(self, field: str) -> str:
        """This question's value of `field` (kind, lang), for per-group results."""
        return str(getattr(self, field, "") or "-")


def load_questions(path: str | Path) -> list[Question]:
    """Every question in the file; a bad line raises ValueError naming file and line."""
    path = Path(path)
    questions: list[Question] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            text = record["question"]
            if not isinstance(text, str) or not text.strip():
                raise ValueError("needs a non-empty \"question\"")
            questions.append(Question(
                id=str(record.get("id") or f"line-{lineno}"),
                question=text,
                answers=tuple(record.get("answers") or ()),
                out_of_scope=bool(record.get("out_of_scope", False)),
                relevant=tuple(record.get("relevant") or ()),
                history=tuple(record.get("history") or ()),
                kind=str(record.get("kind") or ""),
                event=str(record.get("event") or ""),
                lang=str(record.get("lang") or ""),
            ))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"{path} line {lineno}: not a question record ({exc})") from exc
    if not questions:
        raise ValueError(f"{path} holds no questions")
    return questions
