"""The traffic switch, on data planes only (never Route 53's control plane).

``arc`` mode: the ARC cluster's routing controls, changed through the cluster's regional
data-plane endpoints, tried in turn (AWS: "choose a random cluster endpoint ... if the call
fails, try another endpoint";
https://docs.aws.amazon.com/r53recovery/latest/dg/route53-arc-best-practices.html#route53-arc-best-practices.regional).
``signal`` mode: a CloudWatch metric per region that the gating alarms of the calculated health
checks watch (docs/traffic-switch.md).
"""

from __future__ import annotations

from collections.abc import Collection

from botocore.exceptions import BotoCoreError, ClientError

from failover_steps.aws import Check, StepError, StepResult, client, facts, unreachable
from failover_steps.contract import ClusterEndpoint, StepConfig

ARC_ATTEMPTS_PER_ENDPOINT = 2
"""Standard retries inside one endpoint stay short: the next endpoint is the better retry."""


def _ordered_endpoints(
    config: StepConfig, avoid_regions: Collection[str]
) -> tuple[ClusterEndpoint, ...]:
    usable = tuple(e for e in config.cluster_endpoints if e.region not in avoid_regions)
    if not usable:
        raise StepError(
            "no ARC cluster endpoint outside "
            f"{sorted(avoid_regions)}: cluster_endpoints has {len(config.cluster_endpoints)}"
        )
    return usable


def _routing_controls(config: StepConfig) -> dict[str, str]:
    controls = {r: f.routing_control_arn for r, f in config.regions.items()}
    missing = sorted(r for r, arn in controls.items() if not arn)
    if missing:
        raise StepError(f"routing_control_arn is empty for {', '.join(missing)}")
    return controls


def set_routing_controls(
    config: StepConfig, active_region: str, *, avoid_regions: Collection[str] = ()
) -> StepResult:
    """Set the active region's routing control On and every other Off in ONE
    UpdateRoutingControlStates call (the safety rules judge the change as a whole), through the
    first cluster endpoint that answers. Endpoints in ``avoid_regions`` (a lost region) are never
    called. An endpoint that cannot serve now (connection refused or timed out, throttling, 5xx)
    passes to the next; a refusal that every endpoint would give (a safety rule, access denied)
    raises at once. The states are then read back from the same endpoint."""
    facts(config, active_region)
    controls = _routing_controls(config)
    entries = [
        {"RoutingControlArn": arn, "RoutingControlState": "On" if r == active_region else "Off"}
        for r, arn in sorted(controls.items())
    ]
    failures: list[str] = []
    for endpoint in _ordered_endpoints(config, avoid_regions):
        arc = client(
            "route53-recovery-cluster",
            endpoint.region,
            endpoint_url=endpoint.endpoint,
            max_attempts=ARC_ATTEMPTS_PER_ENDPOINT,
        )
        try:
            arc.update_routing_control_states(UpdateRoutingControlStateEntries=entries)
            states = {
                r: str(arc.get_routing_control_state(RoutingControlArn=arn)["RoutingControlState"])
                for r, arn in sorted(controls.items())
            }
        except (BotoCoreError, ClientError) as err:
            if not unreachable(err):
                raise StepError(f"ARC endpoint {endpoint.endpoint} refused: {err}") from err
            failures.append(f"{endpoint.region}: {type(err).__name__}")
            continue
        checks = tuple(
            Check(
                f"routing-control:{r}",
                state == ("On" if r == active_region else "Off"),
                f"{state} (read from {endpoint.region})",
            )
            for r, state in states.items()
        )
        return StepResult(
            "switch_traffic",
            active_region,
            changed=(f"route53-recovery-cluster:UpdateRoutingControlStates via {endpoint.region}",),
            checks=checks,
            notes=tuple(f"endpoint unavailable: {f}" for f in failures),
            data={"endpoint": endpoint.endpoint},
        )
    raise StepError(f"no ARC cluster endpoint answered: {'; '.join(failures)}")


def get_routing_control_states(
    config: StepConfig, *, avoid_regions: Collection[str] = ()
) -> dict[str, str]:
    """Region -> ``On``/``Off``, read from the first cluster endpoint that answers."""
    controls = _routing_controls(config)
    failures: list[str] = []
    for endpoint in _ordered_endpoints(config, avoid_regions):
        arc = client(
            "route53-recovery-cluster",
            endpoint.region,
            endpoint_url=endpoint.endpoint,
            max_attempts=ARC_ATTEMPTS_PER_ENDPOINT,
        )
        try:
            return {
                r: str(arc.get_routing_control_state(RoutingControlArn=arn)["RoutingControlState"])
                for r, arn in sorted(controls.items())
            }
        except (BotoCoreError, ClientError) as err:
            if not unreachable(err):
                raise
            failures.append(f"{endpoint.region}: {type(err).__name__}")
    raise StepError(f"no ARC cluster endpoint answered: {'; '.join(failures)}")


def set_traffic_signal(
    config: StepConfig, active_region: str, *, avoid_regions: Collection[str] = ()
) -> StepResult:
    """Signal mode: publish ``<signal_metric>`` with dimension ``Region=<r>`` (1 for the active
    region, 0 for every other) into the CloudWatch of each region in ``signal_regions``.

    Semantics: the publication into the active region's own CloudWatch must succeed (that is
    the surviving side, whose alarms gate the peer's traffic); a region in ``avoid_regions`` (lost)
    is not called at all; any other region that is unreachable is reported in ``notes`` and
    does not fail the step (``checks`` lists the regions that took the signal). Publishing
    again is harmless: the alarms read the latest value."""
    facts(config, active_region)
    if not config.signal_regions:
        raise StepError("signal_regions is empty: signal mode needs at least the active region")
    if active_region not in config.signal_regions:
        raise StepError(
            f"signal_regions {list(config.signal_regions)} leaves out the active region "
            f"{active_region}: its CloudWatch must hold the signal"
        )
    data = [
        {
            "MetricName": config.signal_metric,
            "Dimensions": [{"Name": "Region", "Value": r}],
            "Value": 1.0 if r == active_region else 0.0,
            "Unit": "Count",
        }
        for r in sorted(config.regions)
    ]
    changed: list[str] = []
    notes: list[str] = []
    checks: list[Check] = []
    for region in config.signal_regions:
        if region in avoid_regions:
            notes.append(f"{region}: not called (region declared lost)")
            continue
        try:
            client("cloudwatch", region).put_metric_data(
                Namespace=config.signal_namespace, MetricData=data
            )
        except (BotoCoreError, ClientError) as err:
            if region == active_region or not unreachable(err):
                raise StepError(f"publishing the signal into {region} failed: {err}") from err
            notes.append(f"{region}: unreachable ({type(err).__name__}), signal not published")
            continue
        changed.append(f"cloudwatch:PutMetricData {config.signal_namespace} in {region}")
        checks.append(Check(f"signal:{region}", True, f"{active_region}=1, others 0"))
    return StepResult(
        "set_traffic_signal",
        active_region,
        changed=tuple(changed),
        checks=tuple(checks),
        notes=tuple(notes),
    )
