"""Structure forms: the structure itself (step 6), its later edits, finding a
structure to ask for attachment, and handing over the manager role."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache, lru_cache
from types import MappingProxyType

from flask import g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Optional, ValidationError

import i18n
from forms import EmailAddressField, Form, PhoneField
from forms.render import Catalogue, CatalogueSelectField
from forms.seen import SeenEdit
from forms.validators import (
    AddressLine,
    AtMost,
    City,
    Email,
    EmailAtMost,
    Identifier,
    PhoneInCountry,
    PostalCode,
    field_error,
)
from models import Structure
from rules import RuleError
from rules.email import shown_email
from rules.i18n import language
from rules.identifiers import (
    IDENTIFIER_TYPES,
    SIRET,
    UE,
    IdentifierType,
    check_identifier_country,
    same_identifier,
    vat_country,
)
from rules.messages import NOT_A_CHOICE, REQUIRED
from rules.places import country_choices, country_names, is_country
from rules.text import check_printed_text
from sirene import directory

NOT_FOUND = _l("Aucune structure n'est enregistrée sur le portail avec cet identifiant. Vérifiez-le.")


# The selects' lists are catalogues (forms.render): made once per language,
# their options rendered once. The empty first option: HTML wants it on a
# required select (and choosing it is answered with the "required" message);
# SIRET stays the one selected. ``language`` is the cache's key: the texts
# are translated as the catalogue is made, in the language of that page.
@lru_cache(maxsize=8)
def _type_catalogue(language: str) -> Catalogue:
    return Catalogue(
        [("", _("Sélectionner le type d'identifiant"))]
        + [(kind.code, kind.name) for kind in IDENTIFIER_TYPES.values()]
    )


def _type_choices() -> Catalogue:
    return _type_catalogue(language())


@cache
def accepted_countries(code: str) -> frozenset[str] | None:
    """The countries a structure with that identifier type may be in
    (check_identifier_country, before any identifier is typed), None for
    any. An intra-EU VAT number names its country, a member state's other
    than France's."""
    every = country_names("fr")
    accepted = []
    for country in every:
        try:
            check_identifier_country(code, "", country)
        except RuleError:
            continue
        accepted.append(country)
    return None if len(accepted) == len(every) else frozenset(accepted)


@lru_cache(maxsize=64)
def _country_catalogue(language: str, code: str | None, only: str | None = None) -> Catalogue:
    """« Sélectionner le pays », then the countries that identifier type
    accepts (every one for None), France first, named in ``language``; with
    ``only``, that country alone (the one an identifier names)."""
    accepted = frozenset({only}) if only else accepted_countries(code) if code else None
    return Catalogue(
        [("", _("Sélectionner le pays"))]
        + [(country, name) for country, name in country_choices() if accepted is None or country in accepted]
    )


def _countries(form, field) -> Catalogue:
    """The countries offered to the form's structure: those its identifier
    type accepts (``StructureDetails.countries_type``: the type chosen on
    step 6, the structure's own on its edit). A country chosen that the type
    refuses (typed with another type, sent without JavaScript, from a draft,
    or stored before) stays in the list, selected, its error next to it."""
    code = form.countries_type()
    catalogue = _country_catalogue(language(), code, form.identifiers_country())
    chosen = field.data
    if code is None or chosen in catalogue.values or not is_country(chosen):
        return catalogue
    every = _country_catalogue(language(), None)
    return Catalogue(pair for pair in every if pair[0] in catalogue.values or pair[0] == chosen)


def _select(label: str, **kwargs) -> SelectField:
    return SelectField(
        label, invalid_choice_message=NOT_A_CHOICE, invalid_value_message=NOT_A_CHOICE, **kwargs
    )


def _catalogue_select(label: str, **kwargs) -> CatalogueSelectField:
    return CatalogueSelectField(
        label, invalid_choice_message=NOT_A_CHOICE, invalid_value_message=NOT_A_CHOICE, **kwargs
    )


