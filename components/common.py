"""Small conventions shared by every component."""

from __future__ import annotations

import json
from typing import Any

import pulumi

#: Tag every data-bearing resource carries so AWS Backup selections find it by tag.
BACKUP_TAG_KEY = "reskflow:backup"
BACKUP_TAG_VALUE = "dr"


def data_bearing(parent: pulumi.Resource, **kwargs: Any) -> pulumi.ResourceOptions:
    """Options for a resource that holds data: protected from `pulumi destroy` and never deleted
    from AWS when it leaves the program (`retain_on_delete`)."""
    return pulumi.ResourceOptions(parent=parent, protect=True, retain_on_delete=True, **kwargs)


def policy_json(statements: list[dict[str, Any]]) -> str:
    """A policy document (IAM, bucket or key policy) as the JSON text AWS expects."""
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def service_trust(service: str) -> str:
    """The trust policy that lets one AWS service principal (``lambda.amazonaws.com``...) assume
    a role."""
    return policy_json(
        [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]
    )
