"""Failover execution: the traffic switch, the Region switch plan, the peer stack reference and
the fence of a returning region (docs/traffic-switch.md).

:func:`step_config` is the one place where the step handlers' :class:`StepConfig` is built from
both stacks' settings; the program (the Lambda environment) and the tool (the local runner)
both call it, so the two runners act on the same stores.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from failover_steps.contract import ClusterEndpoint, RegionFacts, StepConfig, TrafficMode
from infra.settings.core import (
    NORMALLY_ACTIVE_REGION,
    PROJECT,
    SUPPORTED_REGIONS,
    ConfigError,
    Key,
)
from infra.settings.data import (
    DOCDB_GLOBAL_IDENTIFIER,
    docdb_cluster_identifier,
    postgres_identifier,
    redis_replication_group_id,
)
from infra.settings.parse import as_bool, as_object, choice

if TYPE_CHECKING:
    from infra.settings.stack import StackSettings

TRAFFIC_MODES: tuple[str, ...] = ("arc", "signal")
#: The stack that manages each region (one stack per region, fixed).
STACK_OF_REGION: dict[str, str] = {"us-east-1": "prod", "us-west-2": "dr"}
#: Owners (docs/traffic-switch.md, "Who owns what"): the switch's configuration API is in
#: us-west-2, the Region switch plan's in us-east-1.
SWITCH_OWNER_REGION = "us-west-2"
PLAN_OWNER_REGION = "us-east-1"
#: ``peerStack`` value that turns the stack reference off.
NO_PEER_STACK = "none"

_PLAN_NAME_RE = re.compile(r"[A-Za-z0-9-]{1,32}")
_ROLE_ARN_RE = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}")
_EKS_NAME_RE = re.compile(r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}")
_STACK_REF_RE = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class FailoverSettings:
    """How a failover is executed and what holds a region out of traffic."""

    traffic_mode: TrafficMode = "arc"
    signal_region: str = SWITCH_OWNER_REGION
    region_switch: bool = True
    """False: no Region switch plan; the tool's local runner executes every step."""
    plan_name: str = "reskflow-dr"
    approval_role_arn: str | None = None
    eks_cluster_names: Mapping[str, str] = field(default_factory=dict)
    peer_stack: str | None = None
    """Fully qualified name of the peer stack to read outputs from, or None (no reference)."""
    fence_data_stores: bool = False
    """Attach the no-ingress fence to this region's DocumentDB cluster and Redis group."""


def default_eks_cluster_names() -> dict[str, str]:
    return {r: f"{PROJECT}-{r}" for r in SUPPORTED_REGIONS}


def _eks_names(raw: str | None) -> dict[str, str]:
    names = default_eks_cluster_names()
    if raw is None or raw == "":
        return names
    key = EKS_CLUSTER_NAMES_KEY.name
    given = as_object(key, raw)
    for region, name in given.items():
        if region not in SUPPORTED_REGIONS:
            raise ConfigError(
                f"{key}.{region}", name, "keys are regions: " + ", ".join(SUPPORTED_REGIONS)
            )
        if not isinstance(name, str) or not _EKS_NAME_RE.fullmatch(name):
            raise ConfigError(
                f"{key}.{region}",
                name,
                "an EKS cluster name: 1-100 letters, digits, '-' or '_', starting with a "
                "letter or digit",
            )
        names[region] = name
    return names


def _peer_stack(
    raw: Mapping[str, str], peer_region: str, peer_deployed: bool, peer_lost: bool, org: str
) -> str | None:
    key = PEER_STACK_KEY.name
    value = (raw.get(key) or "").strip()
    if value == NO_PEER_STACK:
        return None
    if value and not _STACK_REF_RE.fullmatch(value):
        raise ConfigError(
            key,
            value,
            f"expected ORGANIZATION/PROJECT/STACK, or {NO_PEER_STACK!r} for no reference",
        )
    if not peer_deployed:
        return None  # first bring-up: the peer's stack does not exist yet
    # A lost peer's *state* stays readable (the state backend must survive a region's loss,
    # DESIGN); its outputs are the last deployment's, which the guard and the records expect.
    return value or f"{org}/{PROJECT}/{STACK_OF_REGION[peer_region]}"


