"""Parsing the data tier's keys, and the rules that keep one writable primary."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from infra.settings.core import (
    HIDDEN,
    OFFLINE_SECRET,
    PROJECT,
    ROLE_KEY,
    SUPPORTED_REGIONS,
    ConfigError,
    Secret,
)
from infra.settings.data import (
    CACHE_AUTH_TOKEN_KEY,
    CACHE_GLOBAL_DATASTORE_ID_KEY,
    DB_GENERATION_KEY,
    DOCDB_KEY,
    DOCDB_MASTER_PASSWORD_KEY,
    GLOBAL_STORES_HOME_REGION,
    MAX_GENERATION,
    NETWORK_FIELDS,
    NETWORK_KEY,
    PEER_DB_GENERATION_KEY,
    POSTGRES_KEY,
    REDIS_GLOBAL_SUFFIX,
    REDIS_KEY,
    RETAINED_DB_GENERATIONS_KEY,
    DatabaseSettings,
    DocdbSettings,
    NetworkSettings,
    PostgresSettings,
    RedisSettings,
    postgres_arn,
)
from infra.settings.models import parse_section
from infra.settings.parse import (
    as_list,
    as_object,
    choice,
    ids_of,
    int_between,
    matching,
    suggest,
)

_HEX_ID = r"([0-9a-f]{8}|[0-9a-f]{17})"
_VPC_RE = re.compile(rf"^vpc-{_HEX_ID}$")
_SUBNET_RE = re.compile(rf"^subnet-{_HEX_ID}$")
_SG_RE = re.compile(rf"^sg-{_HEX_ID}$")
_PG_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
_DOCDB_USER_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,62}$")
_DATASTORE_RE = re.compile(rf"^[a-z]{{5}}-{re.escape(REDIS_GLOBAL_SUFFIX)}$")


def _pg_name(key: str, value: Any) -> str:
    name = matching(key, value, _PG_NAME_RE, "1-63 letters, digits or _, starting with a letter")
    if name.lower() in ("rdsadmin", "postgres"):
        raise ConfigError(key, value, "is reserved by RDS; choose another name")
    return name


_NETWORK_PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "vpc_id": lambda k, v: matching(k, v, _VPC_RE, "a VPC id (vpc- and 8 or 17 hex digits)"),
    "private_subnet_ids": lambda k, v: ids_of(k, v, _SUBNET_RE, "subnet", 2),
    "allowed_security_group_ids": lambda k, v: ids_of(k, v, _SG_RE, "security group", 1),
}


def _section(
    raw: Mapping[str, str],
    name: str,
    fields: Mapping[str, str],
    parsers: Mapping[str, Callable[[str, Any], Any]],
) -> dict[str, Any]:
    """The fields of object key ``name``, each parsed; unknown fields are refused."""
    key, text = f"{PROJECT}:{name}", raw.get(f"{PROJECT}:{name}")
    values: dict[str, Any] = {}
    for field_name, value in (as_object(key, text) if text is not None else {}).items():
        if field_name not in fields:
            raise ConfigError(
                f"{key}.{field_name}", value, "unknown field; " + suggest(field_name, [*fields])
            )
        attr = fields[field_name]
        values[attr] = parsers[attr](f"{key}.{field_name}", value)
    return values


def _network(raw: Mapping[str, str]) -> NetworkSettings:
    key = NETWORK_KEY.name
    if raw.get(key) is None:
        raise ConfigError(key, None, "required; an object with " + ", ".join(NETWORK_FIELDS))
    values = _section(raw, "network", NETWORK_FIELDS, _NETWORK_PARSERS)
    for name, attr in NETWORK_FIELDS.items():
        if attr not in values:
            raise ConfigError(f"{key}.{name}", None, "required")
    return NetworkSettings(**values)


def _postgres(raw: Mapping[str, str]) -> PostgresSettings:
    pg = parse_section(PostgresSettings, POSTGRES_KEY, raw.get(POSTGRES_KEY.name))
    if pg.max_allocated_storage_gb < pg.allocated_storage_gb:
        raise ConfigError(
            f"{PROJECT}:postgres.maxAllocatedStorageGb",
            pg.max_allocated_storage_gb,
            f"must be at least allocatedStorageGb ({pg.allocated_storage_gb})",
        )
    return pg


def _secret_rule(low: int, high: int, forbidden: str) -> Callable[[str, str], None]:
    def check(key: str, value: str) -> None:
        if not low <= len(value) <= high or any(
            not (32 <= ord(c) < 127) or c in forbidden for c in value
        ):
            shown = " ".join(repr(c) for c in forbidden)
            raise ConfigError(
                key, HIDDEN, f"must be {low}-{high} printable ASCII characters, none of {shown}"
            )

    return check


def _secret(
    raw: Mapping[str, str],
    key: str,
    secret_keys: Collection[str],
    check: Callable[[str, str], None],
) -> Secret:
    value = raw.get(key)
    if value is None or value == "":
        raise ConfigError(
            key,
            None,
            f"required in the {GLOBAL_STORES_HOME_REGION} stack: "
            f"`pulumi config set --secret {key}`",
        )
    if key not in secret_keys:
        raise ConfigError(
            key, HIDDEN, f"must be a secret (`secure:`): `pulumi config set --secret {key}`"
        )
    if value != OFFLINE_SECRET:
        check(key, value)
    return Secret(value)


def _not_here(raw: Mapping[str, str], key: str, why: str) -> None:
    if raw.get(key) not in (None, ""):
        shown = HIDDEN if key.endswith(("Token", "Password")) else raw[key]
        raise ConfigError(key, shown, why)


def _home_config(
    raw: Mapping[str, str], home: bool, secret_keys: Collection[str]
) -> tuple[str | None, Secret | None, Secret | None]:
    """The Global Datastore id (joining stack) or the secrets (home stack, which creates them)."""
    token_key, password_key = CACHE_AUTH_TOKEN_KEY.name, DOCDB_MASTER_PASSWORD_KEY.name
    datastore_key = CACHE_GLOBAL_DATASTORE_ID_KEY.name
    if home:
        _not_here(raw, datastore_key, "not used here: this stack creates the Global Datastore")
        return (
            None,
            _secret(raw, token_key, secret_keys, _secret_rule(16, 128, '/"@ ')),
            _secret(raw, password_key, secret_keys, _secret_rule(8, 100, '/"@')),
        )
    for key in (token_key, password_key):
        _not_here(raw, key, f"not used here: only the {GLOBAL_STORES_HOME_REGION} stack sets it")
    datastore = raw.get(datastore_key) or None
    if datastore is None or not _DATASTORE_RE.fullmatch(datastore):
        raise ConfigError(
            datastore_key,
            datastore,
            f"required here: the full Global Datastore id, e.g. abcde-{REDIS_GLOBAL_SUFFIX} "
            "(`pulumi stack output cacheGlobalDatastoreId -s prod`)",
        )
    return datastore, None, None


def _global_primary(raw: Mapping[str, str], name: str, role: str, here: str, peer: str) -> str:
    """Where a global store's primary is. It moves only through the AWS API; the config records
    it, and must agree with the role: the active stack holds every writer."""
    key = f"{PROJECT}:{name}"
    value = choice(key, raw.get(key) or GLOBAL_STORES_HOME_REGION, SUPPORTED_REGIONS)
    expected = here if role == "active" else peer
    if value != expected:
        raise ConfigError(
            key,
            value,
            f"must be {expected} while this stack is {role}: move the global primary with the "
            "AWS API first, then record it here (docs/database-failover.md)",
        )
    return value


def _lineage(
    raw: Mapping[str, str], role: str, peer_deployed: bool
) -> tuple[int, tuple[int, ...], int | None]:
    """The live generation, the retained ones and the peer's: checks that need no state."""
    gen_key, peer_key = DB_GENERATION_KEY.name, PEER_DB_GENERATION_KEY.name
    retained_key = RETAINED_DB_GENERATIONS_KEY.name
    generation = int_between(gen_key, raw.get(gen_key) or "1", 1, MAX_GENERATION)
    retained = tuple(
        int_between(f"{retained_key}[{i}]", v, 1, MAX_GENERATION)
        for i, v in enumerate(as_list(retained_key, raw.get(retained_key) or "[]"))
    )
    if len(set(retained)) != len(retained):
        raise ConfigError(retained_key, list(retained), "each generation may appear once")
    if retained and generation <= max(retained):
        raise ConfigError(
            gen_key,
            generation,
            f"a generation never goes backwards: it must be above every retained generation "
            f"({max(retained)})",
        )
    peer_raw = raw.get(peer_key)
    peer = int_between(peer_key, peer_raw, 1, MAX_GENERATION) if peer_raw else None
    if role == "passive":
        if not peer_deployed:
            raise ConfigError(
                ROLE_KEY.name,
                role,
                f"a passive stack replicates its peer, but {PROJECT}:peerDeployed is false",
            )
        if peer is None:
            raise ConfigError(
                peer_key,
                None,
                "required when passive: the generation of the peer's primary, from which the "
                "replica's source ARN is derived (`pulumi stack output dbGeneration`)",
            )
        if generation <= peer:
            raise ConfigError(
                gen_key,
                generation,
                f"a replica's generation must be above its source's ({peer_key} is {peer}): "
                "the replica is always the newer instance",
            )
    return generation, retained, peer


