"""WTForms validators over the domain rules of ``rules``: each calls a rule
and turns its ``RuleError`` into an error of the field; the cleaning ones
replace the field's data by the rule's cleaned value."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from wtforms.validators import Length, StopValidation, ValidationError

from rules import RuleError
from rules.email import EMAIL_MAX, EMAIL_TOO_LONG, normalize_email
from rules.i18n import _
from rules.identifiers import IDENTIFIER_TYPES, normalize_identifier
from rules.messages import VALUES_DIFFER, too_long
from rules.names import NAME_TOO_LONG, check_person_name
from rules.passwords import check_password, check_password_changes
from rules.phone import normalize_phone
from rules.places import check_address_line, check_city, check_postal_code, is_country
from rules.text import check_text

__all__ = [
    "AddressLine",
    "AtMost",
    "City",
    "Email",
    "EmailAtMost",
    "Identifier",
    "PasswordChanges",
    "PasswordRule",
    "PersonName",
    "Phone",
    "PhoneInCountry",
    "PlainText",
    "PostalCode",
    "SameAs",
    "ValidationError",
    "field_error",
]


@contextmanager
def field_error(then: str = "") -> Iterator[None]:
    """A rule broken inside the block becomes the field's error; ``then`` is
    added after the rule's message."""
    try:
        yield
    except RuleError as error:
        raise ValidationError(f"{error} {then}" if then else str(error)) from None


class Cleans:
    """Base of the validators that check a filled-in field with a rule and
    replace its data by the rule's cleaned value. An empty field is left to
    ``Optional``/``DataRequired``."""

    def clean(self, form, value: str) -> str:
        raise NotImplementedError

    def __call__(self, form, field) -> None:
        if field.data:
            with field_error():
                field.data = self.clean(form, field.data)


class AtMost(Length):
    """WTForms' ``Length(max=…)`` saying it as every rule of the portal does,
    « Ce champ doit contenir au plus 20 caractères. », not WTForms' own « Le
    champ ne peut pas contenir plus de 20 caractères. »; ``message``: a
    field's own (an address's, the console's search). The forms use it for
    every length they bound (tests/test_form_lengths.py)."""

    def __init__(self, max: int, message: object = None):  # noqa: A002 - Length's own name
        super().__init__(max=max, message=too_long(max) if message is None else message)


class EmailAtMost(AtMost):
    """An address's bound: « L'adresse e-mail doit contenir au plus 254 caractères. »"""

    def __init__(self):
        super().__init__(EMAIL_MAX, EMAIL_TOO_LONG)


# The longest text a field without a ``Length`` of its own reads (a
# ``next`` address: 2048); its rule says how long it may be.
TEXT_MAX = 4096


class PlainText:
    """Every text field's first check (``forms.Form`` puts it there): no
    invisible, control or direction-reversing character, no pile of
    combining marks; the data becomes NFC. A refused text stops the field's
    other checks, so its one message says what is wrong.

    A text longer than the field's ``Length`` (else than TEXT_MAX) is refused
    before any of its characters is read: each costs a micro-second or two
    in the checks, and a body of a mebibyte would hold a worker for seconds.

    ``check``: a stricter rule than ``rules.text.check_text`` for the text to
    go through instead, one that calls it (a form's ``TEXT_RULES``)."""

    def __init__(self, check=None):
        self.check = check

    def __call__(self, form, field) -> None:
        if isinstance(field.data, str) and field.data:
            _refuse_too_long(form, field)
            try:
                field.data = (self.check or check_text)(field.data)
            except RuleError as error:
                raise StopValidation(str(error)) from None


def _refuse_too_long(form, field) -> None:
    for validator in field.validators:
        if isinstance(validator, Length) and 0 <= validator.max < len(field.data):
            try:
                validator(form, field)  # its own message
            except ValidationError as error:
                raise StopValidation(str(error)) from None
    if len(field.data) > TEXT_MAX:
        # The rule's own message when it has one (« au plus 100 caractères »).
        message = next((v.too_long for v in field.validators if hasattr(v, "too_long")), None)
        raise StopValidation(str(message or too_long(TEXT_MAX)))


class Email(Cleans):
    """Replaces the data by the normalised address."""

    def clean(self, form, value: str) -> str:
        return normalize_email(value)


