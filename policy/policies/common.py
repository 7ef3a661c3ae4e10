"""Shared helpers of the ReskFlow DR policy pack.

Every policy in the pack is built by :func:`resource_policy` or :func:`stack_policy` from a
:class:`Meta` (stable name, one-line description, remediation, enforcement, config schema) and a
check function. Check functions see resources through :class:`Res`, one view for both the
resource-level (``Analyze``) and the stack-level (``AnalyzeStack``) interface, and report through
:class:`Findings`.

Values unknown at preview are *not checkable*: :func:`get` returns :data:`UNKNOWN` for them, a
check records them with :meth:`Findings.unknown`, and after every definite violation has been
reported :meth:`Findings.done` raises :class:`NotCheckableError`. The policy SDK turns that
exception into an advisory "can't run policy ... during preview" diagnostic, under
``pulumi preview`` and offline alike, so an unknown value is never a silent pass nor a failure.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

PACK_NAME = "reskflow-dr"

#: The literal an offline plan uses for a value unknown at preview.
PLAN_UNKNOWN = "[unknown]"

# Resource type tokens (pulumi_aws v7).
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
BUCKET_SSE = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
BUCKET_PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
BUCKET_REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
KMS_KEY = "aws:kms/key:Key"
KMS_REPLICA_KEY = "aws:kms/replicaKey:ReplicaKey"
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
RDS_BACKUPS_REPLICATION = (
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
)
DOCDB_CLUSTER = "aws:docdb/cluster:Cluster"
DOCDB_PARAMETER_GROUP = "aws:docdb/clusterParameterGroup:ClusterParameterGroup"
DOCDB_GLOBAL_CLUSTER = "aws:docdb/globalCluster:GlobalCluster"
CACHE_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
CACHE_GLOBAL_GROUP = "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup"
BACKUP_VAULT = "aws:backup/vault:Vault"
BACKUP_VAULT_LOCK = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"
BACKUP_PLAN = "aws:backup/plan:Plan"
BACKUP_SELECTION = "aws:backup/selection:Selection"
ROUTE53_RECORD = "aws:route53/record:Record"
ROUTE53_HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
SNS_TOPIC = "aws:sns/topic:Topic"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
AWS_PROVIDER = "pulumi:providers:aws"

#: Resources that hold data: protected, retained, deletion-protected, and counted by 3-2-1.
DATA_BEARING_TYPES: frozenset[str] = frozenset(
    {
        BUCKET,
        KMS_KEY,
        KMS_REPLICA_KEY,
        RDS_INSTANCE,
        DOCDB_CLUSTER,
        DOCDB_GLOBAL_CLUSTER,
        CACHE_GROUP,
        BACKUP_VAULT,
    }
)


# --------------------------------------------------------------------------------------------
# Reading values that may be unknown
# --------------------------------------------------------------------------------------------


class _Unknown:
    """The type of :data:`UNKNOWN`."""

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        raise TypeError("UNKNOWN has no truth value: test it with `is UNKNOWN` first")


#: A value that is not known until the resources are created.
UNKNOWN: Any = _Unknown()


def get(obj: Any, *path: str | int) -> Any:
    """The value at ``path`` inside ``obj``: None when absent, :data:`UNKNOWN` when unknown."""
    cur = obj
    for key in path:
        if cur is None or cur is UNKNOWN:
            return cur
        try:
            if isinstance(key, int):
                if isinstance(cur, (str, bytes)) or not isinstance(cur, Sequence):
                    return None
                if key >= len(cur):
                    return None
                cur = cur[key]
            else:
                if not isinstance(cur, Mapping):
                    return None
                cur = cur[key]
        except UnknownValueError:
            return UNKNOWN
        except KeyError:
            return None
    if isinstance(cur, str) and cur == PLAN_UNKNOWN:
        return UNKNOWN
    return cur


def items(obj: Any, *path: str | int) -> Any:
    """The list at ``path`` (elements read with :func:`get`), [] when absent, or UNKNOWN."""
    value = get(obj, *path)
    if value is UNKNOWN:
        return UNKNOWN
    if value is None or isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        return []
    return [get(value, i) for i in range(len(value))]


def present(obj: Any, *path: str | int) -> bool:
    """True when the value at ``path`` is set to anything, known or not."""
    value = get(obj, *path)
    return value is UNKNOWN or (value is not None and value != "" and value != [])


def num(value: Any) -> float | None:
    """A number from a property value (numbers arrive as floats or numeric strings)."""
    if value is None or value is UNKNOWN or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def fmt(value: float) -> str:
    """A number without a trailing ``.0``."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def is_enabled(value: Any) -> bool:
    """True for ``"Enabled"`` (S3's status strings) and boolean true."""
    return value is True or (isinstance(value, str) and value.lower() == "enabled")


