"""The seed's degraded-mode levels ("Degraded Mode Configuration", operations document).

The catalog is data, rendered into the ConfigMap the services mount; the level in force is chosen
per stack in config. Field names follow the seed's ``degraded-mode.js`` so the services' existing
reader keeps working on the JSON form.
"""

from __future__ import annotations

import json
from typing import Any

#: Levels in order of severity, each with its features and limits, as in the seed.
LEVELS: dict[str, dict[str, Any]] = {
    "GREEN": {
        "description": "Normal operations",
        "features": ["all"],
        "limits": {},
    },
    "YELLOW": {
        "description": "Minor degradation",
        "disabled_features": ["recommendations", "analytics_real_time", "promotional_engine"],
        "limits": {"orders_per_minute": 1000, "search_complexity": "simple"},
    },
    "ORANGE": {
        "description": "Significant degradation",
        "disabled_features": [
            "recommendations",
            "analytics_all",
            "promotional_engine",
            "real_time_tracking",
            "chat_service",
        ],
        "limits": {
            "orders_per_minute": 500,
            "search_complexity": "basic",
            "payment_methods": ["card_only"],
        },
    },
    "RED": {
        "description": "Critical - Essential services only",
        "enabled_features": ["order_placement", "payment_basic", "reskflow_assignment"],
        "limits": {"orders_per_minute": 100, "regions": ["primary_city_only"]},
    },
}

#: Thresholds at which the services switch themselves to a level (percent, percent, percent, ms).
AUTO_TRIGGERS: dict[str, dict[str, int]] = {
    "YELLOW": {"cpu_usage": 70, "memory_usage": 80, "error_rate": 2, "response_time_p95": 2000},
    "ORANGE": {"cpu_usage": 85, "memory_usage": 90, "error_rate": 5, "response_time_p95": 5000},
    "RED": {"cpu_usage": 95, "memory_usage": 95, "error_rate": 10, "response_time_p95": 10000},
}

LEVEL_NAMES: tuple[str, ...] = tuple(LEVELS)

#: File names inside the ConfigMap (and so inside the mounted directory).
LEVEL_FILE = "level"
CATALOG_FILE = "degraded-mode.json"


def config_data(level: str) -> dict[str, str]:
    """The ConfigMap's data: the level in force and the whole catalog as JSON."""
    if level not in LEVELS:
        raise ValueError(f"unknown degraded-mode level {level!r}; known: {', '.join(LEVELS)}")
    catalog = {"level": level, "levels": LEVELS, "auto_triggers": AUTO_TRIGGERS}
    return {LEVEL_FILE: level, CATALOG_FILE: json.dumps(catalog, indent=2)}
