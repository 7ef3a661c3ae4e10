"""Clear the CDN cache after a failover: one CloudFront invalidation of ``/*``.

The API behaviour is not cached (managed policy CachingDisabled); what CloudFront holds is static
content and the error answers it cached while a bucket was failing. After traffic moved, the
edge should ask the new active region again, so the step invalidates everything, once:

- nothing changed (traffic already where it should be): no call, a note says so;
- the call carries a caller reference derived from the execution, so a re-run returns the same
  invalidation instead of creating another (InvalidationBatch.CallerReference:
  https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_InvalidationBatch.html);
- CloudFront's control plane is in us-east-1 (the SDK signs CloudFront calls for us-east-1): in
  a us-east-1 outage the call cannot succeed, while the distribution keeps serving. The step then
  records a note instead of failing the failover; cached objects expire by their TTL.
"""

from __future__ import annotations

import re
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from failover_steps.aws import Check, StepError, StepResult, client, error_code, unreachable

ACTION = "invalidate-cdn"
#: CloudFront is a global service whose API endpoint is signed for us-east-1.
CLOUDFRONT_REGION = "us-east-1"
INVALIDATION_PATHS: tuple[str, ...] = ("/*",)
_DISTRIBUTION_ID_RE = re.compile(r"E[0-9A-Z]{5,20}")


def invalidate_after_failover(
    distribution_id: str,
    *,
    traffic_changed: bool,
    reference: str,
    cloudfront: Any | None = None,
) -> StepResult:
    """Invalidate ``/*`` on the distribution when ``traffic_changed``; skip otherwise.

    ``reference`` identifies the failover execution (e.g. its id and step number): the same
    reference never creates a second invalidation. ``cloudfront`` is a boto3 CloudFront client
    (tests pass a stubbed one); by default one is created for us-east-1."""
    if not _DISTRIBUTION_ID_RE.fullmatch(distribution_id or ""):
        raise StepError(f"distribution id {distribution_id!r} is not a CloudFront id (E...)")
    if not reference:
        raise StepError("an invalidation needs a caller reference (the execution's id)")
    data = {"distributionId": distribution_id}
    if not traffic_changed:
        return StepResult(
            ACTION,
            CLOUDFRONT_REGION,
            notes=("traffic did not move: no invalidation needed",),
            data=data,
        )
    cf = cloudfront if cloudfront is not None else client("cloudfront", CLOUDFRONT_REGION)
    try:
        answer = cf.create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": len(INVALIDATION_PATHS), "Items": list(INVALIDATION_PATHS)},
                "CallerReference": reference,
            },
        )
    except (ClientError, BotoCoreError) as err:
        if unreachable(err):
            return StepResult(
                ACTION,
                CLOUDFRONT_REGION,
                notes=(
                    "CloudFront's control plane (us-east-1) did not answer "
                    f"({type(err).__name__}): the cache was not cleared; the distribution keeps "
                    "serving and cached objects expire by their TTL",
                ),
                data=data,
            )
        code = error_code(err) if isinstance(err, ClientError) else type(err).__name__
        raise StepError(f"CreateInvalidation on {distribution_id} refused: {code}") from err
    invalidation = answer["Invalidation"]
    inv_id, status = str(invalidation["Id"]), str(invalidation["Status"])
    return StepResult(
        ACTION,
        CLOUDFRONT_REGION,
        changed=(f"CreateInvalidation {distribution_id} /* ({inv_id})",),
        checks=(Check("cdn-invalidation", True, f"invalidation {inv_id} of /* is {status}"),),
        data={**data, "invalidationId": inv_id, "status": status},
    )
