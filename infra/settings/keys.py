"""Every config key, gathered from the tier that declares it (each key is declared once)."""

from __future__ import annotations

from infra.settings import (
    alarms,
    backup,
    backup_jobs,
    data,
    edge,
    failover,
    guards,
    storage,
    targets,
    traffic,
    workloads,
)
from infra.settings.core import IDENTITY_KEYS, Key

#: All keys, in the order the README's config reference lists them.
KEYS: tuple[Key, ...] = (
    *IDENTITY_KEYS,
    *storage.KEYS,
    *backup.KEYS,
    *traffic.KEYS,
    *alarms.KEYS,
    *data.KEYS,
    *guards.KEYS,
    *failover.KEYS,
    *targets.KEYS,
    *workloads.KEYS,
    *backup_jobs.KEYS,
    *edge.KEYS,
)
KEYS_BY_NAME: dict[str, Key] = {k.name: k for k in KEYS}
