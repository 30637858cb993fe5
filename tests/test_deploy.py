"""The files of deploy/: the nginx site passes Debian nginx's `nginx -t` and
serves the app behind it as production would, the systemd units pass
`systemd-analyze verify` (both installed by `make test`)."""

from __future__ import annotations

import gzip
import http.client
import re
import shlex
import shutil
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.gunicorn_server import Gunicorn, flask_command, production_environment
from tests.support.pg_server import free_port

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
NGINX = "/usr/sbin/nginx"


def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False, **kwargs)  # noqa: S603


def nginx_site(
    tmp_path: Path, https_port: int | None = None, app_port: int | None = None, http_port: int | None = None
) -> Path:
    """deploy/nginx/portail.conf in a whole nginx.conf under ``tmp_path``, with
    the test machine's certificate and log paths; listening on 127.0.0.1
    ``https_port`` (and ``http_port`` for port 80) before the app on
    ``app_port`` when given. Nothing else changes."""
    key, cert = tmp_path / "privkey.pem", tmp_path / "fullchain.pem"
    made = run(
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-subj", "/CN=portail.example.fr", "-keyout", str(key), "-out", str(cert),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    site = (DEPLOY / "nginx" / "portail.conf").read_text()
    site = site.replace("/etc/letsencrypt/live/portail.example.fr/", f"{tmp_path}/")
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    site = site.replace("/srv/portail/", f"{ROOT}/")
    if https_port is not None:
        site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
        site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port or free_port()};")
        site = "\n".join(line for line in site.splitlines() if "listen [::]" not in line)
    if app_port is not None:
        site = site.replace("server 127.0.0.1:8000", f"server 127.0.0.1:{app_port}")
    (tmp_path / "portail.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"""
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    gzip on;  # as Debian's nginx.conf has it
    access_log {tmp_path}/access.log;
    client_body_temp_path {tmp_path};
    proxy_temp_path {tmp_path};
    fastcgi_temp_path {tmp_path};
    uwsgi_temp_path {tmp_path};
    scgi_temp_path {tmp_path};
    include {tmp_path}/portail.conf;
}}
"""
    )
    return tmp_path / "nginx.conf"


def test_nginx_site_passes_nginx_t(tmp_path):
    assert Path(NGINX).is_file(), "nginx is missing: `make test` installs nginx-light"
    config = nginx_site(tmp_path)
    result = run(NGINX, "-t", "-p", str(tmp_path), "-c", str(config))
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr


@pytest.fixture
def behind_nginx(tmp_path):
    """The app under gunicorn (production settings, one trusted proxy) behind
    the repository's nginx site on HTTPS: ``get(path, headers)``."""
    env = production_environment(
        tmp_path, FLASK_TRUSTED_PROXIES="1", FLASK_EXTERNAL_BASE_URL="https://portail.example.fr"
    )
    flask_command(env, "init-db")
    app = Gunicorn(env, workers=1, log=tmp_path / "gunicorn.log").start()
    port, http_port = free_port(), free_port()
    config = nginx_site(tmp_path, https_port=port, app_port=app.port, http_port=http_port)
    nginx = subprocess.Popen(  # noqa: S603 - fixed program
        [NGINX, "-p", str(tmp_path), "-c", str(config), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    insecure = ssl.create_default_context()
    insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE  # the test's own certificate

    def get(path: str, headers: dict | None = None):
        request = urllib.request.Request(
            f"https://127.0.0.1:{port}{path}", headers={"Host": "portail.example.fr", **(headers or {})}
        )
        with urllib.request.urlopen(request, context=insecure, timeout=30) as response:  # noqa: S310
            return response.status, response.headers, response.read()

    def raw(method: str, path: str, headers: dict | None = None, body: bytes | None = None, tls=True):
        """(status, headers, body) of any answer, errors and redirects included."""
        if tls:
            connection = http.client.HTTPSConnection("127.0.0.1", port, context=insecure, timeout=30)
        else:
            connection = http.client.HTTPConnection("127.0.0.1", http_port, timeout=30)
        try:
            connection.request(
                method, path, body=body, headers={"Host": "portail.example.fr", **(headers or {})}
            )
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()

    get.raw, get.app = raw, app

    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                get("/livez")
                break
            except OSError:
                assert nginx.poll() is None, nginx.stderr.read().decode()
                assert time.monotonic() < deadline, "nginx did not answer"
                time.sleep(0.1)
        yield get
    finally:
        nginx.terminate()
        nginx.wait(timeout=30)
        nginx.stderr.close()
        app.stop()


def test_behind_nginx_assets_load_immutable_and_pages_are_compressed_only_for_the_browsers_own_requests(
    behind_nginx,
):
    get = behind_nginx
    status, _, body = get("/")
    assert status == 200
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', body.decode())
    assert len(assets) >= 3
    for asset in assets:
        status, headers, _ = get(asset, {"Accept-Encoding": "gzip"})
        assert status == 200, asset
        assert "immutable" in headers["Cache-Control"]
    # A request another site made the browser send: never a compressed page.
    for site in ("cross-site", "same-site", None):
        headers = {"Accept-Encoding": "gzip"} | ({"Sec-Fetch-Site": site} if site else {})
        status, answered, body = get("/inscription/", headers)
        assert status == 200 and answered["Content-Encoding"] is None, site
        assert body.startswith(b"<!doctype html>")
    status, answered, body = get(
        "/inscription/", {"Accept-Encoding": "gzip", "Sec-Fetch-Site": "same-origin"}
    )
    assert status == 200 and answered["Content-Encoding"] == "gzip"
    assert gzip.decompress(body).startswith(b"<!doctype html>")


def test_nginx_site_keeps_tokens_out_of_its_log_and_restricts_metrics():
    site = (DEPLOY / "nginx" / "portail.conf").read_text()
    log_format = site.split("log_format portail_no_paths", 1)[1].split(";", 1)[0]
    assert (
        "$request" + " " not in log_format and "$uri" not in log_format and "$request_uri" not in log_format
    )
    for local_only in ("/metrics", "/readyz"):
        location = site.split(f"location = {local_only}", 1)[1].split("}", 1)[0]
        assert "allow 127.0.0.1;" in location and "deny all;" in location, local_only
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in site  # one hop: FLASK_TRUSTED_PROXIES=1


def test_a_monitoring_host_elsewhere_is_told_of_the_nginx_allow_line_the_token_needs():
    """The example offers a token to a monitoring host elsewhere: nginx answers
    it 403 whatever the token until the site allows its address."""
    example = (DEPLOY / "portail.env.example").read_text()
    site = (DEPLOY / "nginx" / "portail.conf").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "# FLASK_METRICS_TOKEN=" in example
    for text in (example, site, readme):
        assert '"allow ITS.ADDRESS;"' in text or "`allow ITS.ADDRESS;`" in text


def test_systemd_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: `make test` installs systemd"
    units = sorted((DEPLOY / "systemd").glob("portail-*"))
    assert {unit.name for unit in units} >= {
        "portail-web.service",
        "portail-mail.service",
        "portail-purge.service",
        "portail-purge.timer",
    }
    # The units name /srv/portail/.venv/bin/…: point them at this checkout's
    # programs so that verify can check that the executables exist.
    root = tmp_path / "units"
    root.mkdir()
    for unit in units:
        text = unit.read_text().replace("/srv/portail", str(ROOT))
        (root / unit.name).write_text(text)
    result = run(analyze, "verify", *(str(root / unit.name) for unit in units))
    # Unknown keys and bad values are only warnings (exit code 0): refuse them too.
    problems = [line for line in (result.stdout + result.stderr).splitlines() if "portail-" in line]
    assert result.returncode == 0, result.stdout + result.stderr
    assert not problems, "\n".join(problems)


def test_attack_fingerprinting_nginx_by_its_version(behind_nginx):
    """The Server header and nginx's own error pages name no version: a
    scanner cannot match the machine against a list of known flaws."""
    raw = behind_nginx.raw
    status, headers, _ = raw("GET", "/connexion")
    assert status == 200 and headers["Server"] == "nginx"
    too_long = raw("GET", "/" + "a" * 10000)
    too_large = raw(
        "POST", "/connexion", {"Content-Type": "application/x-www-form-urlencoded"}, b"a" * 3_000_000
    )
    behind_nginx.app.stop()  # a restart: nginx answers itself
    down = raw("GET", "/connexion")
    for status, headers, body in (too_long, too_large, down):
        assert status in (414, 413, 503) and headers["Server"] == "nginx", status
        assert b"nginx/" not in body and not re.search(rb"\d+\.\d+\.\d+", body), body


def test_attack_redirect_to_another_host_from_plain_http(behind_nginx):
    """Port 80's only server answers any name pointed at the machine: its
    redirect to HTTPS goes to the portal's own name, never to the Host a
    request chose (a cache in between would keep that redirect for others)."""
    for host in ("portail.example.fr", "evil.example", "portail.example.fr.evil.example"):
        status, headers, _ = behind_nginx.raw("GET", "/connexion?next=1", {"Host": host}, tls=False)
        assert status == 301, host
        assert headers["Location"] == "https://portail.example.fr/connexion?next=1", host


def unit_settings(unit: Path) -> dict[str, list[str]]:
    """A unit file's settings, each key with its values in order."""
    settings: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_the_web_units_commands_run_as_systemd_starts_them(tmp_path):
    """systemd-analyze verify checks the unit's syntax, not that it starts:
    ExecStartPre (init-db) and ExecStart (gunicorn) run here with the unit's
    Environment= and the RuntimeDirectory= folders systemd makes, nothing else
    (the settings file is the test's; /run and /srv/portail are moved)."""
    unit = unit_settings(DEPLOY / "systemd" / "portail-web.service")
    run_folder = tmp_path / "run"
    for name in " ".join(unit["RuntimeDirectory"]).split():
        (run_folder / name).mkdir(parents=True, exist_ok=True)

    def moved(text: str) -> str:
        return text.replace("/run/", f"{run_folder}/").replace("/srv/portail", str(ROOT))

    env = production_environment(tmp_path)
    del env["PROMETHEUS_MULTIPROC_DIR"]
    for assignment in unit.get("Environment", []):
        key, value = moved(assignment).split("=", 1)
        env[key] = value
    (pre,) = unit["ExecStartPre"]
    result = subprocess.run(  # noqa: S603 - the unit's own command
        shlex.split(moved(pre)), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (start,) = unit["ExecStart"]
    env["GUNICORN_BIND"] = f"127.0.0.1:{free_port()}"
    env["WEB_CONCURRENCY"] = "1"
    server = subprocess.Popen(  # noqa: S603 - the unit's own command
        shlex.split(moved(start)), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                address = "http://" + env["GUNICORN_BIND"] + "/livez"
                with urllib.request.urlopen(address, timeout=2) as response:  # noqa: S310
                    assert response.status == 200
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=40)
        server.stderr.close()


def test_while_the_app_restarts_nginx_answers_the_portals_own_503(behind_nginx):
    """systemctl restart runs init-db, then boots the workers: meanwhile a
    visitor gets a page in the portal's language saying to come back, with
    Retry-After, not nginx's English « 502 Bad Gateway »."""
    behind_nginx.app.stop()
    for method in ("GET", "POST"):
        status, headers, body = behind_nginx.raw(
            method, "/inscription/", body=b"" if method == "POST" else None
        )
        assert status == 503, method
        assert headers["Retry-After"] == "10" and headers["Cache-Control"] == "no-store"
        text = body.decode()
        assert "Service momentanément indisponible" in text and "Bad Gateway" not in text
        assert '<html lang="fr">' in text


def test_under_a_path_of_the_site_every_address_of_the_portal_is_under_it(tmp_path):
    """gunicorn mounting the portal at « /portail » (its SCRIPT_NAME, README
    « Production »): the pages, their links, forms and assets, and the
    redirects all name « /portail/… », and the assets are served there."""
    env = production_environment(tmp_path, SCRIPT_NAME="/portail")
    flask_command(env, "init-db")
    app = Gunicorn(env, workers=1, log=tmp_path / "gunicorn.log").start()
    try:
        for path in ("/portail/", "/portail/inscription/", "/portail/connexion", "/portail/plan-du-site"):
            with urllib.request.urlopen(app.base + path, timeout=30) as response:  # noqa: S310
                html = response.read().decode()
            addresses = re.findall(r'(?:href|src|action|data-hx-post|data-passkeys)="(/[^"]*)"', html)
            assert len(addresses) > 5, path
            assert all(address.startswith("/portail/") for address in addresses), (path, addresses)
            for asset in (address for address in addresses if "/static/" in address):
                with urllib.request.urlopen(app.base + asset, timeout=30) as response:  # noqa: S310
                    assert response.status == 200 and "immutable" in response.headers["Cache-Control"]
        connection = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30)  # redirects not followed
        try:
            connection.request("GET", "/portail/mon-compte/")
            redirect = connection.getresponse()
            assert redirect.status in (302, 303)
            assert redirect.headers["Location"].startswith("/portail/connexion?next=")
        finally:
            connection.close()
    finally:
        app.stop()


def test_under_a_path_of_the_site_the_mails_links_name_it_once(app):
    """FLASK_EXTERNAL_BASE_URL stays the site's origin: a mail's link sent
    from a request under « /portail » is the origin and that root, once."""
    import mailer

    app.config["EXTERNAL_BASE_URL"] = "https://portail.example.fr"
    with app.test_request_context("/inscription/", base_url="http://localhost/portail/"):
        assert mailer.external_url("auth.login") == "https://portail.example.fr/portail/connexion"
    with app.test_request_context("/inscription/"):
        assert mailer.external_url("auth.login") == "https://portail.example.fr/connexion"
