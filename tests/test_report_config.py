"""`report:` in config.yaml (the daemon's scheduled report), in the style of test_config.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.models import ReportSettings
from test_config import MINIMAL_FEEDS, assert_error, load_error, write


def test_no_report_key_means_no_scheduled_report(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, MINIMAL_FEEDS)).report is None


def test_report_section_with_every_key(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL_FEEDS + 'report: {every: "day at 07:30", format: atom,'
                                                      ' output: out/reports/, timezone: UTC}\n'))
    assert config.report == ReportSettings(every="day at 07:30", hour=7, minute=30, day_of_week=None,
                                           format="atom", output=str(tmp_path / "out" / "reports"), timezone="UTC")
    assert config.report.cron() == {"hour": 7, "minute": 30, "timezone": "UTC"}
    assert config.report.period_days == 1


def test_report_defaults(tmp_path: Path) -> None:
    report = load_config(write(tmp_path, MINIMAL_FEEDS + "report: {}\n")).report
    assert (report.hour, report.minute, report.format, report.timezone) == (8, 0, "html", "Asia/Tehran")
    assert report.output == str(tmp_path / "state" / "reports")


@pytest.mark.parametrize("every, expected", [
    ("day at 08:00", (8, 0, None)), ("daily", (8, 0, None)), ("Monday at 9:05", (9, 5, "mon")),
    ("saturday  at 23:59", (23, 59, "sat"))])
def test_every(tmp_path: Path, every: str, expected: tuple) -> None:
    report = load_config(write(tmp_path, MINIMAL_FEEDS + f'report: {{every: "{every}"}}\n')).report
    assert (report.hour, report.minute, report.day_of_week) == expected
    assert report.period_days == (1 if expected[2] is None else 7)


@pytest.mark.parametrize("body, key, fragments", [
    ('{every: "day at 25:00"}', "report.every", ("is not a schedule", "day at 08:00")),
    ('{every: "hourly"}', "report.every", ("is not a schedule",)),
    ("{format: pdf}", "report.format", ("is not a report format", "html")),
    ("{timezone: Mars/Olympus}", "report.timezone", ("is not a time zone",)),
    ("{when: daily}", "report.when", ("unknown key", "every")),
    ("daily", "report", ("expected a mapping",)),
])
def test_bad_report_section(tmp_path: Path, body: str, key: str, fragments: tuple) -> None:
    err = load_error(tmp_path, MINIMAL_FEEDS + f"report: {body}\n")
    assert_error(err, 3, key, *fragments)
