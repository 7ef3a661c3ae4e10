"""Fixtures for the failover steps: fake credentials before any client exists, a two-region step
config, and a client router that hands the steps Stubber-backed clients where moto lacks the API,
records every call by (service, region, operation), and can make a region refuse connections."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from failover_steps import aws
from failover_steps.contract import ClusterEndpoint, RegionFacts, StepConfig

EAST, WEST = "us-east-1", "us-west-2"
ACCOUNT = "123456789012"


def region_facts(region: str, generation: int) -> RegionFacts:
    short = "east" if region == EAST else "west"
    return RegionFacts(
        region=region,
        postgres_id=f"reskflow-postgres-g{generation}",
        docdb_cluster_id=f"reskflow-docdb-{short}",
        cache_group_id=f"reskflow-redis-{short}",
        fence_security_group_ids={
            "postgres": f"sg-fence-pg-{short}",
            "docdb": f"sg-fence-doc-{short}",
            "cache": f"sg-fence-redis-{short}",
        },
        routing_control_arn=(
            f"arn:aws:route53-recovery-control::{ACCOUNT}:controlpanel/cp/routingcontrol/{short}"
        ),
    )


def make_config(traffic_mode: str = "arc") -> StepConfig:
    return StepConfig(
        account_id=ACCOUNT,
        regions={EAST: region_facts(EAST, 1), WEST: region_facts(WEST, 2)},
        docdb_global_id="reskflow-docdb-global",
        cache_global_id="ldgnf-reskflow-redis",
        traffic_mode=traffic_mode,  # type: ignore[arg-type]
        cluster_endpoints=tuple(
            ClusterEndpoint(r, f"https://host-{r}.example.route53-recovery-cluster.com/v1")
            for r in (EAST, "ap-northeast-1", "eu-west-1", WEST, "ap-southeast-2")
        ),
        signal_regions=(EAST, WEST),
    )


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Clients:
    """Replaces :func:`failover_steps.aws._new_client` for one test."""

    def __init__(self) -> None:
        self.stubs: dict[tuple[str, str, str | None], tuple[Any, Stubber]] = {}
        self.calls: list[tuple[str, str, str]] = []
        self.created: list[tuple[str, str, str | None]] = []
        self.lost_regions: set[str] = set()
        self.refuse_url = f"http://127.0.0.1:{closed_port()}"

    def _real(self, service: str, region: str, endpoint_url: str | None, attempts: int) -> Any:
        client = boto3.session.Session().client(
            service,
            region_name=region,
            endpoint_url=endpoint_url,
            config=aws.client_config(attempts),
        )

        def record(model: Any, **_: Any) -> None:
            self.calls.append((service, region, model.name))

        client.meta.events.register_first("before-call.*.*", record)
        return client

    def stub(self, service: str, region: str, endpoint_url: str | None = None) -> Stubber:
        key = (service, region, endpoint_url)
        if key not in self.stubs:
            client = self._real(service, region, endpoint_url, aws.MAX_ATTEMPTS)
            stubber = Stubber(client)
            stubber.activate()
            self.stubs[key] = (client, stubber)
        return self.stubs[key][1]

    def lose(self, region: str) -> None:
        """Every endpoint of ``region`` refuses connections from now on."""
        self.lost_regions.add(region)

    def new_client(
        self, service: str, region: str, endpoint_url: str | None, max_attempts: int
    ) -> Any:
        self.created.append((service, region, endpoint_url))
        if region in self.lost_regions or any(r in (endpoint_url or "") for r in self.lost_regions):
            return self._real(service, region, self.refuse_url, 1)
        if (service, region, endpoint_url) in self.stubs:
            return self.stubs[(service, region, endpoint_url)][0]
        return self._real(service, region, endpoint_url, max_attempts)

    def regions_called(self) -> set[str]:
        return {region for _, region, _ in self.calls}

    def operations(self, service: str | None = None) -> list[str]:
        return [op for s, _, op in self.calls if service in (None, s)]

    def assert_all_used(self) -> None:
        for _, stubber in self.stubs.values():
            stubber.assert_no_pending_responses()


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and no default region, set before any client exists: a step that forgets
    ``region_name`` fails instead of reaching some default region."""
    for key in ("AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clients]:
    router = Clients()
    monkeypatch.setattr(aws, "_new_client", router.new_client)
    yield router


@pytest.fixture
def config() -> StepConfig:
    return make_config()
