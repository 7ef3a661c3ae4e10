"""Cross-key rules between the two stacks: the split-brain guard and the peer checks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from components.backup_jobs import DUMPS
from infra.settings.backup_jobs import BACKUP_IMAGES_KEY
from infra.settings.core import (
    NORMALLY_ACTIVE_REGION,
    PROJECT,
    ROLE_KEY,
    ROLES,
    ConfigError,
    Key,
    Role,
)
from infra.settings.data import DB_GENERATION_KEY, PEER_DB_GENERATION_KEY
from infra.settings.failover import TRAFFIC_SWITCH_KEY
from infra.settings.parse import as_bool, choice
from infra.settings.traffic import TRAFFIC_KEY

if TYPE_CHECKING:
    from infra.settings.stack import StackSettings


def check_peer_stack(settings: StackSettings, peer: StackSettings, pair: bool = True) -> None:
    """Rules that need both stacks' config. The offline preview has both stack files at hand; a
    plain `pulumi up` sees only its own stack, so run the preview first (CI does). ``pair``
    also applies the rules on the pair (:func:`one_writable_primary`,
    :func:`failover_records_pair`), which need the peer's config as it will be (the committed
    files, or both targets of a drill), not a one-sided what-if."""
    if peer.region != settings.peer_region:
        return
    if pair:
        one_writable_primary(settings, peer)
        failover_records_pair(settings, peer)
        one_traffic_switch(settings, peer)
    db, peer_db = settings.database, peer.database
    if settings.role == "passive" and db.peer_generation != peer_db.generation:
        raise ConfigError(
            PEER_DB_GENERATION_KEY.name,
            db.peer_generation,
            f"stack {peer.stack!r} runs generation {peer_db.generation}: a replica follows the "
            "peer's live primary",
        )
    if db.generation in (peer_db.generation, *peer_db.retained_generations):
        raise ConfigError(
            DB_GENERATION_KEY.name,
            db.generation,
            f"stack {peer.stack!r} already uses generation {db.generation}: generation numbers "
            "are shared by both stacks, take one above every number in use",
        )


def one_writable_primary(settings: StackSettings, peer: StackSettings) -> None:
    """Exactly one of the two stacks holds the writable primaries. Two passive stacks would each
    run a read replica of the other's (replica of a replica): nothing could write."""
    if settings.role == peer.role == "passive":
        raise ConfigError(
            ROLE_KEY.name,
            settings.role,
            f"stack {peer.stack!r} is passive too (Pulumi.{peer.stack}.yaml): its generation "
            f"{peer.database.generation} is itself a read replica, so a replica here would follow "
            "a replica and neither region has a writable primary; one stack must be active",
        )


def failover_records_pair(settings: StackSettings, peer: StackSettings) -> None:
    """The two stacks' failover records are one PRIMARY/SECONDARY pair: the same name in the same
    hosted zone, or Route 53 never fails over from one to the other."""
    mine, theirs = settings.traffic, peer.traffic
    for field, here, there in (
        ("hostedZoneId", mine.hosted_zone_id, theirs.hosted_zone_id),
        ("recordName", mine.record_name, theirs.record_name),
    ):
        if here != there:
            raise ConfigError(
                f"{TRAFFIC_KEY.name}.{field}",
                here,
                f"stack {peer.stack!r} has {there} (Pulumi.{peer.stack}.yaml): the PRIMARY and "
                "SECONDARY failover records must share one hosted zone and record name",
            )


def one_traffic_switch(settings: StackSettings, peer: StackSettings) -> None:
    """The dr stack declares the traffic switch and prod's plan and record use it: both stacks
    must name the same mode, or prod's plan would switch what dr never declared."""
    mine, theirs = settings.failover.traffic_mode, peer.failover.traffic_mode
    if mine != theirs:
        raise ConfigError(
            TRAFFIC_SWITCH_KEY.name,
            mine,
            f"stack {peer.stack!r} has {theirs} (Pulumi.{peer.stack}.yaml): both stacks must name "
            "the same traffic switch mode",
        )


#: Which database setting each dump tool must not be older than, and how many version parts
#: count (PostgreSQL: the major version; Redis and DocumentDB: major.minor).
_DUMPED_ENGINES = {"postgres": ("postgres", 1), "mongodb": ("docdb", 2), "redis": ("redis", 2)}
_TAG_VERSION_RE = re.compile(r"([0-9]+)(?:\.([0-9]+))?")


def _version(text: str, parts: int) -> tuple[int, ...] | None:
    match = _TAG_VERSION_RE.match(text)
    if match is None:
        return None
    numbers = tuple(int(n) for n in match.groups() if n is not None)
    return numbers[:parts] if len(numbers) >= parts else None


