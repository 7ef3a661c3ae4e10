"""Composition root of the ReskFlow DR program (one stack per region).

Settings -> providers -> tiers -> outputs. The Pulumi language host runs this file with
``runpy.run_path("infra/")``; ``reskflow-dr preview`` runs it the same way under mocks.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The language host puts infra/ on sys.path; the settings, tiers and components live beside it.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import pulumi  # noqa: E402

from infra import providers  # noqa: E402
from infra.outputs import export_outputs  # noqa: E402
from infra.tiers.alarms import build_alarms  # noqa: E402
from infra.tiers.backup import build_backups  # noqa: E402
from infra.tiers.data import build_data_tier  # noqa: E402
from infra.tiers.encryption import build_encryption  # noqa: E402
from infra.tiers.storage import build_storage  # noqa: E402
from infra.tiers.traffic import build_traffic  # noqa: E402
from infra.tiers.workloads import build_workloads, workload_alarms  # noqa: E402


def main() -> None:
    settings = providers.load()
    aws_provider = providers.regional_provider(settings)
    regional = pulumi.ResourceOptions(providers=[aws_provider])

    encryption = build_encryption(settings, regional)
    storage = build_storage(settings, regional, encryption)
    data = build_data_tier(settings, regional, encryption)
    vault = build_backups(settings, regional, encryption)
    api = build_traffic(settings, regional)
    alarms = [*data.lag_alarms, *workload_alarms(settings)]
    alerts = build_alarms(
        settings, regional, encryption, api, alarms, data, storage.buckets.get("logs")
    )
    workloads = build_workloads(
        settings, aws_provider, encryption.key.key_arn, data.endpoints, alerts.topic_arn
    )

    export_outputs(settings, encryption, storage, data, vault, api, alerts, workloads)


main()
