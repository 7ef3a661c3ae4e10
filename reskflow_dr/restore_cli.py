"""``reskflow-dr restore``: its options and the glue between the CLI and :mod:`restore`."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from infra.settings import StackSettings
from reskflow_dr import jsonio, restore
from reskflow_dr.errors import EXIT_OK, EXIT_UNSAFE
from reskflow_dr.preview import validated
from reskflow_dr.stackfiles import UsageError, known_stacks

STORES = ("postgres", "docdb", "s3")
#: The longest a restore may be waited for (RDS and DocumentDB restores take minutes to hours).
MAX_WAIT_MINUTES = 720


def wait_minutes(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_WAIT_MINUTES:
        raise argparse.ArgumentTypeError(f"expected 1 to {MAX_WAIT_MINUTES} minutes, got {text!r}")
    return int(text)


def add_parser(
    add: Callable[[str, str], argparse.ArgumentParser],
    stack_options: Callable[..., None],
    json_option: Callable[[argparse.ArgumentParser, str], None],
) -> None:
    p = add("restore", "point-in-time restore of PostgreSQL, DocumentDB or an S3 object")
    p.add_argument("store", choices=STORES, help="what to restore")
    stack_options(p, many=False)
    p.add_argument("--to", metavar="TIME", help="ISO 8601 time with zone; default: latest")
    p.add_argument("--generation", type=int, metavar="N", help="postgres: target generation")
    p.add_argument("--target-id", metavar="ID", help="docdb: the new cluster identifier")
    p.add_argument("--bucket-store", metavar="STORE", help="s3: the store, e.g. uploads")
    p.add_argument("--key", help="s3: the object key")
    p.add_argument(
        "--version-id", help="s3: the version to bring back (default: newest before --to)"
    )
    p.add_argument(
        "--wait-minutes", type=wait_minutes, default=60, metavar="M",
        help=f"wait at most M minutes for the restored store (1-{MAX_WAIT_MINUTES}; default 60)",
    )  # fmt: skip
    p.add_argument("--endpoint-url", help="any AWS-compatible endpoint, e.g. a local emulator")
    json_option(p, "write the result as JSON")


def _require(value: str | None, option: str, store: str) -> str:
    if not value:
        raise UsageError(f"usage error: restore {store} needs {option}")
    return value


def _peer(root: Path, stack: str, region: str) -> StackSettings | None:
    """The peer stack's settings (the stack file of the peer region), when there is one."""
    for other in known_stacks(root):
        if other != stack:
            settings = validated(root, other)
            if settings.region == region:
                return settings
    return None


def run(args: argparse.Namespace, root: Path, stack: str) -> int:
    if args.json:
        jsonio.check_writable(args.json)
    settings = validated(root, stack)
    when = restore.parse_time(args.to)
    client = restore.clients(settings.region, args.endpoint_url)
    try:
        if args.store == "postgres":
            peer = _peer(root, stack, settings.peer_region)
            result = restore.restore_postgres(
                settings, client, when, args.wait_minutes, args.generation, peer
            )
        elif args.store == "docdb":
            target = _require(args.target_id, "--target-id", "docdb")
            result = restore.restore_docdb(settings, client, when, args.wait_minutes, target)
        else:
            result = restore.restore_s3_object(
                settings,
                client,
                _require(args.bucket_store, "--bucket-store", "s3"),
                _require(args.key, "--key", "s3"),
                args.version_id,
                when,
            )
    except restore.RestoreError as err:
        print(f"reskflow-dr: restore failed: {err}")
        return EXIT_UNSAFE
    print(restore.render(result))
    if args.json:
        jsonio.write_json(args.json, jsonio.versioned(result.to_json()))
    valid = result.verdict is None or result.verdict.ok
    return EXIT_OK if valid else EXIT_UNSAFE
