"""The policy pack loaded in this process and run through ``pulumi_policy``'s own analyzer code.

The pack's ``__main__.py`` is run as the CLI runs it (``runpy.run_path`` on the pack directory),
with ``pulumi_policy.PolicyPack`` standing for a subclass whose constructor is the library's own
code, bound so that it builds its analyzer servicer and returns instead of serving gRPC forever.
The servicer is the library's ``_PolicyAnalyzerServicer``; its ``Analyze``, ``AnalyzeStack`` and
``_get_provider_resource`` are the library's own functions too, rebound so that the conversion of a
resource's properties -- ``json_format.MessageToDict``, ``deserialize_properties``,
``unknown_checking_proxy``, in that order, as the library does -- runs once per resource instead of
once per resource and policy. Enforcement levels, config, violation reports, unknown values and
not-applicable results are the library's code, unchanged.

This reads two names that are not public (``_PolicyAnalyzerServicer`` and the names its methods
use): ``pulumi-policy`` is pinned in requirements.txt, and :func:`check_library` refuses another
shape. The parity test (tests/policy/test_policy_parity.py) runs the pack through its analyzer
gRPC interface on the real plans and asserts the same verdicts.
"""

from __future__ import annotations

import runpy
import threading
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pulumi_policy
from google.protobuf import json_format
from pulumi_policy import policy as _library
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy

from reskflow_dr.policy_messages import PlanIndex

#: The pulumi_policy release whose analyzer internals this module rebinds (requirements.txt).
PINNED_VERSION = "1.21.0"
#: The names each rebound method must read, so that a changed library is refused, not misused.
_CONVERSION = ("json_format", "deserialize_properties", "unknown_checking_proxy")
_REBOUND = ("Analyze", "AnalyzeStack", "_get_provider_resource")


class LibraryShapeError(Exception):
    """The installed pulumi_policy is not shaped as this module expects."""


class Converted:
    """A resource's properties as every policy sees them, converted once on first use: the
    ``Struct`` through ``MessageToDict``, ``deserialize_properties`` and ``unknown_checking_proxy``,
    the library's own functions in the library's order."""

    __slots__ = ("_proxy", "struct")

    def __init__(self, struct: Any) -> None:
        self.struct = struct
        self._proxy: Any = None

    def proxy(self) -> Any:
        if self._proxy is None:
            as_dict = json_format.MessageToDict(self.struct)
            self._proxy = unknown_checking_proxy(deserialize_properties(as_dict))
        return self._proxy


class Message:
    """A request message whose ``properties`` are a :class:`Converted`; ``provider`` is a
    :class:`Message` too. Every other field (and ``HasField``) is the protobuf message's own; the
    servicer's reading of its options and provider is kept for the next policy."""

    def __init__(self, message: Any, properties: Converted, provider: Message | None = None):
        self._message = message
        self.properties = properties
        self.provider = provider
        self.type, self.urn, self.name = message.type, message.urn, message.name
        self.options_read: Any = None
        self.provider_read: Any = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._message, name)

    def HasField(self, name: str) -> bool:  # noqa: N802 (protobuf's method name)
        return bool(self._message.HasField(name))


class StackRequest:
    """``AnalyzeStackRequest`` as the servicer reads it: its resources."""

    def __init__(self, resources: Sequence[Message]) -> None:
        self.resources = resources


# The conversion functions as the rebound methods see them: a Converted passes through the first
# two and is converted (once) by the third; any other value goes to the library's own function.
def _message_to_dict(message: Any, *args: Any, **kwargs: Any) -> Any:
    if isinstance(message, Converted):
        return message
    return json_format.MessageToDict(message, *args, **kwargs)


def _deserialize_properties(props: Any, proxy_secrets: bool = False) -> Any:
    if isinstance(props, Converted):
        return props
    return deserialize_properties(props, proxy_secrets)


def _unknown_checking_proxy(props: Any) -> Any:
    if isinstance(props, Converted):
        return props.proxy()
    return unknown_checking_proxy(props)


def _json_format_once() -> types.ModuleType:
    shim = types.ModuleType(json_format.__name__)
    shim.__dict__.update(vars(json_format))
    shim.MessageToDict = _message_to_dict  # type: ignore[attr-defined]
    return shim


def _rebind(function: Callable[..., Any], namespace: dict[str, Any]) -> Callable[..., Any]:
    """The same code, reading its global names from ``namespace``."""
    rebound = types.FunctionType(
        function.__code__,
        namespace,
        function.__name__,
        function.__defaults__,
        function.__closure__,
    )
    rebound.__kwdefaults__ = function.__kwdefaults__
    rebound.__qualname__ = function.__qualname__
    return rebound


def check_library() -> None:
    """Refuse a pulumi_policy whose analyzer does not read the names rebound here."""
    servicer = getattr(_library, "_PolicyAnalyzerServicer", None)
    if servicer is None:
        raise LibraryShapeError("pulumi_policy has no _PolicyAnalyzerServicer")
    for name in _REBOUND:
        names = set(getattr(servicer, name).__code__.co_names)
        missing = [n for n in _CONVERSION if n not in names]
        if name != "_get_provider_resource" and missing:
            raise LibraryShapeError(f"pulumi_policy's {name} no longer reads {missing}")
    init_names = set(_library.PolicyPack.__init__.__code__.co_names)
    if not {"_PolicyAnalyzerServicer", "grpc"} <= init_names:
        raise LibraryShapeError("pulumi_policy's PolicyPack no longer builds its servicer")


