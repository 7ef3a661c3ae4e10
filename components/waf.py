"""AWS WAF web ACL for a CloudFront distribution: managed rule groups, a rate limit, logging."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

#: AWS managed rule groups the web ACL runs, in priority order: common threats (OWASP-style
#: core rule set) and known bad inputs (e.g. Log4j JNDI lookups).
#: https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-list.html
MANAGED_RULE_GROUPS: tuple[str, ...] = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
)
RATE_RULE_NAME = "rate-limit-per-ip"
#: WAF logging destinations must be named with this prefix (log group, bucket or stream).
#: https://docs.aws.amazon.com/waf/latest/developerguide/logging-cw-logs.html
WAF_LOG_PREFIX = "aws-waf-logs-"


@dataclass(frozen=True)
class EdgeFirewallArgs:
    """Inputs of :class:`EdgeFirewall`."""

    name: str
    """Web ACL name (and its metric name)."""
    rate_limit: int
    """Requests one client IP may send per evaluation window before it is blocked (>= 10)."""
    rate_window_seconds: int
    """Evaluation window of the rate-based rule: 60, 120, 300 or 600 seconds."""


def _visibility(metric: str) -> aws.wafv2.WebAclRuleVisibilityConfigArgs:
    return aws.wafv2.WebAclRuleVisibilityConfigArgs(
        cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


def web_acl_rules(rate_limit: int, window: int) -> list[aws.wafv2.WebAclRuleArgs]:
    """The managed rule groups (their own actions, ``override_action none``), then the
    rate-based rule blocking an IP above ``rate_limit`` requests per ``window`` seconds."""
    rules = [
        aws.wafv2.WebAclRuleArgs(
            name=group,
            priority=index,
            override_action=aws.wafv2.WebAclRuleOverrideActionArgs(
                # the generated class has no typed __init__ (it takes no arguments)
                none=aws.wafv2.WebAclRuleOverrideActionNoneArgs()  # type: ignore[no-untyped-call]
            ),
            statement=aws.wafv2.WebAclRuleStatementArgs(
                managed_rule_group_statement=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                    name=group, vendor_name="AWS"
                )
            ),
            visibility_config=_visibility(group),
        )
        for index, group in enumerate(MANAGED_RULE_GROUPS)
    ]
    rules.append(
        aws.wafv2.WebAclRuleArgs(
            name=RATE_RULE_NAME,
            priority=len(MANAGED_RULE_GROUPS),
            action=aws.wafv2.WebAclRuleActionArgs(block=aws.wafv2.WebAclRuleActionBlockArgs()),
            statement=aws.wafv2.WebAclRuleStatementArgs(
                rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                    aggregate_key_type="IP", limit=rate_limit, evaluation_window_sec=window
                )
            ),
            visibility_config=_visibility(RATE_RULE_NAME),
        )
    )
    return rules


class EdgeFirewall(pulumi.ComponentResource):
    """A CLOUDFRONT-scope web ACL (allow by default; the rules block); its request logging is
    :class:`components.edge.EdgeLogging` (it needs the key, whose policy needs the distribution,
    which needs this web ACL). CLOUDFRONT-scope web ACLs exist only in us-east-1: pass the
    us-east-1 provider in ``opts.providers``.
    https://docs.aws.amazon.com/waf/latest/developerguide/how-aws-waf-works-resources.html"""

    web_acl_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: EdgeFirewallArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:edge:EdgeFirewall", name, None, opts)
        acl = aws.wafv2.WebAcl(
            f"{name}-acl",
            name=args.name,
            scope="CLOUDFRONT",
            description="ReskFlow edge: managed rule groups and a per-IP rate limit",
            default_action=aws.wafv2.WebAclDefaultActionArgs(
                allow=aws.wafv2.WebAclDefaultActionAllowArgs()
            ),
            rules=web_acl_rules(args.rate_limit, args.rate_window_seconds),
            visibility_config=aws.wafv2.WebAclVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True,
                metric_name=args.name,
                sampled_requests_enabled=True,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.web_acl_arn = acl.arn
        self.register_outputs({"web_acl_arn": self.web_acl_arn})
