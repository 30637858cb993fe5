"""Home page and the front-end assets that come from npm."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, send_from_directory

from views import page

bp = Blueprint("main", __name__)

NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
VENDOR_FILES = {"htmx.min.js": NODE_MODULES / "htmx.org" / "dist"}


@bp.get("/")
def home():
    return page("main/home.html")


@bp.get("/vendor/<name>")
def vendor(name: str):
    folder = VENDOR_FILES.get(name)
    if folder is None:
        abort(404)
    return send_from_directory(folder, name, max_age=current_app.config.get("VENDOR_MAX_AGE", 3600))
