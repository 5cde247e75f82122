"""Times as analysts type them: relative (7d, 24h, 2w, 30m, 7天), dates and datetimes (Beijing time unless given).

The console and the CLI read `since`/`until` through here, so the same words select the same posts in both.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))
_RELATIVE = re.compile(r"^\s*(\d{1,6})\s*(m|min|分钟|h|小时|d|天|w|周)\s*$", re.IGNORECASE)
_UNIT = {"m": "minutes", "min": "minutes", "分钟": "minutes", "h": "hours", "小时": "hours", "d": "days", "天": "days"}
HINT = "可用 7d、24h、2w、30m，日期 2026-11-01，或时间 2026-11-01T08:00（北京时间）"


def parse_when(value: str, *, now: datetime | None = None, end: bool = False) -> datetime | None:
    """The UTC moment `value` names; None for an empty value; ValueError with a hint otherwise.

    A bare date means its start in Beijing, or with `end=True` the start of the next day, so `until=2026-11-01`
    includes that whole day.
    """
    value = (value or "").strip()
    if not value:
        return None
    if match := _RELATIVE.match(value):
        amount, unit = int(match.group(1)), match.group(2).lower()
        delta = timedelta(weeks=amount) if unit in ("w", "周") else timedelta(**{_UNIT[unit]: amount})
        try:
            return (now or datetime.now(timezone.utc)).astimezone(timezone.utc) - delta
        except OverflowError:
            raise ValueError(f"时间 {value!r} 太久远") from None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            start = datetime(day.year, day.month, day.day, tzinfo=BEIJING)
            return (start + timedelta(days=1) if end else start).astimezone(timezone.utc)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"无法识别的时间 {value!r}：{HINT}") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=BEIJING)).astimezone(timezone.utc)
