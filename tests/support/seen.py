"""Reading an edit form that carries what it showed (forms/seen.py): its
hidden ``seen`` field, a field's value and its hint."""

from __future__ import annotations

import base64
import html
import json
import re


def seen_in(response) -> str:
    """What the edit form says it showed (its hidden field)."""
    match = re.search(r'name="seen" type="hidden" value="([^"]+)"', response.get_data(as_text=True))
    assert match, "the form does not carry what it showed"
    return html.unescape(match.group(1))


def read(seen: str) -> list:
    return json.loads(base64.urlsafe_b64decode(seen))


def made(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


def hint_of(text: str, field: str) -> str:
    match = re.search(rf'<p class="hint" id="{field}-hint">(.*?)</p>', text, re.S)
    return match.group(1) if match else ""


def value_of(text: str, field: str) -> str:
    match = re.search(rf'<input[^>]* id="{field}"[^>]*>', text)
    assert match, f"no {field} input"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


def commit_while_checked(monkeypatch, form_class, meanwhile):
    """Another change committed right after an edit's form was checked,
    before its write (the two requests sent at the same time): returns
    ``pending.append``; each dict appended is ``meanwhile(**dict)``-ed then."""
    check = form_class.validate
    pending = []

    def validate(form, extra_validators=None):
        valid = check(form, extra_validators)
        while pending:
            meanwhile(**pending.pop())
        return valid

    monkeypatch.setattr(form_class, "validate", validate)
    return pending.append
