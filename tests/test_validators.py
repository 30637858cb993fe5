"""Field rules of forms/validators.py: the plain functions, then the WTForms
validator classes through a tiny ``wtforms.Form`` (no Flask needed)."""

from __future__ import annotations

import pytest
from wtforms import Form, PasswordField, StringField
from wtforms.validators import DataRequired, Optional

from forms.validators import Email, PasswordRule, PersonName, Phone, SameAs
from rules import RuleError as ValidationError
from rules.email import normalize_email
from rules.names import check_person_name
from rules.passwords import (
    PASSWORD_MAX,
    PASSWORD_MIN,
    PasswordCheck,
    check_password,
    is_common_password,
    password_checks,
    password_context_words,
    password_kinds,
)
from rules.phone import normalize_phone

EMAIL_HINT = "Saisissez une adresse e-mail valide, par exemple nom@exemple.fr."
PHONE_HINT = "Saisissez un numéro de téléphone valide, par exemple 01 23 45 67 89 ou +33 1 23 45 67 89."
NAME_CHARS = "Utilisez uniquement des lettres, des espaces, des traits d'union (-) et des apostrophes (')."
TOO_SHORT = "Le mot de passe doit contenir au moins 12 caractères."
TOO_LONG = "Le mot de passe doit contenir au plus 128 caractères."
KINDS = (
    "Le mot de passe doit contenir au moins 3 types de caractères parmi : "
    "majuscules, minuscules, chiffres, caractères spéciaux."
)
COMMON = "Ce mot de passe est trop courant. Choisissez-en un autre."
CONTEXT = "Le mot de passe ne doit contenir ni votre nom, ni votre prénom, ni votre adresse e-mail."

LONGEST_EMAIL = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 58 + ".fr"  # 254 characters


def error_of(rule, *args) -> str:
    with pytest.raises(ValidationError) as caught:
        rule(*args)
    return str(caught.value)


# --------------------------------------------------------------------------- e-mail


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("marie.curie@exemple.fr", "marie.curie@exemple.fr"),
        ("Marie.Curie@Exemple.FR", "marie.curie@exemple.fr"),
        ("  jean@exemple.fr \t", "jean@exemple.fr"),
        ("JEAN+FACTURES@Exemple.COM", "jean+factures@exemple.com"),
        ("Elodie@Exemple.fr", "elodie@exemple.fr"),
        ("jean@EXÄMPLE.fr", "jean@xn--exmple-cua.fr"),
        (LONGEST_EMAIL, LONGEST_EMAIL),
    ],
)
def test_normalize_email_valid(value, expected):
    assert normalize_email(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", EMAIL_HINT),
        ("   ", EMAIL_HINT),
        ("jean.exemple.fr", "Il manque le caractère @."),
        ("jean@", "Il manque le nom de domaine après le @."),
        ("@exemple.fr", "Il manque la partie située avant le @."),
        ("jean@exemple", "doit contenir un point"),
        ("jean dupont@exemple.fr", "ne doit pas contenir d'espace"),
        ("jean@@exemple.fr", "qu'un seul caractère @"),
        ("jean..dupont@exemple.fr", EMAIL_HINT),
        ("jean@exemple..fr", EMAIL_HINT),
        ("jean@-exemple.fr", EMAIL_HINT),
        ("<jean@exemple.fr>", EMAIL_HINT),
        ("a" + LONGEST_EMAIL, "au plus 254 caractères"),
        ("a" * 5000 + "@exemple.fr", "au plus 254 caractères"),
    ],
)
def test_normalize_email_invalid(value, message):
    error = error_of(normalize_email, value)
    assert message in error
    assert EMAIL_HINT in error or "254" in error


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Marie", "Marie"),
        ("  Jean   Pierre  ", "Jean Pierre"),
        ("Jean-Pierre", "Jean-Pierre"),
        ("D'Artagnan", "D'Artagnan"),
        ("O’Brien", "O’Brien"),
        ("Élodie", "Élodie"),
        ("Françoise Noël-Lefèvre", "Françoise Noël-Lefèvre"),
        ("E\u0301lodie", "Élodie"),  # decomposed accent, recomposed
        ("Jean\t\nMarc", "Jean Marc"),
        ("Ιωάννης", "Ιωάννης"),
        ("Пётр Ильич", "Пётр Ильич"),
        ("李小龍", "李小龍"),
        ("محمد", "محمد"),
        ("नमस्ते", "नमस्ते"),
        ("Ø", "Ø"),
        ("a" * 100, "a" * 100),
    ],
)
def test_check_person_name_valid(value, expected):
    assert check_person_name(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "au moins une lettre"),
        ("   ", "au moins une lettre"),
        ("- '", "au moins une lettre"),
        ("Jean3", "Le caractère « 3 » n'est pas autorisé."),
        ("Jean.Pierre", "Le caractère « . » n'est pas autorisé."),
        ("Jean_Pierre", NAME_CHARS),
        ("<script>", NAME_CHARS),
        ("Jean\u200bPierre", "caractère invisible, de contrôle ou qui inverse le sens du texte (U+200B)"),
        ("-Jean", "ni commencer ni se terminer par un trait d'union ou une apostrophe"),
        ("Jean-", "ni commencer ni se terminer"),
        ("'Jean", "ni commencer ni se terminer"),
        ("Jean’", "ni commencer ni se terminer"),
        ("a" * 101, "au plus 100 caractères"),
        ("a " * 60, "au plus 100 caractères"),
    ],
)
def test_check_person_name_invalid(value, message):
    assert message in error_of(check_person_name, value)


