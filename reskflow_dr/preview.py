"""The offline preview: stack files -> validated settings -> the program under mocks -> a plan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from infra.settings import (
    AWS_REGION_KEY,
    ROLE_KEY,
    ConfigError,
    StackSettings,
    check_peer_role,
    check_peer_stack,
    load_settings,
)
from reskflow_dr.engine import Plan, run_program
from reskflow_dr.stackfiles import StackConfig, UsageError, known_stacks, load_stack

#: The checkout this package was imported from: the default project of the library functions and
#: the tests. The CLI finds its project with :func:`find_project` instead (an installed package
#: lives in site-packages, far from any Pulumi.yaml).
ROOT = Path(__file__).resolve().parent.parent


def find_project(cwd: Path | None = None, start: Path | None = None) -> Path:
    """The project directory: ``cwd`` (``-C/--cwd``) when given, which must hold Pulumi.yaml;
    else the nearest directory holding Pulumi.yaml, from ``start`` (the current directory) up,
    as the Pulumi CLI looks for it. Raises UsageError when there is none."""
    if cwd is not None:
        if not cwd.is_dir():
            raise UsageError(f"usage error: --cwd {cwd}: no such directory")
        if not (cwd / "Pulumi.yaml").is_file():
            raise UsageError(f"usage error: --cwd {cwd}: no Pulumi.yaml in that directory")
        return cwd.resolve()
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / "Pulumi.yaml").is_file():
            return directory
    raise UsageError(
        f"usage error: no Pulumi.yaml in {here} or any directory above it: run inside the "
        "project, or name it with -C/--cwd DIR"
    )


#: ``--set`` overrides per peer stack, applied when cross-reading its file (drill targets).
PeerOverrides = Mapping[str, Sequence[str]]


def check_peer_files(
    root: Path, settings: StackSettings, peers: PeerOverrides | None = None, pair: bool = True
) -> None:
    """Offline, both stack files are at hand: refuse two stacks in one region, and a peer whose
    role is not the one this stack assumes (the offline half of the split-brain guard)."""
    for other in known_stacks(root):
        if other == settings.stack:
            continue
        try:
            peer_config = load_stack(root, other, (peers or {}).get(other, ()))
        except Exception:  # noqa: BLE001 - the other stack's own preview reports its problems
            continue
        values = peer_config.values
        if values.get(AWS_REGION_KEY.name) == settings.peer_region:
            check_peer_role(settings, other, values.get(ROLE_KEY.name))
        if values.get(AWS_REGION_KEY.name) == settings.region:
            raise ConfigError(
                AWS_REGION_KEY.name,
                settings.region,
                f"stack {other!r} is already in {settings.region}; the peer of this stack must "
                f"be in {settings.peer_region}",
            )
        try:
            peer = settings_of(peer_config)
        except ConfigError:
            continue  # the other stack's own preview reports it
        check_peer_stack(settings, peer, pair)


def settings_of(config: StackConfig) -> StackSettings:
    """A stack config validated with its own secret keys (offline, in place of the runtime's)."""
    return load_settings(config.values, config.stack, config.project, config.secret_keys)


def validated(root: Path, stack: str, overrides: Sequence[str] = ()) -> StackSettings:
    """A stack's settings from its own file alone, without the cross-check with its peer's."""
    return settings_of(load_stack(root, stack, overrides))


def load(
    root: Path, stack: str, overrides: Sequence[str] = (), peers: PeerOverrides | None = None
) -> tuple[StackConfig, StackSettings]:
    """Read and validate a stack's config; raises ConfigError or UsageError before anything runs.
    ``peers`` are overrides for the other stacks' files as they are cross-read."""
    config = load_stack(root, stack, overrides)
    settings = settings_of(config)
    # A --set on this stack alone is a what-if against the peer's current file: the pair rules
    # need both sides as they will be (no override, or a drill's target for the peer too).
    check_peer_files(root, settings, peers, pair=not overrides or peers is not None)
    return config, settings


def preview(
    stack: str,
    overrides: Sequence[str] = (),
    root: Path = ROOT,
    peers: PeerOverrides | None = None,
) -> Plan:
    config, settings = load(root, stack, overrides, peers)
    return run_program(config, settings.account_id, settings.region)
