"""The traffic switch: what decides, on Route 53's data plane alone, which region gets traffic.

Two modes (docs/traffic-switch.md compares them, with their costs and failure timelines):

``arc``
    Route 53 Application Recovery Controller routing control: one cluster (five regional
    data-plane endpoints), one control panel, one routing control per region, and two assertion
    safety rules that together allow exactly one region On. Each region gets a Route 53 health
    check of type ``RECOVERY_CONTROL`` that is healthy exactly while its routing control is On;
    the failover records use these checks *instead of* the endpoint probes, so a region only
    receives traffic after the switch has been turned to it, and a region coming back after an
    outage stays out of traffic until someone turns it On.

``signal``
    No cluster. Per region a CloudWatch alarm on the metric ``ReskFlow/DR RegionActive
    {Region=<region>}`` in the signal region's CloudWatch (the DR region by default: the side
    that survives the us-east-1 disaster), a Route 53 ``CLOUDWATCH_METRIC`` health check on that
    alarm, and a ``CALCULATED`` health check that is healthy only when *both* the region's
    endpoint probe and its signal are healthy. The failover records use the calculated checks.

The component is global in effect but is declared once, by the stack that owns the switch (the
``dr`` stack, see docs/traffic-switch.md "Who owns what"); both failover records use its
per-region :attr:`TrafficSwitch.health_check_ids`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from failover_steps.contract import StepConfig, TrafficMode

_DEFAULTS = StepConfig(account_id="", regions={}, docdb_global_id="", cache_global_id="")
SIGNAL_NAMESPACE = _DEFAULTS.signal_namespace
SIGNAL_METRIC = _DEFAULTS.signal_metric
#: ARC's own default for the safety rules' evaluation period (ms).
SAFETY_RULE_WAIT_MS = 5000


@dataclass(frozen=True)
class TrafficSwitchArgs:
    """Inputs of :class:`TrafficSwitch`."""

    mode: TrafficMode
    """``arc`` (routing controls, the default for real DR) or ``signal`` (calculated checks)."""
    regions: Sequence[str]
    """The two regions, primary first (e.g. ``("us-east-1", "us-west-2")``)."""
    endpoint_health_check_ids: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Signal mode: each region's endpoint probe (:attr:`FailoverEndpoint.health_check_id`).
    Ignored in ARC mode, where the record does not depend on the probe."""
    signal_region: str = "us-west-2"
    """Signal mode: the region whose CloudWatch holds every region's signal alarm."""
    name_prefix: str = "reskflow"
    """Prefix of the AWS names (cluster, control panel, routing controls, alarms)."""
    signal_period_seconds: int = 60
    """Signal mode: the alarm period; standard resolution (Route 53 refuses high resolution)."""


def _validate(args: TrafficSwitchArgs) -> None:
    if len(args.regions) != 2 or len(set(args.regions)) != 2:
        raise ValueError(f"traffic switch regions = {list(args.regions)}: two distinct regions")
    if args.mode not in ("arc", "signal"):
        raise ValueError(f"traffic switch mode = {args.mode!r}: 'arc' or 'signal'")
    if args.mode == "signal":
        missing = [r for r in args.regions if r not in args.endpoint_health_check_ids]
        if missing:
            raise ValueError(
                f"traffic switch endpoint_health_check_ids lacks {missing}: signal mode needs "
                "each region's endpoint probe"
            )
        if args.signal_period_seconds % 60:
            raise ValueError(
                f"traffic switch signal_period_seconds = {args.signal_period_seconds}: a "
                "multiple of 60 (Route 53 supports standard-resolution alarms only)"
            )


