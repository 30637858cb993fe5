"""The account holder's rights (RGPD): everything the portal holds about a
person, as data to download, and the deletion of their account.

Deleting an account erases its personal data: the account row goes (its
links, memberships, requests and consent history with it), its mail leaves
the outbox (written for it, to whichever address; of the mail written for
another account, what is about it: a notice of its request, a hand-over
naming it — ``OutboxMail.about_id``), and
the audit events about it stay only under a pseudonym (``purge`` removes
them once AUDIT_RETENTION_DAYS have passed). A structure left without
members stays, for its identifier's uniqueness, without its contact details
(nor, for a « Particulier », its name and whole address)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l

import audit
import database
import drafts
import i18n
import structures
from audit import Event, Outcome
from models import (
    AuditEvent,
    ConsentChange,
    Draft,
    Membership,
    OutboxMail,
    RecoveryCode,
    SecondFactor,
    Structure,
    User,
    UserSession,
)
from passwords import verify_password
from rules.identifiers import PARTICULIER

ERASED = "(supprimé)"  # stored in place of an erased detail; pages show ERASED_SHOWN
ERASED_SHOWN = _l("(supprimé)")


def _time(value) -> str | None:
    return value.isoformat() + "Z" if value else None


# The rows of each growing list (the consent's history, the mails, the
# journal) that « Mes données » shows: the latest, and how many there are in
# all; the file has every one. Some grow with what anybody does (a failed
# sign-in with the address is an event of the account): read whole, they
# made the page's cost grow with them.
SHOWN_ON_THE_PAGE = 100


@dataclass
class Holdings:
    """The rows the portal holds about an account, each table read once: the
    page and the file are both made from them."""

    memberships: list[Membership]  # with their structures, oldest request first
    factors: list[SecondFactor]  # an enrolment not finished included
    codes_left: int
    drafts: list[Draft]
    consent_changes: list[ConsentChange]
    events: list[AuditEvent]
    sessions: list[UserSession]  # signed in, not signed out yet
    mails: list[OutboxMail]  # written for the account, oldest first
    # With ``latest``: how many of each growing list there are in all, for those cut.
    totals: dict[str, int] = field(default_factory=dict)


def _oldest_first(query, order: tuple, latest: int | None) -> tuple[list, int | None]:
    """The rows of ``query`` oldest first (``order``): all, or the ``latest``
    only; and how many there are in all when there are more than those."""
    if latest is None:
        return list(query.order_by(*order)), None
    rows = list(query.order_by(*(column.desc() for column in order)).limit(latest))
    return rows[::-1], query.count() if len(rows) == latest else None


def holdings(user: User, latest: int | None = None) -> Holdings:
    """Every row held about ``user``; with ``latest``, that many at most of
    the consent's history, the mails and the journal (the latest)."""
    consent_changes, consent_total = _oldest_first(
        ConsentChange.select().where(ConsentChange.user == user.id),
        (ConsentChange.at, ConsentChange.id),
        latest,
    )
    events, events_total = _oldest_first(_events_query(user), (AuditEvent.at, AuditEvent.id), latest)
    mails, mails_total = _oldest_first(
        OutboxMail.select(
            OutboxMail.recipient,
            OutboxMail.subject,
            OutboxMail.language,  # the subject's
            OutboxMail.created_at,
            OutboxMail.sent_at,
            OutboxMail.given_up_at,
        ).where(OutboxMail.account_id == user.id),
        (OutboxMail.created_at, OutboxMail.id),
        latest,
    )
    totals = {"consent_changes": consent_total, "events": events_total, "mails": mails_total}
    return Holdings(
        memberships=list(
            Membership.select(Membership, Structure)
            .join(Structure, on=(Membership.structure == Structure.id))
            .where(Membership.user == user.id)
            .order_by(Membership.requested_at, Membership.id)
        ),
        factors=SecondFactor.all_of(user),
        codes_left=RecoveryCode.left(user),
        drafts=drafts_of(user),
        consent_changes=consent_changes,
        events=events,
        sessions=list(
            UserSession.select()
            .where(UserSession.user == user.id)
            .order_by(UserSession.created_at, UserSession.id)
        ),
        mails=mails,
        totals={name: total for name, total in totals.items() if total is not None},
    )


