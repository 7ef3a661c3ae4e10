"""Composition root of the ReskFlow DR program (one stack per region).

Settings -> providers -> tiers -> outputs. The Pulumi language host runs this file with
``runpy.run_path("infra/")``; ``reskflow-dr preview`` runs it the same way under mocks.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

# The language host puts infra/ on sys.path; the settings, tiers and components live beside it.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import pulumi  # noqa: E402

from infra import providers  # noqa: E402
from infra.outputs import export_edge, export_failover, export_outputs  # noqa: E402
from infra.tiers.alarms import build_alarms  # noqa: E402
from infra.tiers.backup import backup_alarms, build_backups  # noqa: E402
from infra.tiers.data import build_data_tier  # noqa: E402
from infra.tiers.edge import (  # noqa: E402
    bucket_statements,
    build_edge,
    build_edge_logging,
    key_statements,
)
from infra.tiers.encryption import build_encryption  # noqa: E402
from infra.tiers.failover import build_failover, peer_stack, split_brain_gate  # noqa: E402
from infra.tiers.storage import build_storage  # noqa: E402
from infra.tiers.traffic import build_traffic  # noqa: E402
from infra.tiers.workloads import build_workloads, workload_alarms  # noqa: E402


def main() -> None:
    settings = providers.load()
    peer = peer_stack(settings)
    aws_provider = providers.regional_provider(settings, split_brain_gate(settings, peer))
    regional = pulumi.ResourceOptions(providers=[aws_provider])

    edge = build_edge(settings, regional)
    encryption = build_encryption(settings, regional, key_statements(settings, edge))
    storage = build_storage(settings, regional, encryption, bucket_statements(settings, edge))
    build_edge_logging(settings, regional, encryption, edge)
    data = build_data_tier(settings, regional, encryption)
    vault = build_backups(settings, regional, encryption)
    # The record's check comes from the failover tier, which needs the record's probe first.
    record_check: pulumi.Output[str]
    use_record_check: Callable[[pulumi.Output[str]], None]
    record_check, use_record_check = pulumi.deferred_output()
    api = build_traffic(settings, regional, record_check)
    try:
        failover, facts = build_failover(settings, regional, peer, encryption, data, api)
    except BaseException:
        use_record_check(api.health_check_id)  # let the record settle, so the error ends the run
        raise
    use_record_check(failover.record_health_check_id)
    alarms = [*data.lag_alarms, *workload_alarms(settings), *backup_alarms(settings)]
    alerts = build_alarms(
        settings, regional, encryption, api, alarms, data, storage.buckets.get("logs")
    )
    workloads = build_workloads(
        settings, aws_provider, encryption.key.key_arn, data.endpoints, alerts.topic_arn
    )

    export_outputs(settings, encryption, storage, data, vault, api, alerts, workloads)
    export_failover(settings, peer, failover, facts)
    export_edge(edge)


main()