# --------------------------------------------------------------------------------------------
# ARNs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arn:
    """The parts of an ARN: ``arn:partition:service:region:account:resource``."""

    partition: str
    service: str
    region: str
    account: str
    resource: str


def parse_arn(value: Any) -> Arn | None:
    """The parsed ARN, or None when ``value`` is not an ARN string."""
    if not isinstance(value, str) or not value.startswith("arn:"):
        return None
    parts = value.split(":", 5)
    if len(parts) != 6:
        return None
    return Arn(parts[1], parts[2], parts[3], parts[4], parts[5])


def arn_region(value: Any) -> str | None:
    """The region inside an ARN, or None when the value is not an ARN with a region."""
    arn = parse_arn(value)
    return arn.region if arn is not None and arn.region else None


def arn_matches(pattern: str, service: str, region: str | None, resource: str) -> bool:
    """Whether an ARN pattern (``*`` wildcards, as in a Backup selection) names a resource."""
    if pattern == "*":
        return True
    arn = parse_arn(pattern)
    if arn is None:
        return False
    if not fnmatch.fnmatchcase(service, arn.service):
        return False
    if arn.region and region is not None and not fnmatch.fnmatchcase(region, arn.region):
        return False
    return fnmatch.fnmatchcase(resource, arn.resource)


def aws_managed_key(value: Any) -> bool:
    """True for an AWS managed key reference such as ``alias/aws/s3``."""
    if not isinstance(value, str):
        return False
    arn = parse_arn(value)
    ref = arn.resource if arn is not None else value
    return ref.startswith("alias/aws/")


def json_document(value: Any) -> Any:
    """A JSON document given as a string or an object; UNKNOWN or None when not readable."""
    if value is UNKNOWN or value is None:
        return value
    if isinstance(value, Mapping):
        return value
    if not isinstance(value, str):
        return None
    if PLAN_UNKNOWN in value or UNKNOWN_STRING_VALUE in value:
        return UNKNOWN
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return None


def as_list(value: Any) -> list[Any]:
    """A JSON policy field that may be one value or a list, as a list."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


# --------------------------------------------------------------------------------------------
# One view of a resource for both interfaces
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Res:
    """A resource as a check sees it, from ``Analyze`` or ``AnalyzeStack``."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    protect: bool
    provider_props: Mapping[str, Any] | None
    parent: str | None = None
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def get(self, *path: str | int) -> Any:
        return get(self.props, *path)

    def items(self, *path: str | int) -> Any:
        return items(self.props, *path)

    @property
    def region(self) -> Any:
        """The resource's region: its own ``region`` input, else its provider's region."""
        own = self.get("region")
        if own is not None:
            return own
        return get(self.provider_props, "region") if self.provider_props is not None else None

    @property
    def tags(self) -> dict[str, Any]:
        """Tags as AWS sees them: the provider's default tags, then the resource's own."""
        merged: dict[str, Any] = {}
        # Provider inputs reach the analyzer as strings: defaultTags is a JSON document.
        defaults = json_document(get(self.provider_props, "defaultTags"))
        for source in (get(defaults, "tags"), self.get("tags")):
            if isinstance(source, Mapping):
                merged.update({k: get(source, k) for k in source})
        return merged

    @classmethod
    def from_args(cls, args: ResourceValidationArgs) -> Res:
        provider = args.provider
        return cls(
            type=args.resource_type,
            name=args.name,
            urn=args.urn,
            props=args.props,
            protect=bool(args.opts.protect),
            provider_props=provider.props if provider is not None else None,
            parent=args.opts.parent,
        )

    @classmethod
    def from_stack(cls, r: PolicyResource) -> Res:
        provider = r.provider
        return cls(
            type=r.resource_type,
            name=r.name,
            urn=r.urn,
            props=r.props,
            protect=bool(r.opts.protect),
            provider_props=provider.props if provider is not None else None,
            parent=r.parent.urn if r.parent is not None else r.opts.parent,
            dependencies=tuple(d.urn for d in r.dependencies),
            property_dependencies={
                k: tuple(d.urn for d in v) for k, v in r.property_dependencies.items()
            },
        )