def parse_database(
    raw: Mapping[str, str],
    *,
    region: str,
    peer_region: str,
    role: str,
    account_id: str,
    peer_deployed: bool,
    secret_keys: Collection[str],
) -> DatabaseSettings:
    generation, retained, peer_generation = _lineage(raw, role, peer_deployed)
    home = region == GLOBAL_STORES_HOME_REGION
    datastore_id, token, password = _home_config(raw, home, secret_keys)
    return DatabaseSettings(
        network=_network(raw),
        home=home,
        generation=generation,
        retained_generations=retained,
        source_arn=postgres_arn(account_id, peer_region, peer_generation)
        if role == "passive" and peer_generation is not None
        else None,
        peer_generation=peer_generation,
        cache_primary_region=_global_primary(raw, "cachePrimaryRegion", role, region, peer_region),
        docdb_primary_region=_global_primary(raw, "docdbPrimaryRegion", role, region, peer_region),
        cache_global_datastore_id=datastore_id,
        cache_auth_token=token,
        docdb_master_password=password,
        postgres=_postgres(raw),
        redis=parse_section(RedisSettings, REDIS_KEY, raw.get(REDIS_KEY.name)),
        docdb=parse_section(DocdbSettings, DOCDB_KEY, raw.get(DOCDB_KEY.name)),
    )
