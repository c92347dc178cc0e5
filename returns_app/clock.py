"""Time, always UTC. Tests freeze it with time-machine; nothing else reads the system clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


def now() -> datetime:
    return datetime.now(UTC)


def now_iso() -> str:
    return iso(now())


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def parse(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def today() -> date:
    return now().date()


def days_after(moment: datetime | date, days: int) -> date:
    start = moment.date() if isinstance(moment, datetime) else moment
    return start + timedelta(days=days)
