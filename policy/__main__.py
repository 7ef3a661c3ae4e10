"""The ReskFlow DR policy pack: assembles the policies of every module and serves them.

Run by ``pulumi preview --policy-pack policy`` (through ``python -m pulumi.policy``) and offline
by ``reskflow_dr.policy_runner``, the same way.
"""

from policies import (
    backup,
    backup_safety,
    cloudfront,
    cloudwatch,
    cost,
    docdb,
    elasticache,
    kms,
    rds,
    route53,
    s3,
    safety,
    sns,
    three_two_one,
)
from policies.common import PACK_NAME
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name=PACK_NAME,
    description="ReskFlow DR guard rails: encryption, 3-2-1 per data store, data safety, "
    "deployability and cost notes.",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        *s3.POLICIES,
        *kms.POLICIES,
        *rds.POLICIES,
        *docdb.POLICIES,
        *elasticache.POLICIES,
        *backup.POLICIES,
        *backup_safety.POLICIES,
        *sns.POLICIES,
        *cloudwatch.POLICIES,
        *route53.POLICIES,
        *cloudfront.POLICIES,
        *safety.POLICIES,
        *three_two_one.POLICIES,
        *cost.POLICIES,
    ],
)
