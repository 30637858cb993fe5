"""E-mail addresses: the login key, so entirely lower-cased."""

from __future__ import annotations

import unicodedata

import idna
from email_validator import EmailNotValidError, validate_email

from rules import RuleError
from rules.i18n import LazyText, _
from rules.messages import then

EMAIL_MAX = 254
EMAIL_MESSAGE = _("Saisissez une adresse e-mail valide, par exemple nom@exemple.fr.")
EMAIL_ACCENTS = _(
    "Les caractères accentués ou spéciaux ne sont pas acceptés avant le @. "
    "Saisissez une adresse e-mail valide, par exemple nom@exemple.fr."
)
EMAIL_TOO_LONG = _("L'adresse e-mail doit contenir au plus %(max)s caractères.", max=EMAIL_MAX)


def _email_reason(text: str) -> LazyText | None:
    """A short reason for the obvious mistakes, else None."""
    if any(ch.isspace() for ch in text):
        return _("L'adresse ne doit pas contenir d'espace.")
    count = text.count("@")
    if count == 0:
        return _("Il manque le caractère @.")
    if count > 1:
        return _("L'adresse ne doit contenir qu'un seul caractère @.")
    local, domain = text.split("@")
    if not local:
        return _("Il manque la partie située avant le @.")
    if not domain:
        return _("Il manque le nom de domaine après le @.")
    if "." not in domain:
        return _("Le nom de domaine après le @ doit contenir un point, par exemple exemple.fr.")
    return None


def normalize_email(value: str) -> str:
    """The normalised address, entirely lower-cased (it is the login key).
    Compatibility forms are folded first (NFKC): full-width letters typed
    with an Asian keyboard are the ASCII ones, « ＠ » is « @ »."""
    text = unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else ""
    if not text:
        raise RuleError(EMAIL_MESSAGE)
    if len(text) > EMAIL_MAX:
        raise RuleError(EMAIL_TOO_LONG)
    reason = _email_reason(text)
    if reason is not None:  # a lazy text: its truth would translate it
        raise RuleError(then(reason, EMAIL_MESSAGE))
    try:
        # Mail servers and Flask-Mail speak ASCII before the @ (no SMTPUTF8);
        # an internationalised domain is kept in its ASCII (punycode) form.
        info = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        if "before the @-sign" in str(error) and "Internationalized" in str(error):
            raise RuleError(EMAIL_ACCENTS) from None
        raise RuleError(EMAIL_MESSAGE) from None
    normalized = (info.ascii_email or info.normalized).lower()
    if len(normalized) > EMAIL_MAX:
        raise RuleError(EMAIL_TOO_LONG)
    return normalized


def lookup_email(value: str | None) -> str:
    """What an address typed anywhere is looked up by (an account, a rate
    limit, the audit trail): the normalised address, or for text that is no
    valid address, the text stripped and lower-cased. Never raises."""
    if not isinstance(value, str):
        return ""
    try:
        return normalize_email(value)
    except RuleError:
        return value.strip().lower()


def searched_email(text: str) -> str:
    """Text typed to find an address (« exemple-été.fr », as ``shown_email``
    shows it), its internationalised labels in the stored ASCII form
    (« xn--exemple-t-i4ab.fr »); a label that has none stays as typed."""
    if text.isascii():
        return text
    local, at, domain = text.rpartition("@")
    return f"{local}{at}{'.'.join(_ascii_label(label) for label in domain.split('.'))}"


def _ascii_label(label: str) -> str:
    if label.isascii():
        return label
    try:
        return idna.encode(label, uts46=True).decode()
    except (idna.IDNAError, UnicodeError, ValueError):
        return label


# Scripts a label may mix: Japanese and Korean write with several; any
# other mix (Latin with Cyrillic or Greek: « exаmple » with a Cyrillic а)
# is how a domain passes for another, and is shown in its ASCII form.
_SCRIPT_MIXES = (
    frozenset({"LATIN", "CJK", "HIRAGANA", "KATAKANA", "KATAKANA-HIRAGANA"}),
    frozenset({"LATIN", "CJK", "HANGUL"}),
    frozenset({"LATIN", "CJK", "BOPOMOFO"}),
)


def _scripts(label: str) -> set[str]:
    """The scripts of a label's letters, by the first word of their Unicode name."""
    return {unicodedata.name(ch, "UNKNOWN").split()[0] for ch in label if ch.isalpha()}


# Letters of Cyrillic and Greek that read as Latin ones: a label written in
# them only (« аррӏе », all Cyrillic) passes for a Latin name under a Latin
# TLD, and is shown in its ASCII form, as browsers do (a Cyrillic TLD, « .рф »,
# makes Cyrillic the expected script).
_LATIN_LOOK_ALIKES = {
    "CYRILLIC": frozenset("аԁеһіјӏорԛѕԝхусүпгѵѡъьшк"),
    "GREEK": frozenset("αικνορτυχϲε"),
}


def _readable(label: str) -> bool:
    scripts = _scripts(label)
    return len(scripts) <= 1 or any(scripts <= mix for mix in _SCRIPT_MIXES)


def _passes_for_latin(label: str, tld_scripts: set[str]) -> bool:
    """A label in one script, all its letters Latin look-alikes, under a TLD of another script."""
    scripts = _scripts(label)
    if len(scripts) != 1 or scripts <= tld_scripts:
        return False
    look_alikes = _LATIN_LOOK_ALIKES.get(next(iter(scripts)))
    letters = [ch for ch in label if ch.isalpha()]
    return look_alikes is not None and all(ch in look_alikes for ch in letters)


def shown_email(address: str | None) -> str:
    """An address as people read it: an internationalised domain, stored and
    sent in its ASCII form (« contact@xn--exemple-t-i4ab.fr »), in Unicode
    (« contact@exemple-été.fr »). A label that mixes scripts, or that is
    written only in look-alikes of Latin letters, stays in ASCII, as browsers
    show such a domain; so does anything that is no valid
    address. Never raises."""
    if not isinstance(address, str) or "xn--" not in address.lower():
        return address or ""
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    try:
        unicode_domain = idna.decode(domain)
    except (idna.IDNAError, UnicodeError, ValueError):
        return address
    labels = unicode_domain.split(".")
    tld_scripts = _scripts(labels[-1])
    if not all(_readable(label) and not _passes_for_latin(label, tld_scripts) for label in labels):
        return address
    return f"{local}@{unicode_domain}"
