"""Exit codes of ``reskflow-dr``, each with one meaning, and how a command's end is reported.

======  ==============================================================================
code    meaning
======  ==============================================================================
0       fine
1       a mandatory policy violation, an unsafe plan, or a failed check or execution
2       bad config or usage: one line naming the key (or file, or option), the value and
        what is allowed; nothing ran and nothing was written
3       an internal error of the tool (a crash, or the policy pack failing to run): one
        line saying what failed; ``--debug`` shows the traceback. Says nothing about the
        safety of the plan
4       stopped awaiting an approval (``failover``, ``drill --execute``): nothing failed; no
        approval source was available (a terminal, or ``RESKFLOW_APPROVED_BY`` set by a job
        behind a protected GitHub environment). Run again once the approval can be given
130     interrupted (Ctrl-C)
141     standard output was closed early (``reskflow-dr preview prod | head -1``): the
        command stops quietly, as a tool killed by SIGPIPE does (128 + 13)
======  ==============================================================================
"""

from __future__ import annotations

import os
import sys
import traceback

EXIT_OK, EXIT_UNSAFE, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_AWAITING = 4
EXIT_BROKEN_PIPE = 128 + 13
PROG = "reskflow-dr"


class OutputError(Exception):
    """An output file could not be written (exit 2); ``str(err)`` is the one-line message."""


def fail(message: str, code: int) -> int:
    """Print ``reskflow-dr: MESSAGE`` (its first line only) on stderr and return ``code``."""
    first = message.strip().splitlines()[0] if message.strip() else "failed"
    print(f"{PROG}: {first}", file=sys.stderr)
    return code


def internal_error(what: str, err: BaseException, debug: bool) -> int:
    """A crash: one line, and the traceback only with ``--debug``."""
    if debug:
        traceback.print_exception(err, file=sys.stderr)
    detail = str(err).strip().splitlines()[0] if str(err).strip() else ""
    name = type(err).__name__
    hint = "" if debug else "; rerun with --debug for the traceback"
    return fail(f"internal error: {what}: {name}{': ' + detail if detail else ''}{hint}", 3)


def broken_pipe() -> int:
    """The reader went away: point stdout at /dev/null so the interpreter's final flush does not
    fail again, and stop quietly (the recipe of the Python docs, ``signal`` module notes)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout without a file descriptor (captured in tests)
        pass
    finally:
        os.close(devnull)
    return EXIT_BROKEN_PIPE
