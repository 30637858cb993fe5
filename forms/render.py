"""A field's control as WTForms would render it, byte for byte, without its
widgets' cost.

WTForms builds each attribute with ``Markup.format`` (Python's string
formatter, twice escaped) and looks up the field's flags with ``dir``; on a
page of ten fields with a 250-country select that was most of the request.
Here the same attributes are joined with f-strings around ``escape`` (C),
and each ``<option>`` is made once per process. Widgets this module does
not know are rendered by WTForms itself. tests/test_render.py compares both
renderings on every field of every form. The portal's forms draw every field
this way (forms.Form.Meta), ``{{ form.csrf_token }}`` in a template as well.

A long select whose list is the same for everybody (the countries, the
identifier types) takes a ``Catalogue``: its options are joined once, the
first time it is shown, and each page copies them with its own selected
option marked. A catalogue is its content (values and labels in one
language), so what is cached of it can only ever show that content.
"""

from __future__ import annotations

from functools import cached_property, lru_cache

from flask_babel import gettext
from markupsafe import Markup, escape
from wtforms import SelectField, widgets
from wtforms.validators import ValidationError
from wtforms.widgets.core import clean_key

# Widgets whose __call__ is Input's (plus a checkbox's checked, a password's
# hidden value), rendered here.
INPUTS = (
    widgets.TextInput,
    widgets.EmailInput,
    widgets.TelInput,
    widgets.PasswordInput,
    widgets.HiddenInput,
    widgets.CheckboxInput,
)


def html_params(params: dict) -> str:
    """wtforms.widgets.html_params: sorted, True as a bare name, False left out."""
    parts = []
    for key, value in sorted(params.items()):
        if value is True:
            parts.append(key)
        elif value is not False:
            parts.append(f'{key}="{escape(value)}"')
    return " ".join(parts)


def _attributes(field, given: dict) -> dict:
    """Meta.render_field's merge: the field's render_kw, then the template's."""
    params = {clean_key(key): value for key, value in given.items()}
    if field.render_kw is not None:
        params = {**{clean_key(key): value for key, value in field.render_kw.items()}, **params}
    params.setdefault("id", field.id)
    return params


def _flags(field, widget, params: dict) -> None:
    flags = vars(field.flags)
    for name in widget.validation_attrs:
        if name in flags and name not in params:
            value = flags[name]
            params[name] = value() if callable(value) else value


def _input(field, widget, params: dict) -> Markup:
    if isinstance(widget, widgets.CheckboxInput) and getattr(field, "checked", field.data):
        params.setdefault("checked", True)
    if isinstance(widget, widgets.PasswordInput) and widget.hide_value:
        params["value"] = ""
    params.setdefault("type", widget.input_type)
    if "value" not in params:
        params["value"] = field._value()
    _flags(field, widget, params)
    params["name"] = field.name
    return Markup(f"<input {html_params(params)}>")  # noqa: S704 - each value escaped


@lru_cache(maxsize=4096)
def _option(value, label, selected: bool) -> str:
    shown = escape(label or value)
    value = str(value) if isinstance(value, bool) else value
    params = {"value": value, "selected": True} if selected else {"value": value}
    return f"<option {html_params(params)}>{shown}</option>"


class Catalogue(tuple):
    """A select's choices: (value, label) pairs of plain text (labels in the
    language of the page), immutable. Build one per list and language and
    keep it (see forms/structure.py); never put a person's data in one."""

    def __new__(cls, pairs):
        return super().__new__(cls, ((str(value), str(label)) for value, label in pairs))

    @cached_property
    def values(self) -> frozenset[str]:
        return frozenset(value for value, _label in self)

    @cached_property
    def _options(self) -> tuple[str, dict[str, tuple[int, int, str]]]:
        """The options joined, none selected, and where each one is with its
        selected form: (start, end, ``<option selected ...>``)."""
        parts, where, start = [], {}, 0
        for value, label in self:
            html = _option(value, label, False)
            where.setdefault(value, (start, start + len(html), _option(value, label, True)))
            parts.append(html)
            start += len(html)
        return "".join(parts), where

    def options(self, selected: object) -> str:
        """The ``<option>`` elements, ``selected``'s marked (as WTForms marks
        every option whose value equals the field's data)."""
        html, where = self._options
        place = where.get(selected) if isinstance(selected, str) else None
        if place is None:
            return html
        if len(where) < len(self):  # a value twice: each of its options is marked
            return "".join(_option(value, label, value == selected) for value, label in self)
        start, end, marked = place
        return html[:start] + marked + html[end:]


# SelectField's own message, which WTForms' catalogue translates.
_WTFORMS_NOT_A_CHOICE = "Not a valid choice."


class CatalogueSelectField(SelectField):
    """A SelectField whose ``choices`` (usually a callable: it runs after the
    form's data is processed) give a ``Catalogue``: rendered from its cached
    options, and checked against its set of values rather than option by
    option. Values stay strings (no ``coerce``)."""

    def __init__(self, *args, **kwargs):
        if "coerce" in kwargs:
            raise TypeError("A CatalogueSelectField's values are strings.")
        super().__init__(*args, **kwargs)

    def has_groups(self) -> bool:
        return False

    def pre_validate(self, form) -> None:
        if self.process_errors or not self.validate_choice:
            return
        if self.data not in self.choices.values:
            raise ValidationError(self.invalid_choice_message or self.gettext(_WTFORMS_NOT_A_CHOICE))


