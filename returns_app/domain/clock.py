"""Time, always UTC. Tests freeze it with time-machine; nothing else reads the system clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

# Dates people see and legal day counts follow Swedish calendar days, not UTC ones: a parcel
# delivered at 23:30 in Stockholm was delivered that day.
LOCAL_ZONE = ZoneInfo("Europe/Stockholm")


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


def local_date(moment: datetime) -> date:
    return moment.astimezone(LOCAL_ZONE).date()


def today() -> date:
    return local_date(now())


def days_after(moment: datetime | date, days: int) -> date:
    start = local_date(moment) if isinstance(moment, datetime) else moment
    return start + timedelta(days=days)