_ONCE_NAMESPACE: dict[str, Any] = {
    **vars(_library),
    "json_format": _json_format_once(),
    "deserialize_properties": _deserialize_properties,
    "unknown_checking_proxy": _unknown_checking_proxy,
}


class OnceServicer(_library._PolicyAnalyzerServicer):
    """The library's analyzer servicer, converting each resource once (see the module doc)."""

    Analyze = _rebind(_library._PolicyAnalyzerServicer.Analyze, _ONCE_NAMESPACE)
    AnalyzeStack = _rebind(_library._PolicyAnalyzerServicer.AnalyzeStack, _ONCE_NAMESPACE)
    _read_provider = _rebind(
        _library._PolicyAnalyzerServicer._get_provider_resource, _ONCE_NAMESPACE
    )

    def _get_resource_options(self, request: Any) -> Any:
        if not isinstance(request, Message):
            return super()._get_resource_options(request)
        if request.options_read is None:
            request.options_read = super()._get_resource_options(request)
        return request.options_read

    def _get_provider_resource(self, request: Any) -> Any:
        if not isinstance(request, Message):
            return self._read_provider(request)
        if request.provider_read is None:
            request.provider_read = (self._read_provider(request),)
        return request.provider_read[0]


class _ServicerBuiltError(Exception):
    """Raised where the library's PolicyPack would start serving: the servicer is built."""


class _NoServer:
    """``grpc`` as PolicyPack's constructor sees it: building the server means it is done."""

    @staticmethod
    def server(*_args: Any, **_kwargs: Any) -> Any:
        raise _ServicerBuiltError


_built: list[OnceServicer] = []
_load_lock = threading.Lock()


def _record(*args: Any, **kwargs: Any) -> OnceServicer:
    servicer = OnceServicer(*args, **kwargs)
    _built.append(servicer)
    return servicer


class _InProcessPolicyPack(pulumi_policy.PolicyPack):
    """``PolicyPack`` with the library's own constructor, which stops once its servicer is built."""

    __init__ = _rebind(
        pulumi_policy.PolicyPack.__init__,
        {**vars(_library), "_PolicyAnalyzerServicer": _record, "grpc": _NoServer},
    )


@contextmanager
def _policy_pack_replaced() -> Iterator[None]:
    saved = (pulumi_policy.PolicyPack, _library.PolicyPack)
    pulumi_policy.PolicyPack = _InProcessPolicyPack  # type: ignore[misc]
    _library.PolicyPack = _InProcessPolicyPack  # type: ignore[misc]
    try:
        yield
    finally:
        pulumi_policy.PolicyPack, _library.PolicyPack = saved  # type: ignore[misc]


def load(policy_dir: Path) -> OnceServicer:
    """Run the pack's program in this process and return its analyzer servicer.

    Raises :class:`LibraryShapeError` for an unexpected pulumi_policy, and whatever the pack's
    program raises (for example a ``TypeError`` from ``PolicyPack``'s own checks)."""
    check_library()
    with _load_lock, _policy_pack_replaced():
        _built.clear()
        with suppress(_ServicerBuiltError):
            runpy.run_path(str(policy_dir), run_name="__main__")
        if len(_built) != 1:
            raise LibraryShapeError(f"the pack built {len(_built)} PolicyPacks, expected one")
        return _built.pop()


class OnceRequests:
    """A plan's requests for the servicer in this process: the protobuf messages of
    :class:`~reskflow_dr.policy_messages.PlanIndex` without their properties, which each resource
    (and provider) carries as one :class:`Converted` shared by every policy and by both calls."""

    def __init__(self, index: PlanIndex) -> None:
        self.index = index
        self._converted: dict[str, Converted] = {}
        self._providers: dict[tuple[str, str], Message] = {}

    def _properties(self, r: Mapping[str, Any]) -> Converted:
        urn = str(r["urn"])
        if urn not in self._converted:
            self._converted[urn] = Converted(self.index.properties(r))
        return self._converted[urn]

    def _provider(self, r: Mapping[str, Any]) -> Message | None:
        key = self.index.provider_key(r)
        provider = self.index.provider(r)
        if key is None or provider is None:
            return None
        if key not in self._providers:
            self._providers[key] = Message(provider, Converted(provider.properties))
        return self._providers[key]

    def request(self, r: Mapping[str, Any]) -> Message:
        message = self.index.request(r, with_properties=False)
        return Message(message, self._properties(r), self._provider(r))

    def stack_request(self) -> StackRequest:
        return StackRequest(
            [
                Message(
                    self.index.stack_resource(r, with_properties=False),
                    self._properties(r),
                    self._provider(r),
                )
                for r in self.index.resources
            ]
        )
