"""The failover runbook as data: the ordered steps that activate a region.

One declaration, two runners: ``components/`` turns these steps into the workflows of the ARC
Region switch plan (AWS executes them from the region being activated), and the local runner
(``reskflow-dr drill ... --execute`` where Region switch is not used) runs the same steps, in the
same order, through the same handlers (:mod:`failover_steps.contract`).

Region switch executes a plan with a target region, an action (``activate``) and a mode:
``graceful`` (planned failover or failback: the peer region is reachable and is fenced first) or
``ungraceful`` (disaster: the peer region is unreachable and is fenced when it comes back).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal["graceful", "ungraceful"]
MODES: tuple[Mode, ...] = ("graceful", "ungraceful")

StepKind = Literal["approval", "lambda", "docdb_global", "eks_scaling", "routing_control"]
"""``approval``: Region switch execution approval block (a person approves).
``lambda``: a custom action from :data:`failover_steps.contract.ACTIONS`.
``docdb_global``: Region switch's DocumentDB global cluster block (switchover when graceful,
failover when ungraceful).
``eks_scaling``: Region switch's EKS resource scaling block (deployments to their active size).
``routing_control``: Region switch's ARC routing control block (traffic mode ``arc``); in traffic
mode ``signal`` the local runner and the plan use the ``set_traffic_signal`` action instead."""

Where = Literal["target", "peer"]
"""Which region a step acts on: the one being activated, or the other one."""


@dataclass(frozen=True)
class Step:
    """One step of an activation."""

    name: str
    """Stable id, also the step's name in the Region switch plan and in the local journal."""
    kind: StepKind
    summary: str
    where: Where = "target"
    action: str = ""
    """For ``lambda`` steps: the key of the action in ``ACTIONS``."""
    group: str = ""
    """Steps sharing a group run together (a Region switch parallel block)."""
    timeout_minutes: int = 30


def activation_steps(mode: Mode) -> tuple[Step, ...]:
    """The steps that make the target region the only writable, serving region.

    Graceful: the peer's stores are fenced before anything is promoted, so there is never a moment
    with two writers; the promotions then lose nothing (DocumentDB switchover, the RDS replica has
    caught up while writes were fenced). Ungraceful: the peer is unreachable and cannot be fenced
    now; it is held out of traffic by its routing control (or signal) and fenced on its return
    (docs/traffic-switch.md, "a region comes back").
    """
    steps: list[Step] = [
        Step(
            "approve",
            "approval",
            "a person approves activating the target region",
            timeout_minutes=60,
        ),
        Step(
            "scale-target", "eks_scaling", "scale the target region's workloads to the active size"
        ),
    ]
    if mode == "graceful":
        steps.append(
            Step(
                "fence-peer",
                "lambda",
                "attach the fence security groups to the peer region's data stores",
                where="peer",
                action="fence_region",
                timeout_minutes=10,
            )
        )
    steps += [
        Step(
            "promote-postgres",
            "lambda",
            "promote the target region's PostgreSQL replica",
            action="promote_postgres",
            group="promote",
            timeout_minutes=45,
        ),
        Step(
            "failover-cache",
            "lambda",
            "make the target region's Redis the Global Datastore primary",
            action="failover_cache",
            group="promote",
        ),
        Step(
            "failover-docdb",
            "docdb_global",
            "make the target region's DocumentDB cluster the global writer",
            group="promote",
        ),
        Step(
            "verify-writable",
            "lambda",
            "check every store in the target region accepts writes",
            action="verify_writable",
            timeout_minutes=10,
        ),
        Step(
            "switch-traffic",
            "routing_control",
            "route traffic to the target region only (routing controls: target on, peer off)",
            timeout_minutes=10,
        ),
    ]
    return tuple(steps)