# --------------------------------------------------------------------------- phones


@pytest.mark.parametrize(
    ("value", "region", "expected"),
    [
        ("01 23 45 67 89", "FR", "+33123456789"),
        ("0123456789", "FR", "+33123456789"),
        ("06.12.34.56.78", "FR", "+33612345678"),
        ("06-12-34-56-78", "FR", "+33612345678"),
        ("+33 1 23 45 67 89", "FR", "+33123456789"),
        ("+33 (0)1 23 45 67 89", "FR", "+33123456789"),
        ("0033 1 23 45 67 89", "FR", "+33123456789"),
        ("  +33612345678 ", "FR", "+33612345678"),
        ("0690 12 34 56", "FR", "+590690123456"),  # Guadeloupe, dialled from France
        ("0262 12 34 56", "FR", "+262262123456"),  # La Réunion
        ("+44 20 7946 0958", "FR", "+442079460958"),
        ("00 44 20 7946 0958", "FR", "+442079460958"),
        ("+1 650 253 0000", "FR", "+16502530000"),
        ("0470 12 34 56", "BE", "+32470123456"),
        ("0033 6 12 34 56 78", "US", "+33612345678"),  # 00 is international whatever the region
    ],
)
def test_normalize_phone_valid(value, region, expected):
    assert normalize_phone(value, region) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "12",
        "01 23 45 67 8",
        "01 23 45 67 89 0",
        "+33 1 23",
        "+",
        "00",
        "abc",
        "06 CHORUS",
        "06 12 34 56 78 poste 12",
        "+33 1 23 45 67 89+",
        "0" * 60,
        "+999 123 456 789",
    ],
)
def test_normalize_phone_invalid(value):
    assert error_of(normalize_phone, value) == PHONE_HINT


# --------------------------------------------------------------------------- passwords: checklist


@pytest.mark.parametrize(
    ("password", "expected", "kinds"),
    [
        ("", {"length": False, "upper": False, "lower": False, "digit": False, "special": False}, 0),
        ("abc", {"length": False, "upper": False, "lower": True, "digit": False, "special": False}, 1),
        ("Abcdefghijk1", {"length": True, "upper": True, "lower": True, "digit": True, "special": False}, 3),
        (
            "ÉCOLE ÉTÉ 2024",
            {"length": True, "upper": True, "lower": False, "digit": True, "special": True},
            3,
        ),
        ("éèàçôûœ", {"length": False, "upper": False, "lower": True, "digit": False, "special": False}, 1),
        ("ÉÈÀ", {"length": False, "upper": True, "lower": False, "digit": False, "special": False}, 1),
        ("a b", {"length": False, "upper": False, "lower": True, "digit": False, "special": True}, 2),
        ("Aa1!", {"length": False, "upper": True, "lower": True, "digit": True, "special": True}, 4),
        ("€-_/", {"length": False, "upper": False, "lower": False, "digit": False, "special": True}, 1),
    ],
)
def test_password_checks(password, expected, kinds):
    checks = password_checks(password)
    assert [check.key for check in checks] == ["length", "upper", "lower", "digit", "special"]
    assert {check.key: check.ok for check in checks} == expected
    assert password_kinds(password) == kinds


def test_password_checks_labels():
    assert [check.label for check in password_checks("")] == [
        "12 caractères minimum",
        "Une majuscule",
        "Une minuscule",
        "Un chiffre",
        "Un caractère spécial",
    ]
    check = password_checks("x")[0]
    assert isinstance(check, PasswordCheck)
    with pytest.raises(AttributeError):
        check.ok = True  # frozen


# --------------------------------------------------------------------------- passwords: rule

PASSPHRASE = "le petit chat est mort de rire en voyant la facture de Noël numéro 42"


