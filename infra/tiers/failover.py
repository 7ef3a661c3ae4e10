"""Failover execution, wired into the stacks (docs/traffic-switch.md, "Who owns what"):

- the **dr** stack (us-west-2) declares the traffic switch (ARC routing controls, or the signal
  alarms and calculated checks): ARC's configuration API is in us-west-2, and the signal alarms
  live on the side that survives a us-east-1 outage;
- the **prod** stack (us-east-1) declares the Region switch plan: its configuration API is in
  us-east-1 and it never changes with a role switch;
- **each** stack declares its own region's step Lambdas (fixed names, so the plan names the
  peer's functions without its stack).

What only the peer's deployment produces (the switch's health check ids and ARNs, the peer's
fence groups) is read from the peer stack's outputs through a ``pulumi.StackReference`` whose
absence the program survives: without it the failover record keeps its endpoint probe, prod
declares no ARC-mode plan, and a stack output says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.region_switch import RegionSwitchPlan, RegionSwitchPlanArgs
from components.region_switch_steps import PlanContext
from components.step_functions import StepFunctions, StepFunctionsArgs
from components.traffic import FailoverEndpoint
from components.traffic_switch import TrafficSwitch, TrafficSwitchArgs
from components.workloads import SERVICES
from failover_steps.contract import StepConfig
from infra.settings import (
    DOCDB_GLOBAL_IDENTIFIER,
    NORMALLY_ACTIVE_REGION,
    ConfigError,
    StackSettings,
    docdb_cluster_identifier,
)
from infra.settings.failover import (
    PEER_STACK_KEY,
    PLAN_OWNER_REGION,
    SWITCH_OWNER_REGION,
    SwitchFacts,
    facts_from_outputs,
    step_config,
)
from infra.settings.guards import check_peer_outputs
from infra.tiers.data import DataTier
from infra.tiers.encryption import Encryption

#: Output the peer reads (and the tool's ``step_config`` inputs): see infra/outputs.py.
FACTS_OUTPUT = "failoverFacts"
#: The record's health check source, as the ``failover.recordHealthCheck`` output says it.
SWITCH_CHECK, PROBE_CHECK = "traffic-switch", "endpoint-probe"


@dataclass(frozen=True)
class PeerStack:
    """The peer stack's outputs, or nothing (no reference: first bring-up, state unreachable)."""

    name: str | None
    ref: pulumi.StackReference | None

    def get(self, output: str) -> pulumi.Output[Any]:
        if self.ref is None:
            return pulumi.Output.from_input(None)
        # ``outputs`` rather than ``get_output``: a read that returns no output map at all
        # (a mock) reads as a peer with no outputs instead of failing.
        return self.ref.outputs.apply(lambda outputs: (outputs or {}).get(output))

    def facts(self) -> pulumi.Output[Mapping[str, Any] | None]:
        return self.get(FACTS_OUTPUT)


def peer_stack(settings: StackSettings) -> PeerStack:
    name = settings.failover.peer_stack
    if name is None:
        return PeerStack(None, None)
    return PeerStack(name, pulumi.StackReference(f"peer-{settings.peer_region}", stack_name=name))


def split_brain_gate(settings: StackSettings, peer: PeerStack) -> pulumi.Output[str]:
    """This stack's region, once the peer's deployed role allows this stack's role: the regional
    provider takes its region from it, so nothing is changed when the guard refuses."""

    def check(peer_role: Any) -> str:
        try:
            check_peer_outputs(settings, peer.name or "", peer_role)
        except ConfigError as err:
            raise pulumi.RunError(str(err)) from None
        return settings.region

    return peer.get("role").apply(check)


@dataclass
class FailoverTier:
    """What the failover tier declared, for the outputs."""

    record_health_check_id: pulumi.Output[str]
    record_check_source: pulumi.Output[str]
    switch: TrafficSwitch | None = None
    plan: RegionSwitchPlan | None = None
    functions: StepFunctions | None = None
    step_config: pulumi.Output[StepConfig] | None = None
    notes: list[str] = field(default_factory=list)


def _peer_fact(peer: PeerStack, key: str, region: str | None = None) -> pulumi.Output[Any]:
    """One fact the prod plan cannot be declared without; a clear failure when missing."""

    def pick(facts: Mapping[str, Any] | None) -> Any:
        value = (facts or {}).get(key)
        if isinstance(value, dict) and region is not None:
            value = value.get(region)
        if not value:
            raise pulumi.RunError(
                f"stack {peer.name} exports no {FACTS_OUTPUT}.{key}"
                f"{'.' + region if region else ''}: run `pulumi up` on it first (it declares "
                f"the traffic switch), or set {PEER_STACK_KEY.name} none"
            )
        return value

    return peer.facts().apply(pick)