def parse_failover(
    raw: Mapping[str, str],
    *,
    region: str,
    peer_region: str,
    role: str,
    peer_role: str,
    peer_deployed: bool,
    peer_lost: bool,
    organization: str = "organization",
) -> FailoverSettings:
    """The failover keys, validated (one line naming the key, the value and what is allowed)."""
    mode = choice(TRAFFIC_SWITCH_KEY.name, raw.get(TRAFFIC_SWITCH_KEY.name) or "arc", TRAFFIC_MODES)
    signal_region = choice(
        SIGNAL_REGION_KEY.name,
        raw.get(SIGNAL_REGION_KEY.name) or SWITCH_OWNER_REGION,
        SUPPORTED_REGIONS,
    )
    enabled_raw = raw.get(REGION_SWITCH_KEY.name)
    enabled = True if not enabled_raw else as_bool(REGION_SWITCH_KEY.name, enabled_raw)
    plan_name = raw.get(REGION_SWITCH_PLAN_NAME_KEY.name) or "reskflow-dr"
    if not _PLAN_NAME_RE.fullmatch(plan_name):
        raise ConfigError(
            REGION_SWITCH_PLAN_NAME_KEY.name, plan_name, "1-32 letters, digits and hyphens"
        )
    approval = raw.get(APPROVAL_ROLE_ARN_KEY.name) or None
    if approval is not None and not _ROLE_ARN_RE.fullmatch(approval):
        raise ConfigError(
            APPROVAL_ROLE_ARN_KEY.name, approval, "an IAM role ARN: arn:aws:iam::ACCOUNT:role/NAME"
        )
    if enabled and approval is None:
        raise ConfigError(
            APPROVAL_ROLE_ARN_KEY.name,
            None,
            f"required while {REGION_SWITCH_KEY.name} is true: the role an approver assumes to "
            "approve the plan's approval step (or set it false to run every step locally)",
        )
    fence_raw = raw.get(FENCE_DATA_STORES_KEY.name)
    fenced = (
        returning_region(region, role, peer_role)
        if not fence_raw
        else as_bool(FENCE_DATA_STORES_KEY.name, fence_raw)
    )
    if fenced and role == "active":
        raise ConfigError(
            FENCE_DATA_STORES_KEY.name,
            True,
            "an active stack serves and writes: only a passive stack's stores are fenced",
        )
    peer_stack = _peer_stack(raw, peer_region, peer_deployed, peer_lost, organization)
    if mode == "signal" and region == SWITCH_OWNER_REGION and peer_stack is None:
        raise ConfigError(
            PEER_STACK_KEY.name,
            raw.get(PEER_STACK_KEY.name) or None,
            f"signal mode: the {region} stack's calculated checks need the peer's endpoint probe "
            "(its healthCheckId output); name the peer stack",
        )
    return FailoverSettings(
        traffic_mode=mode,  # type: ignore[arg-type]  # narrowed by choice
        signal_region=signal_region,
        region_switch=enabled,
        plan_name=plan_name,
        approval_role_arn=approval,
        eks_cluster_names=_eks_names(raw.get(EKS_CLUSTER_NAMES_KEY.name)),
        peer_stack=peer_stack,
        fence_data_stores=fenced,
    )


def returning_region(region: str, role: str, peer_role: str) -> bool:
    """The default fence: the normally active region, passive while its peer is active (after a
    failover, planned or not). Its DocumentDB cluster and Redis group were the global primaries
    and may be writable again when it comes back; they stay fenced until reconciled."""
    return region == NORMALLY_ACTIVE_REGION and role == "passive" and peer_role == "active"


def serves_traffic(settings: StackSettings) -> bool:
    """Whether this region may receive traffic: active and not fenced. The workloads' readiness
    (``/health``) honours it (docs/workloads.md)."""
    return settings.role == "active" and not settings.failover.fence_data_stores


