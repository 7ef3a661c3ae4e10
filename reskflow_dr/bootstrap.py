"""``reskflow-dr bootstrap``: two empty regions to the running topology, in the only order that
works, through the Pulumi Automation API with the policy pack.

1. ``prod-first``: prod with ``peerDeployed`` false (S3 refuses a replication rule whose
   destination bucket does not exist; backups are not copied to the missing vault yet). Nothing
   leaves us-east-1 yet, so this one update runs the policy pack with the 3-2-1 rule advisory
   (``--policy-pack-config``); every later update enforces it.
2. ``dr``: the values only prod's deployment produces are written into dr's config from prod's
   outputs (the multi-Region key's id, the Global Datastore's full id), then dr.
3. ``prod-peer``: prod with ``peerDeployed`` true: the replication and backup-copy legs into dr.

Each finished phase is recorded in a progress file (rewritten atomically); a run given that file
skips the finished phases and runs the rest. Every phase is idempotent (setting a config value
again, ``up`` with nothing to change), so a phase interrupted halfway simply runs again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from infra.settings import CACHE_GLOBAL_DATASTORE_ID_KEY, NORMALLY_ACTIVE_REGION
from infra.settings.storage import KMS_PRIMARY_KEY_ID_KEY, PEER_DEPLOYED_KEY
from reskflow_dr import jsonio
from reskflow_dr.drill import stack_pair, up_command
from reskflow_dr.errors import EXIT_OK, EXIT_UNSAFE
from reskflow_dr.orchestrate import OrchestrationError, Workspace

#: Stack outputs of prod that dr's config needs, and the dr key each fills.
FROM_HOME_OUTPUTS = {
    "kmsKeyId": KMS_PRIMARY_KEY_ID_KEY.name,
    "cacheGlobalDatastoreId": CACHE_GLOBAL_DATASTORE_ID_KEY.name,
}


@dataclass(frozen=True)
class Phase:
    name: str
    stack: str
    title: str


def phases(home: str, away: str) -> tuple[Phase, ...]:
    return (
        Phase("prod-first", home, f"{home} without its peer legs ({PEER_DEPLOYED_KEY.name} false)"),
        Phase("dr", away, f"{away}, with the values {home}'s deployment produced"),
        Phase("prod-peer", home, f"{home} with its peer legs ({PEER_DEPLOYED_KEY.name} true)"),
    )


class BootstrapError(OrchestrationError):
    """The progress file cannot be used (exit 2)."""


def _done(state: Path) -> list[str]:
    if not state.exists():
        return []
    try:
        return [str(p) for p in json.loads(state.read_text(encoding="utf-8"))["completed"]]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise BootstrapError(f"--state {state}: not a bootstrap progress file ({err})") from None


def _config_for(phase: Phase, ws: Workspace, home: str) -> dict[str, str]:
    if phase.name == "prod-first":
        return {PEER_DEPLOYED_KEY.name: "false"}
    if phase.name == "prod-peer":
        return {PEER_DEPLOYED_KEY.name: "true"}
    outputs = ws.select(home).outputs()
    values: dict[str, str] = {}
    for output, key in FROM_HOME_OUTPUTS.items():
        found = getattr(outputs.get(output), "value", outputs.get(output))
        if not found:
            raise BootstrapError(
                f"stack {home} has no output {output!r}: needed for {key} before the dr phase"
            )
        values[key] = str(found)
    return values


def run_bootstrap(
    root: Path, ws: Workspace, state: Path, say: Callable[[str], None] = print
) -> tuple[bool, str]:
    """Run the phases not yet recorded in ``state``; (done, what stopped it)."""
    pair = stack_pair(root)
    home = pair.home
    away = pair.away
    assert pair.regions[home] == NORMALLY_ACTIVE_REGION
    done = _done(state)
    for number, phase in enumerate(phases(home, away), 1):
        if phase.name in done:
            say(f"[{number}/3] {phase.title}: done in an earlier run")
            continue
        say(f"[{number}/3] {phase.title}")
        try:
            values = _config_for(phase, ws, home)
            stack = ws.select(phase.stack)
            for key, value in values.items():
                say(f"    pulumi config set {key} {value} -s {phase.stack}")
                stack.set_config(key, ws.config_value(value))
            configs = _first_policy_config(state) if phase.name == "prod-first" else []
            say(
                f"    {up_command(phase.stack)}"
                + "".join(f" --policy-pack-config {c}" for c in configs)
            )
            result = stack.up(
                on_output=lambda line: say(f"      {line.rstrip()}"),
                policy_packs=ws.policy_packs,
                policy_pack_configs=configs or None,
            )
        except BootstrapError:
            raise
        except Exception as err:  # noqa: BLE001 - the Automation API raises many types
            return False, _stopped(phase, _first_line(err))
        summary = str(getattr(getattr(result, "summary", None), "result", "unknown"))
        if summary != "succeeded":
            return False, _stopped(phase, f"{up_command(phase.stack)}: {summary}")
        done.append(phase.name)
        jsonio.write_json(state, {"completed": done})
    return True, ""


#: The first prod update replicates nowhere yet (no peer): the 3-2-1 rule, which needs an offsite
#: copy, is advisory for that one update only (README, bring-up).
FIRST_UPDATE_POLICY = {"reskflow-3-2-1": "advisory"}


def _first_policy_config(state: Path) -> list[str]:
    path = state.with_name(state.stem + "-policy.json")
    jsonio.write_json(path, FIRST_UPDATE_POLICY)
    return [str(path)]


def _first_line(err: Exception) -> str:
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def _stopped(phase: Phase, reason: str) -> str:
    return f"stopped at {phase.name} ({phase.title}): {reason}; fix it and run again to resume"


def cmd_bootstrap(root: Path, ws: Workspace, state: Path) -> int:
    ok, reason = run_bootstrap(root, ws, state)
    print("Bootstrap done: both stacks deployed." if ok else f"Bootstrap {reason}")
    return EXIT_OK if ok else EXIT_UNSAFE
