"""Offline policy verdicts: the policy pack's analyzer asked as the Pulumi CLI asks it.

The analyzer is asked ``GetAnalyzerInfo``, ``Configure`` (every policy's enforcement level and
properties, schema defaults included), ``ConfigureStack``, ``Analyze`` for each resource of a plan
and ``AnalyzeStack`` once with all of them; the diagnostics come back as :class:`Verdict` records.
Two sessions ask it, with the same requests and the same reading of the answers:

- :class:`PolicyPackSession` (the default offline): the pack's program runs in this process and
  the analyzer is ``pulumi_policy``'s own servicer, called directly, converting each resource's
  properties once for all 35 policies instead of once per policy (``policy_inprocess``);
- :class:`AnalyzerPackSession`: the pack started the way the Pulumi CLI starts a Python policy
  pack (``python -u -m pulumi.policy ENGINE_ADDRESS POLICY_DIR``), asked over its gRPC analyzer
  interface. The parity test asserts that both give the same verdicts on the real plans.

Public API::

    verdicts = evaluate(plan, load_policy_config(path))   # one pack load per call
    print(render.verdicts(verdicts))                       # reskflow_dr/render.py
    has_mandatory_violation(verdicts)                      # -> exit 1

    with PolicyPackSession() as pack:                      # load once, evaluate many plans
        pack.evaluate(plan_a); pack.evaluate(plan_b, config)
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import analyzer_pb2

from reskflow_dr import policy_inprocess
from reskflow_dr.collector import collector_paused
from reskflow_dr.policy_messages import PlanIndex, provider_urn

#: The policy pack directory (``PulumiPolicy.yaml``) of this repository.
POLICY_DIR = Path(__file__).resolve().parent.parent / "policy"

__all__ = ["provider_urn"]  # re-exported: the plan's provider reference -> URN

ENFORCEMENT_LEVELS: dict[str, analyzer_pb2.EnforcementLevel.ValueType] = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "remediate": analyzer_pb2.REMEDIATE,
    "disabled": analyzer_pb2.DISABLED,
}
_LEVEL_NAMES = {v: k for k, v in ENFORCEMENT_LEVELS.items()}
_SEVERITY_NAMES = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}
_NOT_CHECKABLE_MARK = "during preview: "


class PolicyRunnerError(Exception):
    """Base of this module's errors."""


class PolicyConfigError(PolicyRunnerError, ValueError):
    """A policy config file names an unknown policy or property, or a value its schema refuses.

    ``str(err)`` is one line naming the key, the value and what is allowed.
    """

    def __init__(self, key: str, value: object, allowed: str) -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        super().__init__(f"policy config error: {key} = {json.dumps(value)}: {allowed}")


class PolicyPackError(PolicyRunnerError):
    """The policy pack did not start, or stopped answering."""


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """One diagnostic of the pack.

    ``resource`` is the resource's name ("" for a stack-wide note); ``not_checkable`` marks the
    advisory notes about values unknown at preview.
    """

    policy: str
    enforcement: str
    urn: str
    resource: str
    message: str
    severity: str
    not_checkable: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "enforcement": self.enforcement,
            "urn": self.urn,
            "resource": self.resource,
            "message": self.message,
            "severity": self.severity,
            "notCheckable": self.not_checkable,
        }


@dataclass(frozen=True)
class PolicyInfo:
    """A policy as the pack describes itself in ``GetAnalyzerInfo``."""

    name: str
    description: str
    enforcement: str
    kind: str
    severity: str
    remediation: str
    schema: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()


def has_mandatory_violation(verdicts: Iterable[Verdict]) -> bool:
    """True when any verdict blocks the deployment."""
    return any(v.enforcement == "mandatory" and not v.not_checkable for v in verdicts)


# --------------------------------------------------------------------------------------------
# Policy config: the format of `pulumi preview --policy-pack-config`
# --------------------------------------------------------------------------------------------


