"""The floor: the least any offline preview of these stacks can cost with the Pulumi SDK.

A minimal program that imports the same provider modules as the real program, then, per stack,
registers the same resources (type and name, custom or component) with no inputs, no parent and
no options, under the SDK's own ``MockMonitor`` and ``run_in_stack`` -- the way the language host
runs a program -- with the interpreter's default garbage collector. Nothing of ``reskflow_dr`` is
imported. Its wall time, interpreter start included, is what the whole ``reskflow-dr preview``
command is compared with.

    python benchmarks/floor.py SPEC.json

``SPEC.json`` (written by ``bench.py`` from the real plans): ``{"modules": [...], "stacks":
{"prod": [[type, name, custom], ...], ...}}``.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from typing import Any


def main(spec_path: str) -> int:
    with open(spec_path, encoding="utf-8") as file:
        spec = json.load(file)
    for module in spec["modules"]:
        importlib.import_module(module)

    import pulumi
    from pulumi.runtime.mocks import MockEngine, MockMonitor, MockSettings
    from pulumi.runtime.settings import ROOT, configure
    from pulumi.runtime.stack import run_in_stack

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
            return f"{args.name}-id", dict(args.inputs)

        def call(self, args: Any) -> tuple[dict[str, Any], list[tuple[str, str]]]:
            return {}, []

    registered = 0
    for stack, resources in spec["stacks"].items():
        monitor = MockMonitor(Mocks())
        configure(
            MockSettings(
                monitor=monitor,
                monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
                engine=MockEngine(None),
                project="floor",
                stack=stack,
                dry_run=False,
                organization="organization",
                callbacks=None,
            )
        )
        ROOT.set(None)

        def program(resources: list[list[Any]] = resources) -> None:
            for type_, name, custom in resources:
                if type_ == "pulumi:pulumi:Stack":
                    continue
                if custom:
                    pulumi.CustomResource(type_, name, {})
                else:
                    pulumi.ComponentResource(type_, name)

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.run_until_complete(run_in_stack(program))
        loop.close()
        registered += len(monitor.resources)
    print(json.dumps({"registered": registered}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
