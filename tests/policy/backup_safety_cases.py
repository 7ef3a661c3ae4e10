"""Non-compliant fixtures of the backup-safety policies (engine retentions, continuous rule,
replicas, isolated copy, Object Lock): each mutates one input of the compliant reference plan.
Collected into ``test_policy_rules.CASES``, which asserts the exact set each one flags."""

from __future__ import annotations

from typing import Any

from .builders import remove, resource

Plan = dict[str, Any]


def _inputs(plan: Plan, name: str) -> dict[str, Any]:
    return resource(plan, name)["inputs"]  # type: ignore[no-any-return]


def _rule(plan: Plan, rule_name: str) -> dict[str, Any]:
    rules = _inputs(plan, "backup-plan")["rules"]
    return next(r for r in rules if r["ruleName"] == rule_name)  # type: ignore[no-any-return]


def drop_isolated_copy(plan: Plan) -> None:
    rule = _rule(plan, "daily")
    rule["copyActions"] = [
        c for c in rule["copyActions"] if not c["destinationVaultArn"].endswith("-airgapped")
    ]


def copy_to_other_account_instead(plan: Plan) -> None:
    """Passes: a copy to a vault of another account survives this account."""
    for name in ("daily", "weekly"):
        for copy in _rule(plan, name)["copyActions"]:
            if copy["destinationVaultArn"].endswith("-airgapped"):
                copy["destinationVaultArn"] = (
                    "arn:aws:backup:us-east-1:210987654321:backup-vault:reskflow-isolated"
                )
    remove(plan, "airgapped")
    remove(plan, "airgapped-policy")


RETENTION = "reskflow-data-backup-retention"
REPLICA = "reskflow-backup-replica-not-selected"
CONTINUOUS = "reskflow-backup-continuous-covers-engine"
ISOLATED = "reskflow-backup-isolated-copy"
OBJECT_LOCK = "reskflow-s3-backups-object-lock"
NO_ISOLATED = (
    "no copy to a logically air-gapped vault or to another account's vault; every copy stays "
    "in an account whose keys can destroy them all"
)

#: (policy, mutate, expected {resource: [messages]}, stack, config)
CASES: dict[str, tuple[str, Any, dict[str, list[str]], str, dict[str, Any] | None]] = {
    "rds-retention-3-days": (
        RETENTION,
        lambda p: _inputs(p, "orders-db").update(backupRetentionPeriod=3),
        {"orders-db": ["orders-db: backupRetentionPeriod is 3 days, below the 7-day minimum"]},
        "prod",
        None,
    ),
    "rds-retention-from-config": (
        RETENTION,
        lambda p: None,
        {"orders-db": ["orders-db: backupRetentionPeriod is 7 days, below the 10-day minimum"]},
        "prod",
        {RETENTION: {"postgresDays": 10}},
    ),
    "docdb-retention-unset": (
        RETENTION,
        lambda p: _inputs(p, "sessions-docdb").pop("backupRetentionPeriod"),
        {
            "sessions-docdb": [
                "sessions-docdb: backupRetentionPeriod is unset, below the 7-day minimum"
            ]
        },
        "prod",
        None,
    ),
    "cache-snapshots-1-day": (
        RETENTION,
        lambda p: _inputs(p, "cache").update(snapshotRetentionLimit=1),
        {"cache": ["cache: snapshotRetentionLimit is 1 days, below the 7-day minimum"]},
        "prod",
        None,
    ),
    "replica-selected": (
        REPLICA,
        lambda p: _inputs(p, "orders-replica").update(tags={"reskflow:backup": "dr"}),
        {
            "orders-replica": [
                "orders-replica is a read replica but carries the backup selection tag "
                "reskflow:backup=dr: AWS Backup would back it up (and own its automated backups)"
            ]
        },
        "dr",
        None,
    ),
    "continuous-1-day": (
        CONTINUOUS,
        lambda p: _rule(p, "continuous")["lifecycle"].update(deleteAfter=1),
        {
            "backup-plan": [
                "Plan backup-plan: the continuous rule keeps 1 days, less than orders-db's "
                "backupRetentionPeriod (7); AWS Backup applies the plan's retention to the "
                "instance's automated backups"
            ]
        },
        "prod",
        None,
    ),
    "isolated-copy-missing": (
        ISOLATED,
        drop_isolated_copy,
        {"backup-plan": [f"Plan backup-plan rule daily: {NO_ISOLATED}"]},
        "prod",
        None,
    ),
    "isolated-vault-deletable": (
        ISOLATED,
        lambda p: remove(p, "airgapped-policy"),
        {
            "airgapped": ["Air-gapped vault airgapped has no access policy denying deletion"],
            "backup-plan": [
                f"Plan backup-plan rule daily: {NO_ISOLATED}",
                f"Plan backup-plan rule weekly: {NO_ISOLATED}",
            ],
        },
        "dr",
        None,
    ),
    "object-lock-missing": (
        OBJECT_LOCK,
        lambda p: remove(p, "backups-object-lock"),
        {"backups": ["Backup bucket backups has no Object Lock"]},
        "prod",
        None,
    ),
    "object-lock-too-short": (
        OBJECT_LOCK,
        lambda p: _inputs(p, "backups-object-lock")["rule"]["defaultRetention"].update(days=1),
        {
            "backups": [
                "Backup bucket backups: Object Lock default retention is 1 days, below the "
                "7-day minimum"
            ]
        },
        "dr",
        None,
    ),
}
