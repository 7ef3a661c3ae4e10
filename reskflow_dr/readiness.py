"""Live readiness checks with boto3: is a stack's region ready to take over, or (after a
promotion) serving as the primary?

What to check is read offline from the plans (identifiers, bucket names, vaults, schedules,
health-check endpoints, key aliases); only the checks themselves call AWS, through
:class:`Clients` (explicit region, optional endpoint URL for any AWS-compatible endpoint).

Each check gives one row: ``pass``, ``fail`` or ``skip`` (nothing declared to check, no data to
judge, or the call would need the lost peer region). The run passes when no row fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Literal, TypeVar

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from reskflow_dr.budget import (
    BACKUP_VAULT,
    BUCKET,
    HEALTH_CHECK,
    REPLICATION,
    BackupRule,
    backup_rules,
    human,
)
from reskflow_dr.engine import Plan

T = TypeVar("T")
Status = Literal["pass", "fail", "skip"]
Mode = Literal["ready", "promoted"]
RDS_INSTANCE = "aws:rds/instance:Instance"
KMS_ALIAS = "aws:kms/alias:Alias"
#: Route 53 is a global service whose API (control plane) is served from us-east-1.
ROUTE53_REGION = "us-east-1"
#: Route 53 treats an endpoint as healthy when more than 18 % of its checkers say so.
HEALTHY_SHARE = 0.18
#: AWS Backup's default start window when a rule declares none (8 hours).
DEFAULT_START_WINDOW_MINUTES = 480
#: S3 Replication Time Control's threshold: the bound on replication latency.
S3_LATENCY_LIMIT_SECONDS = 15 * 60
LAG_WINDOW = timedelta(minutes=10)
S3_WINDOW = timedelta(hours=1)


class ReadinessError(Exception):
    """The checks cannot run at all. ``str(err)`` is the one-line message."""


class CredentialsMissingError(ReadinessError):
    """No AWS credentials are configured."""


class CheckError(ReadinessError):
    """One AWS call failed; the check that made it reports a failed row."""


@dataclass(frozen=True)
class CheckResult:
    check: str
    target: str
    status: Status
    detail: str

    def to_json(self) -> dict[str, str]:
        return {
            "check": self.check,
            "target": self.target,
            "status": self.status,
            "detail": self.detail,
        }


# --------------------------------------------------------------------------------------------
# What to check, read offline from the plans
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplicationRef:
    source_bucket: str
    destination_bucket: str
    rule_id: str
    source_region: str


@dataclass(frozen=True)
class VaultRef:
    name: str
    max_age: timedelta | None
    formula: str


@dataclass(frozen=True)
class HealthCheckRef:
    fqdn: str
    resource_path: str
    port: int | None


@dataclass(frozen=True)
class Targets:
    stack: str
    region: str
    peer_region: str
    replicas: tuple[str, ...] = ()
    instances: tuple[str, ...] = ()
    replication: tuple[ReplicationRef, ...] = ()
    vaults: tuple[VaultRef, ...] = ()
    health_checks: tuple[HealthCheckRef, ...] = ()
    keys: tuple[str, ...] = ()


def targets_from_plans(plan: Plan, peer_plan: Plan) -> Targets:
    """Everything the checks look for in ``plan``'s region, from the two stacks' plans."""
    region = str(plan.outputs.get("region", ""))
    dbs = plan.of_type(RDS_INSTANCE)
    return Targets(
        stack=plan.stack,
        region=region,
        peer_region=str(peer_plan.outputs.get("region", "")),
        replicas=tuple(_ident(r.inputs) for r in dbs if r.inputs.get("replicateSourceDb")),
        instances=tuple(_ident(r.inputs) for r in dbs),
        replication=tuple(_replication_refs(plan, peer_plan)),
        vaults=tuple(_vault_refs(plan, peer_plan, region)),
        health_checks=tuple(
            HealthCheckRef(
                str(hc.inputs.get("fqdn", "")),
                str(hc.inputs.get("resourcePath", "/")),
                hc.inputs.get("port"),
            )
            for hc in plan.of_type(HEALTH_CHECK)
        ),
        keys=tuple(str(a.inputs["name"]) for a in plan.of_type(KMS_ALIAS) if a.inputs.get("name")),
    )


def _ident(inputs: dict[str, Any]) -> str:
    return str(inputs.get("identifier", ""))


def _replication_refs(plan: Plan, peer_plan: Plan) -> Iterator[ReplicationRef]:
    names = {str(b.inputs.get("bucket")) for b in plan.of_type(BUCKET)}
    for cfg in peer_plan.of_type(REPLICATION):
        for rule in cfg.inputs.get("rules") or []:
            dest = str((rule.get("destination") or {}).get("bucket", "")).rsplit(":", 1)[-1]
            if dest in names:
                yield ReplicationRef(
                    str(cfg.inputs.get("bucket")), dest, str(rule.get("id")), cfg.region
                )


def _vault_refs(plan: Plan, peer_plan: Plan, region: str) -> Iterator[VaultRef]:
    rules = [r for r in backup_rules((plan, peer_plan)) if r.vault_region == region]
    for vault in plan.of_type(BACKUP_VAULT):
        name = str(vault.inputs.get("name"))
        ages = [_max_age(rule) for rule in rules if rule.vault == name and not rule.continuous]
        known = [a for a in ages if a is not None]
        if not known:
            yield VaultRef(name, None, "no scheduled rule lands in this vault")
        else:
            yield VaultRef(name, *min(known))


def _max_age(rule: BackupRule) -> tuple[timedelta, str] | None:
    """How old the newest recovery point of a rule may be: its schedule interval, plus the start
    window, plus (for a copy, which starts once the backup is done) the completion window."""
    if rule.interval is None:
        return None
    window = rule.start_window_minutes or DEFAULT_START_WINDOW_MINUTES
    extra = (rule.completion_window_minutes or 0) if rule.copy else 0
    formula = f"{rule.name}: {rule.schedule} + start window {window} min"
    if extra:
        formula += f" + completion window {extra} min"
    return rule.interval + timedelta(minutes=window + extra), formula


# --------------------------------------------------------------------------------------------
# AWS access
# --------------------------------------------------------------------------------------------


@dataclass
class Clients:
    """boto3 clients per (service, region), created on first use with an explicit region."""

    endpoint_url: str | None = None
    session: Any = None
    made: dict[tuple[str, str], Any] = field(default_factory=dict)
    """The clients made so far; a test may place a stubbed client here first."""

    def __call__(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self.made:
            factory = self.session or boto3
            self.made[key] = factory.client(
                service, region_name=region, endpoint_url=self.endpoint_url
            )
        return self.made[key]


def _call(fn: Callable[..., Any], **kwargs: Any) -> Any:
    """One AWS call; errors become :class:`CheckError` with a one-line reason."""
    try:
        return fn(**kwargs)
    except NoCredentialsError:
        raise CredentialsMissingError(
            "no AWS credentials: configure a profile or environment credentials for the account"
        ) from None
    except ClientError as err:
        info = err.response.get("Error", {})
        raise CheckError(f"{info.get('Code', 'Error')}: {info.get('Message', err)}") from None
    except BotoCoreError as err:
        raise CheckError(str(err)) from None


def _pages(client: Any, operation: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Every page of a paginated call, inside :func:`_call` (pages are fetched lazily)."""
    return list(_call(lambda **kw: list(client.get_paginator(operation).paginate(**kw)), **kwargs))


