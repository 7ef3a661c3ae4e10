"""Cost guard rails ("Cost Optimization", monitoring: budget alerts, anomaly detection): an AWS
Budget over the stack's resources and a Cost Anomaly Detection monitor with its subscription.

Both select the stack's costs by the ``stack`` tag the provider puts on every resource; it must be
activated as a cost allocation tag (Billing console) before the filters match anything.

Region: AWS Budgets and Cost Explorer (which owns anomaly detection) are global services whose
API endpoints are in us-east-1 (https://docs.aws.amazon.com/general/latest/gr/billing.html). The
resources belong to the account, not to this stack's region: during a us-east-1 outage the dr
stack cannot create, update or refresh them, and `pulumi up -s dr` needs
`--target`/`--exclude` to skip them (docs/monitoring.md, "Cost guard rails in an outage").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

STACK_TAG = "stack"


@dataclass(frozen=True)
class CostGuardArgs:
    """Inputs of :class:`CostGuard`."""

    stack: str
    """Value of the ``stack`` tag selecting the costs."""
    monthly_limit_usd: float
    """Monthly budget amount (USD)."""
    thresholds_percent: Sequence[float]
    """Actual-cost percentages of the limit that notify, e.g. (80, 100)."""
    forecast_percent: float | None
    """Forecast percentage that notifies, or None."""
    emails: Sequence[str]
    """Addresses notified by the budget and the anomaly subscription."""
    anomaly_threshold_usd: float
    """Total impact (USD) from which an anomaly is reported."""


def budget_notifications(args: CostGuardArgs) -> list[aws.budgets.BudgetNotificationArgs]:
    def notify(kind: str, percent: float) -> aws.budgets.BudgetNotificationArgs:
        return aws.budgets.BudgetNotificationArgs(
            comparison_operator="GREATER_THAN",
            notification_type=kind,
            threshold=percent,
            threshold_type="PERCENTAGE",
            subscriber_email_addresses=list(args.emails),
        )

    notes = [notify("ACTUAL", p) for p in args.thresholds_percent]
    if args.forecast_percent is not None:
        notes.append(notify("FORECASTED", args.forecast_percent))
    return notes


class CostGuard(pulumi.ComponentResource):
    """Monthly cost budget and a Cost Anomaly Detection monitor + daily email subscription."""

    def __init__(
        self, name: str, args: CostGuardArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:monitoring:CostGuard", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        aws.budgets.Budget(
            f"{name}-budget",
            name=f"reskflow-{args.stack}-monthly",
            budget_type="COST",
            time_unit="MONTHLY",
            limit_amount=f"{args.monthly_limit_usd:.2f}",
            limit_unit="USD",
            cost_filters=[
                aws.budgets.BudgetCostFilterArgs(
                    name="TagKeyValue", values=[f"user:{STACK_TAG}${args.stack}"]
                )
            ],
            notifications=budget_notifications(args),
            opts=child,
        )
        monitor = aws.costexplorer.AnomalyMonitor(
            f"{name}-anomaly-monitor",
            name=f"reskflow-{args.stack}",
            monitor_type="CUSTOM",
            monitor_specification=json.dumps(
                {"Tags": {"Key": STACK_TAG, "Values": [args.stack]}}, sort_keys=True
            ),
            opts=child,
        )
        aws.costexplorer.AnomalySubscription(
            f"{name}-anomaly-subscription",
            name=f"reskflow-{args.stack}-anomalies",
            frequency="DAILY",
            monitor_arn_lists=[monitor.arn],
            subscribers=[
                aws.costexplorer.AnomalySubscriptionSubscriberArgs(type="EMAIL", address=e)
                for e in args.emails
            ],
            threshold_expression=aws.costexplorer.AnomalySubscriptionThresholdExpressionArgs(
                dimension=aws.costexplorer.AnomalySubscriptionThresholdExpressionDimensionArgs(
                    key="ANOMALY_TOTAL_IMPACT_ABSOLUTE",
                    match_options=["GREATER_THAN_OR_EQUAL"],
                    values=[f"{args.anomaly_threshold_usd:g}"],
                )
            ),
            opts=child,
        )
        self.register_outputs({})
