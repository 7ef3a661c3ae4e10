"""The 3-2-1 stack rule on small hand-built graphs."""

from __future__ import annotations

from .builders import PlanBuilder, resource
from .conftest import Evaluate, flagged

RULE = "reskflow-3-2-1"


def bucket_only(replicate: bool) -> PlanBuilder:
    builder = PlanBuilder()
    builder.bucket("uploads")
    if not replicate:
        builder.resources = [r for r in builder.resources if r["name"] != "replication-uploads"]
    return builder


def test_a_lone_bucket_misses_every_leg(evaluate: Evaluate) -> None:
    found = flagged(evaluate(bucket_only(replicate=False).plan()), RULE)
    assert found == {
        "uploads": [
            "bucket uploads: 3-2-1 not met (copies 1/3, media 1/2, offsite 0/1); missing leg: "
            "recovery points in a local AWS Backup vault (Selection + Plan rule); a copy in the "
            "peer-region vault (Plan rule copyActions); has: production (S3 objects, us-east-1)"
        ]
    }


def test_a_replicated_bucket_is_still_one_medium(evaluate: Evaluate) -> None:
    found = flagged(evaluate(bucket_only(replicate=True).plan()), RULE)
    assert list(found) == ["uploads"]
    assert found["uploads"][0].startswith("bucket uploads: 3-2-1 not met (copies 2/3, media 1/2)")


def test_backup_with_a_peer_copy_completes_a_bucket(evaluate: Evaluate) -> None:
    builder = bucket_only(replicate=False)
    builder.backup()
    assert flagged(evaluate(builder.plan()), RULE) == {}


def test_a_selection_by_arn_wildcard_covers_the_store(evaluate: Evaluate) -> None:
    builder = bucket_only(replicate=True)
    builder.backup()
    plan = builder.plan()
    selection = resource(plan, "backup-selection")["inputs"]
    selection["selectionTags"] = []
    selection["resources"] = ["arn:aws:s3:::reskflow-*"]
    assert flagged(evaluate(plan), RULE) == {}
    selection["notResources"] = ["arn:aws:s3:::reskflow-123456789012-uploads-*"]
    assert list(flagged(evaluate(plan), RULE)) == ["uploads"]


def test_a_selection_condition_can_exclude_the_store(evaluate: Evaluate) -> None:
    builder = bucket_only(replicate=True)
    builder.backup()
    plan = builder.plan()
    resource(plan, "backup-selection")["inputs"]["conditions"] = [
        {"stringEquals": [{"key": "aws:ResourceTag/tier", "value": "gold"}]}
    ]
    assert list(flagged(evaluate(plan), RULE)) == ["uploads"]
    resource(plan, "uploads")["inputs"]["tags"]["tier"] = "gold"
    assert flagged(evaluate(plan), RULE) == {}


def test_a_selection_whose_plan_cannot_be_joined_is_not_checkable(evaluate: Evaluate) -> None:
    builder = bucket_only(replicate=True)
    builder.backup()
    plan = builder.plan()
    resource(plan, "backup-selection")["parent"] = None
    verdicts = [v for v in evaluate(plan) if v.policy == RULE]
    assert [(v.not_checkable, v.enforcement) for v in verdicts] == [(True, "advisory")]
    assert verdicts[0].message.endswith(
        "uploads: 3-2-1 legs: the plan of selection backup-selection"
    )


def test_a_cross_region_read_replica_counts_as_an_offsite_copy(evaluate: Evaluate) -> None:
    builder = PlanBuilder("dr", "us-west-2")
    builder.replica()
    found = flagged(evaluate(builder.plan()), RULE)
    # replica + its us-east-1 source + automated backups = 3 copies, 2 media, 1 offsite.
    assert found == {}
    plan = builder.plan()
    resource(plan, "orders-replica")["inputs"]["backupRetentionPeriod"] = 0
    assert flagged(evaluate(plan), RULE)["orders-replica"][0].startswith(
        "RDS instance orders-replica: 3-2-1 not met (copies 2/3, media 1/2)"
    )
