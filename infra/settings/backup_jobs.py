"""The backup jobs of the workloads tier: which dumps run, when, and with which tool images."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.backup_jobs import DUMPS
from infra.settings.core import PROJECT, ConfigError, Key
from infra.settings.parse import as_object, known_fields
from infra.settings.validators import cron_problem, image_problem


@dataclass(frozen=True)
class BackupImages:
    """Tool images of the backup jobs (each pinned by tag or digest)."""

    postgres: str = "public.ecr.aws/docker/library/postgres:16.4-alpine"
    mongodb: str = "public.ecr.aws/docker/library/mongo:7.0.14"
    redis: str = "public.ecr.aws/docker/library/redis:7.2.5-alpine"
    aws_cli: str = "public.ecr.aws/aws-cli/aws-cli:2.17.50"

    def for_engine(self, engine: str) -> str:
        return str(getattr(self, engine))


_IMAGE_FIELDS = {
    "postgres": "postgres",
    "mongodb": "mongodb",
    "redis": "redis",
    "awsCli": "aws_cli",
}


def image_reference(key: str, value: Any) -> str:
    problem = image_problem(value) if isinstance(value, str) else "expected a string"
    if problem is not None:
        raise ConfigError(key, value, problem)
    return str(value)


def parse_backup_schedules(raw: str | None) -> dict[str, str]:
    key = BACKUP_JOBS_KEY.name
    obj = known_fields(key, {} if raw is None else as_object(key, raw), tuple(DUMPS))
    schedules = {}
    for name, dump in DUMPS.items():
        value = obj.get(name, dump.schedule if dump.on_by_default else False)
        if value is False:
            continue
        problem = cron_problem(value) if isinstance(value, str) else "expected a string"
        if problem is not None:
            raise ConfigError(
                f"{key}.{name}",
                value,
                f"not a valid cron schedule ({problem}), or false to leave the job out",
            )
        schedules[name] = value.strip()
    return schedules


def parse_backup_images(raw: str | None) -> BackupImages:
    key = BACKUP_IMAGES_KEY.name
    obj = known_fields(key, {} if raw is None else as_object(key, raw), tuple(_IMAGE_FIELDS))
    return BackupImages(
        **{
            _IMAGE_FIELDS[name]: image_reference(f"{key}.{name}", value)
            for name, value in obj.items()
        }
    )


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------

BACKUP_JOBS_KEY = Key(
    f"{PROJECT}:backupJobs",
    "object",
    "nightly UTC; `redis-daily` off",
    "Per backup job (" + ", ".join(DUMPS) + "): a cron schedule in UTC (five fields or "
    "`@daily`-style), or `false` to leave the job out. `redis-daily` (`redis-cli --rdb`) "
    "needs a Redis that allows SYNC, which ElastiCache does not.",
    fields=tuple(DUMPS),
)


BACKUP_IMAGES_KEY = Key(
    f"{PROJECT}:backupImages",
    "object",
    "pinned public images",
    "Tool images of the backup jobs: `postgres` (pg_dump, at least the server's major "
    "version), `mongodb` (mongodump), `redis` (redis-cli), `awsCli` (uploads).",
    fields=("postgres", "mongodb", "redis", "awsCli"),
)


#: This tier's keys, in the order the README lists them.
KEYS: tuple[Key, ...] = (BACKUP_JOBS_KEY, BACKUP_IMAGES_KEY)
