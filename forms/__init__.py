"""Forms, one module per area; validators.py turns the rules of ``rules``
into WTForms validators."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import cache
from types import MappingProxyType

from flask import flash, g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import (
    BooleanField,
    EmailField,
    FileField,
    HiddenField,
    PasswordField,
    RadioField,
    StringField,
    TelField,
)
from wtforms.fields.core import Field, UnboundField

from drafts import STALE
from forms.render import render
from forms.validators import PlainText
from rules.email import shown_email
from rules.identifiers import IDENTIFIER_TYPES
from rules.phone import shown_phone
from rules.places import country_name

# A form refused for its stale token, without JavaScript, shown again with
# what it held (views.errors.csrf_error, drafts.carry).
STALE_FORM_KEPT = _l(
    "Cette page n'était plus à jour et le formulaire n'a pas été pris en compte. Le voici de nouveau "
    "avec ce que vous aviez saisi, hormis les mots de passe et les codes : complétez-le et envoyez-le "
    "de nouveau."
)


class Form(FlaskForm):
    """A FlaskForm that reads text fields only: no form here takes a file, and
    a file posted under a field's name must read as an invalid value, not
    reach the validators as a file object. Nor is any form sent as JSON:
    Flask-WTF would read a JSON body's numbers, lists and objects as the
    fields' data (a 500 in the validators); such a body reads as no data.

    Every text field (passwords excepted: never shown, and hashed as typed)
    is first checked by ``PlainText``: no invisible or direction-reversing
    character, NFC.

    A page's form shown again after the language switch (without JavaScript,
    ``views.language``) comes back with what was typed in it (``carried``)."""

    # A stricter rule than check_text for some text fields, by name.
    TEXT_RULES: Mapping[str, Callable[[str], str]] = MappingProxyType({})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self:
            if isinstance(field, StringField) and not isinstance(field, PasswordField):
                field.validators = [PlainText(self.TEXT_RULES.get(field.name)), *field.validators]
        carried = g.get("carried")
        if carried and request.method == "GET":
            self._take_back(carried)

    @classmethod
    def checking(cls, name: str) -> type[Form]:
        """This form with only what the live check of field ``name`` reads
        (``validate_one``): the field, the fields its rules read (the address
        « Confirmez » repeats, a country, an identifier's type: READ_FIELDS),
        and those whose rules read it (« Confirmez » is checked again when the
        address changes). Binding the other fields and reading the request
        into them cost about what checking the field does."""
        return _checking(cls, name)

    def validate_one(self, name: str) -> Field:
        """One field checked as ``validate()`` checks it, for its live check:
        after the fields its rules compare it with (« Confirmez » and the
        address, ``other_field_name``), whose own rules first make their data
        what is compared (NFC, an address's ASCII domain); their errors are
        not this field's. No other field is checked. The field is returned."""
        field = self[name]
        for other in dict.fromkeys(getattr(rule, "other_field_name", None) for rule in field.validators):
            if other is not None and other in self:
                self._validate_alone(self[other])
        self._validate_alone(field)
        return field

    def _validate_alone(self, field: Field) -> None:
        inline = getattr(type(self), f"validate_{field.name}", None)
        field.validate(self, (inline,) if inline else ())

    def _take_back(self, carried: dict[str, str]) -> None:
        """The values this form held when the switch was sent from it, as
        typed (a box unticked is one not sent); never into a form read from
        the request, nor into a field that is never carried."""
        fields = [field for field in self if carriable(field)]
        if not any(field.name in carried for field in fields) or any(field.raw_data for field in self):
            return
        for field in fields:
            if field.name in carried or isinstance(field, BooleanField):
                field.process(MultiDict({field.name: carried[field.name]} if field.name in carried else {}))
        if carried.get(STALE) and not g.get("stale_form_said"):
            # Said by the form that takes it back, on its page: never on a
            # page the request went on to instead (a sign-in, a later step).
            g.stale_form_said = True
            flash(str(STALE_FORM_KEPT), "info")

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            if not hasattr(formdata, "getlist") and formdata is not None and request.is_json:
                # Flask-WTF's own reading (no formdata given) would parse the JSON body.
                return request.form or None
            data = super().wrap_formdata(form, formdata)
            if isinstance(data, CombinedMultiDict):
                return request.form
            return data

        def render_field(self, field, render_kw):
            """A field a template draws itself (``{{ form.csrf_token }}``) is
            drawn as the macros draw theirs: WTForms' bytes, without the cost
            of its widgets (forms.render)."""
            return render(field, **render_kw)


class EmailAddressField(EmailField):
    """An e-mail address, shown as people read it: an internationalised
    domain in Unicode, though the ``Email`` validator makes the data (what is
    stored and sent to) its ASCII form; so a form shown again, or filled
    from the database, never shows « xn--… »."""

    def _value(self) -> str:
        return shown_email(super()._value())


class PhoneField(TelField):
    """A phone number, shown as people write it (« 01 23 45 67 89 », « +44
    20 7946 0958 »), though the validators make the data (what is stored)
    its E.164 form; so a form shown again, or filled from the database,
    never shows « +33123456789 »."""

    def _value(self) -> str:
        return shown_phone(super()._value())


def carriable(field: Field) -> bool:
    """Whether what a field holds may be carried over the language switch:
    never a secret (``secret``), a file, a hidden field (the CSRF token, the
    page's own state) unless marked ``data-carried`` (what an edit form
    showed), nor a box that confirms something (required)."""
    if isinstance(field, HiddenField):
        return bool((field.render_kw or {}).get("data-carried"))
    if isinstance(field, FileField) or secret(field):
        return False
    return not (isinstance(field, (BooleanField, RadioField)) and field.flags.required)


READ_FIELDS = ("other_field_name", "country_field", "type_field")  # forms.validators' names


@cache
def _checking(cls: type[Form], name: str) -> type[Form]:
    """``Form.checking``: a subclass in which every other field is None, which
    WTForms reads as no field. Made once per form and field."""
    whole = cls(formdata=None, meta={"csrf": False})

    def compared(field: Field) -> set[str]:
        # The fields a rule reads by name: « Confirmez »'s address (other_field_name),
        # the country a phone or postal code is read in, an identifier's type.
        named = (getattr(rule, key, None) for rule in field.validators for key in READ_FIELDS)
        return {other for other in named if isinstance(other, str) and other in whole}

    kept = {name, *compared(whole[name]), *(field.name for field in whole if name in compared(field))}
    dropped = {field.name: None for field in whole if field.name not in kept}
    names = {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
    return type(cls.__name__, (cls,), {**names, **dropped})


def secret(field: Field | UnboundField) -> bool:
    """A password, a one-time code, or an answer the page asks for again
    (``data-not-carried``: the captcha's): never kept anywhere as typed."""
    kind = field.field_class if isinstance(field, UnboundField) else type(field)
    extra = (field.kwargs.get("render_kw") if isinstance(field, UnboundField) else field.render_kw) or {}
    return (
        issubclass(kind, PasswordField)
        or bool(extra.get("data-not-carried"))
        or extra.get("autocomplete") == "one-time-code"
    )


def _forms(cls: type = Form) -> Iterator[type]:
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _forms(subclass)


MAX_TYPED = 60  # fields kept of a form sent elsewhere: more than any page's form has


def typed_fields(formdata, own: frozenset[str] = frozenset()) -> dict[str, str]:
    """What a page's form held, sent somewhere that keeps it for that page
    (the language switch, a form sent after its session ended): each
    field's first value, at most ``MAX_TYPED`` of them; never a secret field
    of any form (nor the CSRF token), nor the names in ``own``."""
    kept = {}
    never = secret_names()
    for name, value in formdata.items():
        if len(kept) == MAX_TYPED:
            break
        if name not in own and name not in never and len(name) <= 100:
            kept[name] = value  # bounded as a draft's (drafts.carry)
    return kept


def anything_typed(fields: dict[str, str]) -> bool:
    """Whether ``fields`` (``typed_fields``) hold something a person typed or
    ticked, not only a page's hidden state: else there is nothing to keep."""
    return any(value.strip() and name in typed_names() for name, value in fields.items())


@cache
def typed_names() -> frozenset[str]:
    """The names of the fields a person types in or ticks, in every form of
    the portal: what a page takes back (``carriable``) but a hidden field (a
    page's state, what an edit form showed), nor a name some form gives a
    hidden field (« Demander le rattachement »'s identifier is the search's)."""
    typed, hidden = set(), set()
    for form in _forms():
        for name in dir(form):
            unbound = getattr(form, name, None)
            if not isinstance(unbound, UnboundField) or secret(unbound):
                continue
            if issubclass(unbound.field_class, HiddenField):
                hidden.add(unbound.kwargs.get("name") or name)
            elif not issubclass(unbound.field_class, FileField):
                typed.add(unbound.kwargs.get("name") or name)
    return frozenset(typed - hidden)


def secret_typed(formdata) -> bool:
    """Whether a form sent held a secret typed in it (a password, a code:
    ``secret_names`` but the CSRF token), which the person must type again
    where the form is given back without it."""
    never = secret_names()
    return any(value and name in never and name != "csrf_token" for name, value in formdata.items())


@cache
def secret_names() -> frozenset[str]:
    """The names of the secret fields of every form of the portal, and the
    CSRF token's: what the language switch sent from a page is kept without
    them, whichever form it came from."""
    names = {"csrf_token"}
    for form in _forms():
        for name in dir(form):
            unbound = getattr(form, name, None)
            if isinstance(unbound, UnboundField) and secret(unbound):
                names.add(unbound.kwargs.get("name") or name)
    return frozenset(names)


def readable(data: dict, form_class: type | None = None) -> list[tuple[str, str]]:
    """What a draft holds as a person reads it (« Mes données »): each field
    by its label, in ``form_class`` (the step the draft is of) or else in the
    first form that has that name, and its value as the form offers it: a
    type's or a country's name, a box « oui » or « non »; a name no form has
    stays as it is."""
    labels = {**field_labels(), **(_labels_of(form_class) if form_class is not None else {})}
    kind = IDENTIFIER_TYPES.get(data.get("identifier_type"))
    rows = []
    for name, value in data.items():
        label = kind.label if name == "identifier" and kind is not None else labels.get(name, name)
        if isinstance(value, bool):
            shown = _("oui") if value else _("non")
        elif name == "country" and value:
            shown = country_name(value) or value
        elif name == "identifier_type" and kind is not None:
            shown = kind.name
        else:
            shown = value
        rows.append((str(label), str(shown)))
    return rows


def _labels_of(form_class: type) -> dict[str, str]:
    labels = {}
    for name in dir(form_class):
        unbound = getattr(form_class, name, None)
        if isinstance(unbound, UnboundField):
            label = unbound.kwargs.get("label", unbound.args[0] if unbound.args else None)
            if label:
                labels[unbound.kwargs.get("name") or name] = label
    return labels


@cache
def field_labels() -> dict[str, str]:
    """Each field name of the portal's forms and its label (the first form's)."""
    labels: dict[str, str] = {}
    for form in _forms():
        for name, label in _labels_of(form).items():
            labels.setdefault(name, label)
    return labels
