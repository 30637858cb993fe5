"""Serve the app on 127.0.0.1 on a port the system picks, and print that port.

Run by the browser tests' fixture from the repository root, with the settings
in FLASK_* environment variables, after ``flask --app app init-db``."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from werkzeug.serving import make_server  # noqa: E402

from app import create_app  # noqa: E402


def main() -> None:
    server = make_server("127.0.0.1", 0, create_app(), threaded=True)
    print(f"PORT {server.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
