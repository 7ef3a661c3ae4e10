"""The ``--policy-pack-config`` file, read and checked against the pack before any preview runs.

The file has the format of ``pulumi preview --policy-pack-config``: ``{"all": LEVEL}``, or per
policy ``{"NAME": LEVEL}`` or ``{"NAME": {"enforcementLevel": LEVEL, PROPERTY: VALUE}}``. An
unknown policy, level or property, or a value the policy's schema refuses, is one line naming
it (exit 2), before the first resource is previewed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reskflow_dr.policy_runner import PolicyConfigError, PolicyInfo, resolve_config

OPTION = "--policy-pack-config"


def read(path: Path) -> dict[str, Any]:
    """The file's JSON object; unreadable, not JSON or not an object is a PolicyConfigError."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise PolicyConfigError(OPTION, str(path), f"unreadable: {err.strerror}") from None
    except UnicodeDecodeError:
        raise PolicyConfigError(OPTION, str(path), "not UTF-8 text") from None
    except json.JSONDecodeError as err:
        where = f"line {err.lineno} column {err.colno}"
        raise PolicyConfigError(OPTION, str(path), f"not JSON ({err.msg}, {where})") from None
    if not isinstance(data, dict):
        raise PolicyConfigError(OPTION, str(path), "expected a JSON object of policy names")
    return data


def check(config: dict[str, Any], policies: Sequence[PolicyInfo]) -> dict[str, Any]:
    """``config`` checked against the running pack's policies (names, levels, schemas)."""
    resolve_config(policies, config)
    return config
