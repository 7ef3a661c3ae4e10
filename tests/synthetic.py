"""Small hand-built plans: the shapes later tiers declare (replicas, generations, alarms, health
checks, backup plans), so the drill logic is proven without those tiers."""

from __future__ import annotations

from typing import Any

from reskflow_dr.engine import Plan, PlannedResource

ACCOUNT = "123456789012"
REGIONS = {"prod": "us-east-1", "dr": "us-west-2"}
#: The dr region's uploads twin and vault: where prod's replication and backup copies land.
SOURCE, DEST = "reskflow-uploads-us-east-1", "reskflow-uploads-us-west-2"
VAULT = "reskflow-dr-us-west-2"


def replication_rule() -> dict[str, Any]:
    """prod's replication rule to dr's uploads bucket, with Replication Time Control."""
    return {
        "id": "to-us-west-2",
        "destination": {
            "bucket": f"arn:aws:s3:::{DEST}",
            "replicationTime": {"status": "Enabled", "time": {"minutes": 15}},
        },
    }


def daily_backup_rule(**extra: Any) -> dict[str, Any]:
    """prod's daily backup rule, copied to dr's vault."""
    return {
        "ruleName": "daily",
        "schedule": "cron(0 5 ? * * *)",
        "targetVaultName": "reskflow-dr-us-east-1",
        **extra,
        "copyActions": [
            {"destinationVaultArn": f"arn:aws:backup:us-west-2:{ACCOUNT}:backup-vault:{VAULT}"}
        ],
    }


def provider_urn(stack: str) -> str:
    return f"urn:pulumi:{stack}::reskflow::pulumi:providers:aws::aws-{REGIONS[stack]}"


def res(
    stack: str,
    type_: str,
    name: str,
    inputs: dict[str, Any] | None = None,
    *,
    data: bool = False,
) -> PlannedResource:
    """A custom resource; ``data=True`` gives it protect and retainOnDelete, as every
    data-bearing resource of the program has."""
    return PlannedResource(
        urn=f"urn:pulumi:{stack}::reskflow::{type_}::{name}",
        type=type_,
        name=name,
        parent=None,
        provider=f"{provider_urn(stack)}::provider-id",
        region=REGIONS[stack],
        custom=True,
        inputs=dict(inputs or {}),
        options={"protect": data, "retainOnDelete": data, "dependsOn": [], "ignoreChanges": []},
    )


def provider(stack: str, region: str | None = None) -> PlannedResource:
    return PlannedResource(
        urn=provider_urn(stack),
        type="pulumi:providers:aws",
        name=f"aws-{REGIONS[stack]}",
        parent=None,
        provider="",
        region=region or REGIONS[stack],
        custom=True,
        inputs={"region": region or REGIONS[stack]},
        options={"protect": False, "retainOnDelete": False, "dependsOn": [], "ignoreChanges": []},
    )


def plan(stack: str, *resources: PlannedResource) -> Plan:
    return Plan(
        project="reskflow",
        stack=stack,
        config={},
        resources=list(resources),
        outputs={"region": REGIONS[stack]},
    )


def db_arn(region: str, generation: int) -> str:
    return f"arn:aws:rds:{region}:{ACCOUNT}:db:reskflow-postgres-g{generation}"


def postgres(
    stack: str, generation: int, source: str | None = None, **extra: Any
) -> PlannedResource:
    """An RDS PostgreSQL generation; with ``source`` it is a cross-region read replica."""
    inputs: dict[str, Any] = {
        "identifier": f"reskflow-postgres-g{generation}",
        "instanceClass": "db.r6g.large",
        "kmsKeyId": f"arn:aws:kms:{REGIONS[stack]}:{ACCOUNT}:key/mrk-0123",
        "deletionProtection": True,
        **extra,
    }
    if source:
        inputs["replicateSourceDb"] = source
    return res(stack, "aws:rds/instance:Instance", f"postgres-g{generation}", inputs, data=True)
