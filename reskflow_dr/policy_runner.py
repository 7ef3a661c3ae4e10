"""Offline policy verdicts: the policy pack asked through its analyzer gRPC interface.

The pack in ``policy/`` is started the way the Pulumi CLI starts a Python policy pack
(``python -u -m pulumi.policy ENGINE_ADDRESS POLICY_DIR``); it prints the port of its analyzer
server, and this module then calls ``GetAnalyzerInfo``, ``Configure`` (every policy's
enforcement level and properties, schema defaults included), ``ConfigureStack``, ``Analyze`` for
each resource of a plan and ``AnalyzeStack`` once with all of them. The diagnostics come back as
:class:`Verdict` records, so the verdicts offline are the ones ``pulumi preview --policy-pack
policy`` gives.

Public API::

    verdicts = evaluate(plan, load_policy_config(path))   # one pack run per call
    print(format_verdicts(verdicts))
    has_mandatory_violation(verdicts)                      # -> exit 1

    with PolicyPackSession() as pack:                      # start once, evaluate many plans
        pack.evaluate(plan_a); pack.evaluate(plan_b, config)
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

#: The policy pack directory (``PulumiPolicy.yaml``) of this repository.
POLICY_DIR = Path(__file__).resolve().parent.parent / "policy"

#: The Pulumi CLI passes its engine's address first; a Python pack only parses it.
ENGINE_ADDRESS = "127.0.0.1:0"

# Values of an offline plan and how the engine encodes them on the analyzer wire.
PLAN_UNKNOWN = "[unknown]"
PLAN_SECRET = "[secret]"
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"

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


def format_verdicts(verdicts: Sequence[Verdict]) -> str:
    """A plain-text table: policy, enforcement, resource, message."""
    if not verdicts:
        return "policy: no violations"
    rows = [("POLICY", "ENFORCEMENT", "RESOURCE", "MESSAGE")]
    for v in verdicts:
        level = "not checkable" if v.not_checkable else v.enforcement
        rows.append((v.policy, level, v.resource or "(stack)", v.message))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(row[i].ljust(widths[i]) for i in range(3)) + "  " + row[3] for row in rows]
    mandatory = sum(1 for v in verdicts if v.enforcement == "mandatory" and not v.not_checkable)
    lines.append(f"{len(verdicts)} verdicts, {mandatory} mandatory")
    return "\n".join(lines)


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
# Plan -> analyzer messages
# --------------------------------------------------------------------------------------------


def _wire(value: Any) -> Any:
    """A plan value as the engine sends it: unknowns as the sentinel, secrets wrapped."""
    if value == PLAN_UNKNOWN:
        return UNKNOWN_STRING
    if value == PLAN_SECRET:
        return {SIG_KEY: SECRET_SIG, "value": PLAN_SECRET}
    if isinstance(value, Mapping):
        return {str(k): _wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_wire(v) for v in value]
    return value


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(_wire(values))
    return message


def provider_urn(reference: str) -> str:
    """The URN of a provider reference (``URN::ID``, or a bare URN)."""
    parts = reference.split("::")
    return "::".join(parts[:4]) if len(parts) > 4 else reference


class _PlanIndex:
    """A plan's resources converted once to analyzer messages."""

    def __init__(self, plan: Mapping[str, Any]) -> None:
        self.resources: list[Mapping[str, Any]] = list(plan.get("resources", []))
        self.by_urn = {str(r["urn"]): r for r in self.resources}
        self._providers: dict[tuple[str, str], analyzer_pb2.AnalyzerProviderResource] = {}

    def name_of(self, urn: str) -> str:
        resource = self.by_urn.get(urn)
        return str(resource["name"]) if resource is not None else ""

    def provider(self, r: Mapping[str, Any]) -> analyzer_pb2.AnalyzerProviderResource | None:
        reference = str(r.get("provider") or "")
        region = str(r.get("region") or "")
        if not reference:
            return None
        key = (reference, region)
        if key not in self._providers:
            urn = provider_urn(reference)
            declared = self.by_urn.get(urn, {})
            props = dict(declared.get("inputs", {}))
            if region and "region" not in props:
                props["region"] = region
            parts = urn.split("::")
            self._providers[key] = analyzer_pb2.AnalyzerProviderResource(
                type=str(declared.get("type") or (parts[2] if len(parts) == 4 else "")),
                urn=urn,
                name=str(declared.get("name") or parts[-1]),
                properties=_struct(props),
            )
        return self._providers[key]

    @staticmethod
    def options(r: Mapping[str, Any]) -> analyzer_pb2.AnalyzerResourceOptions:
        opts = r.get("options") or {}
        return analyzer_pb2.AnalyzerResourceOptions(
            protect=bool(opts.get("protect", False)),
            ignoreChanges=[str(x) for x in opts.get("ignoreChanges") or []],
            parent=str(r.get("parent") or ""),
        )

    def request(self, r: Mapping[str, Any]) -> analyzer_pb2.AnalyzeRequest:
        request = analyzer_pb2.AnalyzeRequest(
            type=str(r["type"]),
            properties=_struct(r.get("inputs") or {}),
            urn=str(r["urn"]),
            name=str(r["name"]),
            options=self.options(r),
        )
        provider = self.provider(r)
        if provider is not None:
            request.provider.CopyFrom(provider)
        return request

    def stack_resource(self, r: Mapping[str, Any]) -> analyzer_pb2.AnalyzerResource:
        property_deps = {
            str(k): analyzer_pb2.AnalyzerPropertyDependencies(urns=[str(u) for u in v])
            for k, v in (r.get("propertyDependencies") or {}).items()
        }
        dependencies = [str(u) for u in (r.get("options") or {}).get("dependsOn") or []]
        for urns in property_deps.values():
            dependencies.extend(u for u in urns.urns if u not in dependencies)
        resource = analyzer_pb2.AnalyzerResource(
            type=str(r["type"]),
            properties=_struct(r.get("inputs") or {}),
            urn=str(r["urn"]),
            name=str(r["name"]),
            options=self.options(r),
            parent=str(r.get("parent") or ""),
            dependencies=dependencies,
            propertyDependencies=property_deps,
        )
        provider = self.provider(r)
        if provider is not None:
            resource.provider.CopyFrom(provider)
        return resource


