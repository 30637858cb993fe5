"""The rules package itself: it stands alone (no Flask, no WTForms), the use
cases and models reach it without the form layer, and the helpers that are
not field rules (the lookup key of an address, the portal's own numbers)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rules import RuleError
from rules.email import lookup_email, normalize_email
from rules.identifiers import ASSIGNED_TYPES, IDENTIFIER_TYPES, new_assigned_identifier, normalize_identifier

ROOT = Path(__file__).resolve().parent.parent


def test_the_rules_load_without_flask_nor_wtforms():
    code = (
        "import sys, rules.email, rules.names, rules.phone, rules.passwords, rules.places, "
        "rules.identifiers, rules.messages\n"
        "rules.places.country_choices(); rules.passwords.is_common_password('x')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'wtforms', 'flask_wtf')))"
    )
    done = subprocess.run(  # noqa: S603 - fixed arguments, this interpreter
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("module", ["accounts.py", "structures.py", "security.py", "models.py", "audit.py"])
def test_use_cases_and_models_do_not_import_the_form_layer(module):
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    imported = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported.append(node.module or "")
        elif isinstance(node, ast.Import):
            imported.extend(alias.name for alias in node.names)
    assert not [name for name in imported if name == "forms" or name.startswith("forms.")]


def test_rule_error_carries_the_message():
    with pytest.raises(RuleError) as caught:
        normalize_email("marie")
    assert str(caught.value) == caught.value.message
    assert str(caught.value.message).startswith("Il manque le caractère @.")
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        (" Marie.Curie@Exemple.FR ", "marie.curie@exemple.fr"),
        ("jose@exämple.fr", "jose@xn--exmple-cua.fr"),
        # Not an address: still a key, never an error (a sign-in, a rate limit).
        (" Pas Une Adresse ", "pas une adresse"),
        ("", ""),
        (None, ""),
    ],
)
def test_lookup_email_is_the_normalised_address_or_a_plain_key(typed, key):
    assert lookup_email(typed) == key


def test_the_portal_numbers_the_assigned_types_in_their_own_format():
    assert ASSIGNED_TYPES == ("en_cours", "particulier")
    for code in ASSIGNED_TYPES:
        kind = IDENTIFIER_TYPES[code]
        identifier = new_assigned_identifier(kind)
        assert re.fullmatch(rf"{kind.internal_prefix}\d{{10}}", identifier)
        # What the portal draws is what a user may type to find the structure.
        assert normalize_identifier(code, identifier) == identifier