def _facts(
    settings: StackSettings, data: DataTier, switch: TrafficSwitch | None
) -> pulumi.Output[dict[str, Any]]:
    """This stack's ``failoverFacts``: what the peer stack and the tool need from it."""
    own: dict[str, Any] = {
        "fenceSecurityGroupIds": {settings.region: data.fence_security_group_ids},
        "dbGenerations": {settings.region: settings.database.generation},
        "cacheGlobalDatastoreId": data.cache.global_datastore_id,
    }
    if switch is not None:
        own["switchHealthCheckIds"] = switch.health_check_ids
        own["routingControlArns"] = switch.routing_control_arns
        own["clusterArn"] = switch.cluster_arn
        own["controlPanelArn"] = switch.control_panel_arn
        own["clusterEndpoints"] = switch.cluster_endpoints
    return pulumi.Output.from_input(own)


def build_failover(
    settings: StackSettings,
    regional: pulumi.ResourceOptions,
    peer: PeerStack,
    encryption: Encryption,
    data: DataTier,
    api: FailoverEndpoint,
) -> tuple[FailoverTier, pulumi.Output[dict[str, Any]]]:
    f, region = settings.failover, settings.region
    regions = (NORMALLY_ACTIVE_REGION, SWITCH_OWNER_REGION)
    tier_notes: list[str] = []
    switch: TrafficSwitch | None = None
    if region == SWITCH_OWNER_REGION:
        probes: dict[str, pulumi.Input[str]] = {region: api.health_check_id}
        if f.traffic_mode == "signal":  # a reference is required (parse_failover)
            probes[settings.peer_region] = peer.get("healthCheckId")
        switch = TrafficSwitch(
            "switch",
            TrafficSwitchArgs(
                mode=f.traffic_mode,
                regions=regions,
                endpoint_health_check_ids=probes,
                signal_region=f.signal_region,
            ),
            opts=regional,
        )
        record_check: pulumi.Output[str] = switch.health_check_ids[region]
        source = pulumi.Output.from_input(SWITCH_CHECK)
    else:
        peer_ids = peer.facts().apply(lambda facts: (facts or {}).get("switchHealthCheckIds"))
        record_check = pulumi.Output.all(peer_ids, api.health_check_id).apply(
            lambda v: str((v[0] or {}).get(region) or v[1])
        )
        source = peer_ids.apply(
            lambda ids: SWITCH_CHECK if (ids or {}).get(region) else PROBE_CHECK
        )
        if peer.ref is None:
            tier_notes.append(
                "no peer stack reference: the failover record keeps its endpoint probe until the "
                "dr stack's traffic switch exists and this stack is updated again"
            )

    facts_out = _facts(settings, data, switch)
    all_facts = pulumi.Output.all(facts_out, peer.facts()).apply(
        lambda v: facts_from_outputs(v[1], v[0])
    )
    config = all_facts.apply(lambda facts: step_config(settings, facts))
    tier = FailoverTier(record_check, source, switch=switch, step_config=config, notes=tier_notes)
    if not f.region_switch:
        tier.notes.append("Region switch disabled: the tool's local runner executes every step")
        return tier, facts_out
    tier.functions = StepFunctions(
        "steps",
        StepFunctionsArgs(
            region=region, step_config=config, log_kms_key_arn=encryption.key.key_arn
        ),
        opts=regional,
    )
    if region == PLAN_OWNER_REGION:
        tier.plan = _plan(settings, regional, peer, tier.notes)
    return tier, facts_out


def _plan(
    settings: StackSettings, regional: pulumi.ResourceOptions, peer: PeerStack, notes: list[str]
) -> RegionSwitchPlan | None:
    f = settings.failover
    regions = (NORMALLY_ACTIVE_REGION, SWITCH_OWNER_REGION)
    arc = f.traffic_mode == "arc"
    if arc and peer.ref is None:
        notes.append(
            "no peer stack reference: the Region switch plan (ARC mode) needs the dr stack's "
            "routing controls and is declared at the next update after `pulumi up -s dr`"
        )
        return None
    assert f.approval_role_arn is not None  # required while Region switch is enabled
    w = settings.workloads
    ctx = PlanContext(
        regions=regions,
        account_id=settings.account_id,
        traffic_mode=f.traffic_mode,
        approval_role_arn=f.approval_role_arn,
        docdb_global_id=DOCDB_GLOBAL_IDENTIFIER,
        docdb_cluster_ids={r: docdb_cluster_identifier(r) for r in regions},
        eks_cluster_names=dict(f.eks_cluster_names),
        namespace=w.namespace if w is not None else "reskflow",
        deployments=[s.name for s in SERVICES],
        routing_control_arns={r: _peer_fact(peer, "routingControlArns", r) for r in regions}
        if arc
        else None,
    )
    return RegionSwitchPlan(
        "region-switch",
        RegionSwitchPlanArgs(
            context=ctx,
            name=f.plan_name,
            cluster_arn=_peer_fact(peer, "clusterArn") if arc else None,
            control_panel_arn=_peer_fact(peer, "controlPanelArn") if arc else None,
            recovery_time_objective_minutes=settings.recovery.rto_minutes,
        ),
        opts=regional,
    )


__all__ = [
    "FACTS_OUTPUT",
    "FailoverTier",
    "PeerStack",
    "SwitchFacts",
    "build_failover",
    "peer_stack",
    "split_brain_gate",
]
