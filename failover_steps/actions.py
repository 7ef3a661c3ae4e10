"""One step logic for both runners: an action name, the activation's target region and mode ->
the handler call. The Lambda entries (Region switch) and the local runner both come through
:func:`run_action`, so they act on the same region with the same arguments."""

from __future__ import annotations

from collections.abc import Callable

from failover_steps.aws import StepError, StepResult, peer_of
from failover_steps.contract import ACTIONS, StepConfig
from failover_steps.fence import fence_region
from failover_steps.promote import failover_cache, failover_docdb, promote_postgres
from failover_steps.traffic import set_routing_controls, set_traffic_signal
from failover_steps.verify import verify_writable
from failover_steps.workflows import MODES, Mode, activation_steps

#: Actions whose behaviour depends on graceful/ungraceful (the Lambda entry must learn the mode).
MODE_DEPENDENT = frozenset(
    {"failover_cache", "failover_docdb", "verify_writable", "set_traffic_signal"}
)


def acts_on(action: str, config: StepConfig, target_region: str) -> str:
    """The region an action changes: the target, or its peer for steps declared ``where=peer``
    (fencing the old primary during a graceful activation)."""
    wheres = {s.where for m in MODES for s in activation_steps(m) if s.action == action}
    return peer_of(config, target_region) if wheres == {"peer"} else target_region


def lost_regions(config: StepConfig, target_region: str, mode: Mode) -> tuple[str, ...]:
    """Regions no call may go to: the peer, when the activation is ungraceful (a disaster)."""
    return (peer_of(config, target_region),) if mode == "ungraceful" else ()


def switch_traffic(config: StepConfig, target_region: str, mode: Mode) -> StepResult:
    """Traffic to the target only: routing controls (``arc``) or the CloudWatch signal
    (``signal``), never through an endpoint in a lost region."""
    avoid = lost_regions(config, target_region, mode)
    if config.traffic_mode == "arc":
        return set_routing_controls(config, target_region, avoid_regions=avoid)
    return set_traffic_signal(config, target_region, avoid_regions=avoid)


def run_action(
    action: str, config: StepConfig, target_region: str, mode: Mode, *, wait_s: float = 0.0
) -> StepResult:
    """Run ``action`` for an activation of ``target_region``. Raises :class:`StepError` when the
    action is unknown, when AWS refuses, or when a verified property does not hold. ``wait_s``
    bounds how long a promotion waits for AWS to finish (0: do not wait)."""
    if action not in ACTIONS:
        raise StepError(f"unknown action {action!r}; known: {', '.join(sorted(ACTIONS))}")
    if mode not in MODES:
        raise StepError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    region = acts_on(action, config, target_region)
    avoid = lost_regions(config, target_region, mode)
    calls: dict[str, Callable[[], StepResult]] = {
        "fence_region": lambda: fence_region(config, region),
        "promote_postgres": lambda: promote_postgres(config, region, wait_s=wait_s),
        "failover_cache": lambda: failover_cache(config, region, mode, wait_s=wait_s),
        "failover_docdb": lambda: failover_docdb(config, region, mode, wait_s=wait_s),
        "verify_writable": lambda: verify_writable(config, region, peer_fenced=mode == "graceful"),
        "set_traffic_signal": lambda: set_traffic_signal(config, region, avoid_regions=avoid),
    }
    result = calls[action]()
    if not result.ok:
        failed = "; ".join(f"{c.name}: {c.detail}" for c in result.checks if not c.ok)
        raise StepError(f"{action} in {region}: {failed}")
    return result
