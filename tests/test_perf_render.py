"""The selects rendered from cached catalogues (forms.render.Catalogue): the
same bytes as WTForms, and a cache that never shows one language's list in
another's page, nor one person's chosen option in another's."""

from __future__ import annotations

import re

import pytest
from werkzeug.datastructures import MultiDict

from forms.render import Catalogue, CatalogueSelectField, render
from forms.structure import StructureEditForm, StructureForm, StructureSearchForm
from models import Structure


def in_language(app, language: str, data: dict | None = None):
    return app.test_request_context(method="POST", data=data or {}, headers={"Accept-Language": language})


def selected(html: str) -> list[str]:
    return re.findall(r'<option selected value="(\w*)">', html)


def test_attack_a_cached_country_list_never_shows_another_language(app):
    """French, English, French again in one process: each page its own
    language, for the countries and for the identifier types."""
    seen = []
    for language in ("fr", "en", "fr", "en"):
        with in_language(app, language):
            form = StructureForm(formdata=None, identifier_type="ue", meta={"csrf": False})
            seen.append((render(form.country), render(form.identifier_type)))
            search = StructureSearchForm(formdata=None)
            seen.append((None, render(search.identifier_type)))
    french, english = seen[0], seen[2]
    assert ">Allemagne<" in french[0] and "Germany" not in french[0]
    assert ">Germany<" in english[0] and "Allemagne" not in english[0]
    assert ">Sélectionner le pays<" in french[0] and ">Select the country<" in english[0]
    assert ">UE hors France<" in french[1] and "Outside" not in french[1]
    assert "UE hors France" not in english[1]
    assert seen[4:] == seen[:4]
    assert ">UE hors France<" in seen[1][1] and "UE hors France" not in seen[3][1]


def test_attack_a_cached_select_never_shows_another_persons_selected_country(app):
    """Marie chose Belgium; Pierre's fresh form right after shows France
    selected, and nothing of Marie's choice."""
    with in_language(app, "fr", {"identifier_type": "ue", "country": "BE"}):
        marie = StructureForm(meta={"csrf": False})
        assert selected(render(marie.country)) == ["BE"]
        catalogue = marie.country.choices
    with in_language(app, "fr", {"identifier_type": "ue", "country": "DE"}):
        pierre = StructureForm(meta={"csrf": False})
        assert pierre.country.choices is catalogue  # the same list, cached
        assert selected(render(pierre.country)) == ["DE"]
    with in_language(app, "fr"):
        fresh = StructureForm(formdata=None, meta={"csrf": False})
        assert selected(render(fresh.country)) == ["FR"]
    assert "selected" not in catalogue.options(None)


def test_attack_a_country_the_type_refuses_is_kept_for_that_person_only(app):
    """A country outside the type's list makes a list of its own for that
    form: the cached list for everybody stays without it."""
    with in_language(app, "fr", {"identifier_type": "ridet", "country": "FR"}):
        marie = StructureForm(meta={"csrf": False})
        assert re.findall(r'value="(\w\w)"', render(marie.country)) == ["FR", "NC"]
    with in_language(app, "fr", {"identifier_type": "ridet", "country": "NC"}):
        pierre = StructureForm(meta={"csrf": False})
        assert re.findall(r'value="(\w\w)"', render(pierre.country)) == ["NC"]


@pytest.mark.parametrize("data", [None, "", "FR", "DE", "ZZ", "<b>"])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_catalogue_selects_render_as_wtforms_does(app, data, language):
    sent = {} if data is None else {"country": data, "identifier_type": data}
    with in_language(app, language, sent):
        for form in (
            StructureForm(meta={"csrf": False}),
            StructureForm(formdata=None, meta={"csrf": False}),
            StructureSearchForm(),
        ):
            form.validate()
            for field in form:
                if isinstance(field, CatalogueSelectField):
                    assert render(field) == field()
                    extra = {"required": True, "aria-required": "true", "data-hx-post": "/x"}
                    assert render(field, **extra) == field(**extra)


def test_a_catalogue_escapes_and_marks_each_option_as_wtforms_does(app):
    class Pick(StructureEditForm):
        pass

    catalogue = Catalogue([("", "Choisir"), ("a", 'A & "b"'), ("<x>", ""), ("a", "encore a"), ("c", "C")])
    with in_language(app, "fr", {"country": "a"}):
        form = Pick(formdata=MultiDict({"country": "a"}), meta={"csrf": False}, structure=Structure())
        form.country.choices = catalogue
        assert render(form.country) == form.country()  # a value twice: both marked
        assert selected(render(form.country)) == ["a", "a"]
        assert "&lt;x&gt;" in render(form.country) and "A &amp; &#34;b&#34;" in render(form.country)
    single = Catalogue([("", "Choisir"), ("a", "A"), ("b", "B")])
    assert single.options("b") == '<option value="">Choisir</option><option value="a">A</option>' + (
        '<option selected value="b">B</option>'
    )
    assert single.options("z") == single.options(None) == single.options(1)


def test_a_catalogue_select_validates_against_its_values(app):
    with in_language(app, "fr", {"identifier_type": "siret", "country": "ZZ"}):
        form = StructureForm(meta={"csrf": False})
        form.validate()
        assert form.country.errors == ["Choisissez une valeur dans la liste."]
    with in_language(app, "fr", {"identifier_type": "nope"}):
        form = StructureForm(meta={"csrf": False})
        form.validate()
        assert form.identifier_type.errors == ["Choisissez une valeur dans la liste."]


def test_a_catalogue_select_takes_no_coerce():
    with pytest.raises(TypeError):
        CatalogueSelectField("Pays", coerce=int).bind(form=None, name="country")