@pytest.mark.parametrize(
    "password",
    [
        "Correct-Cheval-42",
        "Tr0ub4dor&3-horse-Battery",
        "abcdefghijK1",  # exactly 12, three kinds
        "Été-à-la-mer-2024",
        "J'aime les crêpes !",
        "пароль-Очень-Длинный",  # Cyrillic upper and lower case, special
        "x" * 120 + "Ab1!zzzz",  # exactly 128
        PASSPHRASE,
        "  Espaces autour 42  ",  # spaces count as special characters; nothing is stripped
        "Aa1" + "é" * 125,  # 128 with accents
    ],
)
def test_check_password_accepts(password):
    assert len(password) <= PASSWORD_MAX
    check_password(password, ("Marie", "Curie", "marie.curie@exemple.fr"))


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", TOO_SHORT),
        ("Ab1!", TOO_SHORT),
        ("Abcdefghij1", TOO_SHORT),  # 11
        ("azerty", TOO_SHORT),  # shortness is reported first
        ("x" * 121 + "Ab1!zzzz", TOO_LONG),  # 129
        ("Aa1!" * 1000, TOO_LONG),  # no truncation: a long paste is refused, not cut
        ("abcdefghijkl", KINDS),
        ("abcdefghijk1", KINDS),
        ("ABCDEFGHIJK!", KINDS),
        ("123456789012", KINDS),
        ("éèàçôûœéèàçôû", KINDS),
        ("Azertyuiop123!", COMMON),
        ("Password2024!!", COMMON),
        ("P@ssw0rd2024!", COMMON),
        ("2024Motdepasse2024", COMMON),
        ("!!Soleil1234!!", COMMON),
        ("ChorusPro2024!", COMMON),
        ("AzertyAzerty12!", COMMON),
        ("Qwerty123456", COMMON),
        ("Marie-Curie-42", CONTEXT),
        ("MonExemple2024!", CONTEXT),  # the domain label of the e-mail
        ("xx-CURIE-xx-99", CONTEXT),
    ],
)
def test_check_password_refuses(password, message):
    assert error_of(check_password, password, ("Marie", "Curie", "marie.curie@exemple.fr")) == message


def test_password_length_boundaries():
    at_max = "Ab1!" + "z" * (PASSWORD_MAX - 4)
    check_password(at_max)
    assert error_of(check_password, at_max + "z") == TOO_LONG
    at_min = "Ab1!" + "z" * (PASSWORD_MIN - 4)
    check_password(at_min)
    assert error_of(check_password, at_min[:-1]) == TOO_SHORT


@pytest.mark.parametrize(
    ("password", "common"),
    [
        ("password", True),
        ("PASSWORD", True),
        ("azertyuiop", True),
        ("Azertyuiop123!", True),
        ("Password2024!!", True),
        ("motdepasse", True),
        ("Marseille13", True),
        ("Liberté-1789", True),
        ("bonjour!!!", True),
        ("Tr0ub4dor&3-horse-Battery", False),
        ("Correct-Cheval-42", False),
        ("abc1234567!!", False),  # base "abc" is too short to count
        ("Xq7-plume-Orage", False),
    ],
)
def test_is_common_password(password, common):
    assert is_common_password(password) is common


@pytest.mark.parametrize(
    ("password", "context", "refused"),
    [
        ("Super-elodie-2024", ("Élodie", "Martin", "e.martin@exemple.fr"), True),
        ("Super-ÉLODIE-2024", ("Elodie", "Martin", ""), True),
        ("Super-Élodie-2024", ("élodie",), True),
        ("Bravo-martin-2024", ("Élodie", "Martin"), True),
        ("Pierre-et-Loup-42", ("Jean-Pierre", "Dupont"), True),
        ("Coucou-artagnan-42", ("Charles", "D'Artagnan"), True),
        ("Ciao-Dupont-1234", ("", "", "jp.dupont@exemple.fr"), True),
        ("Ciao-Jpdupont-12", ("", "", "jpdupont@acme.fr"), True),
        ("Ciao-Acme-Sarl-12", ("", "", "jean@acme.fr"), True),
        ("Ciao-Gmail-Sarl-12", ("", "", "jean@gmail.com"), False),  # a public provider says nothing
        ("Composer-Fr-2024!", ("", "", "jean@acme.com"), False),  # top-level domains are not words
        ("Lilas-Bleus-2024", ("Li", "Bo"), False),  # words under 3 characters are ignored
        ("Super-Durand-2024", ("Élodie", "Martin", "e.martin@exemple.fr"), False),
        ("Super-Durand-2024", (), False),
    ],
)
def test_context_words(password, context, refused):
    if refused:
        assert error_of(check_password, password, context) == CONTEXT
    else:
        check_password(password, context)


def test_password_context_words():
    words = password_context_words(["Jean-Pierre", "Le Gall", "JP.Le-Gall@Acme-Conseil.fr", None, ""])
    assert words == {"jean", "pierre", "gall", "jp.le-gall", "acme", "conseil"}


