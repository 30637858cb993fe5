"""Static files: fingerprinted, compressed, cached for a year, never through
Flask nor the database; pages themselves are never compressed (BREACH)."""

from __future__ import annotations

import gzip
import re

from models import db

ASSET = re.compile(r'(?:href|src|data-passkeys)="(/static/[^"]+)"')  # data-passkeys: fetched by app.js
IMMUTABLE = "public, max-age=31536000, immutable"


def assets_of(client) -> list[str]:
    return ASSET.findall(client.get("/").get_data(as_text=True))


def test_pages_link_fingerprinted_assets_cached_as_immutable(client):
    urls = assets_of(client)
    names = sorted(re.sub(r"\.[0-9a-f]{12}\.", ".", url.rsplit("/", 1)[1]) for url in urls)
    assert names == ["app.css", "app.js", "favicon.svg", "htmx.min.js", "passkeys.js"]
    for url in urls:
        assert re.search(r"\.[0-9a-f]{12}\.(css|js|svg)$", url), url
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == IMMUTABLE
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        response.close()


def test_htmx_is_the_npm_package_file_served_from_this_site(client):
    from assets import VENDOR

    htmx = next(url for url in assets_of(client) if "htmx" in url)
    assert htmx.startswith("/static/js/htmx.min.")
    response = client.get(htmx)
    assert response.get_data() == VENDOR["js/htmx.min.js"].read_bytes()
    response.close()


def test_assets_are_sent_compressed_to_browsers_that_accept_it(client):
    css = next(url for url in assets_of(client) if url.endswith(".css"))
    plain = client.get(css)
    packed = client.get(css, headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.get_data()) == plain.get_data()
    assert len(packed.get_data()) < len(plain.get_data()) / 2
    plain.close()
    packed.close()


def test_assets_are_sent_in_brotli_to_browsers_that_accept_it(client):
    """Chromium and Firefox ask for Brotli over HTTPS: smaller than gzip."""
    import brotli

    for url in [url for url in assets_of(client) if url.endswith((".css", ".js"))]:
        plain = client.get(url)
        zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
        packed = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
        assert packed.headers["Content-Encoding"] == "br", url
        assert brotli.decompress(packed.get_data()) == plain.get_data()
        assert len(packed.get_data()) < len(zipped.get_data()), url
        for response in (plain, zipped, packed):
            response.close()


def test_pages_are_never_compressed_breach(client):
    """A page carries the CSRF token: compressed with what a client sends, its
    length would leak the token (BREACH)."""
    for url in ("/", "/inscription/", "/connexion"):
        response = client.get(url, headers={"Accept-Encoding": "gzip, br, deflate"})
        assert "Content-Encoding" not in response.headers
        assert b"csrf" in response.get_data() or url == "/"


def test_a_renamed_asset_is_a_new_name_and_the_plain_name_is_short_lived(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "immutable" not in response.headers["Cache-Control"]
    response.close()
    assert client.get("/static/css/absent.css").status_code == 404


def count_database_calls(monkeypatch) -> list:
    reached = []
    database = db.obj
    for method in ("connect", "execute_sql"):
        original = getattr(database, method)
        monkeypatch.setattr(
            database, method, lambda *a, _original=original, **k: reached.append(1) or _original(*a, **k)
        )
    return reached


def test_static_files_never_reach_the_database(app, client, monkeypatch):
    urls = assets_of(client) + ["/static/css/app.css"]
    reached = count_database_calls(monkeypatch)
    for url in urls:
        client.get(url).close()
    assert reached == []


def test_only_a_request_that_queries_opens_a_connection(app, client, monkeypatch):
    reached = count_database_calls(monkeypatch)
    client.get("/connexion")
    assert reached == []
    client.submit("/connexion", {"email": "personne@exemple.fr", "password": "Mauvais-Mot-42"})
    assert reached
    assert db.is_closed()  # handed back to the pool at the end of the request


def test_a_first_visit_fetches_the_passkeys_script_only_where_a_page_shows_a_passkey(client):
    """The home page names passkeys.js for app.js to fetch once a passkey
    form is drawn (data-passkeys), never as a script of its own: a first
    visit does not download it."""
    home = client.get("/").get_data(as_text=True)
    scripts = [url.rsplit("/", 1)[1] for url in re.findall(r'<script src="([^"]+)"', home)]
    assert [re.sub(r"\.[0-9a-f]{12}\.", ".", name) for name in scripts] == ["htmx.min.js", "app.js"]
    assert re.search(r'<body [^>]*data-passkeys="/static/js/passkeys\.[0-9a-f]{12}\.js"', home)


def test_our_scripts_and_styles_are_served_without_their_comments(client):
    """Half of app.js is comments for its readers: served without them (and
    without the spaces), the same code otherwise (the browser tests run it)."""
    from assets import STATIC

    for name in ("app.js", "app.css", "passkeys.js"):
        url = next(url for url in assets_of(client) if f"/{name.rsplit('.', 1)[0]}." in url)
        response = client.get(url)
        served = response.get_data(as_text=True)
        response.close()
        written = (STATIC / ("js" if name.endswith(".js") else "css") / name).read_text()
        assert len(served) < 0.9 * len(written), name
        assert "/*" not in served and "\n  //" not in served, name


def test_in_development_the_browser_gets_the_files_as_written():
    """``make run`` (FLASK_DEBUG): what the browser's tools show is the file."""
    from pathlib import Path

    import assets

    folder, manifest = assets.build(minify=False)
    for name in ("js/app.js", "css/app.css"):
        assert (Path(folder) / manifest[name]).read_bytes() == (assets.STATIC / name).read_bytes()


ASSET_ANYWHERE = re.compile(r'(?:href|src|data-passkeys)="([^"]*/static/[^"]+)"')


def test_under_a_root_the_pages_ask_for_their_assets_under_it(app):
    """Mounted at « /portail » (SCRIPT_NAME, as gunicorn sets it behind a
    proxy that sends only that path to the portal), a page's styles, scripts
    and icon are asked for under « /portail » and served there; reached
    directly at the same time, the same pages ask for them at « /static/ ».
    The pages every visitor sees alike and the layout's parts are drawn once:
    once per root, never one root's for the other."""
    client = app.test_client()
    for root in ("/portail", "", "/portail"):
        for path in ("/", "/connexion", "/plan-du-site"):
            html = client.get(path, base_url=f"http://localhost{root}/").get_data(as_text=True)
            urls = ASSET_ANYWHERE.findall(html)
            assert len(urls) == 5, (root, path, urls)
            assert all(url.startswith(f"{root}/static/") for url in urls), (root, path, urls)
            for url in urls:
                response = client.get(url.removeprefix(root), base_url=f"http://localhost{root}/")
                assert response.status_code == 200, url
                response.close()
