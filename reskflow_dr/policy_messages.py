"""An offline plan as the engine sends it to a policy analyzer: ``AnalyzeRequest`` per resource,
``AnalyzeStackRequest`` with all of them, each resource's properties converted once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2

# Values of an offline plan and how the engine encodes them on the analyzer wire.
PLAN_UNKNOWN = "[unknown]"
PLAN_SECRET = "[secret]"
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def wire(value: Any) -> Any:
    """A plan value as the engine sends it: unknowns as the sentinel, secrets wrapped."""
    if value == PLAN_UNKNOWN:
        return UNKNOWN_STRING
    if value == PLAN_SECRET:
        return {SIG_KEY: SECRET_SIG, "value": PLAN_SECRET}
    if isinstance(value, Mapping):
        return {str(k): wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [wire(v) for v in value]
    return value


def struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(wire(values))
    return message


def provider_urn(reference: str) -> str:
    """The URN of a provider reference (``URN::ID``, or a bare URN)."""
    parts = reference.split("::")
    return "::".join(parts[:4]) if len(parts) > 4 else reference


class PlanIndex:
    """A plan's resources and the analyzer messages made from them, each made once."""

    def __init__(self, plan: Mapping[str, Any]) -> None:
        self.resources: list[Mapping[str, Any]] = list(plan.get("resources", []))
        self.by_urn = {str(r["urn"]): r for r in self.resources}
        self._providers: dict[tuple[str, str], analyzer_pb2.AnalyzerProviderResource] = {}
        self._properties: dict[str, struct_pb2.Struct] = {}

    def name_of(self, urn: str) -> str:
        resource = self.by_urn.get(urn)
        return str(resource["name"]) if resource is not None else ""

    def properties(self, r: Mapping[str, Any]) -> struct_pb2.Struct:
        """The resource's inputs as the wire ``Struct`` (made once per resource)."""
        urn = str(r["urn"])
        if urn not in self._properties:
            self._properties[urn] = struct(r.get("inputs") or {})
        return self._properties[urn]

    def provider_key(self, r: Mapping[str, Any]) -> tuple[str, str] | None:
        reference = str(r.get("provider") or "")
        return (reference, str(r.get("region") or "")) if reference else None

    def provider(self, r: Mapping[str, Any]) -> analyzer_pb2.AnalyzerProviderResource | None:
        key = self.provider_key(r)
        if key is None:
            return None
        if key not in self._providers:
            reference, region = key
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
                properties=struct(props),
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

    def request(self, r: Mapping[str, Any], with_properties: bool = True) -> Any:
        """``AnalyzeRequest`` for one resource (``with_properties=False``: without its inputs,
        for an analyzer in this process that takes them converted)."""
        request = analyzer_pb2.AnalyzeRequest(
            type=str(r["type"]), urn=str(r["urn"]), name=str(r["name"]), options=self.options(r)
        )
        if with_properties:
            request.properties.CopyFrom(self.properties(r))
        provider = self.provider(r)
        if provider is not None:
            request.provider.CopyFrom(provider)
        return request

    def stack_resource(self, r: Mapping[str, Any], with_properties: bool = True) -> Any:
        """``AnalyzerResource`` for ``AnalyzeStack`` (``with_properties`` as in :meth:`request`)."""
        property_deps = {
            str(k): analyzer_pb2.AnalyzerPropertyDependencies(urns=[str(u) for u in v])
            for k, v in (r.get("propertyDependencies") or {}).items()
        }
        dependencies = [str(u) for u in (r.get("options") or {}).get("dependsOn") or []]
        for urns in property_deps.values():
            dependencies.extend(u for u in urns.urns if u not in dependencies)
        resource = analyzer_pb2.AnalyzerResource(
            type=str(r["type"]),
            urn=str(r["urn"]),
            name=str(r["name"]),
            options=self.options(r),
            parent=str(r.get("parent") or ""),
            dependencies=dependencies,
            propertyDependencies=property_deps,
        )
        if with_properties:
            resource.properties.CopyFrom(self.properties(r))
        provider = self.provider(r)
        if provider is not None:
            resource.provider.CopyFrom(provider)
        return resource

    def stack_request(self) -> analyzer_pb2.AnalyzeStackRequest:
        return analyzer_pb2.AnalyzeStackRequest(
            resources=[self.stack_resource(r) for r in self.resources]
        )
