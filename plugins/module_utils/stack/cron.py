# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Schedules of scheduled jobs (issue 20, docs/jobs.md). Pure.

``parse(text)`` reads what a tenant writes in ``x-spin.schedule``: a crontab line's five fields
(minute hour day-of-month month day-of-week, with ``*``, ``a-b``, ``/step``, lists and the names
``jan``..``dec`` / ``sun``..``sat``), one of cron's macros (``@hourly``, ``@daily``, ...), or
``@every <duration>`` (at least ``MIN_EVERY``: seconds granularity, slots at multiples of the
interval since the UNIX epoch, so every scheduler computes the same ones). A ``ValueError``'s text
says what is wrong and what to write. ``latest(schedule, after, now, zone)`` is the newest slot in
``(after, now]``: the one run the scheduler starts (missed slots are not run one by one).

The evaluation is in ``zone`` (an IANA name; UTC by default): a wall-clock time that a daylight
saving change skips never matches, one that it repeats matches twice, as with cron.
"""
from __future__ import annotations

import calendar
import datetime
import re

from ansible_collections.spin.platform.plugins.module_utils.common.units import parse_duration

MIN_EVERY = 10            # seconds: the scheduler looks every few seconds; shorter intervals would not hold
LOOKBACK = 24 * 3600      # seconds: a scheduler that was away longer runs the newest slot of the last day only
DEFAULT_ZONE = "UTC"
# The service labels a scheduled job carries (translate writes them, service_spec keeps such a job idle
# between runs, the scheduler reads them).
SCHEDULE_LABEL = "spin.schedule"
ZONE_LABEL = "spin.schedule.timezone"

MACROS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}
_FIELDS = (("minute", 0, 59, None), ("hour", 0, 23, None), ("day of month", 1, 31, None),
           ("month", 1, 12, ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]),
           ("day of week", 0, 7, ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]))
EXAMPLES = '"*/5 * * * *" (every 5 minutes), "30 2 * * *" (02:30 every day), "@hourly" or "@every 30s"'


class Schedule(object):
    """A parsed schedule: ``every`` (seconds) or the five sets of cron values."""

    def __init__(self, text, every=None, fields=None, restricted=(False, False)):
        self.text = text
        self.every = every
        self.fields = fields
        # cron's rule: when both day fields are restricted, a day matching either of them runs
        self.dom_restricted, self.dow_restricted = restricted

    def matches(self, local):
        """Does the wall-clock minute ``local`` (a datetime) run?"""
        minute, hour, dom, month, dow = self.fields
        if local.minute not in minute or local.hour not in hour or local.month not in month:
            return False
        day_ok, week_ok = local.day in dom, (local.isoweekday() % 7) in dow
        if self.dom_restricted and self.dow_restricted:
            return day_ok or week_ok
        return day_ok and week_ok


def _value(text, field):
    name, low, high, names = field
    if names and text.lower()[:3] in names and len(text) == 3:
        return names.index(text.lower()) + (1 if name == "month" else 0)
    if not re.match(r"^\d+$", text):
        raise ValueError("'%s' in the %s field is not a number%s" % (
            text, name, " or a name (%s)" % ", ".join(names) if names else ""))
    number = int(text)
    if not low <= number <= high:
        raise ValueError("%s in the %s field is outside %d-%d" % (number, name, low, high))
    return number


def _field(text, field):
    name, low, high, dummy = field
    values = set()
    for part in text.split(","):
        base, slash, step = part.partition("/")
        if slash:
            if not re.match(r"^\d+$", step) or int(step) == 0:
                raise ValueError("'/%s' in the %s field is not a step: write a whole number above 0, like */5" % (
                    step, name))
        step = int(step) if slash else 1
        if base == "*":
            first, last = low, high if name != "day of week" else 6
        elif "-" in base:
            first, dash, last = base.partition("-")
            first, last = _value(first, field), _value(last, field)
            if first > last:
                raise ValueError("the range %s in the %s field runs backwards: write the smaller bound first" % (
                    base, name))
        else:
            first = _value(base, field)
            last = high if slash else first
        values.update(range(first, last + 1, step))
    if name == "day of week" and 7 in values:
        values.discard(7)
        values.add(0)          # 7 is Sunday too
    return frozenset(values)


def parse(text):
    """A schedule as written -> ``Schedule``; ``ValueError`` with the problem and what to write."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("must be a cron expression, e.g. %s" % EXAMPLES)
    spec = " ".join(text.split())
    if spec.startswith("@every"):
        amount = spec[len("@every"):].strip()
        try:
            seconds = parse_duration(amount) / 1e9
        except (ValueError, TypeError):
            raise ValueError("'%s': @every takes a duration like 30s, 5m or 1h30m" % text)
        if seconds < MIN_EVERY or seconds != int(seconds):
            raise ValueError("'%s': @every takes whole seconds, at least %ds" % (text, MIN_EVERY))
        return Schedule(spec, every=int(seconds))
    if spec.startswith("@"):
        if spec.lower() not in MACROS:
            raise ValueError("'%s' is not a schedule: the macros are %s and '@every <duration>' (@reboot has no "
                             "meaning for a job of the swarm)" % (text, ", ".join(sorted(MACROS))))
        spec = MACROS[spec.lower()]
    parts = spec.split(" ")
    if len(parts) != 5:
        hint = " (a sixth field, seconds or a command, is not cron's: use '@every 30s' for seconds)" \
            if len(parts) > 5 else ""
        raise ValueError("'%s' has %d fields, cron has 5: minute hour day-of-month month day-of-week%s" % (
            text, len(parts), hint))
    fields = tuple(_field(part, field) for part, field in zip(parts, _FIELDS))
    return Schedule(spec, fields=fields, restricted=(parts[2] != "*", parts[4] != "*"))