def _select(field, widget, params: dict) -> Markup:
    if widget.multiple:
        params["multiple"] = True
    _flags(field, widget, params)
    params["name"] = field.name
    choices = field.choices
    if isinstance(field, CatalogueSelectField) and isinstance(choices, Catalogue):
        options = choices.options(field.data)
        return Markup(f"<select {html_params(params)}>{options}</select>")  # noqa: S704 - escaped once
    html = [f"<select {html_params(params)}>"]
    for choice in field._iter_choices_normalized():
        if choice.render_kw:
            html.append(widgets.Select.render_option(choice))
        else:
            # A lazy label (translated) is cached by its text in the language shown.
            label = choice.label
            if label is not None and not isinstance(label, str):
                label = str(label)
            html.append(_option(choice.value, label, bool(choice.selected)))
    html.append("</select>")
    return Markup("".join(html))  # noqa: S704 - each value and label escaped


def render(field, **given) -> Markup:
    """``field(**given)``, faster for the widgets of this portal's forms."""
    widget = field.widget
    kind = type(widget)
    if kind in INPUTS and getattr(field, "_datalist", None) is None:
        return _input(field, widget, _attributes(field, given))
    if kind is widgets.Select and not field.has_groups():
        return _select(field, widget, _attributes(field, given))
    return by_wtforms(field, **given)


def by_wtforms(field, **given) -> Markup:
    """The field as WTForms' own ``Meta.render_field`` draws it, with its
    widget: what ``render`` must equal, and what it falls back on."""
    if field.render_kw is not None:
        given = {**field.render_kw, **given}
    return field.widget(field, **given)


def control(field, hint=None, required=False, validate_url=None, extra=None, *, block=None, oob=False):
    """The control of the form macros (templates/_macros.html): linked to its
    hint and error (aria-describedby), aria-invalid when in error, required,
    and validated when it changes when ``validate_url`` is given. With
    ``block`` (« field » or « checkbox »), the macro's whole block: what the
    macro wrote, byte for byte, without a template's cost per field."""
    if block == "field":
        return _field_block(field, hint, required, validate_url, extra, oob)
    if block == "checkbox":
        return _checkbox_block(field, hint, required)
    params = dict(extra or {})
    described = [params.pop("aria-describedby", "")]
    if hint:
        described.append(f"{field.id}-hint")
    if field.errors:
        described.append(f"{field.id}-error")
        params["aria-invalid"] = "true"
    described = " ".join(part for part in described if part)
    if described:
        params["aria-describedby"] = described
    if required:
        params.update({"required": True, "aria-required": "true"})
    if validate_url:
        params.update({
            "data-hx-post": validate_url, "data-hx-trigger": "change", "data-hx-target": f"#field-{field.id}",
            "data-hx-swap": "outerHTML", "data-hx-include": "closest form",
        })  # fmt: skip
    return render(field, **params)


def _error(field) -> str:
    """The field's first error, as the macros show it (« Erreur : » is
    the portal's own text, trusted as the template's translations are)."""
    prefix = gettext("Erreur :")
    return (
        f'<p class="error-message" id="{escape(field.id)}-error"><span class="visually-hidden">'
        f"{prefix}</span> {escape(field.errors[0])}</p>"
    )


REQUIRED_MARK = '<span class="required" aria-hidden="true">*</span>'


def _field_block(field, hint, required, validate_url, extra, oob) -> Markup:
    """templates/_macros.html's ``field``."""
    id_ = escape(field.id)
    error_class = " field--error" if field.errors else ""
    swap = ' data-hx-swap-oob="true"' if oob else ""
    mark = " " + REQUIRED_MARK if required else ""
    hint_html = f'<p class="hint" id="{id_}-hint">{escape(hint)}</p>' if hint else ""
    error = _error(field) if field.errors else ""
    return Markup(  # noqa: S704 - each value escaped
        f'\n<div class="field{error_class}" id="field-{id_}"{swap}>\n'
        f'  <label for="{id_}">{escape(field.label.text)}{mark}</label>\n'
        f"  {hint_html}\n"
        f"  {error}\n"
        f"  {control(field, hint, required, validate_url, extra)}\n</div>\n"
    )


def _checkbox_block(field, hint, required) -> Markup:
    """templates/_macros.html's ``checkbox``."""
    id_ = escape(field.id)
    error_class = " field--error" if field.errors else ""
    mark = REQUIRED_MARK + " " if required else ""
    error = _error(field) if field.errors else ""
    hint_html = f'\n  <p class="hint" id="{id_}-hint">{escape(hint)}</p>' if hint else ""
    return Markup(  # noqa: S704 - each value escaped
        f'\n<div class="field field--checkbox{error_class}" id="field-{id_}">\n'
        f"  {error}\n"
        f"  {control(field, hint, required=required)}\n"
        f'  <label for="{id_}">{mark}{escape(field.label.text)}</label>{hint_html}\n</div>\n'
    )