def export(user: User, held: Holdings | None = None) -> dict:
    """Everything the portal holds about ``user``, as JSON-ready data (from
    ``held``, read now if not given)."""
    if held is None:
        held = holdings(user)
    return {
        "portail": current_app.config["PORTAL_NAME"],
        "compte": {
            "adresse_email_connexion": user.email,
            "prenom": user.first_name,
            "nom": user.last_name,
            "telephone": user.phone,
            "adresse_email_contact": user.contact_email,
            "adresse_email_contact_confirmee_le": _time(user.contact_email_confirmed_at),
            "etat": user.status,
            "cree_le": _time(user.created_at),
            "active_le": _time(user.activated_at),
            "derniere_connexion_le": _time(user.last_signed_in_at),
            "operateur": user.is_operator,
            "langue": user.language,
        },
        # Names, dates and uses; never a secret (the authenticator's key, a
        # passkey's public key, recovery codes, which are stored hashed).
        "verification_en_deux_etapes": {
            "methodes": [
                {
                    "type": factor.kind,
                    "nom": factor.name,
                    "ajoutee_le": _time(factor.created_at),
                    "confirmee_le": _time(factor.confirmed_at),
                    "derniere_utilisation": _time(factor.last_used_at),
                }
                for factor in held.factors
            ],
            "codes_de_secours_restants": held.codes_left,
        },
        # What was typed in a step not completed yet (step 6, « Mon compte »).
        "brouillons": [
            {
                "enregistre_le": _time(draft.saved_at),
                "expire_le": _time(draft.expires_at),
                "contenu": drafts.held_typed(draft),
            }
            for draft in held.drafts
        ],
        "consentements": {
            "conditions_acceptees_le": _time(user.terms_accepted_at),
            "enquete_de_satisfaction": user.survey_consent,
            "historique_enquete": [
                {"consentement": change.consent, "le": _time(change.at)} for change in held.consent_changes
            ],
        },
        "structures_et_demandes": [
            {
                "structure": m.structure.company_name,
                "type_identifiant": m.structure.identifier_type,
                "identifiant": m.structure.identifier,
                "role": m.role,
                "statut": m.status,
                "demande_le": _time(m.requested_at),
                "decide_le": _time(m.decided_at),
                **_own_structure(m),
            }
            for m in held.memberships
        ],
        # When each was opened; never the key the cookie holds.
        "sessions_ouvertes": [{"ouverte_le": _time(one.created_at)} for one in held.sessions],
        # To whom, what, when; not the bodies: their links (a new password,
        # a sign-in code) are keys, and the file outlives them.
        "courriels": [
            {
                "destinataire": mail.recipient,
                "objet": mail.subject,
                "ecrit_le": _time(mail.created_at),
                "envoye_le": _time(mail.sent_at),
                # Not delivered, and no longer tried: its address refused, or too long undelivered.
                "abandonne_le": _time(mail.given_up_at),
            }
            for mail in held.mails
        ],
        "evenements": [
            {
                "le": _time(event.at),
                "evenement": event.event,
                "resultat": event.outcome,
                "adresse_ip": address_of(user, event),
                "details": _own_details(user, event.details),
            }
            for event in held.events
        ],
    }


def holds_own_details(membership: Membership) -> bool:
    """A « Particulier » is its holder: its details (name, address, e-mail,
    phone) are their personal data, given to its members. A company's are
    not. The file and the page (« Mes données ») both follow this."""
    return membership.structure.identifier_type == PARTICULIER and membership.status == Membership.ACTIVE


def _own_structure(membership: Membership) -> dict:
    if not holds_own_details(membership):
        return {}
    return {"coordonnees": {name: getattr(membership.structure, name) for name in Structure.DETAILS}}


def drafts_of(user: User) -> list[Draft]:
    """The account's drafts (step 6, « Mon compte »), oldest first."""
    return list(Draft.select().where(Draft.user == user.id).order_by(Draft.saved_at))


# Audit details naming another account (a requester, a successor, an
# operator's target): that person's address is not the holder's data. The
# file is read by its holder: this stand-in is in their language (the keys
# stay as they are, for programs).
ANOTHER_ACCOUNT = _l("un autre compte")


def _own_details(user: User, details: str | None) -> dict:
    loaded = json.loads(details) if details else {}
    own = {user.email, user.contact_email}
    another = str(ANOTHER_ACCOUNT)
    return {
        key: another if key in audit.ABOUT_KEYS and value not in own else value
        for key, value in loaded.items()
    }


