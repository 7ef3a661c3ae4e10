"""Run a function that declares components under the Pulumi mocks and record what it registers.

The same recording monitor and realistic mocks as the offline preview (``reskflow_dr.engine``),
with fresh mocks, monitor and settings for every call and ``dry_run=False`` (apply callbacks
run), but the program is a Python callable instead of the stack's program directory: component
tests build exactly the components they check.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable

import pulumi
from pulumi.runtime.mocks import MockEngine, MockSettings
from pulumi.runtime.settings import ROOT, configure
from pulumi.runtime.stack import run_in_stack

from reskflow_dr.engine import Plan, PlannedResource, RecordingMonitor
from reskflow_dr.mocks import PlanMocks

ACCOUNT = "111122223333"


def run_components(
    build: Callable[[], None], region: str = "us-west-2", account: str = ACCOUNT
) -> Plan:
    """Call ``build`` inside a mocked stack; every registration, sorted by URN."""
    mocks = PlanMocks(account, region)
    monitor = RecordingMonitor(mocks, region)

    def run() -> None:
        configure(
            MockSettings(
                monitor=monitor,
                monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
                engine=MockEngine(None),
                project="reskflow",
                stack="test",
                dry_run=False,
                organization="organization",
                callbacks=None,
            )
        )
        ROOT.set(None)
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(run_in_stack(build))
        finally:
            loop.close()
            asyncio.set_event_loop(None)

    contextvars.copy_context().run(run)
    return Plan(
        project="reskflow",
        stack="test",
        config={},
        resources=sorted(monitor.records, key=lambda r: r.urn),
    )


def provider(region: str) -> pulumi.ProviderResource:
    """The regional provider the stacks pass to their components."""
    import pulumi_aws as aws

    return aws.Provider(f"aws-{region}", region=region)


def of_type(plan: Plan, type_: str) -> dict[str, PlannedResource]:
    """The custom resources of one type, by logical name."""
    return {r.name: r for r in plan.resources if r.type == type_ and r.custom}
