"""The grammar checks behind the workload config: cron schedules and image references."""

from __future__ import annotations

import pytest

from infra.settings.validators import cron_problem, image_problem, tag_problem

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    "schedule",
    [
        "0 2 * * *",
        "*/15 * * * *",
        "30 3 * * 0",
        "0 3 * * SUN",
        "0 0 1 JAN-MAR ?",
        "1,2,3 1-5/2 * * MON-FRI",
        "5/10 * * * *",
        "@daily",
        "@weekly",
        " 0 2 * * * ",
    ],
)
def test_cron_accepts_what_the_cronjob_controller_accepts(schedule: str) -> None:
    assert cron_problem(schedule) is None


@pytest.mark.parametrize(
    ("schedule", "reason"),
    [
        ("61 2 * * *", "minute 61 is outside 0-59"),
        ("0 24 * * *", "hour 24 is outside 0-23"),
        ("0 2 0 * *", "day of month 0 is outside 1-31"),
        ("0 2 * 13 *", "month 13 is outside 1-12"),
        ("0 2 * * 7", "day of week 7 is outside 0-6"),
        ("0 2 * *", "expected 5 fields"),
        ("0 2 * * * *", "expected 5 fields"),
        ("5-1 * * * *", "runs backwards"),
        ("*/0 * * * *", "step '0' is not a positive number"),
        ("? * * * *", "'?' is allowed only in day of month or day of week"),
        ("x * * * *", "minute 'x' is not a number"),
        ("0 2 * FOO *", "one of JAN"),
        ("@every 1h", "unknown descriptor"),
        ("TZ=UTC 0 2 * * *", "time zones"),
        ("", "expected 5 fields"),
    ],
)
def test_cron_refuses_with_a_reason(schedule: str, reason: str) -> None:
    problem = cron_problem(schedule)
    assert problem is not None and reason in problem


@pytest.mark.parametrize(
    "image",
    [
        "nginx:1.25",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/reskflow/api-gateway:1.0.0",
        "public.ecr.aws/docker/library/postgres:16.4-alpine",
        "registry:5000/team/app:2024.07.1",
        "localhost/app:v1",
        f"app@{DIGEST}",
        f"ghcr.io/org/app:1.2@{DIGEST}",
    ],
)
def test_pinned_images_pass(image: str) -> None:
    assert image_problem(image) is None


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        ("nginx", "needs a tag"),
        ("registry:5000/team/app", "needs a tag"),
        ("repo/app:latest", "names no particular build"),
        ("repo/app@sha256:abc", "64 lowercase hex"),
        ("Team/app:1", "not a valid image name"),
        ("repo/app:", "a tag is 1-128"),
        (":1", "not a valid image name"),
    ],
)
def test_unpinned_or_malformed_images_fail(image: str, reason: str) -> None:
    problem = image_problem(image)
    assert problem is not None and reason in problem


def test_tags() -> None:
    assert tag_problem("1.0.0") is None
    assert tag_problem("LATEST") is not None
    assert tag_problem("-x") is not None
    assert tag_problem("a" * 129) is not None