# Declared before the other fields so that they come first in every form (the
# error summary's order) and are validated before the country is checked
# against them.
IDENTIFIER_TYPE_FIELD = _catalogue_select(
    _l("Type d'identifiant"), choices=_type_choices, default=SIRET, validators=[DataRequired(REQUIRED)]
)
IDENTIFIER_FIELD = StringField(
    _l("Identifiant"), validators=[Identifier("identifier_type")], render_kw={"spellcheck": "false"}
)
SEARCH_IDENTIFIER_FIELD = StringField(
    _l("Identifiant"),
    validators=[Identifier("identifier_type", assigned_allowed=True)],
    render_kw={"spellcheck": "false"},
)


class IdentifierFields:
    """Type d'identifiant + the identifier, whose label and hint follow the type."""

    # Looking a structure up: the identifier the portal assigned is typed too.
    ASSIGNED_TYPED = False

    def kind(self) -> IdentifierType:
        return IDENTIFIER_TYPES.get(self.identifier_type.data) or IDENTIFIER_TYPES[SIRET]

    def identifier_typed(self) -> bool:
        """Whether the user types an identifier for the chosen type."""
        return self.ASSIGNED_TYPED or not self.kind().internal

    def identifier_hint(self) -> str:
        kind = self.kind()
        if kind.internal and self.ASSIGNED_TYPED:
            return _(
                "L'identifiant que le portail a attribué à la structure lors de sa création, "
                "par exemple %(example)s.",
                example=f"{kind.internal_prefix}0123456789",
            )
        return kind.hint

    def label_identifier(self) -> None:
        self.identifier.label.text = self.kind().label


class StructureDetails(Form):
    """Everything but the identifier: raison sociale, contact, postal address.
    Its texts for others, printed on invoices (``PRINTED``), go through
    rules.text.check_printed_text, which refuses markup's chevrons, emoji and
    pictographs too: step 6 and the edit refuse the same."""

    company_name = StringField(
        _l("Raison sociale"),
        validators=[DataRequired(REQUIRED), AtMost(100)],
        filters=[lambda value: " ".join(value.split()) if isinstance(value, str) else value],
        render_kw={"autocomplete": "organization"},
    )
    label = StringField(
        _l("Libellé de la structure"),
        validators=[Optional(), AtMost(100)],
        filters=[lambda value: " ".join(value.split()) if isinstance(value, str) else value],
    )
    email = EmailAddressField(
        _l("Adresse électronique"),
        validators=[Optional(), EmailAtMost(), Email()],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )
    phone = PhoneField(
        _l("Téléphone"),
        validators=[Optional(), AtMost(40), PhoneInCountry("country")],
        render_kw={"autocomplete": "tel"},
    )
    address = StringField(
        _l("Adresse"),
        validators=[DataRequired(REQUIRED), AddressLine()],
        render_kw={"autocomplete": "address-line1"},
    )
    address_2 = StringField(
        _l("Complément d'adresse 1"),
        validators=[Optional(), AddressLine()],
        render_kw={"autocomplete": "address-line2"},
    )
    address_3 = StringField(
        _l("Complément d'adresse 2"),
        validators=[Optional(), AddressLine()],
        render_kw={"autocomplete": "address-line3"},
    )
    city = StringField(
        _l("Ville"),
        validators=[DataRequired(REQUIRED), City()],
        render_kw={"autocomplete": "address-level2"},
    )
    postal_code = StringField(
        _l("Code postal"),
        validators=[DataRequired(REQUIRED), PostalCode("country")],
        render_kw={"autocomplete": "postal-code"},
    )
    country = _catalogue_select(
        _l("Pays"),
        choices=_countries,
        default="FR",
        validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "country"},
    )
    non_diffusible = BooleanField(_l("Non diffusible"))

    GENERAL = ("company_name", "label", "email", "phone")
    ADDRESS = ("address", "address_2", "address_3", "city", "postal_code", "country")
    PRINTED = ("company_name", "label", "address", "address_2", "address_3", "city")
    TEXT_RULES = MappingProxyType(dict.fromkeys(PRINTED, check_printed_text))

    # INSEE's value of a field, where the person typed another (StructureForm.prefill).
    directory_differs: Mapping[str, str] = MappingProxyType({})

    def hint(self, name: str, usual: str | None = None) -> str | None:
        """A field's hint, with INSEE's value when the person typed another."""
        if (differs := self.directory_differs.get(name)) is None:
            return usual
        note = _(
            "Le répertoire SIRENE de l'INSEE indique : %(value)s. Votre saisie est conservée.",
            value=differs,
        )
        return f"{note} {usual}" if usual else note

    def details(self) -> dict:
        data = {name: (self[name].data or None) for name in (*self.GENERAL, *self.ADDRESS)}
        data["non_diffusible"] = bool(self.non_diffusible.data)
        return data

    def identifier_for_country(self) -> tuple[str, str]:
        raise NotImplementedError

    def countries_type(self) -> str | None:
        """The identifier type whose countries the « Pays » list offers (None: all)."""
        raise NotImplementedError

    def identifiers_country(self) -> str | None:
        """The one country the identifier names, when it names one the list
        can offer alone (an edit's intra-EU VAT number); None otherwise."""
        return None

    def flag_refused_country(self, identifier: str = "") -> None:
        """A country the type refuses (the default France, for a RIDET; a
        country stored before) stays, selected, and says so next to it,
        rather than at « Soumettre »."""
        code, chosen = self.countries_type(), self.country.data
        if not code or not is_country(chosen):
            return
        try:
            check_identifier_country(code, identifier, chosen)
        except RuleError as refusal:
            self.country.errors = [str(refusal)]

    def validate_country(self, field) -> None:
        if field.errors:
            return  # not a country of the list: said already, one message is enough
        code, identifier = self.identifier_for_country()
        if code:
            with field_error():
                check_identifier_country(code, identifier, field.data)