# --------------------------------------------------------------------------- WTForms classes


class PostData(dict):
    """The ``getlist`` interface WTForms reads form data through."""

    def getlist(self, key):
        value = self[key]
        return value if isinstance(value, list) else [value]


class SignupForm(Form):
    email = StringField(validators=[DataRequired(), Email()])
    email_confirm = StringField(
        validators=[
            DataRequired(),
            SameAs("email", "Les deux adresses e-mail ne sont pas identiques.", case_sensitive=False),
        ]
    )
    contact_email = StringField(validators=[Optional(), Email()])
    first_name = StringField(validators=[DataRequired(), PersonName()])
    phone = StringField(validators=[Optional(), Phone()])
    foreign_phone = StringField(validators=[Optional(), Phone(region="BE")])


SIGNUP = {
    "email": " Marie.Curie@Exemple.FR ",
    "email_confirm": "marie.curie@exemple.fr",
    "contact_email": "",
    "first_name": "  Marie   Anne ",
    "phone": "01 23 45 67 89",
    "foreign_phone": "0470 12 34 56",
}


def test_form_normalises_fields():
    form = SignupForm(PostData(SIGNUP))
    assert form.validate(), form.errors
    assert form.email.data == "marie.curie@exemple.fr"
    assert form.contact_email.data == ""
    assert form.first_name.data == "Marie Anne"
    assert form.phone.data == "+33123456789"
    assert form.foreign_phone.data == "+32470123456"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "marie.curie", "email_confirm": "marie.curie"}, "email", "Il manque le caractère @."),
        ({"email_confirm": "marie.curie@exemple.com"}, "email_confirm", "ne sont pas identiques"),
        ({"contact_email": "contact@"}, "contact_email", "Il manque le nom de domaine"),
        ({"first_name": "Marie2"}, "first_name", "« 2 »"),
        ({"phone": "01 23"}, "phone", PHONE_HINT),
        ({"foreign_phone": "+33 1 23"}, "foreign_phone", PHONE_HINT),
    ],
)
def test_form_errors(changes, field, message):
    form = SignupForm(PostData({**SIGNUP, **changes}))
    assert not form.validate()
    assert list(form.errors) == [field]
    assert message in form.errors[field][0]


def test_form_optional_fields_may_be_empty():
    form = SignupForm(PostData({**SIGNUP, "phone": "", "foreign_phone": "  "}))
    assert form.validate(), form.errors
    assert not form.phone.data


class PasswordForm(Form):
    password = PasswordField(validators=[DataRequired(), PasswordRule(lambda: ("Élodie", "Martin"))])
    password_confirm = PasswordField(
        validators=[DataRequired(), SameAs("password", "Les deux mots de passe ne sont pas identiques.")]
    )


class BarePasswordForm(Form):
    password = PasswordField(validators=[PasswordRule()])


@pytest.mark.parametrize(
    ("password", "confirm", "errors"),
    [
        ("Correct-Cheval-42", "Correct-Cheval-42", {}),
        (PASSPHRASE, PASSPHRASE, {}),
        ("Correct-Cheval-42", "correct-cheval-42", {"password_confirm": "pas identiques"}),
        ("Correct-Cheval-42", "Correct-Cheval-42 ", {"password_confirm": "pas identiques"}),
        ("Bonjour-Elodie-42", "Bonjour-Elodie-42", {"password": CONTEXT}),
        ("Azertyuiop123!", "Azertyuiop123!", {"password": COMMON}),
        ("court", "court", {"password": TOO_SHORT}),
    ],
)
def test_password_form(password, confirm, errors):
    form = PasswordForm(PostData({"password": password, "password_confirm": confirm}))
    assert form.validate() is (not errors)
    assert list(form.errors) == list(errors)
    for field, message in errors.items():
        assert message in form.errors[field][0]
    if not errors:
        assert form.password.data == password  # never stripped nor truncated


def test_password_rule_without_context():
    form = BarePasswordForm(PostData({"password": ""}))
    assert not form.validate()
    assert form.errors == {"password": [TOO_SHORT]}
    assert BarePasswordForm(PostData({"password": "Elodie-Martin-42"})).validate()


def test_same_as_unknown_field():
    class Broken(Form):
        value = StringField(validators=[SameAs("missing")])

    form = Broken(PostData({"value": "x"}))
    assert not form.validate()
    assert "Champ inconnu" in form.errors["value"][0]


def test_addresses_are_ascii_before_the_at_and_punycode_after():
    from rules.email import EMAIL_ACCENTS

    with pytest.raises(ValidationError, match="accentués"):
        normalize_email("Jösé@Exemple.fr")
    assert str(EMAIL_ACCENTS).startswith("Les caractères accentués")
    assert normalize_email("Jose@Exämple.fr") == "jose@xn--exmple-cua.fr"