class Stack:
    """All resources of a stack, indexed for the joins the stack-level policies need."""

    def __init__(self, resources: Iterable[Res]) -> None:
        self.resources = list(resources)
        self.by_urn = {r.urn: r for r in self.resources}
        self._by_type: dict[str, list[Res]] = {}
        for r in self.resources:
            self._by_type.setdefault(r.type, []).append(r)
        self.buckets_by_name: dict[str, Res] = {}
        for b in self.of_type(BUCKET):
            name = b.get("bucket")
            if isinstance(name, str):
                self.buckets_by_name[name] = b

    def of_type(self, *types: str) -> list[Res]:
        return [r for t in types for r in self._by_type.get(t, [])]

    def referenced(self, res: Res, prop: str, *types: str) -> list[Res]:
        """Resources of ``types`` that ``res.prop`` depends on (the engine's property deps)."""
        urns = res.property_dependencies.get(prop, ())
        found = [self.by_urn[u] for u in urns if u in self.by_urn]
        return [r for r in found if r.type in types]

    def bucket_of(self, res: Res) -> Any:
        """The Bucket a bucket-configuration resource applies to.

        Joined on the ``bucket`` input (the bucket's name), or, when that is unknown at preview,
        on the engine's property dependency of ``bucket``. Returns None for a bucket outside this
        stack and UNKNOWN when neither is known.
        """
        name = res.get("bucket")
        if isinstance(name, str):
            return self.buckets_by_name.get(name)
        refs = self.referenced(res, "bucket", BUCKET)
        if refs:
            return refs[0]
        return UNKNOWN

    def companions(self, resource_type: str) -> tuple[dict[str, list[Res]], list[Res]]:
        """Configuration resources of a type grouped by bucket URN, and those not joinable."""
        joined: dict[str, list[Res]] = {}
        unjoined: list[Res] = []
        for c in self.of_type(resource_type):
            bucket = self.bucket_of(c)
            if bucket is UNKNOWN:
                unjoined.append(c)
            elif bucket is not None:
                joined.setdefault(bucket.urn, []).append(c)
        return joined, unjoined

    def region_of_bucket_arn(self, arn: Any) -> Any:
        """Region of a bucket named by ARN when that bucket is in this stack, else None."""
        parsed = parse_arn(arn)
        if parsed is None or parsed.service != "s3":
            return None
        bucket = self.buckets_by_name.get(parsed.resource)
        return bucket.region if bucket is not None else None


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------


class NotCheckableError(UnknownValueError):
    """Raised after all definite violations: some values could not be checked at preview."""

    def __init__(self, what: Sequence[str]) -> None:
        super().__init__(UNKNOWN_STRING_VALUE, [])
        self.message = "not checkable at preview (values known only after apply): " + "; ".join(
            what
        )


class Findings:
    """Collects a check's violations (reported at once) and unknowns (raised at the end)."""

    def __init__(self, report: ReportViolation) -> None:
        self._report = report
        self._unknowns: list[str] = []
        self.count = 0

    def fail(self, message: str, res: Res | None = None) -> None:
        self.count += 1
        self._report(message, res.urn if res is not None else None)

    def unknown(self, res: Res, what: str) -> None:
        self._unknowns.append(f"{res.name}: {what}")

    def done(self) -> None:
        if self._unknowns:
            raise NotCheckableError(self._unknowns)


# --------------------------------------------------------------------------------------------
# Building policies
# --------------------------------------------------------------------------------------------


class Level(Enum):
    """How a policy is enforced: data safety, encryption, 3-2-1 and deployability block."""

    MANDATORY = EnforcementLevel.MANDATORY
    ADVISORY = EnforcementLevel.ADVISORY


@dataclass(frozen=True)
class Meta:
    """What every policy declares about itself."""

    name: str
    description: str
    remediation: str
    category: str
    level: Level = Level.MANDATORY
    severity: Severity = Severity.HIGH
    schema: Mapping[str, Mapping[str, Any]] | None = None


def config_with_defaults(
    config: Mapping[str, Any], schema: Mapping[str, Mapping[str, Any]] | None
) -> dict[str, Any]:
    """The policy's config, each absent property taken from its schema default."""
    merged = {k: spec["default"] for k, spec in (schema or {}).items() if "default" in spec}
    merged.update({k: v for k, v in config.items() if k != "enforcementLevel"})
    return merged