def dump_images_not_older(settings: StackSettings) -> None:
    """A dump tool older than the server it dumps fails (pg_dump refuses a newer server's
    major version): each enabled backup job's image tag must be at least the engine version.
    Images pinned by digest alone carry no version and are not checked."""
    w = settings.workloads
    if w is None:
        return
    for engine in sorted({DUMPS[name].engine for name in w.backup_schedules}):
        section, parts = _DUMPED_ENGINES[engine]
        image = w.backup_images.for_engine(engine)
        tag = image.split("@", 1)[0].rsplit("/", 1)[-1].partition(":")[2]
        engine_version = str(getattr(settings.database, section).engine_version)
        tool, server = _version(tag, parts), _version(engine_version, parts)
        if tool is not None and server is not None and tool < server:
            raise ConfigError(
                f"{BACKUP_IMAGES_KEY.name}.{engine}",
                image,
                f"the dump tool {'.'.join(map(str, tool))} is older than the {section} engine "
                f"{engine_version} it dumps ({PROJECT}:{section}.engineVersion); use an image "
                f"of version {'.'.join(map(str, server))} or newer",
            )


def split_brain_guard(
    raw: Mapping[str, str], region: str, peer_region: str, role: str
) -> tuple[Role, bool]:
    """A stack may be ``active`` only while its peer is known ``passive`` or declared lost.

    The peer's role comes from this stack's own config (``peerRole``), so the guard holds at
    ``pulumi up`` with no call into the peer's region and whether or not the peer exists."""
    lost_key, peer_key = PEER_LOST_KEY.name, PEER_ROLE_KEY.name
    lost = as_bool(lost_key, raw[lost_key]) if raw.get(lost_key) else False
    if lost and role != "active":
        raise ConfigError(lost_key, True, "only an active stack may declare its peer lost")
    normal = "passive" if region == NORMALLY_ACTIVE_REGION else "active"
    peer_role = choice(peer_key, raw.get(peer_key) or normal, ROLES)
    if role == "active" and peer_role == "active" and not lost:
        raise ConfigError(
            ROLE_KEY.name,
            role,
            f"the peer stack ({peer_region}) is active too ({peer_key} = active): two writable "
            f"primaries. Make the peer passive first and set {peer_key} passive here, or set "
            f"{lost_key} true if {peer_region} is lost",
        )
    return peer_role, lost  # type: ignore[return-value]  # narrowed by choice


def check_peer_role(settings: StackSettings, peer_stack: str, peer_role: str | None) -> None:
    """Offline, the peer's stack file is at hand: its role must be the one this stack assumes."""
    if settings.peer_lost or peer_role not in ROLES:
        return  # a lost peer's file is stale by definition; a bad role is its own preview's error
    if settings.role == peer_role == "active":
        raise ConfigError(
            ROLE_KEY.name,
            settings.role,
            f"stack {peer_stack!r} is active too (Pulumi.{peer_stack}.yaml): two writable "
            f"primaries. Make it passive first, or set {PROJECT}:peerLost true if "
            f"{settings.peer_region} is lost",
        )
    if peer_role != settings.peer_role:
        raise ConfigError(
            PEER_ROLE_KEY.name,
            settings.peer_role,
            f"stack {peer_stack!r} is {peer_role} (Pulumi.{peer_stack}.yaml): set "
            f"{PROJECT}:peerRole {peer_role} in this stack, the value its pulumi up checks",
        )


def check_peer_outputs(settings: StackSettings, peer_stack: str, peer_role: object) -> None:
    """At ``pulumi up``: the peer's role as its last deployment exported it (the ``role`` output,
    read through the stack reference). A stack whose file is stale after a disaster (prod still
    says ``active`` while dr was promoted with ``peerLost``) is refused before anything changes.
    No reference or no output (first bring-up): nothing to check here."""
    if settings.peer_lost or peer_role not in ROLES:
        return
    if settings.role == peer_role == "active":
        raise ConfigError(
            ROLE_KEY.name,
            settings.role,
            f"stack {peer_stack!r} is deployed active (its role output): two writable "
            f"primaries. After a failover this region comes back passive and fenced: set "
            f"{ROLE_KEY.name} passive and {PEER_ROLE_KEY.name} active here",
        )


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------

PEER_LOST_KEY = Key(
    f"{PROJECT}:peerLost",
    "boolean",
    "`false`",
    "The operator declares the peer region lost. Only then may this stack be `active` while "
    "the peer's stack file still says `active` (a failover during a regional outage).",
)


PEER_ROLE_KEY = Key(
    f"{PROJECT}:peerRole",
    "string",
    f"`passive` in {NORMALLY_ACTIVE_REGION}, `active` elsewhere",
    "The peer stack's role as this stack knows it, set by the drill runbook on both stacks. "
    "The split-brain guard refuses `role: active` while this is `active` (at preview and at "
    "`pulumi up`, without calling the peer); offline it must match the peer's stack file.",
    choices=ROLES,
)

#: This tier's keys, in the order the README lists them.
KEYS: tuple[Key, ...] = (
    PEER_LOST_KEY,
    PEER_ROLE_KEY,
)