class StructureForm(IdentifierFields, StructureDetails):
    """Step 6: « Informations générales » and « Adresse postale ». With a
    SIRENE directory, a known SIRET first brings the form back filled from
    it (``prefill``); the raison sociale is then INSEE's, not the typed one."""

    identifier_type = IDENTIFIER_TYPE_FIELD
    identifier = IDENTIFIER_FIELD
    # The SIRET whose directory data the form was filled with. Its label is
    # WTForms' default, given here: without one WTForms would load its own
    # translations from disk on every form made (a hidden field shows none).
    sirene_siret = HiddenField("Sirene Siret")

    FILLED = ("label", "address", "address_2", "address_3", "city", "postal_code", "country")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.label_identifier()
        self.sirene: directory.Answer | None = None
        self.directory_forgotten = False  # see follow_type
        self.directory_differs: dict[str, str] = {}  # see prefill

    @classmethod
    def fresh(cls) -> StructureForm | FreshStructureForm:
        """Step 6 for a GET that brings no draft and no SIRET: its fields can
        hold nothing but their defaults, unless the language switch carried
        some back (``Form._take_back``). Then only its token is built
        (``FreshStructureForm``): the fields are the page's part drawn once
        for everybody (views.structure._blank_fields), and binding them
        cost a tenth of the page."""
        return cls() if g.get("carried") else FreshStructureForm()

    def whole(self) -> StructureForm:
        return self

    def untouched(self) -> bool:
        """The form as anybody first sees it: nothing typed, carried back,
        taken from a draft or the directory, no error; every field at its
        default (an empty value, a box unticked, are the same as none)."""
        csrf = self.meta.csrf_field_name
        return (
            self.sirene is None
            and not self.form_errors
            and not self.directory_differs
            and all(
                not field.raw_data and not field.errors and (field.data or None) == (field.default or None)
                for field in self
                if field.name != csrf
            )
        )

    def _filled_before(self) -> dict[str, str]:
        """What the last fill (another SIRET's, ``sirene_siret``) put in the
        fields: those values are the directory's, not the person's."""
        siret = self.sirene_siret.data
        if not siret or siret == self.identifier.data or self.identifier_type.data != SIRET:
            return {}
        entry = directory.consult(siret).entry
        return {name: getattr(entry, name) or "" for name in self.FILLED} if entry else {}

    @staticmethod
    def drafted_for(kept: dict, siret: str) -> bool:
        """Whether a step-6 draft (``kept``, as ``drafts.load`` gives it) was
        begun for this SIRET, or for no identifier yet: then it is the one to
        go on with from the search's link. A type the portal gives the
        identifier of has none typed: what its hidden field holds is what was
        typed before the type was changed."""
        typed = kept.get("identifier")
        typed = typed.strip() if isinstance(typed, str) else ""
        drafted = kept.get("identifier_type", SIRET)
        kind = IDENTIFIER_TYPES.get(drafted) if isinstance(drafted, str) else None
        if not typed or (kind is not None and kind.internal):
            return True
        if drafted != SIRET:
            return False
        return same_identifier(SIRET, typed, siret)

    def follow_type(self) -> None:
        """The type has changed (htmx): a country the new type refuses says so
        at once (``flag_refused_country``). A type other than SIRET forgets
        what the directory filled (``directory_forgotten``): the SIRET it came
        from goes, and the name is not locked (only an answer of the
        directory locks it, which no other type asks for)."""
        self.flag_refused_country()
        self.directory_forgotten = self.kind().code != SIRET
        if self.directory_forgotten:
            self.sirene_siret.data = ""
            self.sirene = None

    def consult_directory(self) -> directory.Answer | None:
        """What the directory says of the identifier when it is a SIRET of a
        valid format (the field's own validators run here), else None. The
        raison sociale is locked to INSEE's from then on."""
        if self.sirene is None and self.identifier_type.data == SIRET:
            if self.identifier.validate(self):
                self.sirene = directory.consult(self.identifier.data)
                self.lock_company_name()
            else:
                # A look, not the form's validation: an empty or partial SIRET
                # on a fresh form (GET) is no error; validate() reports it.
                self.identifier.errors = []
        return self.sirene

    def validate_identifier(self, field) -> None:
        if field.errors or self.identifier_type.data != SIRET:
            return
        answer = self.sirene or directory.consult(field.data)
        message = answer.refusal()
        if message:
            raise ValidationError(message)

    def needs_prefill(self) -> bool:
        """A known SIRET whose data the person has not seen in the form yet."""
        answer = self.sirene
        return bool(
            answer
            and answer.entry
            and not self.identifier.errors
            and self.sirene_siret.data != self.identifier.data
        )

    def prefill(self) -> None:
        """Fill the form from the directory: the name always, the other fields
        where INSEE has a value (masked ones stay as typed); no errors shown.
        What the person typed in a text field is never replaced: INSEE's
        other value is named beside it (``directory_differs``)."""
        entry = self.sirene.entry
        filled_before = self._filled_before()
        for name in self.FILLED:
            value = getattr(entry, name)
            if not value or (name == "country" and not is_country(value)):
                continue
            typed = (self[name].data or "").strip()
            if name != "country" and typed and typed != value and typed != filled_before.get(name):
                self.directory_differs[name] = value
            else:
                self[name].data = value
        if not entry.diffusible:
            self.non_diffusible.data = True
        self.country.choices = _countries  # made again for the country filled in
        self.sirene_siret.data = self.identifier.data
        for field in self:
            field.errors = []
        self.lock_company_name()

    def release_directory(self) -> bool:
        """The SIRET is no longer the one the form was filled for
        (``sirene_siret``) and the directory fills nothing for the new one:
        what that fill put in the fields and still holds (another company's
        name, address…) is emptied and the name is no longer locked; what the
        person changed since stays. Returns whether the form had been filled
        for another SIRET."""
        siret = self.sirene_siret.data
        if not siret or siret == self.identifier.data:
            return False
        entry = directory.consult(siret).entry
        if entry is not None:
            for name in ("company_name", *self.FILLED):
                value = (getattr(entry, name) or "")[:100]
                if name != "country" and value and (self[name].data or "").strip() == value:
                    self[name].data = ""
        self.sirene_siret.data = ""
        return True

    def lock_company_name(self) -> None:
        """INSEE's name, shown and not editable, whatever was typed; not for
        a SIRET refused (a closed establishment): nothing is created for it,
        and its name would stay in the form once another SIRET is typed."""
        entry = self.sirene.entry if self.sirene else None
        if entry and entry.company_name and not self.sirene.refusal():
            self.company_name.data = entry.company_name[:100]
            self.company_name.render_kw = {**(self.company_name.render_kw or {}), "readonly": True}

    def countries_type(self) -> str:
        return self.kind().code

    def identifier_for_country(self) -> tuple[str, str]:
        if self.identifier_type.errors:
            return "", ""  # already reported on that field
        if self.identifier.errors:
            # The type's own rule is said at once; an invalid VAT number names no country.
            return self.identifier_type.data, ""
        return self.identifier_type.data, self.identifier.data or ""

    def structure_data(self) -> dict:
        kind = self.kind()
        return {
            "identifier_type": kind.code,
            "identifier": None if kind.internal else self.identifier.data,
            **self.details(),
        }

    def names_a_structure(self) -> bool:
        """Whether the identifier typed is a structure's on the portal already
        (the offer to join it, or the form sent again once it had created
        it): sending the form creates nothing."""
        data = self.structure_data()
        identifier = data["identifier"]
        return identifier is not None and Structure.find(data["identifier_type"], identifier) is not None


