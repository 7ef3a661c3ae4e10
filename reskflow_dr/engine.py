"""Run the real Pulumi program offline, under the SDK's mocks, and record what it declares.

The program is run the way the Python language host runs it: ``runpy.run_path`` on the program
directory inside :func:`pulumi.runtime.run_in_stack`, with the stack's config set. A subclass of
the SDK's ``MockMonitor`` sees every ``RegisterResource`` request exactly as the engine would (type,
name, parent, provider, camelCase inputs, protect, retainOnDelete, dependencies, ignoreChanges),
which the ``Mocks`` interface alone does not show.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import runpy
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.config import set_all_config
from pulumi.runtime.mocks import MockEngine, MockMonitor, MockSettings
from pulumi.runtime.settings import ROOT, configure
from pulumi.runtime.stack import run_in_stack

from reskflow_dr.mocks import PlanMocks
from reskflow_dr.stackfiles import SECRET, StackConfig

UNKNOWN = "[unknown]"
#: Packages whose default providers Pulumi.yaml disables: every such resource needs a provider.
EXPLICIT_PROVIDER_PACKAGES = ("aws", "kubernetes")


class ProgramError(Exception):
    """The program failed under mocks. ``config_error`` marks a clean RunError (bad config)."""

    def __init__(self, message: str, config_error: bool = False) -> None:
        super().__init__(message)
        self.config_error = config_error


@dataclass
class PlannedResource:
    urn: str
    type: str
    name: str
    parent: str | None
    provider: str
    region: str
    custom: bool
    inputs: dict[str, Any]
    options: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("custom")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlannedResource:
        """Read back ``to_json``: custom resources are the providers and whatever has one."""
        custom = bool(data["provider"]) or data["type"].startswith("pulumi:providers:")
        return cls(**{**data, "custom": custom})


@dataclass
class Plan:
    project: str
    stack: str
    config: dict[str, Any]
    resources: list[PlannedResource]
    outputs: dict[str, Any] = field(default_factory=dict)
    diagnostics: list[str] = field(default_factory=list)
    policy: list[dict[str, Any]] = field(default_factory=list)

    def by_urn(self) -> dict[str, PlannedResource]:
        return {r.urn: r for r in self.resources}

    def of_type(self, type_: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        """A plan as ``reskflow-dr preview --json`` wrote it."""
        return cls(
            project=data["project"],
            stack=data["stack"],
            config=data["config"],
            resources=[PlannedResource.from_json(r) for r in data["resources"]],
            outputs=data.get("outputs", {}),
            policy=data.get("policy", []),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "config": self.config,
            "resources": [r.to_json() for r in self.resources],
            "outputs": self.outputs,
            "policy": self.policy,
        }


def sanitize(value: Any) -> Any:
    """Plain JSON for the plan: secrets become ``[secret]``, unknowns ``[unknown]``."""
    if rpc.is_rpc_secret(value):
        return SECRET
    if isinstance(value, pulumi.output.Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {k: sanitize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [sanitize(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the wire format carries every number as a double
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, pulumi.Resource):
        return "[resource]"
    if isinstance(value, (pulumi.Asset, pulumi.Archive)):
        return _asset(value)
    return str(value)


def _asset(value: pulumi.Asset | pulumi.Archive) -> Any:
    """An asset or archive as the files it names (deterministic, unlike its repr)."""
    if isinstance(value, pulumi.AssetArchive):
        return {name: _asset(v) for name, v in sorted(value.assets.items())}
    path = getattr(value, "path", None)
    return f"[{type(value).__name__} {Path(path).name}]" if path else f"[{type(value).__name__}]"


class RecordingMonitor(MockMonitor):
    """The SDK's mock monitor, recording each registration as the engine receives it."""

    def __init__(self, mocks: PlanMocks, stack_region: str) -> None:
        super().__init__(mocks)
        self.plan_mocks = mocks
        self.stack_region = stack_region
        self.records: list[PlannedResource] = []
        self.outputs: dict[str, Any] = {}
        self._regions: dict[str, str] = {}

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """As the engine does: resources directly under the stack carry no parent type."""
        if parent.split("::")[2:3] == ["pulumi:pulumi:Stack"]:
            parent = ""
        return super().make_urn(parent, type_, name)

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        inputs = rpc.deserialize_properties(request.object)
        region = self._region(request, inputs, response.urn)
        if request.type.startswith("pulumi:providers:"):
            self.plan_mocks.provider_regions[f"{response.urn}::{response.id}"] = region
        implied = {urn for deps in request.propertyDependencies.values() for urn in deps.urns}
        self.records.append(
            PlannedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                provider=request.provider,
                region=region,
                custom=bool(request.custom),
                inputs=sanitize(inputs),
                options={
                    "protect": bool(request.protect),
                    "retainOnDelete": bool(request.retainOnDelete),
                    "dependsOn": sorted(d for d in request.dependencies if d not in implied),
                    "ignoreChanges": list(request.ignoreChanges),
                },
            )
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        if request.urn.split("::")[2] == "pulumi:pulumi:Stack":
            self.outputs = sanitize(rpc.deserialize_properties(request.outputs))
        return super().RegisterResourceOutputs(request)

    def _region(self, request: Any, inputs: dict[str, Any], urn: str) -> str:
        if request.type == "pulumi:pulumi:Stack":
            region = self.stack_region
        elif request.type.startswith("pulumi:providers:"):
            region = str(inputs.get("region") or self._regions.get(request.parent, ""))
        elif request.custom:
            region = self.plan_mocks.region_of(request.provider, inputs)
        else:
            refs = dict(request.providers)
            ref = refs.get("aws") or next(iter(refs.values()), "")
            region = self.plan_mocks.provider_regions.get(ref, "") or self._regions.get(
                request.parent, self.stack_region
            )
        self._regions[urn] = region
        return region


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname.lower()}: {record.getMessage()}")