def zone_of(name):
    """An IANA time zone name -> tzinfo (UTC without one); ``ValueError`` naming what to write."""
    if name in (None, "", "UTC", "Etc/UTC"):
        return datetime.timezone.utc
    try:
        import zoneinfo
        return zoneinfo.ZoneInfo(str(name))
    except Exception:    # ZoneInfoNotFoundError, ValueError on a path-like name, ImportError before 3.9
        raise ValueError("'%s' is not a time zone this platform knows: write an IANA name such as UTC, "
                         "Europe/Zurich or America/Los_Angeles" % name)


def latest(schedule, after, now, zone=None):
    """The newest slot (a UNIX time, whole seconds) with ``after < slot <= now``, or None. Slots
    older than ``LOOKBACK`` before ``now`` are not looked for."""
    after = max(float(after), float(now) - LOOKBACK)
    if schedule.every:
        slot = int(now) // schedule.every * schedule.every
        return slot if slot > after else None
    tz = zone or datetime.timezone.utc
    minute = int(now) // 60 * 60
    while minute > after:
        local = datetime.datetime.fromtimestamp(minute, tz)
        if schedule.matches(local):
            return minute
        minute -= 60
    return None


def following(schedule, now, zone=None, horizon=366 * 24 * 3600):
    """The next slot after ``now`` (for status), or None within ``horizon`` seconds."""
    if schedule.every:
        return (int(now) // schedule.every + 1) * schedule.every
    tz = zone or datetime.timezone.utc
    minute = (int(now) // 60 + 1) * 60
    end = now + horizon
    while minute <= end:
        local = datetime.datetime.fromtimestamp(minute, tz)
        if schedule.matches(local):
            return minute
        # skip whole hours and days that cannot match: at most a year of minutes otherwise
        if local.hour not in schedule.fields[1] or local.month not in schedule.fields[3]:
            minute += 3600 - local.minute * 60
            continue
        minute += 60
    return None


def iso(when):
    """A UNIX time -> ``2026-12-07T05:40:00Z``."""
    return "%sZ" % datetime.datetime.fromtimestamp(int(when), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") \
        if when is not None else None


def timegm(text):
    """Docker's RFC 3339 time (nanoseconds, Z) -> UNIX time (float), None when there is none."""
    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z$", str(text or ""))
    if not match or text.startswith("0001-"):
        return None
    return calendar.timegm(datetime.datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").timetuple()) + \
        float(match.group(2) or 0)
