"""What every step shares: boto3 clients with an explicit region, bounded timeouts and standard
retries; the classification of "this endpoint is unreachable"; and the result of a step.

Clients are created inside the step that uses them, never at import time, always for a named
region (a step that acts on us-west-2 can never reach us-east-1 by default resolution).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from failover_steps.contract import RegionFacts, StepConfig

CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 20
MAX_ATTEMPTS = 3
"""Standard retry mode: at most three attempts per call in all, with AWS's backoff and retry
quota. (botocore's ``max_attempts`` counts retries after the first call; ``total_max_attempts``
counts every call, so that is the key set here.)"""

#: Error codes after which trying again elsewhere (another cluster endpoint, another region's
#: CloudWatch) can succeed; AWS's guidance for the ARC data plane names throttling and 5xx.
RETRY_ELSEWHERE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "EndpointTemporarilyUnavailableException",
        "InternalServerException",
        "InternalFailure",
        "ServiceUnavailable",
        "ConflictException",
    }
)


_CONNECTION_ERRORS = (
    EndpointConnectionError,
    ConnectTimeoutError,
    ReadTimeoutError,
    ConnectionClosedError,
)


class StepError(Exception):
    """A step cannot do what it must. ``str(err)`` is one line naming the resource."""


def client_config(max_attempts: int = MAX_ATTEMPTS) -> Config:
    return Config(
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        retries={"mode": "standard", "total_max_attempts": max_attempts},
    )


def _new_client(service: str, region: str, endpoint_url: str | None, max_attempts: int) -> Any:
    session = boto3.session.Session()
    return session.client(
        service,
        region_name=region,
        endpoint_url=endpoint_url,
        config=client_config(max_attempts),
    )


def client(
    service: str, region: str, *, endpoint_url: str | None = None, max_attempts: int = MAX_ATTEMPTS
) -> Any:
    """A boto3 client for ``service`` in ``region`` (the only way steps create clients)."""
    if not region:
        raise StepError(f"no region given for a {service} client")
    return _new_client(service, region, endpoint_url, max_attempts)


def unreachable(err: BaseException) -> bool:
    """Whether ``err`` says the endpoint could not serve the call now (connection refused or
    timed out, throttled, 5xx), as opposed to a refusal that is the same everywhere."""
    if isinstance(err, _CONNECTION_ERRORS):
        return True
    if isinstance(err, ClientError):
        code = str(err.response.get("Error", {}).get("Code", ""))
        status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        return code in RETRY_ELSEWHERE_CODES or status >= 500
    return False


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def wait_until(
    probe: Callable[[], tuple[bool, str]],
    *,
    what: str,
    timeout_s: float,
    poll_s: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> str:
    """Call ``probe`` (-> done, state) every ``poll_s`` until done, for at most ``timeout_s``;
    return the final state or raise :class:`StepError` naming ``what`` and its last state."""
    deadline = clock() + timeout_s
    while True:
        done, state = probe()
        if done:
            return state
        left = deadline - clock()
        if left <= 0:
            raise StepError(f"{what} is still {state} after {timeout_s:.0f} s")
        sleep(min(poll_s, left))


def facts(config: StepConfig, region: str) -> RegionFacts:
    try:
        return config.regions[region]
    except KeyError:
        known = ", ".join(sorted(config.regions))
        raise StepError(f"region {region!r} is not in the step config (known: {known})") from None


def peer_of(config: StepConfig, region: str) -> str:
    """The other region of the pair."""
    facts(config, region)
    others = sorted(r for r in config.regions if r != region)
    if len(others) != 1:
        raise StepError(f"the step config must name two regions, got {sorted(config.regions)}")
    return others[0]


def cluster_arn(config: StepConfig, region: str, cluster_id: str) -> str:
    return f"arn:{config.partition}:rds:{region}:{config.account_id}:cluster:{cluster_id}"


@dataclass(frozen=True)
class Check:
    """One verified property."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class StepResult:
    """What a step found and did. ``changed`` lists the calls that changed something (empty on an
    idempotent re-run); ``checks`` the properties verified; ``notes`` anything worth reporting
    that did not fail the step (an unreachable region that was not needed)."""

    action: str
    region: str
    changed: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()
    notes: tuple[str, ...] = ()
    data: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "region": self.region,
            "ok": self.ok,
            "changed": list(self.changed),
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
            "notes": list(self.notes),
            "data": dict(self.data),
        }