def load_policy_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a policy config file (JSON, as ``--policy-pack-config`` takes)."""
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as err:
        raise PolicyConfigError(
            "--policy-config", str(file), f"unreadable: {err.strerror}"
        ) from err
    except json.JSONDecodeError as err:
        raise PolicyConfigError("--policy-config", str(file), f"not JSON: {err.msg}") from err
    if not isinstance(data, dict):
        raise PolicyConfigError("--policy-config", str(file), "expected a JSON object")
    return data


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def _check_value(key: str, value: Any, spec: Mapping[str, Any]) -> None:
    expected = spec.get("type")
    types = _JSON_TYPES.get(str(expected), (object,))
    wrong_bool = isinstance(value, bool) and expected in ("integer", "number")
    if not isinstance(value, types) or wrong_bool:
        raise PolicyConfigError(key, value, f"expected {expected}")
    if "enum" in spec and value not in spec["enum"]:
        raise PolicyConfigError(
            key, value, "allowed values are " + ", ".join(map(str, spec["enum"]))
        )
    if "minimum" in spec and value < spec["minimum"]:
        raise PolicyConfigError(key, value, f"minimum is {spec['minimum']}")
    if "maximum" in spec and value > spec["maximum"]:
        raise PolicyConfigError(key, value, f"maximum is {spec['maximum']}")
    if isinstance(value, list) and isinstance(spec.get("items"), Mapping):
        for i, item in enumerate(value):
            _check_value(f"{key}[{i}]", item, spec["items"])


def _level(key: str, value: Any) -> str:
    if value not in ENFORCEMENT_LEVELS:
        raise PolicyConfigError(key, value, "allowed values are " + ", ".join(ENFORCEMENT_LEVELS))
    return str(value)


def resolve_config(
    policies: Sequence[PolicyInfo], user: Mapping[str, Any] | None
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every policy's (enforcement level, properties): defaults, then ``all``, then the user's.

    Validates the user's config the way the CLI does: unknown policies and properties, and
    values the policy's schema refuses, raise :class:`PolicyConfigError`.
    """
    user = dict(user or {})
    by_name = {p.name: p for p in policies}
    for name in user:
        if name != "all" and name not in by_name:
            raise PolicyConfigError(name, user[name], "no such policy in the pack")
    all_level = user.get("all")
    if isinstance(all_level, Mapping):
        all_level = all_level.get("enforcementLevel")
    resolved = {}
    for policy in policies:
        level = _level("all", all_level) if all_level is not None else policy.enforcement
        props = {k: s["default"] for k, s in policy.schema.items() if "default" in s}
        entry = user.get(policy.name)
        if isinstance(entry, str):
            level = _level(policy.name, entry)
        elif isinstance(entry, Mapping):
            for key, value in entry.items():
                full = f"{policy.name}.{key}"
                if key == "enforcementLevel":
                    level = _level(full, value)
                elif key not in policy.schema:
                    allowed = ", ".join(sorted(policy.schema)) or "none"
                    raise PolicyConfigError(full, value, f"unknown property; known: {allowed}")
                else:
                    _check_value(full, value, policy.schema[key])
                    props[key] = value
        elif entry is not None:
            raise PolicyConfigError(policy.name, entry, "expected a level or an object")
        resolved[policy.name] = (level, props)
    return resolved


# --------------------------------------------------------------------------------------------
# Sessions: the analyzer in this process, or the pack's process over gRPC
# --------------------------------------------------------------------------------------------


