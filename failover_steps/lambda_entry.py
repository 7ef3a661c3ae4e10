"""AWS Lambda entry points, one per action (handler ``failover_steps.lambda_entry.<action>``).

The step config comes from the environment variable ``CONFIG_ENV`` (JSON of
:class:`~failover_steps.contract.StepConfig`). The invocation event is what ARC Region switch
sends to a custom action Lambda. What AWS documents about it (API reference, ``Lambdas``):
without a configured payload the function receives "only the execution metadata"; with a JSON
object payload, Region switch merges the metadata keys ``InvokedBy``, ``PlanArn``,
``ExecutionId`` and ``StepName`` into it (the payload's own keys win).
https://docs.aws.amazon.com/arc-region-switch/latest/api/API_Lambdas.html
The documentation found does NOT say that the event carries the target region, the action or
graceful/ungraceful, nor what response Region switch expects. So, all in :func:`parse_event`:
- target region: ``targetRegion`` from the event if present (a payload or a manual invoke),
  otherwise the function's own region (the plan runs these functions in the activating
  region, ``regionToRun: activatingRegion``);
- mode: ``mode`` from the event if present, otherwise read from the execution itself with
  GetPlanExecution (a regional data-plane call, in the function's own region);
- response: a normal return is success and a raised error a failure (the standard Lambda
  function error); the returned JSON is for the execution's record only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from failover_steps.actions import MODE_DEPENDENT, run_action
from failover_steps.aws import StepError, client
from failover_steps.contract import CONFIG_ENV, StepConfig
from failover_steps.workflows import MODES, Mode

SAFETY_MARGIN_MS = 30_000
"""Time kept back from the Lambda's remaining time when a step waits (promotion)."""


class LambdaContext(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


@dataclass(frozen=True)
class Invocation:
    """What one invocation asks for, parsed from the event."""

    target_region: str
    mode: Mode | None
    execution_id: str = ""
    plan_arn: str = ""
    step_name: str = ""
    invoked_by: str = ""


def parse_event(event: Mapping[str, Any], own_region: str) -> Invocation:
    """Read an invocation event (see the module docstring for what is and is not documented)."""
    if not isinstance(event, Mapping):
        raise StepError(f"the event must be a JSON object, got {type(event).__name__}")
    mode = event.get("mode")
    if mode is not None and mode not in MODES:
        raise StepError(f"event mode {mode!r} is not one of {', '.join(MODES)}")
    target = str(event.get("targetRegion") or own_region)
    if not target:
        raise StepError("no targetRegion in the event and no AWS_REGION in the environment")
    return Invocation(
        target_region=target,
        mode=mode,
        execution_id=str(event.get("ExecutionId", "")),
        plan_arn=str(event.get("PlanArn", "")),
        step_name=str(event.get("StepName", "")),
        invoked_by=str(event.get("InvokedBy", "")),
    )


def execution_mode(invocation: Invocation, own_region: str) -> Mode:
    """The activation's mode: from the event, else from GetPlanExecution in ``own_region``."""
    if invocation.mode is not None:
        return invocation.mode
    if not (invocation.plan_arn and invocation.execution_id):
        raise StepError("the event names no mode and no PlanArn/ExecutionId to read it from")
    execution = client("arc-region-switch", own_region).get_plan_execution(
        planArn=invocation.plan_arn, executionId=invocation.execution_id
    )
    if execution.get("executionAction") != "activate":
        raise StepError(
            f"execution {invocation.execution_id} is {execution.get('executionAction')!r}: "
            "these steps only activate a region"
        )
    mode = execution.get("mode")
    if mode not in MODES:
        raise StepError(f"execution {invocation.execution_id} has mode {mode!r}")
    return mode  # type: ignore[no-any-return]


def load_config(environ: Mapping[str, str]) -> StepConfig:
    text = environ.get(CONFIG_ENV, "")
    if not text:
        raise StepError(f"{CONFIG_ENV} is not set: the function has no step config")
    try:
        return StepConfig.from_json(text)
    except (ValueError, KeyError, TypeError) as err:
        raise StepError(f"{CONFIG_ENV} is not a valid step config: {err}") from None


def handle(
    action: str,
    event: Mapping[str, Any],
    context: LambdaContext | None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    env = os.environ if environ is None else environ
    config = load_config(env)
    own_region = env.get("AWS_REGION", "")
    invocation = parse_event(event, own_region)
    mode: Mode = (
        execution_mode(invocation, own_region)
        if action in MODE_DEPENDENT
        else (invocation.mode or "graceful")
    )
    wait_s = 0.0
    if context is not None:
        wait_s = max(0.0, (context.get_remaining_time_in_millis() - SAFETY_MARGIN_MS) / 1000)
    result = run_action(action, config, invocation.target_region, mode, wait_s=wait_s)
    return {
        **result.to_dict(),
        "mode": mode,
        "executionId": invocation.execution_id,
        "stepName": invocation.step_name,
    }


def fence_region(event: Mapping[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    return handle("fence_region", event, context)


def promote_postgres(event: Mapping[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    return handle("promote_postgres", event, context)


def failover_cache(event: Mapping[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    return handle("failover_cache", event, context)


def failover_docdb(event: Mapping[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    return handle("failover_docdb", event, context)


def verify_writable(event: Mapping[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    return handle("verify_writable", event, context)


def set_traffic_signal(event: Mapping[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    return handle("set_traffic_signal", event, context)
