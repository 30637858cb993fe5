"""In one process, on the app of the current directory's tree: the server
time of each inline validation (test client), and whether a static file's
request reaches the database. Prints JSON. It imports nothing from bench/,
only the tree's own modules (tests.support's INSEE file helpers included), so
that it runs on an older tree too: ``python bench/_inline.py ROUNDS``.

The inline validations: step 1's fields, the password's checklist, and step
6's live SIRET check for a SIRET its directory knows (filled in place, the
costliest of its answers), signed in as a person who went through steps 1–5."""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.getcwd())

import challenges  # noqa: E402
import migrations  # noqa: E402
from app import create_app  # noqa: E402
from models import OutboxMail, db  # noqa: E402
from tests.support.sirene_files import (  # noqa: E402
    ESTABLISHMENT_HEADER,
    HAUSSMANN,
    LEGAL_UNIT_HEADER,
    establishment,
    legal_unit,
    write,
)

VALUES = {
    "email": "marie.curie@exemple.fr",
    "email_confirm": "marie.curie@exemple.fr",
    "first_name": "Marie",
    "last_name": "Curie",
    "phone": "01 23 45 67 89",
    "contact_email": "contact@exemple.fr",
}
PASSWORD = "Velo-Rouge-Matin-2048"
KNOWN_SIRET = "73282932000074"  # in the directory imported for step 6
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
CHALLENGE = re.compile(r'name="challenge_id" value="([^"]+)"')
LINK = re.compile(r"https?://\S+(/activation/\S+)")
ASSET = re.compile(r'(?:href|src)="(/[^"]+\.(?:css|js|svg))"')


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _token(response) -> str:
    return CSRF.search(response.get_data(as_text=True)).group(1)


class ServerTime:
    """The app's own CPU for each request: from the WSGI call to the last
    byte of its answer, as bench/_request_cpu.py times each request of the
    sign-ups in its worker. The test client's work around it (encoding the
    form, keeping the cookies, reading the answer) is no server's."""

    def __init__(self, app) -> None:
        self.inner = app.wsgi_app
        self.last_ms = 0.0
        app.wsgi_app = self

    def __call__(self, environ, start_response):
        start = time.process_time()
        answer = self.inner(environ, start_response)
        try:
            body = b"".join(answer)
        finally:
            if hasattr(answer, "close"):
                answer.close()
        self.last_ms = (time.process_time() - start) * 1000
        return [body]


def _timed(client, rounds: int, url: str, form: dict) -> dict:
    """p50 and p95 of the server's CPU for ``rounds`` inline requests (htmx)
    to ``url``; ``client_p95``: with the test client's own work."""
    server, times, with_client = client.application.extensions["bench_server_time"], [], []
    for _ in range(rounds):
        start = time.process_time()
        response = client.post(url, data=form, headers={"HX-Request": "true"})
        with_client.append((time.process_time() - start) * 1000)
        times.append(server.last_ms)
        assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:300])
    return {
        "p50": percentile(times, 0.5),
        "p95": percentile(times, 0.95),
        "client_p95": percentile(with_client, 0.95),
    }


def _signed_up(app, client, folder: str) -> str:
    """Steps 1 to 5 for one person (the server's own captcha answer, the link
    from the outbox), with a directory that knows KNOWN_SIRET imported as an
    operator does; the token of step 6's page."""
    email = "bench.inline@exemple.fr"
    person = {**VALUES, "email": email, "email_confirm": email, "contact_email": "", "terms": "y"}
    person["csrf_token"] = _token(client.get("/inscription/"))
    captcha = client.post("/inscription/", data=person, follow_redirects=True)
    challenge = CHALLENGE.search(captcha.get_data(as_text=True)).group(1)
    with app.app_context():
        answer = challenges.answer(challenge)
    sent = {"csrf_token": _token(captcha), "challenge_id": challenge, "answer": answer}
    client.post("/inscription/captcha", data=sent, follow_redirects=True)
    with app.app_context(), db.connection_context():
        mail = OutboxMail.get(OutboxMail.recipient == email)
    link = LINK.search(mail.body_text).group(1)
    chosen = {"csrf_token": _token(client.get(link)), "password": PASSWORD, "password_confirm": PASSWORD}
    client.post(link, data=chosen, follow_redirects=True)
    units = legal_unit(KNOWN_SIRET[:9], denominationUniteLegale="SOCIETE CURIE SAS")
    files = [
        write(Path(folder) / "StockUniteLegale_utf8.csv", LEGAL_UNIT_HEADER, [units]),
        write(
            Path(folder) / "StockEtablissement_utf8.csv",
            ESTABLISHMENT_HEADER,
            [establishment(KNOWN_SIRET, **HAUSSMANN)],
        ),
    ]
    imported = app.test_cli_runner().invoke(args=["sirene", "import", *map(str, files)])
    assert imported.exit_code == 0, imported.output
    return _token(client.get("/structure/nouvelle"))


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
    app.extensions["bench_server_time"] = ServerTime(app)
    client = app.test_client()
    home = client.get("/").get_data(as_text=True)
    token = _token(client.get("/inscription/"))
    fields = {}
    for name, value in VALUES.items():
        form = {**VALUES, "csrf_token": token, name: value}
        fields[name] = _timed(client, rounds, f"/inscription/champ/{name}", form)
    fields["password"] = _timed(
        client, rounds, "/mot-de-passe/regles", {"csrf_token": token, "password": PASSWORD}
    )
    person = app.test_client()
    typed = {
        "csrf_token": _signed_up(app, person, folder),
        "identifier_type": "siret",
        "identifier": KNOWN_SIRET,
    }
    filled = person.post("/structure/nouvelle/sirene", data=typed, headers={"HX-Request": "true"})
    assert "SOCIETE CURIE" in filled.get_data(as_text=True), filled.get_data(as_text=True)[:300]
    fields["siret"] = _timed(person, rounds, "/structure/nouvelle/sirene", typed)

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