def _max_metric(
    clients: Clients,
    region: str,
    namespace: str,
    metric: str,
    dims: dict[str, str],
    since: timedelta,
    now: datetime,
) -> float | None:
    out = _call(
        clients("cloudwatch", region).get_metric_statistics,
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
        StartTime=now - since,
        EndTime=now,
        Period=60,
        Statistics=["Maximum"],
    )
    points = [p["Maximum"] for p in out.get("Datapoints", [])]
    return max(points) if points else None


# --------------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    targets: Targets
    clients: Clients
    rpo_seconds: int
    now: datetime
    peer_lost: bool = False


def _describe_db(ctx: Context, ident: str) -> dict[str, Any] | None:
    rds = ctx.clients("rds", ctx.targets.region)
    try:
        out = _call(rds.describe_db_instances, DBInstanceIdentifier=ident)
    except CheckError as err:
        if "DBInstanceNotFound" in str(err):
            return None
        raise
    found: list[dict[str, Any]] = out.get("DBInstances", [])
    return found[0] if found else None


def check_replica(ctx: Context, ident: str) -> CheckResult:
    db = _describe_db(ctx, ident)
    if db is None:
        return CheckResult("replica", ident, "fail", "replica missing: no such DB instance")
    source = db.get("ReadReplicaSourceDBInstanceIdentifier")
    if not source:
        return CheckResult("replica", ident, "fail", "not a replica: promoted or standalone")
    if db.get("DBInstanceStatus") != "available":
        return CheckResult("replica", ident, "fail", f"status {db.get('DBInstanceStatus')}")
    dims = {"DBInstanceIdentifier": ident}
    lag = _max_metric(
        ctx.clients, ctx.targets.region, "AWS/RDS", "ReplicaLag", dims, LAG_WINDOW, ctx.now
    )
    if lag is None:
        return CheckResult(
            "replica",
            ident,
            "fail",
            f"no ReplicaLag datapoints in {human(LAG_WINDOW.total_seconds())}",
        )
    status: Status = "pass" if lag <= ctx.rpo_seconds else "fail"
    detail = (
        f"replicating from {source}; ReplicaLag max {human(lag)} (RPO {human(ctx.rpo_seconds)})"
    )
    return CheckResult("replica", ident, status, detail)


