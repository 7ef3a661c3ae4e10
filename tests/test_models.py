"""Per-field validation of object keys by their pydantic models, and the one-line errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.settings import ConfigError
from infra.settings.data import (
    DOCDB_KEY,
    POSTGRES_KEY,
    REDIS_KEY,
    DocdbSettings,
    PostgresSettings,
    RedisSettings,
)
from infra.settings.models import Section, parse_section


def test_defaults_and_camel_case_fields() -> None:
    assert parse_section(RedisSettings, REDIS_KEY, None) == RedisSettings()
    redis = parse_section(RedisSettings, REDIS_KEY, '{"nodesPerRegion": "3"}')
    assert (redis.nodes_per_region, redis.node_type) == (3, "cache.r6g.large")
    assert RedisSettings.field_names() == (
        "nodeType",
        "engineVersion",
        "nodesPerRegion",
        "snapshotRetentionDays",
    )


@pytest.mark.parametrize(
    ("model", "key", "value", "message"),
    [
        (
            RedisSettings,
            REDIS_KEY,
            {"nodesPerRegion": 7},
            "config error: reskflow:redis.nodesPerRegion = 7: expected a whole number from 2 to 6",
        ),
        (
            RedisSettings,
            REDIS_KEY,
            {"nodesPerRegion": True},
            "config error: reskflow:redis.nodesPerRegion = true: expected a whole number from 2 "
            "to 6",
        ),
        (
            DocdbSettings,
            DOCDB_KEY,
            {"backupRetentionDays": "1.5"},
            'config error: reskflow:docdb.backupRetentionDays = "1.5": expected a whole number '
            "from 1 to 35 (days)",
        ),
        (
            PostgresSettings,
            POSTGRES_KEY,
            {"masterUsername": "postgres"},
            'config error: reskflow:postgres.masterUsername = "postgres": is reserved by RDS; '
            "choose another name",
        ),
        (
            PostgresSettings,
            POSTGRES_KEY,
            {"databaseName": "1db"},
            'config error: reskflow:postgres.databaseName = "1db": expected 1-63 letters, digits '
            "or _, starting with a letter",
        ),
        (
            DocdbSettings,
            DOCDB_KEY,
            {"engineVersion": ["5.0.0"]},
            'config error: reskflow:docdb.engineVersion = ["5.0.0"]: expected a string',
        ),
        (
            RedisSettings,
            REDIS_KEY,
            {"nodesPerRegin": 2},
            "config error: reskflow:redis.nodesPerRegin = 2: unknown field; did you mean "
            "nodesPerRegion?",
        ),
    ],
)
def test_a_bad_field_is_one_line_naming_the_field(
    model: type[Section], key: Any, value: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        parse_section(model, key, json.dumps(value))
    assert str(err.value) == message


def test_models_are_frozen() -> None:
    with pytest.raises(ValueError, match="frozen"):
        RedisSettings().nodes_per_region = 3