class _Session:
    """What both sessions share: the requests sent and the reading of the answers."""

    def __init__(self, policy_dir: str | os.PathLike[str]) -> None:
        self.policy_dir = Path(policy_dir).resolve()
        self.pack_name = ""
        self.plugin_version = ""
        self.policies: list[PolicyInfo] = []

    def __enter__(self) -> Any:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def _call(self, method: str, request: Any) -> Any:
        raise NotImplementedError

    def _check_pack(self) -> None:
        if not (self.policy_dir / "PulumiPolicy.yaml").is_file():
            raise PolicyPackError(f"no PulumiPolicy.yaml in {self.policy_dir}")

    def _read_info(self) -> None:
        info = self._call("GetAnalyzerInfo", empty_pb2.Empty())
        self.pack_name = info.name
        self.policies = [
            PolicyInfo(
                name=p.name,
                description=p.description,
                enforcement=_LEVEL_NAMES.get(p.enforcementLevel, "advisory"),
                kind="stack" if p.policy_type == analyzer_pb2.POLICY_TYPE_STACK else "resource",
                severity=_SEVERITY_NAMES.get(p.severity, ""),
                remediation=p.remediation_steps,
                schema=json_format.MessageToDict(p.configSchema.properties),
                tags=tuple(p.tags),
            )
            for p in info.policies
        ]
        self.plugin_version = self._call("GetPluginInfo", empty_pb2.Empty()).version

    def configure(self, policy_config: Mapping[str, Any] | None = None) -> None:
        """Send every policy's enforcement level and properties (schema defaults included)."""
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, (level, props) in resolve_config(self.policies, policy_config).items():
            entry = analyzer_pb2.PolicyConfig(enforcementLevel=ENFORCEMENT_LEVELS[level])
            entry.properties.update(props)
            request.policyConfig[name].CopyFrom(entry)
        self._call("Configure", request)

    def configure_stack(self, plan: Mapping[str, Any]) -> None:
        config = {
            str(k): v if isinstance(v, str) else json.dumps(v)
            for k, v in (plan.get("config") or {}).items()
        }
        request = analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=str(plan.get("stack", "")),
            project=str(plan.get("project", "")),
            dry_run=True,
            config=config,
        )
        self._call("ConfigureStack", request)

    def _requests(self, index: PlanIndex) -> tuple[Callable[[Mapping[str, Any]], Any], Any]:
        """(the ``Analyze`` request of a resource, the ``AnalyzeStack`` request)."""
        return index.request, index.stack_request()

    def analyze(self, plan: Mapping[str, Any]) -> list[Verdict]:
        """``Analyze`` each resource, then ``AnalyzeStack`` with all of them."""
        index = PlanIndex(plan)
        request, stack_request = self._requests(index)
        verdicts: list[Verdict] = []
        for resource in index.resources:
            response = self._call("Analyze", request(resource))
            verdicts.extend(self._verdicts(response, index, str(resource["urn"])))
        response = self._call("AnalyzeStack", stack_request)
        verdicts.extend(self._verdicts(response, index, ""))
        return verdicts

    def evaluate(
        self, plan: Mapping[str, Any], policy_config: Mapping[str, Any] | None = None
    ) -> list[Verdict]:
        """Configure the pack for ``plan`` and return its verdicts."""
        self.configure(policy_config)
        self.configure_stack(plan)
        return self.analyze(plan)

    def _verdicts(self, response: Any, index: PlanIndex, urn: str) -> list[Verdict]:
        found = []
        for d in response.diagnostics:
            target = d.urn or urn
            not_checkable = d.message.startswith("can't run policy")
            if not_checkable:
                message = d.message.split(_NOT_CHECKABLE_MARK, 1)[-1]
            elif d.message.startswith(d.description + "\n"):
                message = d.message[len(d.description) + 1 :]
            else:
                message = d.message
            found.append(
                Verdict(
                    policy=d.policyName,
                    enforcement=_LEVEL_NAMES.get(d.enforcementLevel, "advisory"),
                    urn=target,
                    resource=index.name_of(target),
                    message=message,
                    severity=_SEVERITY_NAMES.get(d.severity, ""),
                    not_checkable=not_checkable,
                )
            )
        return found


class PolicyPackSession(_Session):
    """The pack's program run in this process; its analyzer, ``pulumi_policy``'s own servicer,
    called directly (see ``policy_inprocess``). No process, no port, nothing to stop."""

    def __init__(self, policy_dir: str | os.PathLike[str] = POLICY_DIR) -> None:
        super().__init__(policy_dir)
        self._servicer: policy_inprocess.OnceServicer | None = None

    def __enter__(self) -> PolicyPackSession:
        self.start()
        return self

    def start(self) -> None:
        """Run the pack's program here and read its policies."""
        self._check_pack()
        try:
            self._servicer = policy_inprocess.load(self.policy_dir)
        except policy_inprocess.LibraryShapeError as err:
            raise PolicyPackError(f"policy pack {self.policy_dir}: {err}") from err
        except Exception as err:  # the pack's own program failed
            raise PolicyPackError(
                f"policy pack {self.policy_dir} failed to load: {type(err).__name__}: {err}"
            ) from err
        self._read_info()

    def close(self) -> None:
        self._servicer = None

    def _call(self, method: str, request: Any) -> Any:
        if self._servicer is None:
            raise PolicyPackError("policy pack is not loaded")
        try:
            return getattr(self._servicer, method)(request, None)
        except Exception as err:  # a policy failed: as the pack reports it
            raise PolicyPackError(
                f"policy pack {self.policy_dir} failed in {method}: {type(err).__name__}: {err}"
            ) from err

    def _requests(self, index: PlanIndex) -> tuple[Callable[[Mapping[str, Any]], Any], Any]:
        once = policy_inprocess.OnceRequests(index)
        return once.request, once.stack_request()

    def analyze(self, plan: Mapping[str, Any]) -> list[Verdict]:
        with collector_paused():
            return super().analyze(plan)


def evaluate(
    plan: Mapping[str, Any],
    policy_config: Mapping[str, Any] | None = None,
    *,
    policy_dir: str | os.PathLike[str] = POLICY_DIR,
    analyzer: bool = False,
) -> list[Verdict]:
    """Load the pack, evaluate ``plan`` (a ``reskflow-dr preview --json`` document), let it go.
    ``analyzer=True``: in its own process, over its gRPC analyzer interface."""
    session: _Session = PolicyPackSession(policy_dir)
    if analyzer:
        from reskflow_dr.policy_analyzer import AnalyzerPackSession  # it builds on this module

        session = AnalyzerPackSession(policy_dir)
    with session as pack:
        verdicts: list[Verdict] = pack.evaluate(plan, policy_config)
        return verdicts
