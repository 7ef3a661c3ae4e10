"""``python -m infra.settings [ROOT]``: rewrite the stack files' JSON Schema and the config
declarations of ``Pulumi.yaml`` from the key declarations (``make docs`` runs it)."""

from __future__ import annotations

import sys
from pathlib import Path

from infra.settings.reference import ROOT, SCHEMA_PATH, project_text, schema_text


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else ROOT
    (root / SCHEMA_PATH).parent.mkdir(parents=True, exist_ok=True)
    (root / SCHEMA_PATH).write_text(schema_text(), encoding="utf-8")
    project = root / "Pulumi.yaml"
    project.write_text(project_text(project.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"Wrote {SCHEMA_PATH} and the config declarations of Pulumi.yaml")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
