"""Every step's client: an explicit region, bounded timeouts, standard retries; no region is an
error, and the classification of "try elsewhere" errors."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from failover_steps.aws import StepError, client, peer_of, unreachable
from failover_steps.contract import StepConfig
from tests.failover.conftest import EAST, WEST


def test_clients_have_a_region_bounded_timeouts_and_standard_retries() -> None:
    rds = client("rds", WEST)
    cfg = rds.meta.config
    assert rds.meta.region_name == WEST
    assert (cfg.connect_timeout, cfg.read_timeout) == (5, 20)
    assert cfg.retries == {"mode": "standard", "total_max_attempts": 3}


def test_a_client_without_a_region_is_refused() -> None:
    with pytest.raises(StepError) as err:
        client("rds", "")
    assert str(err.value) == "no region given for a rds client"


def error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "UpdateRoutingControlStates",
    )


@pytest.mark.parametrize(
    ("err", "expected"),
    [
        (EndpointConnectionError(endpoint_url="https://x"), True),
        (ReadTimeoutError(endpoint_url="https://x"), True),
        (error("ThrottlingException", 429), True),
        (error("EndpointTemporarilyUnavailableException", 503), True),
        (error("SomethingNew", 502), True),
        (error("ValidationException", 400), False),
        (error("AccessDeniedException", 403), False),
        (ValueError("x"), False),
    ],
)
def test_what_counts_as_unreachable(err: BaseException, expected: bool) -> None:
    assert unreachable(err) is expected


def test_peer_of(config: StepConfig) -> None:
    assert (peer_of(config, WEST), peer_of(config, EAST)) == (EAST, WEST)
    with pytest.raises(StepError) as err:
        peer_of(config, "eu-west-1")
    assert str(err.value) == (
        "region 'eu-west-1' is not in the step config (known: us-east-1, us-west-2)"
    )