@contextlib.contextmanager
def _event_loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        for task in asyncio.all_tasks(loop):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                loop.run_until_complete(task)
        loop.close()
        asyncio.set_event_loop(None)


def run_program(config: StackConfig, account_id: str, region: str) -> Plan:
    """Run ``config.program_dir`` under mocks (``preview=False``: apply callbacks run) and return
    everything it registered. Fresh mocks, monitor and runtime settings for every call."""
    mocks = PlanMocks(account_id, region)
    monitor = RecordingMonitor(mocks, region)
    collect = _Collect()
    logger = logging.getLogger(f"reskflow_dr.program.{config.stack}")
    logger.propagate = False
    logger.handlers = [collect]

    def run() -> None:
        configure(
            MockSettings(
                monitor=monitor,
                monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
                engine=MockEngine(logger),
                project=config.project,
                stack=config.stack,
                dry_run=False,
                organization="organization",
                callbacks=None,
            )
        )
        ROOT.set(None)
        set_all_config(dict(config.values), sorted(config.secret_keys))

        def program() -> None:
            runpy.run_path(str(config.program_dir), run_name="__main__")

        with _event_loop() as loop:
            loop.run_until_complete(run_in_stack(program))

    try:
        contextvars.copy_context().run(run)
    except pulumi.RunError as err:
        raise ProgramError(str(err), config_error=True) from None
    except ProgramError:
        raise
    except Exception as err:
        raise ProgramError(f"the program failed under mocks: {type(err).__name__}: {err}") from err

    plan = Plan(
        project=config.project,
        stack=config.stack,
        config=dict(config.display),
        resources=sorted(monitor.records, key=lambda r: r.urn),  # registration order varies
        outputs=monitor.outputs,
        diagnostics=collect.messages,
    )
    _check_explicit_providers(plan)
    return plan


def _check_explicit_providers(plan: Plan) -> None:
    for r in plan.resources:
        package = r.type.split(":", 1)[0]
        if r.custom and package in EXPLICIT_PROVIDER_PACKAGES and not r.provider:
            raise ProgramError(
                f"{r.type} {r.name!r} has no explicit provider, and Pulumi.yaml disables the "
                f"default {package} provider: pass the regional provider in its options"
            )