ResourceCheck = Callable[[Res, Mapping[str, Any], Findings], None]
StackCheck = Callable[[Stack, Mapping[str, Any], Findings], None]


def _common_kwargs(meta: Meta) -> dict[str, Any]:
    schema = {k: dict(v) for k, v in meta.schema.items()} if meta.schema else None
    return {
        "name": meta.name,
        "description": meta.description,
        "enforcement_level": meta.level.value,
        "config_schema": PolicyConfigSchema(properties=schema) if schema else None,
        "severity": meta.severity,
        "tags": [meta.category],
        "remediation_steps": meta.remediation,
    }


def resource_policy(
    meta: Meta, types: Collection[str] | Callable[[str], bool], check: ResourceCheck
) -> ResourceValidationPolicy:
    """A resource-level policy running ``check`` on resources of ``types``."""
    applies = types if callable(types) else frozenset(types).__contains__

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if not applies(args.resource_type):
            return
        findings = Findings(report)
        check(Res.from_args(args), config_with_defaults(args.get_config(), meta.schema), findings)
        findings.done()

    return ResourceValidationPolicy(validate=validate, **_common_kwargs(meta))


def stack_policy(meta: Meta, check: StackCheck) -> StackValidationPolicy:
    """A stack-level policy running ``check`` on the whole resource graph."""

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        findings = Findings(report)
        stack = Stack(Res.from_stack(r) for r in args.resources)
        check(stack, config_with_defaults(args.get_config(), meta.schema), findings)
        findings.done()

    return StackValidationPolicy(validate=validate, **_common_kwargs(meta))


# --------------------------------------------------------------------------------------------
# Config schema fragments shared by several policies
# --------------------------------------------------------------------------------------------

ALLOWED_REGIONS_SCHEMA: dict[str, dict[str, Any]] = {
    "allowedRegions": {
        "type": "array",
        "items": {"type": "string"},
        "default": ["us-east-1", "us-west-2"],
        "description": "Regions this program may deploy to; the peer of one is any other.",
    }
}


def peer_regions(region: Any, cfg: Mapping[str, Any]) -> list[str]:
    """The allowed regions other than ``region``."""
    return [r for r in cfg.get("allowedRegions", []) if r != region]


# --------------------------------------------------------------------------------------------
# Checks shared by several services
# --------------------------------------------------------------------------------------------


def is_true(value: Any) -> bool:
    return value is True


def not_true(value: Any) -> bool:
    return value is not True


@dataclass(frozen=True)
class Flag:
    """An input that must satisfy ``ok``; ``label`` states the requirement."""

    path: tuple[str, ...]
    label: str
    ok: Callable[[Any], bool] = is_true


def kind_of(res: Res) -> str:
    """The short type name of a resource, e.g. ``Instance`` (``provider`` for a provider)."""
    return "provider" if res.type.startswith("pulumi:providers:") else res.type.split(":")[-1]


def check_flags(res: Res, flags: Iterable[Flag], out: Findings) -> None:
    """Report each flag whose value does not satisfy its requirement (absent included)."""
    for flag in flags:
        value = res.get(*flag.path)
        if value is UNKNOWN:
            out.unknown(res, ".".join(flag.path))
        elif not flag.ok(value):
            shown = "not set" if value is None else json.dumps(value)
            out.fail(f"{kind_of(res)} {res.name}: {flag.label} (is {shown})")


def check_cmk(res: Res, key_path: tuple[str, ...], out: Findings) -> None:
    """Report a missing key, or an AWS managed key, at ``key_path``: a CMK must be named."""
    value = res.get(*key_path)
    kind = kind_of(res)
    where = ".".join(key_path)
    if value is UNKNOWN:
        return  # a key created in this update: a CMK by construction
    if value is None or value == "":
        out.fail(f"{kind} {res.name}: no customer managed KMS key ({where} not set)")
    elif aws_managed_key(value):
        out.fail(f"{kind} {res.name}: {where} {value} is an AWS managed key, not a CMK")


# --------------------------------------------------------------------------------------------
# Encryption in transit through a database parameter group (RDS and DocumentDB)
# --------------------------------------------------------------------------------------------

_ON_VALUES = frozenset({"1", "on", "true", "enabled"})


