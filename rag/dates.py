"""Articles' dates read for people and for filters: "3 May 2024", and the day number 20240503.

An article's date comes as its file wrote it: ISO 8601 ("2024-05-03", "2024-05-03T09:00:00Z"),
a feed's RFC 2822 date ("Fri, 03 May 2024 09:00:00 GMT"), a year and month ("2024-05"), a year,
or words ("3 May 2024", "May 3, 2024"). The day is the one written (no time-zone conversion).
A date that names only a month or a year stands for its first day in filters: an article dated
"2024-05" is in May 2024 and in 2024.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime
from email.utils import parsedate_to_datetime

_YEAR = re.compile(r"(\d{4})")
_YEAR_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_DAY_FIRST_SLASH = re.compile(r"\d{1,2}/\d{1,2}/\d{2,4}")  # 03/05/2024: ambiguous, read day first


def parse_date(value: str) -> tuple[date, str] | None:
    """(the date, "day" | "month" | "year") of a written date, or None when it is not one."""
    text = (value or "").strip()
    if not text:
        return None
    if _YEAR.fullmatch(text):
        return date(int(text), 1, 1), "year"
    if (month := _YEAR_MONTH.fullmatch(text)) and 1 <= int(month.group(2)) <= 12:
        return date(int(month.group(1)), int(month.group(2)), 1), "month"
    for read in (datetime.fromisoformat, parsedate_to_datetime):
        try:
            return read(text).date(), "day"
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    return _words_date(text)


def _words_date(text: str) -> tuple[date, str] | None:
    """A date in words ("3 May 2024", "May 3, 2024", "03/05/2024"), read by dateutil."""
    from dateutil import parser

    if not re.search(r"\d{4}", text):
        return None  # no year: a guess, not a date
    try:
        parsed = parser.parse(text, dayfirst=bool(_DAY_FIRST_SLASH.fullmatch(text)) or None,
                              default=datetime(1, 1, 1))
    except (ValueError, OverflowError, TypeError):
        return None
    return parsed.date(), "day"


def date_key(value: str) -> int | None:
    """The article's date as a day number YYYYMMDD (its first day for a month or a year), None
    for no date or one that cannot be read."""
    parsed = parse_date(value)
    return None if parsed is None else _key(parsed[0])


def _key(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def bound(value: str, end: bool = False) -> int:
    """A filter bound as a day number: "2024-05-14", "2024-05" or "2024" (`end`: the last day of
    that month or year). Raises ValueError with what is accepted."""
    text = (value or "").strip()
    parsed = None
    if _YEAR.fullmatch(text) or _YEAR_MONTH.fullmatch(text):
        parsed = parse_date(text)
    else:
        try:
            parsed = date.fromisoformat(text), "day"
        except ValueError:
            parsed = None
    if parsed is None:
        raise ValueError(f"{value!r} is not a date: use YYYY-MM-DD, YYYY-MM or YYYY")
    day, precision = parsed
    if end and precision == "month":
        day = day.replace(day=calendar.monthrange(day.year, day.month)[1])
    elif end and precision == "year":
        day = day.replace(month=12, day=31)
    return _key(day)