# --------------------------------------------------------------------------------------------
# The step handlers' configuration, from both stacks' settings
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SwitchFacts:
    """What only the deployment of the stacks produces: fence group ids and the ARC cluster."""

    fence_security_group_ids: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Region -> store kind (postgres, docdb, cache) -> fence security group id."""
    routing_control_arns: Mapping[str, str] = field(default_factory=dict)
    cluster_endpoints: Sequence[Mapping[str, str]] = ()
    cache_global_datastore_id: str = ""
    db_generations: Mapping[str, int] = field(default_factory=dict)
    """Region -> live PostgreSQL generation, as each stack exports it."""


def step_config(settings: StackSettings, facts: SwitchFacts | None = None) -> StepConfig:
    """The :class:`StepConfig` of both regions, from one stack's settings (which name the peer's
    generation and the global stores) and the deployment facts both stacks export
    (``failoverFacts`` stack output). Pure: the same inputs give the same JSON."""
    facts = facts or SwitchFacts()
    db, f = settings.database, settings.failover
    # A passive stack names the peer's generation (peerDbGeneration); an active one learns the
    # replica's from the peer's facts, and without them assumes the next number.
    peer_generation = db.peer_generation or facts.db_generations.get(
        settings.peer_region, db.generation + 1
    )
    generations = {settings.region: db.generation, settings.peer_region: peer_generation}
    regions = {}
    for r in sorted((settings.region, settings.peer_region)):
        regions[r] = RegionFacts(
            region=r,
            postgres_id=postgres_identifier(generations[r]),
            docdb_cluster_id=docdb_cluster_identifier(r),
            cache_group_id=redis_replication_group_id(r),
            fence_security_group_ids=dict(facts.fence_security_group_ids.get(r, {})),
            routing_control_arn=facts.routing_control_arns.get(r, ""),
        )
    return StepConfig(
        account_id=settings.account_id,
        regions=regions,
        docdb_global_id=DOCDB_GLOBAL_IDENTIFIER,
        cache_global_id=facts.cache_global_datastore_id or (db.cache_global_datastore_id or ""),
        traffic_mode=f.traffic_mode,
        cluster_endpoints=tuple(
            ClusterEndpoint(e["region"], e["endpoint"]) for e in facts.cluster_endpoints
        ),
        signal_regions=(f.signal_region,) if f.traffic_mode == "signal" else (),
    )


def facts_from_outputs(*outputs: Mapping[str, Any] | None) -> SwitchFacts:
    """Merge the ``failoverFacts`` outputs of one or both stacks (missing ones are skipped)."""
    merged = SwitchFacts()
    for out in outputs:
        if not out:
            continue
        fences = {**merged.fence_security_group_ids, **(out.get("fenceSecurityGroupIds") or {})}
        merged = replace(
            merged,
            fence_security_group_ids=fences,
            routing_control_arns=out.get("routingControlArns") or merged.routing_control_arns,
            cluster_endpoints=tuple(out.get("clusterEndpoints") or merged.cluster_endpoints),
            cache_global_datastore_id=out.get("cacheGlobalDatastoreId")
            or merged.cache_global_datastore_id,
            db_generations={**merged.db_generations, **(out.get("dbGenerations") or {})},
        )
    return merged


def step_config_json(settings: StackSettings, facts: SwitchFacts | None = None) -> str:
    return json.dumps(json.loads(step_config(settings, facts).to_json()), sort_keys=True)


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------

TRAFFIC_SWITCH_KEY = Key(
    f"{PROJECT}:trafficSwitch",
    "string",
    "`arc`",
    "What holds a region out of traffic on Route 53's data plane (docs/traffic-switch.md): "
    "`arc` (ARC routing controls with safety rules; the default for real DR, billed per cluster "
    "hour) or `signal` (calculated health checks gated by a CloudWatch signal; cheaper, cannot "
    "fail over when the signal region is lost). Declared by the dr stack; both stacks must agree.",
    choices=TRAFFIC_MODES,
    pulumi_default="arc",
)

SIGNAL_REGION_KEY = Key(
    f"{PROJECT}:signalRegion",
    "string",
    f"`{SWITCH_OWNER_REGION}`",
    "`signal` mode: the region whose CloudWatch holds both regions' signal alarms (the side "
    "that survives a us-east-1 outage).",
    choices=SUPPORTED_REGIONS,
)

REGION_SWITCH_KEY = Key(
    f"{PROJECT}:regionSwitch",
    "boolean",
    "`true`",
    "Declare the ARC Region switch plan (prod stack) that executes failovers from the region "
    "being activated. `false` (a partition without Region switch, or opting out): the tool's "
    "local runner executes the same steps in the same order.",
    pulumi_default=True,
)

REGION_SWITCH_PLAN_NAME_KEY = Key(
    f"{PROJECT}:regionSwitchPlanName",
    "string",
    "`reskflow-dr`",
    "Name of the Region switch plan (1-32 letters, digits and hyphens).",
    pulumi_default="reskflow-dr",
)

APPROVAL_ROLE_ARN_KEY = Key(
    f"{PROJECT}:failoverApprovalRoleArn",
    "string",
    f"required while `{PROJECT}:regionSwitch` is true",
    "IAM role an approver assumes to approve the plan's manual approval step.",
)

EKS_CLUSTER_NAMES_KEY = Key(
    f"{PROJECT}:eksClusterNames",
    "object",
    "`reskflow-<region>` per region",
    "Region -> EKS cluster name, for the plan's EKS resource scaling step (the clusters are not "
    "this program's).",
    fields=SUPPORTED_REGIONS,
)

PEER_STACK_KEY = Key(
    f"{PROJECT}:peerStack",
    "string",
    "`<organization>/reskflow/<peer stack>`; no reference while `peerDeployed` is false",
    "The peer stack whose outputs this stack reads (switch health checks, plan facts, the "
    f"peer's role for the split-brain guard). `{NO_PEER_STACK}`: no reference (peer state "
    "unreachable); the failover record then keeps its endpoint probe.",
)

FENCE_DATA_STORES_KEY = Key(
    f"{PROJECT}:fenceDataStores",
    "boolean",
    f"`true` in {NORMALLY_ACTIVE_REGION} while passive with an active peer",
    "Attach the no-ingress fence security groups to this region's DocumentDB cluster and Redis "
    "replication group, so a region coming back after a disaster takes no writes until it is "
    "reconciled; set `false` once its stores have rejoined the global stores as secondaries.",
)

#: This tier's keys, in the order the README lists them.
KEYS: tuple[Key, ...] = (
    TRAFFIC_SWITCH_KEY,
    SIGNAL_REGION_KEY,
    REGION_SWITCH_KEY,
    REGION_SWITCH_PLAN_NAME_KEY,
    APPROVAL_ROLE_ARN_KEY,
    EKS_CLUSTER_NAMES_KEY,
    PEER_STACK_KEY,
    FENCE_DATA_STORES_KEY,
)
