"""The CDN invalidation after a failover, against a botocore Stubber of the CloudFront client
(moto's CloudFront does not answer a repeated CallerReference with the earlier invalidation,
nor fail the way an unreachable us-east-1 does, so the answers are stubbed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from failover_steps.aws import StepError, client_config
from failover_steps.cdn import invalidate_after_failover

DIST = "E2EXAMPLE1ABCD"
REF = "exec-0123456789abcdef-step-7"
EXPECTED = {
    "DistributionId": DIST,
    "InvalidationBatch": {"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": REF},
}


def answer(inv_id: str = "I2J0I21PCUYOIK", status: str = "InProgress") -> dict[str, Any]:
    return {
        "Location": f"https://cloudfront.amazonaws.com/2020-05-31/distribution/{DIST}/invalidation/{inv_id}",
        "Invalidation": {
            "Id": inv_id,
            "Status": status,
            "CreateTime": dt.datetime(2026, 12, 4, 17, 0, tzinfo=dt.UTC),
            "InvalidationBatch": EXPECTED["InvalidationBatch"],
        },
    }


@pytest.fixture
def cloudfront() -> Iterator[tuple[Any, Stubber]]:
    cf = boto3.session.Session().client(
        "cloudfront", region_name="us-east-1", config=client_config(1)
    )
    with Stubber(cf) as stub:
        yield cf, stub
        stub.assert_no_pending_responses()


def test_traffic_moved_invalidates_everything_once(cloudfront: tuple[Any, Stubber]) -> None:
    cf, stub = cloudfront
    stub.add_response("create_invalidation", answer(), EXPECTED)
    result = invalidate_after_failover(DIST, traffic_changed=True, reference=REF, cloudfront=cf)
    assert result.to_dict() == {
        "action": "invalidate-cdn",
        "region": "us-east-1",
        "ok": True,
        "changed": [f"CreateInvalidation {DIST} /* (I2J0I21PCUYOIK)"],
        "checks": [
            {
                "name": "cdn-invalidation",
                "ok": True,
                "detail": "invalidation I2J0I21PCUYOIK of /* is InProgress",
            }
        ],
        "notes": [],
        "data": {
            "distributionId": DIST,
            "invalidationId": "I2J0I21PCUYOIK",
            "status": "InProgress",
        },
    }


def test_rerun_with_the_same_reference_sends_the_same_request(
    cloudfront: tuple[Any, Stubber],
) -> None:
    """CloudFront answers a repeated CallerReference with the earlier invalidation: the step
    sends exactly the same batch, so a re-run cannot create a second one."""
    cf, stub = cloudfront
    stub.add_response("create_invalidation", answer(status="Completed"), EXPECTED)
    stub.add_response("create_invalidation", answer(status="Completed"), EXPECTED)
    first = invalidate_after_failover(DIST, traffic_changed=True, reference=REF, cloudfront=cf)
    second = invalidate_after_failover(DIST, traffic_changed=True, reference=REF, cloudfront=cf)
    assert first.data["invalidationId"] == second.data["invalidationId"] == "I2J0I21PCUYOIK"


def test_nothing_changed_makes_no_call(cloudfront: tuple[Any, Stubber]) -> None:
    cf, _stub = cloudfront  # no response queued: any call would fail the Stubber
    result = invalidate_after_failover(DIST, traffic_changed=False, reference=REF, cloudfront=cf)
    assert (result.changed, result.checks, result.notes) == (
        (),
        (),
        ("traffic did not move: no invalidation needed",),
    )
    assert result.ok


def test_unreachable_control_plane_is_a_note_not_a_failure(
    cloudfront: tuple[Any, Stubber],
) -> None:
    cf, stub = cloudfront
    stub.add_client_error(
        "create_invalidation",
        service_error_code="ServiceUnavailable",
        http_status_code=503,
        expected_params=EXPECTED,
    )
    result = invalidate_after_failover(DIST, traffic_changed=True, reference=REF, cloudfront=cf)
    assert result.ok and result.changed == ()
    assert result.notes == (
        "CloudFront's control plane (us-east-1) did not answer (ClientError): the cache was not "
        "cleared; the distribution keeps serving and cached objects expire by their TTL",
    )


def test_connection_refused_is_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    class Down:
        def create_invalidation(self, **_: Any) -> None:
            raise EndpointConnectionError(endpoint_url="https://cloudfront.amazonaws.com")

    result = invalidate_after_failover(DIST, traffic_changed=True, reference=REF, cloudfront=Down())
    assert result.notes[0].startswith(
        "CloudFront's control plane (us-east-1) did not answer (EndpointConnectionError)"
    )


def test_refusal_is_a_step_error(cloudfront: tuple[Any, Stubber]) -> None:
    cf, stub = cloudfront
    stub.add_client_error(
        "create_invalidation",
        service_error_code="AccessDenied",
        http_status_code=403,
        expected_params=EXPECTED,
    )
    with pytest.raises(StepError, match=f"^CreateInvalidation on {DIST} refused: AccessDenied$"):
        invalidate_after_failover(DIST, traffic_changed=True, reference=REF, cloudfront=cf)


@pytest.mark.parametrize(
    ("dist", "ref", "message"),
    [
        ("d111111abcdef8", REF, "distribution id 'd111111abcdef8' is not a CloudFront id"),
        (DIST, "", "an invalidation needs a caller reference"),
    ],
)
def test_bad_arguments_are_refused_before_any_call(dist: str, ref: str, message: str) -> None:
    with pytest.raises(StepError, match=message):
        invalidate_after_failover(dist, traffic_changed=True, reference=ref, cloudfront=object())
