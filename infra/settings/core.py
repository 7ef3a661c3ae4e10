"""Facts every tier shares: the project, the region pair, the error type, secrets and keys."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

PROJECT = "reskflow"

#: The region pair this program supports, and which of them holds the multi-Region KMS primary.
SUPPORTED_REGIONS: tuple[str, ...] = ("us-east-1", "us-west-2")
KMS_PRIMARY_REGION = "us-east-1"
ROLES: tuple[str, ...] = ("active", "passive")
#: In normal operation this region is active: a stack's default ``peerRole`` encodes that topology.
NORMALLY_ACTIVE_REGION = KMS_PRIMARY_REGION
WEEKLY_STORAGE_CLASSES: tuple[str, ...] = ("GLACIER_IR", "GLACIER")

#: S3 Replication Time Control offers exactly one threshold (AWS fact, not a choice).
REPLICATION_TIME_MINUTES = 15

#: Seed targets ("Key Objectives"): recovery point and recovery time objectives.
RPO_SECONDS = 5 * 60
RTO_MINUTES = 15
#: The region whose stack owns the PRIMARY failover record; the other owns SECONDARY. Records
#: never move between stacks: a drill moves traffic by draining health checks.
PRIMARY_RECORD_REGION = "us-east-1"

#: Config namespaces whose keys are validated here. Other namespaces (``pulumi:``, provider
#: plugins that later issues configure) are left to their owners.
VALIDATED_NAMESPACES = (PROJECT, "aws")

#: An AWS account id: exactly 12 ASCII digits (use with ``fullmatch``: ``\\d`` would accept other
#: Unicode digits and ``$`` a trailing newline).
ACCOUNT_ID_RE = re.compile(r"[0-9]{12}")
#: A ``secure:`` config value as Pulumi's secrets managers write it: base64 text, from the Pulumi
#: Cloud secrets manager (``AAABA...``), or ``v1:<nonce>:<ciphertext>`` (passphrase and cloud KMS
#: managers). A plaintext with spaces or punctuation pasted under ``secure:`` does not match.
CIPHERTEXT_RE = re.compile(r"(v1:[A-Za-z0-9+/]+={0,2}:)?[A-Za-z0-9+/]+={0,2}")


Role = Literal["active", "passive"]


class ConfigError(ValueError):
    """A stack config value is missing or invalid. ``str(err)`` is the one-line user message."""

    def __init__(self, key: str, value: object, allowed: str) -> None:
        self.key = key
        self.allowed = allowed
        if value is not None and value not in NOT_SHOWN and _is_secret_key(key):
            value = HIDDEN  # a secret's value is never shown, whichever rule refused it
        self.value = value
        shown = "(not set)" if value is None else json.dumps(value)
        super().__init__(f"config error: {key} = {shown}: {allowed}")


#: Shown in place of a secret's value in an error.
HIDDEN = "(secret, not shown)"
#: Every placeholder an error may show instead of a value.
NOT_SHOWN = (HIDDEN, "(plain text, not shown)", "<hidden>")


def _is_secret_key(key: str) -> bool:
    """``key`` (or the key a ``key.field`` / ``key[i]`` path starts with) is declared secret."""
    from infra.settings.keys import KEYS_BY_NAME  # the registry imports every tier

    base = key.split(".", 1)[0].split("[", 1)[0]
    name = base if ":" in base else f"{PROJECT}:{base}"
    declared = KEYS_BY_NAME.get(name)
    return declared is not None and declared.secret


#: What the offline preview hands the program for a ``secure:`` value it cannot decrypt
#: (``reskflow_dr.stackfiles.SECRET``); such a value is not validated offline.
OFFLINE_SECRET = "[secret]"


@dataclass(frozen=True)
class Secret:
    """A secret config value. Never printed; resources receive it as ``pulumi.Output.secret``."""

    value: str = field(repr=False)

    def __str__(self) -> str:
        return OFFLINE_SECRET


@dataclass(frozen=True)
class Key:
    """One config key, declared once: its full name, type, default and meaning (the README's
    columns), and what the JSON Schema of the stack files and ``Pulumi.yaml`` are generated from.

    ``type`` is one of ``string``, ``integer``, ``boolean``, ``list``, ``object``, ``secret`` or
    ``secret string``; ``default`` is prose (it may be derived from other keys)."""

    name: str
    type: str
    default: str
    doc: str
    fields: tuple[str, ...] = ()
    """An object's fields (the schema refuses others)."""
    choices: tuple[str, ...] = ()
    """The only values a string may take."""
    minimum: int | None = None
    maximum: int | None = None
    """Bounds of an integer."""
    pulumi_default: str | int | bool | None = None
    """A constant default Pulumi itself applies (declared in ``Pulumi.yaml``); None when the
    default is derived, depends on the role, or the key's absence has a meaning."""
    model: Any = None
    """The pydantic model (``infra.settings.models.Section``) that validates an object key's
    fields and gives its JSON Schema, where there is one."""

    @property
    def secret(self) -> bool:
        return self.type.startswith("secret")

    @property
    def short_name(self) -> str:
        """The name without the project namespace (how ``Pulumi.yaml`` declares project keys)."""
        namespace, _, short = self.name.partition(":")
        return short if namespace == PROJECT else self.name


def to_pulumi_value(value: Any) -> str:
    """Encode a YAML config value the way the Pulumi CLI hands it to a program (strings)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)


# --------------------------------------------------------------------------------------------
# Identity keys: region, role, peer and account
# --------------------------------------------------------------------------------------------

AWS_REGION_KEY = Key(
    "aws:region",
    "string",
    "required",
    "The stack's region: `us-east-1` or `us-west-2`.",
    choices=SUPPORTED_REGIONS,
)


AWS_PROFILE_KEY = Key(
    "aws:profile",
    "string",
    "unset",
    "AWS CLI profile the regional provider uses for a real deployment.",
)


ROLE_KEY = Key(
    f"{PROJECT}:role",
    "string",
    "required",
    "`active` (serves traffic, holds the writable primaries) or `passive` (replicas, pilot "
    "light). A drill or failover switches roles, never regions.",
    choices=ROLES,
)


PEER_REGION_KEY = Key(
    f"{PROJECT}:peerRegion",
    "string",
    "the other supported region",
    "Region of the peer stack; must differ from `aws:region`.",
    choices=SUPPORTED_REGIONS,
)


ACCOUNT_ID_KEY = Key(
    f"{PROJECT}:accountId",
    "string",
    "required",
    "12-digit AWS account id. Providers refuse any other account; ARNs of peer resources are "
    "derived from it.",
)

#: The identity keys, in the order the README lists them.
IDENTITY_KEYS: tuple[Key, ...] = (
    AWS_REGION_KEY,
    AWS_PROFILE_KEY,
    ROLE_KEY,
    PEER_REGION_KEY,
    ACCOUNT_ID_KEY,
)