def check_promoted(ctx: Context, ident: str) -> CheckResult:
    db = _describe_db(ctx, ident)
    if db is None:
        return CheckResult("primary", ident, "fail", "no such DB instance")
    if db.get("ReadReplicaSourceDBInstanceIdentifier"):
        return CheckResult("primary", ident, "fail", "still a replica: promotion not done")
    status: Status = "pass" if db.get("DBInstanceStatus") == "available" else "fail"
    return CheckResult("primary", ident, status, f"writable, status {db.get('DBInstanceStatus')}")


def check_s3(ctx: Context, ref: ReplicationRef) -> CheckResult:
    target = f"{ref.source_bucket} -> {ref.destination_bucket}"
    if ctx.peer_lost and ref.source_region == ctx.targets.peer_region:
        return CheckResult(
            "s3 replication", target, "skip", f"metrics live in {ref.source_region} (lost)"
        )
    dims = {
        "SourceBucket": ref.source_bucket,
        "DestinationBucket": ref.destination_bucket,
        "RuleId": ref.rule_id,
    }
    latency = _max_metric(
        ctx.clients, ref.source_region, "AWS/S3", "ReplicationLatency", dims, S3_WINDOW, ctx.now
    )
    if latency is None:
        return CheckResult(
            "s3 replication", target, "skip", "no ReplicationLatency datapoints in 1 h (no traffic)"
        )
    status: Status = "pass" if latency <= S3_LATENCY_LIMIT_SECONDS else "fail"
    return CheckResult(
        "s3 replication", target, status, f"latency max {human(latency)} (RTC 15 min)"
    )


def check_vault(ctx: Context, ref: VaultRef) -> CheckResult:
    if ref.max_age is None:
        return CheckResult("recovery point", ref.name, "skip", ref.formula)
    backup = ctx.clients("backup", ctx.targets.region)
    newest: datetime | None = None
    for page in _pages(backup, "list_recovery_points_by_backup_vault", BackupVaultName=ref.name):
        for point in page.get("RecoveryPoints", []):
            created = point["CreationDate"]
            newest = created if newest is None or created > newest else newest
    if newest is None:
        return CheckResult("recovery point", ref.name, "fail", "no recovery point in the vault")
    age = ctx.now - newest
    status: Status = "pass" if age <= ref.max_age else "fail"
    allowed = human(ref.max_age.total_seconds())
    detail = f"newest {human(age.total_seconds())} old, allowed {allowed} ({ref.formula})"
    return CheckResult("recovery point", ref.name, status, detail)


