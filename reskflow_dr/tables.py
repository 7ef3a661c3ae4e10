"""Aligned text tables that fit the terminal (rich), and type tokens shortened as Pulumi shows them.

Width: ``COLUMNS`` when set, else the terminal's when standard output is one, else unlimited (a
file or a pipe gets whole lines). Columns marked ``wrap`` fold their long cells onto more lines;
the others are cut with an ellipsis when the width is short.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

#: Width used when nothing limits it (a file, a pipe, a Markdown summary).
UNLIMITED = 10_000


@dataclass(frozen=True)
class Column:
    header: str
    wrap: bool = False
    right: bool = False
    max_width: int | None = None


def short_type(token: str) -> str:
    """``aws:s3/bucketV2:BucketV2`` -> ``aws:s3:BucketV2``, as ``pulumi preview`` displays it:
    the module's last path segment is dropped when it is the type's name in camelCase."""
    parts = token.split(":")
    if len(parts) != 3 or not parts[2]:
        return token
    package, module, name = parts
    head, slash, tail = module.rpartition("/")
    if not slash or tail != name[0].lower() + name[1:]:
        return token
    return f"{package}:{head}:{name}"


def terminal_width() -> int:
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return UNLIMITED


def table(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int | None = None
) -> str:
    """The rows under their headers, two spaces between columns, no borders. When the width is
    short, the widest wrapping columns give way first (their cells continue on the next lines);
    a column that does not wrap ends its cells with an ellipsis only if nothing else can shrink."""
    width = width or terminal_width()
    grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1))
    grid.box = None
    for column in columns:
        grid.add_column(
            column.header,
            no_wrap=not column.wrap,
            overflow="fold" if column.wrap else "ellipsis",
            justify="right" if column.right else "left",
            max_width=column.max_width,
        )
    for row in rows:
        grid.add_row(*(Text(cell) for cell in row))
    out = io.StringIO()
    console = Console(
        file=out,
        width=width,
        color_system=None,
        highlight=False,
        markup=False,
        emoji=False,
        legacy_windows=False,
    )
    console.print(grid)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines())
