"""The files of deploy/: the nginx site passes Debian nginx's `nginx -t`, the
systemd units pass `systemd-analyze verify` (both installed by `make test`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
NGINX = "/usr/sbin/nginx"


def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False, **kwargs)  # noqa: S603


def test_nginx_site_passes_nginx_t(tmp_path):
    assert Path(NGINX).is_file(), "nginx is missing: `make test` installs nginx-light"
    key, cert = tmp_path / "privkey.pem", tmp_path / "fullchain.pem"
    made = run(
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=portail.example.fr",
        "-keyout",
        str(key),
        "-out",
        str(cert),
    )
    assert made.returncode == 0, made.stderr
    site = (DEPLOY / "nginx" / "portail.conf").read_text()
    # The certificate and log paths of the test machine; nothing else changes.
    site = site.replace("/etc/letsencrypt/live/portail.example.fr/", f"{tmp_path}/")
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    (tmp_path / "portail.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"""
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
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
    result = run(NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"))
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr


def test_nginx_site_keeps_tokens_out_of_its_log_and_restricts_metrics():
    site = (DEPLOY / "nginx" / "portail.conf").read_text()
    log_format = site.split("log_format portail_no_paths", 1)[1].split(";", 1)[0]
    assert (
        "$request" + " " not in log_format and "$uri" not in log_format and "$request_uri" not in log_format
    )
    metrics = site.split("location = /metrics", 1)[1].split("}", 1)[0]
    assert "deny all;" in metrics
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in site  # one hop: FLASK_TRUSTED_PROXIES=1


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
