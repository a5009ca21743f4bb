"""cron.py: the schedules tenants write in x-spin.schedule, and the slots they give."""
import calendar

import pytest

from ansible_collections.spin.platform.plugins.module_utils.stack import cron


def at(text):
    return calendar.timegm(__import__("time").strptime(text, "%Y-%m-%dT%H:%M"))


@pytest.mark.parametrize("text, after, now, slot", [
    ("*/5 * * * *", "2026-12-07T05:00", "2026-12-07T05:12", "2026-12-07T05:10"),
    ("*/5 * * * *", "2026-12-07T05:10", "2026-12-07T05:14", None),               # 05:10 already handled
    ("30 2 * * *", "2026-12-06T00:00", "2026-12-07T05:00", "2026-12-07T02:30"),  # the newest slot only
    ("0 0 * * mon-fri", "2026-12-04T12:00", "2026-12-07T05:00", "2026-12-07T00:00"),  # 12-07 is a Monday
    ("0 0 * * 0", "2026-12-01T00:00", "2026-12-06T05:00", "2026-12-06T00:00"),   # Sunday
    ("0 0 * * 7", "2026-12-01T00:00", "2026-12-06T05:00", "2026-12-06T00:00"),   # 7 is Sunday too
    # both day fields restricted: either matches (cron's rule)
    ("0 0 1 * mon", "2026-12-01T01:00", "2026-12-07T05:00", "2026-12-07T00:00"),
    ("@hourly", "2026-12-07T03:00", "2026-12-07T05:30", "2026-12-07T05:00"),
    ("0 9 * jan,dec *", "2026-12-06T10:00", "2026-12-07T10:00", "2026-12-07T09:00"),
])
def test_latest_slot(text, after, now, slot):
    assert cron.latest(cron.parse(text), at(after), at(now)) == (at(slot) if slot else None)


def test_every_seconds_slots_are_multiples_of_the_interval():
    every = cron.parse("@every 10s")
    assert every.every == 10
    assert cron.latest(every, 1000, 1034.5) == 1030
    assert cron.latest(every, 1030, 1039) is None
    assert cron.following(every, 1034) == 1040


def test_a_time_zone_moves_the_slots():
    daily = cron.parse("0 2 * * *")
    zurich = cron.zone_of("Europe/Zurich")            # UTC+1 in December
    assert cron.latest(daily, at("2026-12-06T12:00"), at("2026-12-07T05:00"), zurich) == at("2026-12-07T01:00")
    assert cron.following(daily, at("2026-12-07T05:00"), zurich) == at("2026-12-08T01:00")


def test_a_scheduler_away_for_long_runs_only_the_last_day():
    assert cron.latest(cron.parse("0 0 1 1 *"), 0, at("2026-12-07T05:00")) is None


@pytest.mark.parametrize("text, fragment", [
    ("*/5 * * *", "has 4 fields, cron has 5: minute hour day-of-month month day-of-week"),
    ("0 * * * * *", "a sixth field, seconds or a command, is not cron's: use '@every 30s' for seconds"),
    ("61 * * * *", "61 in the minute field is outside 0-59"),
    ("*/0 * * * *", "'/0' in the minute field is not a step"),
    ("5-1 * * * *", "the range 5-1 in the minute field runs backwards"),
    ("0 0 * * fun", "'fun' in the day of week field is not a number or a name (sun, mon"),
    ("@reboot", "@reboot has no meaning for a job of the swarm"),
    ("@every 2s", "@every takes whole seconds, at least 10s"),
    ("@every soon", "@every takes a duration like 30s"),
    ("", "must be a cron expression"),
    (5, "must be a cron expression"),
])
def test_what_is_refused_and_why(text, fragment):
    with pytest.raises(ValueError) as err:
        cron.parse(text)
    assert fragment in str(err.value)


def test_unknown_time_zone():
    with pytest.raises(ValueError) as err:
        cron.zone_of("Mars/Base")
    assert "write an IANA name such as UTC" in str(err.value)
    assert cron.zone_of(None) is cron.zone_of("UTC")


def test_docker_times():
    assert cron.timegm("2026-12-07T05:13:00.5Z") == at("2026-12-07T05:13") + 0.5
    assert cron.timegm("0001-01-01T00:00:00Z") is None and cron.timegm(None) is None
    assert cron.iso(at("2026-12-07T05:13")) == "2026-12-07T05:13:00Z"
