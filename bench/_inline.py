"""In one process, on the app of the current directory's tree: the server
time of each inline validation (test client), and whether a static file's
request reaches the database. Prints JSON. Standalone (no bench import), so
that it runs on an older tree too: ``python bench/_inline.py ROUNDS``."""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.getcwd())

import migrations  # noqa: E402
from app import create_app  # noqa: E402
from models import db  # noqa: E402

VALUES = {
    "email": "marie.curie@exemple.fr",
    "email_confirm": "marie.curie@exemple.fr",
    "first_name": "Marie",
    "last_name": "Curie",
    "phone": "01 23 45 67 89",
    "contact_email": "contact@exemple.fr",
}
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
ASSET = re.compile(r'(?:href|src)="(/[^"]+\.(?:css|js|svg))"')


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(rounds: int) -> dict:
    folder = tempfile.mkdtemp(prefix="bench-inline-")
    app = create_app({
        "SECRET_KEY": "bench-secret-key-0123456789abcdef", "EXTERNAL_BASE_URL": "http://127.0.0.1",
        "DATABASE_URL": f"sqlite:///{folder}/inline.db", "RATELIMIT_ENABLED": False,
        "SESSION_COOKIE_SECURE": False, "SESSION_COOKIE_NAME": "session",
        "PREFERRED_URL_SCHEME": "http",  # the test client then speaks plain HTTP
    })  # fmt: skip
    with app.app_context(), db.connection_context():
        migrations.migrate()
    client = app.test_client()
    home = client.get("/").get_data(as_text=True)
    page = client.get("/inscription/").get_data(as_text=True)
    token = CSRF.search(page).group(1)
    fields = {}
    for name, value in VALUES.items():
        form = {**VALUES, "csrf_token": token, name: value}
        times = []
        for _ in range(rounds):
            start = time.process_time()
            response = client.post(f"/inscription/champ/{name}", data=form, headers={"HX-Request": "true"})
            times.append((time.process_time() - start) * 1000)
            assert response.status_code == 200, (response.status_code, response.get_data(as_text=True)[:300])
        fields[name] = {"p50": percentile(times, 0.5), "p95": percentile(times, 0.95)}

    reached = []
    database = db.obj
    for method in ("connect", "execute_sql"):
        original = getattr(database, method)

        def counting(*args, _original=original, **kwargs):
            reached.append(1)
            return _original(*args, **kwargs)

        setattr(database, method, counting)
    assets = ASSET.findall(home)
    for url in assets:
        client.get(url).close()
    return {"fields": fields, "static_db_calls": len(reached), "assets": len(assets)}


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 200)))