def check_health(ctx: Context, ref: HealthCheckRef) -> CheckResult:
    target = f"{ref.fqdn}{ref.resource_path}"
    if ctx.peer_lost and ctx.targets.peer_region == ROUTE53_REGION:
        return CheckResult(
            "health check", target, "skip", "the Route 53 API is served from us-east-1 (lost)"
        )
    r53 = ctx.clients("route53", ROUTE53_REGION)
    pages = _pages(r53, "list_health_checks")
    found = [h for p in pages for h in p["HealthChecks"] if _matches(h["HealthCheckConfig"], ref)]
    if not found:
        return CheckResult("health check", target, "fail", "no health check for this endpoint")
    config = found[0]["HealthCheckConfig"]
    if config.get("Disabled"):
        return CheckResult(
            "health check", target, "fail", "disabled (drained): Route 53 ignores the endpoint"
        )
    observations = _call(r53.get_health_check_status, HealthCheckId=found[0]["Id"])[
        "HealthCheckObservations"
    ]
    ok = sum(1 for o in observations if o["StatusReport"]["Status"].startswith("Success"))
    share = ok / len(observations) if observations else 0.0
    healthy = share > HEALTHY_SHARE
    if config.get("Inverted"):
        healthy = not healthy
    detail = f"{ok}/{len(observations)} checkers report healthy (healthy above 18 %)"
    return CheckResult("health check", target, "pass" if healthy else "fail", detail)


def _matches(config: dict[str, Any], ref: HealthCheckRef) -> bool:
    same = config.get("FullyQualifiedDomainName") == ref.fqdn
    same = same and config.get("ResourcePath", "/") == ref.resource_path
    return same and (ref.port is None or config.get("Port") == ref.port)


def check_key(ctx: Context, key: str) -> CheckResult:
    kms = ctx.clients("kms", ctx.targets.region)
    meta = _call(kms.describe_key, KeyId=key)["KeyMetadata"]
    state = meta.get("KeyState")
    kind = (meta.get("MultiRegionConfiguration") or {}).get("MultiRegionKeyType", "single-Region")
    return CheckResult(
        "kms key", key, "pass" if state == "Enabled" else "fail", f"{kind.lower()} key, {state}"
    )


def _each(
    check: str,
    items: Sequence[T],
    target: Callable[[T], str],
    fn: Callable[[T], CheckResult],
    what: str,
) -> list[CheckResult]:
    """One row per item (a failed AWS call fails that row only); a skip row when there is none."""
    if not items:
        return [CheckResult(check, "-", "skip", f"no {what} declared in this plan")]
    rows = []
    for item in items:
        try:
            rows.append(fn(item))
        except CheckError as err:
            rows.append(CheckResult(check, target(item), "fail", str(err)))
    return rows


def run(ctx: Context, mode: Mode = "ready") -> list[CheckResult]:
    """Every check for ``mode``: ``ready`` (a failover target) or ``promoted`` (after promotion)."""
    t = ctx.targets
    rows: list[CheckResult] = []
    if mode == "ready":
        rows += _each("replica", t.replicas, str, partial(check_replica, ctx), "RDS read replica")
        rows += _each(
            "s3 replication",
            t.replication,
            lambda r: r.destination_bucket,
            partial(check_s3, ctx),
            "replication into this region",
        )
        rows += _each(
            "recovery point", t.vaults, lambda v: v.name, partial(check_vault, ctx), "backup vault"
        )
    else:
        rows += _each("primary", t.instances, str, partial(check_promoted, ctx), "RDS instance")
    rows += _each(
        "health check",
        t.health_checks,
        lambda h: h.fqdn,
        partial(check_health, ctx),
        "Route 53 health check",
    )
    rows += _each("kms key", t.keys, str, partial(check_key, ctx), "KMS key alias")
    return rows


def passed(rows: list[CheckResult]) -> bool:
    return all(r.status != "fail" for r in rows)


def now_utc() -> datetime:
    return datetime.now(UTC)
