"""The offline preview: stack files -> validated settings -> the program under mocks -> a plan."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from infra.config import ConfigError, StackSettings, check_peer_stack, load_settings
from reskflow_dr.engine import Plan, run_program
from reskflow_dr.stackfiles import StackConfig, known_stacks, load_stack

#: The repository root: Pulumi.yaml and the stack files live here.
ROOT = Path(__file__).resolve().parent.parent


def check_peer_files(root: Path, settings: StackSettings) -> None:
    """Offline, both stack files are at hand: refuse two stacks in one region."""
    for other in known_stacks(root):
        if other == settings.stack:
            continue
        try:
            peer_config = load_stack(root, other)
        except Exception:  # noqa: BLE001 - the other stack's own preview reports its problems
            continue
        values = peer_config.values
        if values.get("aws:region") == settings.region:
            raise ConfigError(
                "aws:region",
                settings.region,
                f"stack {other!r} is already in {settings.region}; the peer of this stack must "
                f"be in {settings.peer_region}",
            )
        try:
            peer = load_settings(values, other, peer_config.project, peer_config.secret_keys)
        except ConfigError:
            continue  # the other stack's own preview reports it
        check_peer_stack(settings, peer)


def load(
    root: Path, stack: str, overrides: Sequence[str] = ()
) -> tuple[StackConfig, StackSettings]:
    """Read and validate a stack's config; raises ConfigError or UsageError before anything runs."""
    config = load_stack(root, stack, overrides)
    settings = load_settings(config.values, stack, config.project, config.secret_keys)
    check_peer_files(root, settings)
    return config, settings


def preview(stack: str, overrides: Sequence[str] = (), root: Path = ROOT) -> Plan:
    config, settings = load(root, stack, overrides)
    return run_program(config, settings.account_id, settings.region)
