"""The answers views share (views/__init__.py): htmx headers, the next step,
and blueprints that stay siblings."""

from __future__ import annotations

import ast
import html
import json
import pathlib
import re

import pytest
from flask import Blueprint

import views
from views import advance, client_redirect, location, push_url, retarget

VIEWS = pathlib.Path(views.__file__).parent


def test_push_url_keeps_the_body_and_pushes_a_latin_1_url(app):
    with app.test_request_context():
        response = push_url(("<p>suite</p>", 201), "/structure/é")
    assert response.status_code == 201 and response.get_data(as_text=True) == "<p>suite</p>"
    assert response.headers["HX-Push-Url"] == "/structure/%C3%A9"


def test_client_redirect_is_a_204_that_htmx_follows_with_a_page_load(app):
    with app.test_request_context():
        response = client_redirect("/espace/?onglet=é")
    assert response.status_code == 204 and not response.get_data()
    assert response.headers["HX-Redirect"] == "/espace/?onglet=%C3%A9"
    assert "Location" not in response.headers  # htmx reads no header on a 3xx


def test_location_asks_htmx_to_fetch_the_page_into_main(app):
    with app.test_request_context():
        response = location("/espace/")
    assert response.status_code == 204
    assert json.loads(response.headers["HX-Location"]) == {
        "path": "/espace/",
        "target": "#main",
        "swap": "innerHTML show:window:top",
    }


def test_retarget_overrides_where_and_how_the_answer_swaps(app):
    with app.test_request_context():
        response = retarget(("erreur", 404), "#main", "innerHTML")
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#main" and response.headers["HX-Reswap"] == "innerHTML"


def _app_with_unregistered_page(app):
    """A blueprint whose POST leads to a page that registered no renderer."""
    bp = Blueprint("elsewhere", __name__)
    bp.add_url_rule("/ailleurs/", "page", lambda: "<h1>Ailleurs</h1>")
    bp.add_url_rule("/ailleurs/<id:item>", "go", lambda item: advance(".page"), methods=["POST"])
    app.register_blueprint(bp)
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def test_advance_to_a_page_without_renderer_lets_htmx_fetch_it(app):
    client = _app_with_unregistered_page(app).test_client()
    response = client.post("/ailleurs/1", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert json.loads(response.headers["HX-Location"])["path"] == "/ailleurs/"
    response = client.post("/ailleurs/1")
    assert response.status_code == 303 and response.headers["Location"] == "/ailleurs/"


def _htmx_handling(client, status: int) -> dict:
    """The rule of the page's htmx ``responseHandling`` that an answer with
    ``status`` meets (htmx takes the first whose code, a regex, matches)."""
    meta = re.search(
        r'<meta name="htmx-config" content=\'([^\']+)\'>', client.get("/").get_data(as_text=True)
    )
    rules = json.loads(html.unescape(meta.group(1)))["responseHandling"]
    return next(rule for rule in rules if re.search(rule["code"], str(status)))


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422, 429, 500])
def test_htmx_shows_an_error_answer_instead_of_dropping_it(client, status):
    """htmx 2 swaps no 4xx or 5xx by default: a refused or stale form would
    seem to do nothing. The portal's configuration swaps them (the error
    page retargets #main); 422 is a form with its errors, not an error."""
    rule = _htmx_handling(client, status)
    assert rule["swap"] is True
    assert rule.get("error", False) is (status != 422)


def test_advance_to_the_page_in_the_address_bar_replaces_its_history_entry(app):
    """htmx pushes any URL it is told to, the same one again too: Back would
    show the page twice. The page the form is on is replaced, a hash or not."""
    client = _app_with_unregistered_page(app).test_client()
    for shown in ("http://localhost/ailleurs/", "http://localhost/ailleurs/#champ"):
        response = client.post("/ailleurs/1", headers={"HX-Request": "true", "HX-Current-URL": shown})
        spec = json.loads(response.headers["HX-Location"])
        assert spec["path"] == "/ailleurs/" and spec["push"] is False and spec["replace"] == "/ailleurs/"
    response = client.post(
        "/ailleurs/1", headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/"}
    )
    assert "push" not in json.loads(response.headers["HX-Location"])  # elsewhere: a new entry


# The shared answers that lead to a page, and which of their arguments names it.
ENDPOINT_ARGUMENT = {"advance": 0, "turn_away": 1}


def _advance_targets(tree: ast.Module, blueprint: str) -> list[str]:
    targets = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        position = ENDPOINT_ARGUMENT.get(getattr(node.func, "id", None))
        # The shared answers themselves pass their caller's endpoint on (not a constant).
        if position is None or not isinstance(node.args[position], ast.Constant):
            continue
        endpoint = node.args[position].value
        targets.append(f"{blueprint}{endpoint}" if endpoint.startswith(".") else endpoint)
    return targets


def test_every_next_step_answers_in_one_request_under_htmx(app):
    """Each page a step leads to has its renderer registered: no step pays the
    second request of HX-Location."""
    with app.app_context():
        endpoints = set(app.view_functions)
    targets = []
    for path in VIEWS.glob("*.py"):
        tree = ast.parse(path.read_text())
        targets += _advance_targets(tree, path.stem)
    assert len(targets) >= 15
    for target in targets:
        assert target in endpoints, target
        assert target in views._PAGES, f"{target} has no @renders: htmx would need a second request"


def test_blueprints_never_import_one_another():
    """A view module uses the package's shared answers, never another module of views/."""
    modules = {path.stem for path in VIEWS.glob("*.py")} - {"__init__"}
    for path in VIEWS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "views":
                imported = [f"views.{alias.name}" for alias in node.names if alias.name in modules]
            elif isinstance(node, ast.ImportFrom):
                imported = [node.module or ""]
            elif isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            else:
                continue
            siblings = [name for name in imported if name.startswith("views.")]
            assert not siblings, f"{path.name} imports {siblings}"