def _events_query(user: User):
    """The audit events of the account, and those another account recorded
    about it (an operator closing it, a manager deciding its request)."""
    return AuditEvent.select().where((AuditEvent.user == user.id) | (AuditEvent.about_account == user.email))


# Events anybody may cause for an account by typing its address: a sign-in
# that fails, a reset or a new activation link asked for, a sign-up with it.
# Their client's address is whoever typed it, not the holder's.
BY_ANYBODY = frozenset({Event.SIGNUP_EXISTING, Event.ACTIVATION_RESENT, Event.RESET_REQUESTED})


def address_of(user: User, event: AuditEvent) -> str | None:
    """The client's address of an event the account made; none of an event
    another account made about it, nor of one anybody may have caused by
    typing its address (that address may be another person's)."""
    if event.user_id != user.id or event.event in BY_ANYBODY:
        return None
    if event.event == Event.SIGN_IN and event.outcome != Outcome.SUCCESS:
        return None
    return event.client_address


@database.transaction
def record_export(user: User) -> None:
    audit.record(Event.DATA_EXPORTED, user)


# -- deletion ---------------------------------------------------------------------------------------


def handover_needed(user: User) -> list[Structure]:
    """Structures whose only gestionnaire principal is ``user`` and that have
    other active members (of open accounts: a closed one cannot take the
    role): the role must be handed over before deleting. Not a structure that
    is not active: its role cannot be handed over (operators designate one),
    and it would hold the account back for good."""
    managed = Membership.managed_structures(user)
    return [
        structure
        for structure in managed
        if structure.is_open
        and Membership.select()
        .where(
            (Membership.structure == structure.id)
            & (Membership.status == Membership.ACTIVE)
            & (Membership.user != user.id)
            & Membership.of_open_account()
        )
        .exists()
    ]


@dataclass
class Refusal:
    reason: str  # "password", "handover" or "last_operator"
    structures: list[Structure]


# Stored in French, the trail's language; shown in the page's (``shown_pseudonym``).
PSEUDONYM_PREFIX = "supprimé-"


def shown_pseudonym(name: str | None) -> str | None:
    """A deleted account's pseudonym in the page's language (« deleted-… »
    in English); None for any other name."""
    if not name or not name.startswith(PSEUDONYM_PREFIX):
        return None
    return gettext("supprimé-%(mark)s", mark=name.removeprefix(PSEUDONYM_PREFIX))


def stored_pseudonym(typed: str) -> str:
    """A pseudonym as a page in any of the portal's languages shows it (pasted
    into the journal's filter), as the trail stores it; any other text as
    it is."""
    for language in i18n.LANGUAGES:
        with force_locale(language):
            shown = gettext("supprimé-%(mark)s", mark="")
        if typed.startswith(shown):
            return PSEUDONYM_PREFIX + typed.removeprefix(shown)
    return typed


def pseudonym(email: str) -> str:
    """What the audit trail keeps of a deleted account: not the address,
    but a stable name for the events that were about the same account."""
    digest = hashlib.sha256(f"{current_app.config['SECRET_KEY']}:{email}".encode()).hexdigest()
    return f"{PSEUDONYM_PREFIX}{digest[:16]}"


def delete_account(user: User, password: str) -> Refusal | None:
    """Delete the account if ``password`` is its password, no structure
    needs its gestionnaire principal and the portal keeps another operator
    with an open account (if it is one); else the refusal, nothing changed."""
    ok, _ = verify_password(user.password_hash, password)
    for attempt in database.attempts():
        with attempt:
            if not ok:
                audit.record(Event.ACCOUNT_DELETED, user, Outcome.FAILURE, reason="password")
                return Refusal("password", [])
            Membership.hold_of(user)  # a hand-over to it under way is read once done
            blocking = handover_needed(user)
            if blocking:
                audit.record(Event.ACCOUNT_DELETED, user, Outcome.FAILURE, reason="handover")
                return Refusal("handover", blocking)
            if user.is_last_operator():
                audit.record(Event.ACCOUNT_DELETED, user, Outcome.FAILURE, reason="last_operator")
                return Refusal("last_operator", [])
            erase(user)
    return None