class FreshStructureForm(Form):
    """Step 6 untouched, reduced to its token: what the page draws around the
    fields everybody shares (``StructureForm.fresh``). To the view it reads
    as the untouched StructureForm would: no directory's answer, no error."""

    sirene = None

    def consult_directory(self) -> None:
        return None

    def untouched(self) -> bool:
        return True

    def whole(self) -> StructureForm:
        """The untouched form with its fields, to draw them the first time."""
        return StructureForm(formdata=None)


class StructureEditForm(SeenEdit, StructureDetails):
    """The gestionnaire principal's (or an operator's) edit: the identifier
    stays. It carries the details as it showed them (forms.seen), so that an
    edit sent after another change of them (a second tab, an operator's
    correction meanwhile) writes nothing over that change unseen."""

    def __init__(self, *args, structure, **kwargs):
        self.structure = structure
        super().__init__(*args, record=structure, details=structure.DETAILS, obj=structure, **kwargs)
        self._flag_stored_country()

    def _flag_stored_country(self) -> None:
        """The country stored, when its type refuses it (stored before the
        rule, or by hand) or it is no longer a country of the list: said
        next to the field as the form is shown, not only at « Soumettre »
        (whose validation says it again). A country the type refuses stays
        offered, selected (``_countries``)."""
        stored = self.structure.country
        if not stored or self.country.data != stored:
            return
        if is_country(stored):
            self.flag_refused_country(self.structure.identifier or "")
        else:
            self.country.errors = [
                _(
                    "Le pays enregistré pour la structure (%(code)s) ne figure pas dans la liste : "
                    "choisissez-en un.",
                    code=stored,
                )
            ]

    def countries_type(self) -> str | None:
        """The structure's own type: it does not change on an edit."""
        return self.structure.identifier_type

    def identifiers_country(self) -> str | None:
        """An intra-EU VAT number names its member state: the edit offers it
        alone (step 6 offers them all, the number being typed there)."""
        structure = self.structure
        if structure.identifier_type != UE or not structure.identifier:
            return None
        country = vat_country(structure.identifier)
        return country if is_country(country) else None

    def identifier_for_country(self) -> tuple[str, str]:
        return self.structure.identifier_type, self.structure.identifier

    def _take(self, name: str) -> None:
        super()._take(name)
        if name == "country":
            self.country.choices = _countries  # made again for the country taken

    def typed_details(self) -> dict:
        return self.details()

    def named(self, name: str) -> str:
        if name == "country":
            stored = self.structure.country
            return country_names("en" if language() == "en" else "fr").get(stored, stored or "")
        return super().named(name)