class TrafficSwitch(pulumi.ComponentResource):
    """The switch and one health check per region for the failover records (see module doc)."""

    health_check_ids: dict[str, pulumi.Output[str]]
    """Region -> the health check its failover record must use."""
    routing_control_arns: dict[str, pulumi.Output[str]]
    """ARC mode: region -> routing control ARN (empty in signal mode)."""
    cluster_arn: pulumi.Output[str] | None
    control_panel_arn: pulumi.Output[str] | None
    cluster_endpoints: pulumi.Output[list[dict[str, str]]] | None
    """ARC mode: the cluster's regional data-plane endpoints (``{"region", "endpoint"}``)."""
    signal_alarm_names: dict[str, str]
    """Signal mode: region -> name of its signal alarm (in :attr:`signal_region`)."""
    signal_region: str | None

    def __init__(
        self, name: str, args: TrafficSwitchArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:traffic:TrafficSwitch", name, None, opts)
        _validate(args)
        self.health_check_ids = {}
        self.routing_control_arns = {}
        self.cluster_arn = self.control_panel_arn = self.cluster_endpoints = None
        self.signal_alarm_names = {}
        self.signal_region = None
        if args.mode == "arc":
            self._routing_controls(name, args)
        else:
            self._signals(name, args)
        self.register_outputs(
            {
                "health_check_ids": self.health_check_ids,
                "routing_control_arns": self.routing_control_arns,
                "cluster_arn": self.cluster_arn,
                "control_panel_arn": self.control_panel_arn,
                "cluster_endpoints": self.cluster_endpoints,
                "signal_alarm_names": self.signal_alarm_names,
            }
        )

    # ARC routing control ---------------------------------------------------------------------

    def _routing_controls(self, name: str, args: TrafficSwitchArgs) -> None:
        child = pulumi.ResourceOptions(parent=self)
        prefix = args.name_prefix
        # The recovery-control-config API has one endpoint, in us-west-2 (botocore's endpoint
        # rules for route53-recovery-control-config; ARC developer guide, "Region availability
        # for routing control"): the provider signs there whatever its region.
        cluster = aws.route53recoverycontrol.Cluster(
            f"{name}-cluster", name=f"{prefix}-dr", tags={"Name": f"{prefix}-dr"}, opts=child
        )
        panel = aws.route53recoverycontrol.ControlPanel(
            f"{name}-panel", cluster_arn=cluster.arn, name=f"{prefix}-traffic", opts=child
        )
        controls = [
            aws.route53recoverycontrol.RoutingControl(
                f"{name}-{region}",
                name=f"{prefix}-{region}",
                cluster_arn=cluster.arn,
                control_panel_arn=panel.arn,
                opts=child,
            )
            for region in args.regions
        ]
        asserted = [c.arn for c in controls]
        # Assertion rules are evaluated on the states *after* a transaction (RuleConfig, ARC
        # API reference): ATLEAST 1 = some region serves; the same rule inverted with
        # threshold 2 = NOT(at least two On) = never both active. Together: exactly one On.
        for rule, inverted, threshold in (("at-least-one", False, 1), ("at-most-one", True, 2)):
            aws.route53recoverycontrol.SafetyRule(
                f"{name}-{rule}",
                name=f"{prefix}-{rule}-on",
                control_panel_arn=panel.arn,
                asserted_controls=asserted,
                rule_config=aws.route53recoverycontrol.SafetyRuleRuleConfigArgs(
                    type="ATLEAST", threshold=threshold, inverted=inverted
                ),
                wait_period_ms=SAFETY_RULE_WAIT_MS,
                opts=child,
            )
        for region, control in zip(args.regions, controls, strict=True):
            check = aws.route53.HealthCheck(
                f"{name}-{region}-check",
                type="RECOVERY_CONTROL",
                routing_control_arn=control.arn,
                tags={"Name": f"{prefix}-switch-{region}"},
                opts=child,
            )
            self.health_check_ids[region] = check.id
            self.routing_control_arns[region] = control.arn
        self.cluster_arn = cluster.arn
        self.control_panel_arn = panel.arn
        self.cluster_endpoints = cluster.cluster_endpoints.apply(
            lambda eps: [
                {"region": e.region or "", "endpoint": e.endpoint or ""} for e in eps or []
            ]
        )

    # CloudWatch signal -----------------------------------------------------------------------

    def _signals(self, name: str, args: TrafficSwitchArgs) -> None:
        child = pulumi.ResourceOptions(parent=self)
        prefix = args.name_prefix
        self.signal_region = args.signal_region
        for region in args.regions:
            alarm_name = f"{prefix}-region-active-{region}"
            # Route 53 accepts standard-resolution alarms with a plain statistic (Average,
            # Minimum, Maximum, Sum, SampleCount), not extended statistics (Route 53 API
            # reference, AlarmIdentifier). One datapoint of one period, no M-of-N.
            # ``ignore`` keeps the alarm's state when no datapoint arrives, so one
            # PutMetricData holds the signal until the next one (CloudWatch "treat missing data").
            alarm = aws.cloudwatch.MetricAlarm(
                f"{name}-signal-{region}",
                name=alarm_name,
                region=args.signal_region,
                alarm_description=(
                    f"ALARM while {region} is not marked active: Route 53 then holds it out of "
                    "traffic (docs/traffic-switch.md)"
                ),
                namespace=SIGNAL_NAMESPACE,
                metric_name=SIGNAL_METRIC,
                dimensions={"Region": region},
                statistic="Maximum",
                period=args.signal_period_seconds,
                evaluation_periods=1,
                datapoints_to_alarm=1,
                threshold=1,
                comparison_operator="LessThanThreshold",
                treat_missing_data="ignore",
                opts=child,
            )
            signal = aws.route53.HealthCheck(
                f"{name}-{region}-signal-check",
                type="CLOUDWATCH_METRIC",
                cloudwatch_alarm_name=alarm.name,
                cloudwatch_alarm_region=args.signal_region,
                # While the signal region is unreachable Route 53 keeps the last status it saw,
                # neither opening nor closing the region on a missing answer.
                insufficient_data_health_status="LastKnownStatus",
                tags={"Name": f"{prefix}-signal-{region}"},
                opts=child,
            )
            children = [args.endpoint_health_check_ids[region], signal.id]
            gate = aws.route53.HealthCheck(
                f"{name}-{region}-check",
                type="CALCULATED",
                child_healthchecks=children,
                child_health_threshold=len(children),
                tags={"Name": f"{prefix}-switch-{region}"},
                opts=child,
            )
            self.health_check_ids[region] = gate.id
            self.signal_alarm_names[region] = alarm_name