def erase(user: User) -> None:
    """Delete the account and its personal data; its audit events stay under
    a pseudonym. Call inside a transaction, once the refusals are checked."""
    name = pseudonym(user.email)
    left_alone = [structure for structure in Membership.managed_structures(user)]
    forget([user])
    User.delete().where(User.id == user.id).execute()  # its memberships with it
    for structure in left_alone:
        # Without active members (a closed account's counts; a request, waiting
        # or ended, does not), a structure keeps its identifier only; with
        # any, its details are theirs. A « Particulier »'s are the person's own
        # (their name, their home): they go with them, whoever remains.
        members = Membership.select().where(
            (Membership.structure == structure.id) & (Membership.status == Membership.ACTIVE)
        )
        if structure.identifier_type == PARTICULIER or not members.exists():
            _strip(structure)
        structures.left_without_manager(structure)
    AuditEvent.create(account=name, event=Event.ACCOUNT_DELETED, outcome=Outcome.SUCCESS)


# Accounts whose mail ``forget`` deletes in one statement (and the purge, the
# accounts themselves): a purge may have thousands, and one statement's values
# are bounded (SQLite: 999 before 3.32; each account here takes up to four:
# its id as reader and as subject, its two addresses).
FORGET_BATCH = 240


def forget(users: list[User]) -> None:
    """What accounts leave in other tables, before their rows go (deleted by
    the holder or an operator, or purged, never activated): their audit events
    under a pseudonym, without the client's address; the mail written for
    them, deleted. Each table is read once for them all, not once for each:
    call inside the transaction that deletes the accounts."""
    names = {user.email: pseudonym(user.email) for user in users}
    # The events about each account (both columns indexed): under its
    # pseudonym, without the client's address.
    for user in users:
        AuditEvent.update(account=names[user.email], client_address=None, user=None).where(
            (AuditEvent.user == user.id) | (AuditEvent.account == user.email)
        ).execute()
    _rename_in_details(names)
    # Their mail: written for them (to any address they used); mail from before
    # the outbox named its reader (no account id), by its addresses. Mail
    # written for another account stays, whatever address it went to, unless
    # it is about one of them (``about_id``: a request to decide, or cancelled,
    # a hand-over naming them): not delivered yet, it would bring the person
    # back after the erasure, about a request or a role gone with the account;
    # delivered, the outbox has no more use for it. By the link, never by what
    # the body says (a name is no one's for sure; step 17 linked the mail
    # written before the link existed).
    for start in range(0, len(users), FORGET_BATCH):
        batch = users[start : start + FORGET_BATCH]
        ids = [user.id for user in batch]
        addresses = list(dict.fromkeys(a for user in batch for a in (user.email, user.contact_email)))
        OutboxMail.delete().where(
            OutboxMail.account_id.in_(ids)
            | OutboxMail.about_id.in_(ids)
            | (OutboxMail.account_id.is_null() & OutboxMail.recipient.in_(addresses))
        ).execute()


def _rename_in_details(names: dict[str, str]) -> None:
    """Other accounts' events naming these (a request decided, a role handed
    over, an operator's action) name them by login address, in their details
    and ``about_account``: the pseudonym in its place, found by that
    column's index. Only the login: the contact address is typed, not
    proven, and may be another account's login, whose events are not these
    ones'."""
    addresses = list(names)
    for start in range(0, len(addresses), FORGET_BATCH):
        batch = addresses[start : start + FORGET_BATCH]
        events = AuditEvent.select(AuditEvent.id, AuditEvent.details, AuditEvent.about_account).where(
            AuditEvent.about_account.in_(batch)
        )
        for event in list(events):  # read whole before the column it is read by changes
            details = json.loads(event.details) if event.details else {}
            renamed = {
                key: names.get(value, value) if isinstance(value, str) else value
                for key, value in details.items()
            }
            AuditEvent.update(
                about_account=names[event.about_account],
                details=json.dumps(renamed, ensure_ascii=False, sort_keys=True),
            ).where(AuditEvent.id == event.id).execute()


def _strip(structure: Structure) -> None:
    """A structure whose last member leaves keeps its identifier only."""
    erased = {"email": None, "phone": None}
    if structure.identifier_type == PARTICULIER:
        erased |= {
            "company_name": ERASED,
            "label": None,
            "address": ERASED,
            "address_2": None,
            "address_3": None,
            "city": ERASED,
            "postal_code": ERASED,
        }
    structure.update_details(**erased)