class StructureSearchForm(IdentifierFields, Form):
    """Find a structure by its identifier type and identifier (a GET search)."""

    ASSIGNED_TYPED = True

    class Meta:
        csrf = False

    identifier_type = IDENTIFIER_TYPE_FIELD
    identifier = SEARCH_IDENTIFIER_FIELD

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.label_identifier()


class AttachmentRequestForm(Form):
    """The structure found, as hidden fields of « Demander le rattachement »."""

    # Labels: see StructureForm.sirene_siret.
    identifier_type = HiddenField("Identifier Type", validators=[DataRequired()])
    identifier = HiddenField("Identifier", validators=[DataRequired()])


class SiretForm(Form):
    """The SIRET of a structure first numbered by the portal."""

    identifier = StringField(
        IDENTIFIER_TYPES[SIRET].label,
        validators=[DataRequired(REQUIRED), Identifier("identifier_type")],
        render_kw={"inputmode": "numeric", "spellcheck": "false"},
    )
    identifier_type = HiddenField("Identifier Type", default=SIRET)  # label: see StructureForm

    def __init__(self, *args, structure=None, **kwargs):
        self.structure = structure
        super().__init__(*args, **kwargs)
        self.identifier_type.data = SIRET

    def validate_identifier(self, field) -> None:
        if field.errors:
            return
        with field_error(then=_("Modifiez d'abord le pays de la structure si elle est située en France.")):
            check_identifier_country(SIRET, field.data, self.structure.country)
        # The directory's check of step 6: an unknown or closed SIRET is not
        # taken this way either.
        message = directory.consult(field.data).refusal()
        if message:
            raise ValidationError(message)