# --------------------------------------------------------------------------------------------
# The pack process
# --------------------------------------------------------------------------------------------


def _pump(stream: IO[bytes], sink: queue.Queue[str] | None, keep: list[str]) -> None:
    """Read a pack's output stream to its end, so the pack never blocks on a full pipe."""
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip("\n")
        if sink is not None:
            sink.put(line)
        keep.append(line)
    stream.close()


class PolicyPackSession:
    """A running policy pack, started as the Pulumi CLI starts it, stopped on exit."""

    def __init__(
        self,
        policy_dir: str | os.PathLike[str] = POLICY_DIR,
        python: str = sys.executable,
        start_timeout: float = 60.0,
    ) -> None:
        self.policy_dir = Path(policy_dir).resolve()
        self.python = python
        self.start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._stdout: list[str] = []
        self._stderr: list[str] = []
        self._threads: list[threading.Thread] = []
        self.pack_name = ""
        self.plugin_version = ""
        self.policies: list[PolicyInfo] = []

    def __enter__(self) -> PolicyPackSession:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Run the pack, read the port it prints, connect and read its policies."""
        if not (self.policy_dir / "PulumiPolicy.yaml").is_file():
            raise PolicyPackError(f"no PulumiPolicy.yaml in {self.policy_dir}")
        command = [self.python, "-u", "-m", "pulumi.policy", ENGINE_ADDRESS, str(self.policy_dir)]
        self._process = subprocess.Popen(
            command,
            cwd=self.policy_dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        lines: queue.Queue[str] = queue.Queue()
        stdout, stderr = self._process.stdout, self._process.stderr
        assert stdout is not None and stderr is not None
        self._threads = [
            threading.Thread(target=_pump, args=(stdout, lines, self._stdout), daemon=True),
            threading.Thread(target=_pump, args=(stderr, None, self._stderr), daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        port = self._read_port(lines)
        self._channel = grpc.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", 400 * 2**20)]
        )
        try:
            grpc.channel_ready_future(self._channel).result(timeout=self.start_timeout)
        except grpc.FutureTimeoutError as err:
            self.close()
            raise PolicyPackError(f"policy pack did not answer on port {port}") from err
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        self._read_info()

    def _read_port(self, lines: queue.Queue[str]) -> int:
        try:
            first = lines.get(timeout=self.start_timeout)
        except queue.Empty:
            self.close()
            raise PolicyPackError(self._failure("printed no port")) from None
        if not first.strip().isdigit():
            self.close()
            raise PolicyPackError(self._failure(f"printed {first!r} instead of a port"))
        return int(first.strip())

    def _failure(self, what: str) -> str:
        tail = "\n".join(self._stderr[-20:])
        return f"policy pack {self.policy_dir} {what}" + (f":\n{tail}" if tail else "")

    def close(self) -> None:
        """Disconnect and stop the pack (Ctrl-C, as the pack expects), then reap it."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        self._stub = None
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    # -- analyzer calls ---------------------------------------------------------------------

    @property
    def stub(self) -> analyzer_pb2_grpc.AnalyzerStub:
        if self._stub is None:
            raise PolicyPackError("policy pack is not running")
        return self._stub

    def _call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.stub, method)(request)
        except grpc.RpcError as err:
            raise PolicyPackError(self._failure(f"failed in {method}: {err}")) from err

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

    def analyze(self, plan: Mapping[str, Any]) -> list[Verdict]:
        """``Analyze`` each resource, then ``AnalyzeStack`` with all of them."""
        index = _PlanIndex(plan)
        verdicts: list[Verdict] = []
        for resource in index.resources:
            response = self._call("Analyze", index.request(resource))
            verdicts.extend(self._verdicts(response, index, str(resource["urn"])))
        stack_request = analyzer_pb2.AnalyzeStackRequest(
            resources=[index.stack_resource(r) for r in index.resources]
        )
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

    def _verdicts(self, response: Any, index: _PlanIndex, urn: str) -> list[Verdict]:
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


def evaluate(
    plan: Mapping[str, Any],
    policy_config: Mapping[str, Any] | None = None,
    *,
    policy_dir: str | os.PathLike[str] = POLICY_DIR,
) -> list[Verdict]:
    """Start the pack, evaluate ``plan`` (a ``reskflow-dr preview --json`` document), stop it."""
    with PolicyPackSession(policy_dir) as pack:
        return pack.evaluate(plan, policy_config)