@dataclass(frozen=True)
class TlsRule:
    """Where a database engine's "require TLS" setting lives.

    ``parameter`` returns the (name, what) of the parameter that forces TLS for this resource's
    engine, or None when the engine has none we know; ``default_on`` tells whether the engine's
    default parameter group already forces TLS.
    """

    group_field: str
    group_type: str
    parameter: Callable[[Res], tuple[str, str] | None]
    default_on: Callable[[Res], bool]


def _group_of(stack: Stack, res: Res, rule: TlsRule) -> Any:
    name = res.get(rule.group_field)
    if name is None:
        return None
    if isinstance(name, str):
        for group in stack.of_type(rule.group_type):
            if group.get("name") == name:
                return group
        return UNKNOWN  # a group managed outside this stack
    refs = stack.referenced(res, rule.group_field, rule.group_type)
    return refs[0] if refs else UNKNOWN


def check_tls_parameter(stack: Stack, resource_type: str, rule: TlsRule, out: Findings) -> None:
    """Every database of ``resource_type`` forces TLS through its parameter group."""
    for db in stack.of_type(resource_type):
        wanted = rule.parameter(db)
        if wanted is None:
            continue
        parameter, shown = wanted
        group = _group_of(stack, db, rule)
        if group is UNKNOWN:
            out.unknown(db, f"the parameter group {rule.group_field} (outside this stack)")
            continue
        setting = None
        if group is not None:
            params = group.items("parameters")
            if params is UNKNOWN:
                out.unknown(group, "parameters")
                continue
            setting = next((get(p, "value") for p in params if get(p, "name") == parameter), None)
        if setting is None and rule.default_on(db):
            continue
        if setting is None or str(setting).lower() not in _ON_VALUES:
            where = f"parameter group {group.name}" if group is not None else "default group"
            value = "unset" if setting is None else str(setting)
            out.fail(
                f"{kind_of(db)} {db.name}: {where} leaves {parameter} {value}; "
                f"set it to {shown} to refuse unencrypted connections",
                db,
            )


# --------------------------------------------------------------------------------------------
# AWS Backup schedules
# --------------------------------------------------------------------------------------------

DAY_MINUTES = 24 * 60.0
WEEK_MINUTES = 7 * DAY_MINUTES
_RATE_UNITS = {"minute": 1.0, "hour": 60.0, "day": DAY_MINUTES}


def _cron_interval(expr: str) -> float:
    fields = expr.split()
    if len(fields) < 5:
        return DAY_MINUTES
    _minute, hour, dom, _month, dow = fields[:5]
    if dow not in ("*", "?"):
        days = sum(1 + _range_len(part) for part in dow.split(","))
        return WEEK_MINUTES / max(days, 1)
    if dom not in ("*", "?"):
        return 30 * DAY_MINUTES
    if hour == "*":
        return 60.0
    if hour.startswith("*/") and hour[2:].isdigit():
        return 60.0 * int(hour[2:])
    return DAY_MINUTES / len(hour.split(","))


_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


def _range_len(part: str) -> int:
    """Extra days named by a cron day-of-week range such as ``MON-FRI`` (0 for a single day)."""
    if "-" not in part:
        return 0
    lo, hi = part.split("-", 1)
    index = {d: i for i, d in enumerate(_WEEKDAYS)}
    try:
        a = index.get(lo.upper(), int(lo) - 1 if lo.isdigit() else 0)
        b = index.get(hi.upper(), int(hi) - 1 if hi.isdigit() else 0)
    except ValueError:
        return 0
    return max(b - a, 0)


def schedule_interval_minutes(schedule: Any) -> float:
    """Minutes between two runs of a Backup rule (AWS's default schedule is daily)."""
    if not isinstance(schedule, str):
        return DAY_MINUTES
    text = schedule.strip()
    if text.startswith("cron(") and text.endswith(")"):
        return _cron_interval(text[5:-1])
    if text.startswith("rate(") and text.endswith(")"):
        parts = text[5:-1].split()
        if len(parts) == 2 and parts[0].isdigit():
            unit = parts[1].rstrip("s").lower()
            return int(parts[0]) * _RATE_UNITS.get(unit, DAY_MINUTES)
    return DAY_MINUTES


def rule_kind(rule: Any) -> str:
    """``continuous``, ``weekly`` (a week or longer between runs) or ``daily``."""
    if get(rule, "enableContinuousBackup") is True:
        return "continuous"
    if schedule_interval_minutes(get(rule, "schedule")) >= WEEK_MINUTES:
        return "weekly"
    return "daily"
