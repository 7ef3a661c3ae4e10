"""A fake Pulumi Automation API workspace (no Pulumi CLI): records every config set, ``up``
(which must carry the policy pack), ``refresh`` (with its targets) and outputs read, and fails
the operations a test names."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

Log = list[tuple[Any, ...]]


class FakeStack:
    def __init__(self, name: str, ws: FakeWorkspace) -> None:
        self.name, self.ws = name, ws

    def set_config(self, key: str, value: Any) -> None:
        if (self.name, key) in self.ws.broken_config:
            raise RuntimeError("error: could not set config\nsecond line")
        self.ws.log.append(("config", self.name, key, value.value))

    def _result(self, failing: set[str]) -> Any:
        result = "failed" if self.name in failing else "succeeded"
        return SimpleNamespace(summary=SimpleNamespace(result=result))

    def up(
        self,
        *,
        on_output: Callable[[str], Any] | None = None,
        policy_packs: list[str] | None = None,
        policy_pack_configs: list[str] | None = None,
    ) -> Any:
        assert policy_packs == self.ws.policy_packs, "every up runs with the policy pack"
        if policy_pack_configs:
            configs = tuple(Path(p).read_text(encoding="utf-8") for p in policy_pack_configs)
            self.ws.log.append(("up", self.name, configs))
        else:
            self.ws.log.append(("up", self.name))
        if on_output:
            on_output(f"Updating ({self.name})\n")
        if self.name in self.ws.raising_ups:
            raise RuntimeError(f"error: {self.name}: up crashed\nmore")
        return self._result(self.ws.failing_ups)

    def refresh(
        self, *, on_output: Callable[[str], Any] | None = None, target: list[str] | None = None
    ) -> Any:
        self.ws.log.append(("refresh", self.name, tuple(target or ())))
        return self._result(self.ws.failing_refreshes)

    def outputs(self) -> Mapping[str, Any]:
        if self.name in self.ws.unreachable:
            raise RuntimeError(f"stack {self.name}: state backend unreachable")
        self.ws.log.append(("outputs", self.name))
        return {
            k: SimpleNamespace(value=v, secret=False)
            for k, v in self.ws.outputs.get(self.name, {}).items()
        }


class FakeWorkspace:
    def __init__(self) -> None:
        self.log: Log = []
        self.policy_packs = ["/project/policy"]
        self.failing_ups: set[str] = set()
        self.raising_ups: set[str] = set()
        self.failing_refreshes: set[str] = set()
        self.broken_config: set[tuple[str, str]] = set()
        self.unreachable: set[str] = set()
        self.outputs: dict[str, dict[str, Any]] = {}

    def select(self, stack: str) -> FakeStack:
        if stack in self.unreachable:
            raise RuntimeError(f"stack {stack}: state backend unreachable")
        self.log.append(("select", stack))
        return FakeStack(stack, self)

    def config_value(self, value: str) -> Any:
        return SimpleNamespace(value=value)

    def actions(self) -> Log:
        return [e for e in self.log if e[0] not in ("select", "outputs")]
