"""The longest gap of a backup schedule: AWS's documented cron examples, and step values.

The examples and their meanings are the ones of the EventBridge user guide, "Using cron and rate
expressions to schedule rules" (the grammar AWS Backup uses too); each expected value is the
longest wait between two runs, worked out by hand from that meaning.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from reskflow_dr import budget
from reskflow_dr.schedule import schedule_interval

AWS_EXAMPLES = [
    # 10:00 am (UTC) every day
    ("cron(0 10 * * ? *)", timedelta(days=1)),
    # 12:15 pm (UTC) every day
    ("cron(15 12 * * ? *)", timedelta(days=1)),
    # 6:00 pm Monday through Friday: Friday evening to Monday evening
    ("cron(0 18 ? * MON-FRI *)", timedelta(days=3)),
    # 8:00 am on the first day of every month: the longest month
    ("cron(0 8 1 * ? *)", timedelta(days=31)),
    # every 15 minutes
    ("cron(0/15 * * * ? *)", timedelta(minutes=15)),
    # every 10 minutes Monday through Friday: Friday 23:50 to Monday 00:00
    ("cron(0/10 * ? * MON-FRI *)", timedelta(days=2, minutes=10)),
    # every 5 minutes Monday through Friday between 8:00 am and 5:55 pm: Friday 17:55 to
    # Monday 08:00
    ("cron(0/5 8-17 ? * MON-FRI *)", timedelta(days=2, hours=14, minutes=5)),
    # 9:00 am on the first Monday of each month: five weeks at most
    ("cron(0 9 ? * 2#1 *)", timedelta(days=35)),
]


@pytest.mark.parametrize(("expression", "interval"), AWS_EXAMPLES)
def test_aws_documented_examples(expression: str, interval: timedelta) -> None:
    assert schedule_interval(expression) == interval


@pytest.mark.parametrize(
    ("expression", "interval"),
    [
        # the step cases the hand-written parser got wrong (one day, one hour)
        ("cron(0 0/4 * * ? *)", timedelta(hours=4)),
        ("cron(0/15 * * * ? *)", timedelta(minutes=15)),
        ("cron(30 1/6 * * ? *)", timedelta(hours=6)),
        ("cron(10/25 * * * ? *)", timedelta(minutes=35)),  # :10 :35, then :10 the next hour
        ("cron(0 0-12/4 * * ? *)", timedelta(hours=12)),  # 0 4 8 12, then midnight
        ("cron(0 5 L * ? *)", timedelta(days=31)),  # last day of each month
        ("cron(0 5 ? * 6L *)", timedelta(days=35)),  # last Friday of each month
        ("cron(0 5 1 1 ? *)", timedelta(days=365)),  # yearly (2026 and 2027 are not leap)
        ("rate(12 hours)", timedelta(hours=12)),
        ("rate(1 day)", timedelta(days=1)),
    ],
)
def test_steps_and_special_characters(expression: str, interval: timedelta) -> None:
    assert schedule_interval(expression) == interval


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 5 * * * *)",  # both day fields set: AWS requires ? in one
        "cron(0 5 ? * XYZ *)",
        "cron(0 5 * * ?)",  # five fields
        "cron(0 5 29 2 ? *)",  # fires once in the two-year horizon
        "cron(0 5 1 1 ? 2020)",  # never again
        "every day",
    ],
)
def test_unrecognised_or_too_rare(expression: str) -> None:
    assert schedule_interval(expression) is None


def test_budget_uses_it() -> None:
    assert budget.schedule_interval is schedule_interval