def _member_id(value) -> int | None:
    """A membership's id as the select sends it; the empty first option is None."""
    return None if value in ("", None) else int(value)


class DesignateForm(Form):
    """The member who becomes gestionnaire principal (an operator designates
    them). The empty first option is selected until someone is chosen: a
    careless submit names nobody, and is refused, rather than the first listed."""

    member = _select(
        _l("Nouveau gestionnaire principal"),
        coerce=_member_id,
        choices=[],
        validators=[DataRequired(_l("Choisissez un membre de la structure."))],
    )

    def __init__(self, *args, members=(), **kwargs):
        """``members``: the structure's active members; those who may take the
        role (``Membership.may_take_the_role``) are offered."""
        super().__init__(*args, **kwargs)
        self.members = list(members)
        self.candidates = [
            SelectChoice(m.id, f"{m.user.full_name} ({shown_email(m.user.email)})")
            for m in self.members
            if m.may_take_the_role
        ]
        self.member.choices = [SelectChoice("", _("Sélectionner un membre")), *self.candidates]

    def chosen_holder(self):
        """The member chosen, if they hold the role already (the form sent
        twice, or another designation meanwhile), else None."""
        return next((m for m in self.members if m.id == self.member.data and m.holds_the_role), None)


class HandoverForm(DesignateForm):
    """The gestionnaire principal hands the role over: they cannot take it
    back themselves, so the submit says so and asks for a confirmation."""

    confirm = BooleanField(
        _l(
            "Je confirme transmettre le rôle de gestionnaire principal au membre choisi : "
            "je ne pourrai pas le reprendre moi-même."
        ),
        validators=[DataRequired(_l("Cochez la case pour confirmer le transfert du rôle."))],
    )

    def validate(self, extra_validators=None) -> bool:
        """A member no longer offered, chosen on a page opened before (their
        account closed, or they left the structure since), is named as such,
        not as a value missing from the list."""
        valid = super().validate(extra_validators)
        chosen = self.member.data
        if self.member.errors and isinstance(chosen, int):
            listed = next((m for m in self.members if m.id == chosen), None)
            if listed is None:
                self.member.errors = [str(MEMBER_LEFT)]
            elif listed.account_closed:
                self.member.errors = [
                    _(
                        "Le compte %(of_name)s a été fermé : il ne peut pas recevoir le rôle. "
                        "Choisissez un autre membre.",
                        of_name=i18n.of_person(listed.user.full_name),
                    )
                ]
        return valid


# A member chosen who is no longer an active member of the structure.
MEMBER_LEFT = _l("Ce membre n'est plus rattaché à la structure : choisissez-en un autre.")