class PersonName(Cleans):
    """Replaces the data by the cleaned name."""

    too_long = NAME_TOO_LONG  # said by PlainText of a text it does not read

    def clean(self, form, value: str) -> str:
        return check_person_name(value)


class Phone(Cleans):
    """Replaces the data by the E.164 number."""

    def __init__(self, region: str = "FR"):
        self.region = region

    def clean(self, form, value: str) -> str:
        return normalize_phone(value, self.region)


class InCountry(Cleans):
    """A rule that depends on the country chosen in ``country_field``."""

    def __init__(self, country_field: str = "country"):
        self.country_field = country_field

    def country(self, form) -> str:
        country = form[self.country_field].data
        return country if isinstance(country, str) else ""


class PhoneInCountry(InCountry):
    """Validates a phone number read in the country chosen in ``country_field``
    (national numbers are that country's) and replaces it by E.164."""

    def clean(self, form, value: str) -> str:
        country = self.country(form)
        return normalize_phone(value, country if is_country(country) else "FR")


class AddressLine(Cleans):
    """Replaces the data by the cleaned line."""

    def clean(self, form, value: str) -> str:
        return check_address_line(value)


class City(Cleans):
    """The address's commune, cleaned as a line of it."""

    def clean(self, form, value: str) -> str:
        return check_city(value)


class PostalCode(InCountry):
    """Validates a postal code for the country chosen in ``country_field``."""

    def clean(self, form, value: str) -> str:
        return check_postal_code(value, self.country(form))


class Identifier:
    """Validates the identifier for the type chosen in ``type_field`` and
    replaces its data by the normalised identifier. For the types the portal
    numbers itself, nothing is typed: the data becomes empty."""

    def __init__(self, type_field: str = "identifier_type", assigned_allowed: bool = False):
        self.type_field = type_field
        # True when looking a structure up: its assigned identifier is typed.
        self.assigned_allowed = assigned_allowed

    def __call__(self, form, field) -> None:
        code = form[self.type_field].data
        if code not in IDENTIFIER_TYPES:
            field.data = ""
            return  # the type field reports it
        if IDENTIFIER_TYPES[code].internal and not self.assigned_allowed:
            field.data = ""
            return
        with field_error():
            field.data = normalize_identifier(code, field.data)


class PasswordRule:
    """Validates a new password. ``context`` returns the words the password
    may not contain (names, e-mail addresses); it is called at validation."""

    def __init__(self, context: Callable[[], Iterable[str]] | None = None):
        self.context = context

    def __call__(self, form, field) -> None:
        with field_error():
            check_password(field.data or "", self.context() if self.context else ())


class PasswordChanges:
    """The new password must not be the current one; ``is_current(password)``
    says whether it is. Skipped once the field has an error: a password the
    rule refuses costs no check against the stored hash."""

    def __init__(self, is_current: Callable[[str], bool]):
        self.is_current = is_current

    def __call__(self, form, field) -> None:
        if field.errors:
            return
        with field_error():
            check_password_changes(field.data or "", self.is_current)


class SameAs:
    """The field must repeat another field of the form.

    ``case_sensitive=True`` (passwords): exact equality, nothing stripped.
    ``case_sensitive=False``: equality after strip, ignoring case.
    ``key`` (e-mail): equality of what ``key`` makes of both values, e.g.
    the normalised addresses (« jose@bücher.de » is « jose@xn--bcher-kva.de »)."""

    def __init__(
        self,
        other_field_name: str,
        message: str = VALUES_DIFFER,
        case_sensitive: bool = True,
        key: Callable[[str], str] | None = None,
    ):
        self.other_field_name = other_field_name
        self.message = message
        self.case_sensitive = case_sensitive
        self.key = key

    def _key(self, value) -> str:
        text = value if isinstance(value, str) else ("" if value is None else str(value))
        if self.key is not None:
            return self.key(text)
        if self.case_sensitive:
            return text
        return unicodedata.normalize("NFC", text.strip()).casefold()

    def __call__(self, form, field) -> None:
        try:
            other = form[self.other_field_name]
        except KeyError:
            raise ValidationError(_("Champ inconnu : %(name)s.", name=self.other_field_name)) from None
        if self._key(field.data) != self._key(other.data):
            raise ValidationError(self.message)
