"""The operators' use cases (« Administration » and ``flask operator``).

Each runs its changes, the mail they cause and its audit event in one
transaction. An operator acts through the same model methods as users do;
every event names the operator's account and, in its details, the account
(``target``) or the structure acted upon."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l

import accounts
import audit
import database
import mailer
import rights
import structures
from audit import Event, Outcome
from folding import fold
from models import AuditEvent, Membership, OutboxMail, Structure, User, utcnow
from rules.email import lookup_email, searched_email

SEARCH_LIMIT = 50


class NotEligible(Exception):
    """The account cannot hold the operator role (it is not active)."""


class NoLongerOperator(Exception):
    """The operator's role was taken, or their account closed or deleted,
    between the console's gate and the action's transaction: nothing was
    done, and the console answers as it does to anyone who is not an
    operator."""


def _acting(operator: User) -> None:
    """First in each console action's transaction: the operator is still one
    (their row held until it ends, see User.holds_operator_role)."""
    if not operator.holds_operator_role():
        raise NoLongerOperator(operator.id)


class LastOperator(Exception):
    """The account is the only operator with an open account: the portal
    would be left without one (grant the role to another account first)."""


# -- the role, from the command line ----------------------------------------------------------


def grant(email: str) -> bool:
    """Make an active account an operator; True if it was not one. None if
    no account has that address; NotEligible if it is not active."""
    return _set_role(email, True)


def revoke(email: str) -> bool:
    """Take the role from an account; True if it had it. LastOperator,
    nothing changed, if it is the only operator with an open account."""
    return _set_role(email, False)


@database.transaction
def _set_role(email: str, operator: bool) -> bool:
    user = User.by_email(email)
    if user is None:
        raise LookupError(email)
    if operator and user.status != User.ACTIVE:
        raise NotEligible(email)
    if not operator and user.is_last_operator():
        raise LastOperator(email)
    changed = user.set_operator(operator)
    if changed:
        audit.record(Event.OPERATOR_GRANTED if operator else Event.OPERATOR_REVOKED, user)
    return changed


def operators() -> list[User]:
    return list(User.select().where(User.is_operator).order_by(User.email))


# -- searching ---------------------------------------------------------------------------------


def search_accounts(text: str, limit: int = SEARCH_LIMIT) -> list[User]:
    """Accounts whose e-mail, contact e-mail (an internationalised domain
    typed as shown, in Unicode) or name (« Prénom Nom » or « Nom Prénom »)
    contains ``text``, or that belong to a structure whose name or
    identifier contains it; the first ``limit`` of them."""
    text = " ".join(text.split())
    if not text:
        return []
    in_structures = (
        Membership.select(Membership.user)
        .join(Structure, on=(Membership.structure == Structure.id))
        .where(
            _contains_folded(Structure.folded_name, text)
            | Structure.identifier.contains(text.replace(" ", ""))
        )
    )
    address = searched_email(text)  # addresses are stored in ASCII, shown in Unicode
    return list(
        User.select()
        .where(
            User.email.contains(address)
            | User.contact_email.contains(address)
            | _contains_folded(User.folded_name, text)
            | User.id.in_(in_structures)
        )
        .order_by(User.last_name, User.first_name, User.id)
        .limit(limit)
    )


def _contains_folded(column, text: str):
    """A folded column (``models.BaseModel.FOLDED``: a name in both orders,
    or texts, a line each) contains ``text`` whatever its case and its
    accents: « eric », « ÉRIC » and « éric » find « Éric », « soeur » finds
    « Sœur » (``folding``); the text searched holds no line break, so it is
    found within one of the lines, never astride two. The column is read as
    stored: no function runs on each row. Letters of other scripts keep
    their case in the folding, and the databases' LIKE ignores the case of
    ASCII letters only (SQLite always, PostgreSQL in the C locale), so the
    text is also looked for in lower and upper case and with capitalised
    words. A string, never an expression: Peewee escapes its % _ and \\."""
    variants = dict.fromkeys(fold(variant) for variant in (text, text.lower(), text.upper(), text.title()))
    found = None
    for variant in variants:  # one, for a text in Latin script
        found = column.contains(variant) if found is None else found | column.contains(variant)
    return found


def search_structures(text: str, limit: int = SEARCH_LIMIT) -> list[Structure]:
    """Structures whose identifier, raison sociale, libellé or city contains
    ``text``; the first ``limit`` of them."""
    text = " ".join(text.split())
    if not text:
        return []
    return list(
        Structure.select()
        .where(
            Structure.identifier.contains(text.replace(" ", ""))
            | _contains_folded(Structure.folded_name, text)
            | _contains_folded(Structure.folded_place, text)
        )
        .order_by(Structure.company_name, Structure.id)
        .limit(limit)
    )


def events_about(user: User, limit: int = 20) -> list[AuditEvent]:
    """The account's recent events, and other accounts' about it (``_about``), newest first."""
    return list(
        AuditEvent.select()
        .where((AuditEvent.user == user.id) | _about(user.email))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )


def _about(email: str):
    """Other accounts' events about that account: an operator's action upon
    it, a request of its decided, a role handed over to it (indexed)."""
    return AuditEvent.about_account == email


# -- accounts ------------------------------------------------------------------------------------


class LinkJustSent(Exception):
    """An activation link went out less than RESEND_COOLDOWN_SECONDS ago (a
    double submit, the holder's own « Renvoyer le courriel »): a new one
    would revoke it while the holder may be opening it."""


@database.transaction
def resend_activation(operator: User, user: User) -> bool:
    """A new activation link for a pending account; False otherwise, or
    when ``operator`` was closed or deleted meanwhile, as for closing and
    reopening; LinkJustSent, nothing sent, if one went out moments ago."""
    if user.status != User.PENDING or not operator.acts_as_operator():
        return False
    user.lock()
    # Read again once locked: activated (or closed) meanwhile, it waits for no link.
    if User.select(User.status).where(User.id == user.id).scalar() != User.PENDING:
        return False
    if accounts.link_just_sent(user):
        raise LinkJustSent(user.email)
    accounts.send_activation(user)
    audit.record(Event.ADMIN_ACTIVATION_RESENT, operator, target=user.email)
    return True


@database.transaction
def disable(operator: User, user: User) -> bool:
    """Close the account: it cannot sign in, its sessions end, it is told by
    mail. The requests waiting for it as gestionnaire principal go to the
    operators (Structure.manager ignores a closed account). False, nothing
    changed, when ``operator`` was closed or deleted meanwhile (two operators
    closing each other at once: one stays)."""
    if user.id == operator.id or not operator.acts_as_operator() or not user.disable():
        return False
    audit.record(Event.ADMIN_ACCOUNT_DISABLED, operator, target=user.email)
    _tell(user, _l("Votre compte est désactivé"), "account_disabled")
    for structure in Membership.managed_structures(user):
        structures.left_without_manager(structure)
    return True


@database.transaction
def enable(operator: User, user: User) -> bool:
    """Reopen a closed account; it is told by mail. False, nothing changed,
    when it was not closed, or when ``operator`` was closed or deleted
    meanwhile (a request sent by an operator just closed, as their own
    account may be when stolen, reopens nothing)."""
    if not operator.acts_as_operator() or not user.enable():
        return False
    audit.record(Event.ADMIN_ACCOUNT_ENABLED, operator, target=user.email)
    _tell(user, _l("Votre compte est réactivé"), "account_enabled")
    return True


@database.transaction
def revoke_sessions(operator: User, user: User) -> None:
    _acting(operator)
    user.sign_out_everywhere()
    audit.record(Event.ADMIN_SESSIONS_REVOKED, operator, target=user.email)


@database.transaction
def delete_account(operator: User, user: User) -> bool:
    """Erase an account for its holder who asked the support (RGPD), as
    « Supprimer mon compte » does but without the password. Refused for the
    operator's own account, and while a structure needs the account's
    gestionnaire principal role handed over (designate another one first).
    False too when the account is gone by the time the transaction starts
    (another operator's deletion, a double submit): nothing is erased or
    recorded twice, and an id the database gave again is not taken for it;
    and when ``operator`` was closed or deleted meanwhile (one stays)."""
    if user.id == operator.id or not operator.acts_as_operator():
        return False
    Membership.hold_of(user)  # a hand-over to it under way is read once done
    if rights.handover_needed(user):
        return False
    if not User.select().where((User.id == user.id) & (User.email == user.email)).exists():
        return False
    name = rights.pseudonym(user.email)
    rights.erase(user)
    audit.record(Event.ADMIN_ACCOUNT_DELETED, operator, target=name)
    return True


def _tell(user: User, subject: str, template: str) -> None:
    for recipient in dict.fromkeys((user.email, user.notification_email)):
        mailer.queue(
            recipient, subject, template, reader=user, user=user, login_url=mailer.external_url("auth.login")
        )


# -- structures ----------------------------------------------------------------------------------


class OwnRequest(Exception):
    """An operator may not decide their own request to a structure, nor make
    themselves its gestionnaire principal: another operator does, or one
    operator alone could take over a company's structure."""


class AlreadyManager(Exception):
    """The member chosen is the structure's gestionnaire principal already (a
    second submit, another operator's designation meanwhile): nothing to do."""

    def __init__(self, membership: Membership):
        super().__init__(membership.id)
        self.membership = membership


@database.transaction
def designate_manager(operator: User, structure: Structure, membership_id: int) -> Membership | None:
    """An active member becomes gestionnaire principal (the manager left
    without handing over); the member is told by mail, and so is the former
    gestionnaire principal, who stays utilisateur (if their account is
    open: one closed reads no mail of the portal's). None, nothing changed,
    unless the membership is an active one of this structure;
    AlreadyManager, nothing recorded nor mailed again, if it holds the role."""
    _acting(operator)
    chosen = Membership.get_or_none((Membership.id == membership_id) & (Membership.structure == structure.id))
    if chosen is not None and chosen.user_id == operator.id:
        raise OwnRequest
    former = structure.manager()
    membership = structure.designate_manager(membership_id)
    if membership is None:
        return None
    if former is not None and membership.user_id == former.id:
        raise AlreadyManager(membership)
    successor = User.get_by_id(membership.user_id)
    audit.record(Event.ADMIN_MANAGER_DESIGNATED, operator, structure=structure.id, target=successor.email)
    structures.tell_new_manager(successor, structure, former=None)
    if former is not None:
        _tell_former_manager(former, successor, structure)
    return membership


def _tell_former_manager(former: User, successor: User, structure: Structure) -> None:
    """An operator gave the role to someone else: the former gestionnaire
    principal learns it, and that they stay utilisateur (in their language)."""
    mailer.queue(
        former.notification_email,
        _l("Vous n'êtes plus gestionnaire principal de votre structure"),
        "manager_role_withdrawn",
        reader=former,
        about=successor,
        user=former,
        successor=successor,
        structure=structure,
        url=mailer.external_url("structure.detail", structure_id=structure.id),
    )


def update_structure(operator: User, structure: Structure, details: dict) -> list[str]:
    """Correct a structure's data; returns the names of the fields changed.
    structures.ChangedMeanwhile, nothing stored, if the details are no
    longer those the edit was checked against."""
    changed = [
        name for name in Structure.DETAILS if name in details and getattr(structure, name) != details[name]
    ]
    if not changed:
        return []
    for attempt in database.attempts(keep=(structure,)):
        with attempt:
            _acting(operator)
            if not structure.update_details(as_read=True, **details):
                raise structures.ChangedMeanwhile
            audit.record(Event.ADMIN_STRUCTURE_UPDATED, operator, structure=structure.id, fields=changed)
    return changed


@database.transaction
def disable_structure(operator: User, structure: Structure) -> bool:
    """Its gestionnaire principal is told: requests and changes stop. The
    requests waiting for a decision are closed, each requester told."""
    _acting(operator)
    done = structure.set_status(Structure.DISABLED, only_from=(Structure.ACTIVE, Structure.PENDING))
    if done:
        audit.record(Event.ADMIN_STRUCTURE_DISABLED, operator, structure=structure.id)
        closed = structures.close_requests(structure, operator, structures.DISABLED)
        _tell_structure(
            structure, _l("Votre structure est désactivée"), "structure_disabled", closed_requests=closed
        )
    return done


@database.transaction
def enable_structure(operator: User, structure: Structure) -> bool:
    """Its gestionnaire principal (or its creator) is told: above all one
    told before that the structure was refused."""
    _acting(operator)
    done = structure.set_status(Structure.ACTIVE, only_from=(Structure.DISABLED,))
    if done:
        audit.record(Event.ADMIN_STRUCTURE_ENABLED, operator, structure=structure.id)
        _tell_structure(structure, _l("Votre structure est active"), "structure_enabled")
    return done


def _tell_structure(structure: Structure, subject, template: str, **context) -> None:
    """Mail its gestionnaire principal, or its creator while it has none."""
    reader = structure.manager() or User.get_or_none(User.id == structure.created_by_id)
    if reader is not None:
        mailer.queue(
            reader.notification_email,
            subject,
            template,
            reader=reader,
            user=reader,
            structure=structure,
            url=mailer.external_url("structure.detail", structure_id=structure.id),
            **context,
        )


# -- the outbox ----------------------------------------------------------------------------------


OUTBOX_SHOWN = 200  # mails listed per part of « Courriels »; each part says how many it holds


def outbox(days: int = 7) -> dict[str, tuple[list[OutboxMail], int]]:
    """Each part of the outbox, as (its first ``OUTBOX_SHOWN`` mails, how many it
    holds): failed mail still tried (oldest first, with its last error),
    pending mail (oldest first), mail given up (latest first, with the error
    that stopped it), and what was sent in the last ``days`` (newest first).
    Counted apart: many failures never hide the mail waiting."""
    tried = OutboxMail.sent_at.is_null() & OutboxMail.given_up_at.is_null()
    parts = {
        "failed": (tried & OutboxMail.last_error.is_null(False), OutboxMail.id),
        "pending": (tried & OutboxMail.last_error.is_null(), OutboxMail.id),
        "given_up": (
            OutboxMail.sent_at.is_null() & OutboxMail.given_up_at.is_null(False),
            OutboxMail.given_up_at.desc(),
        ),
        "sent": (OutboxMail.sent_at >= utcnow() - timedelta(days=days), OutboxMail.sent_at.desc()),
    }
    with database.snapshot():  # one moment: a mail delivered meanwhile is listed once
        return {
            name: (list(OutboxMail.select().where(where).order_by(order).limit(OUTBOX_SHOWN)),
                   OutboxMail.select().where(where).count())
            for name, (where, order) in parts.items()
        }  # fmt: skip


def retry_mail(operator: User, mail_id: int | None = None) -> int:
    """Make one unsent mail (or all) due now, and deliver it within seconds;
    returns how many."""
    for attempt in database.attempts():
        with attempt:
            _acting(operator)
            count = OutboxMail.retry_now(mail_id)
            if count:
                audit.record(Event.ADMIN_MAIL_RETRIED, operator, mail=mail_id, count=count)
    if count:
        mailer.deliver_due_soon()
    return count


# -- the audit trail ----------------------------------------------------------------------------


def audit_trail(
    account=None, structure=None, event=None, since=None, until=None, limit=200
) -> list[AuditEvent]:
    """Events newest first, by account (its own, or operators' actions upon
    it), structure, name and time (UTC)."""
    query = AuditEvent.select()
    if account:
        email = lookup_email(account)
        query = query.where((AuditEvent.account == email) | _about(email))
    if structure is not None:
        query = query.where(AuditEvent.structure_id == structure)
    if event:
        query = query.where(AuditEvent.event == event)
    if since:
        query = query.where(AuditEvent.at >= since)
    if until:
        query = query.where(AuditEvent.at < until)
    return list(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit))


# -- moderation (FLASK_STRUCTURE_MODERATION) -------------------------------------------------------


REQUESTS_SHOWN = 100  # requests (and structures) listed as waiting; the page says how many wait in all


def requests_for_operators() -> tuple[list[Membership], int]:
    """The attachment requests waiting for an operator's decision (their
    structures have no gestionnaire principal), read at one moment."""
    with database.snapshot():
        return Membership.waiting_for_operators(REQUESTS_SHOWN)


def pending_structures() -> tuple[list[Structure], int]:
    """The structures awaiting an operator's validation, oldest first: the
    first REQUESTS_SHOWN, and how many there are (moderation may since have
    been turned off: they wait all the same)."""
    pending = Structure.select().where(Structure.status == Structure.PENDING)
    with database.snapshot():
        shown = list(pending.order_by(Structure.created_at, Structure.id).limit(REQUESTS_SHOWN))
        return shown, (len(shown) if len(shown) < REQUESTS_SHOWN else pending.count())


@database.transaction
def moderate(operator: User, structure: Structure, approve: bool) -> bool:
    """Approve (active) or refuse (disabled) a structure awaiting validation;
    its creator is told either way, and on a refusal the requests waiting
    for it are closed, each requester told. False if it was not awaiting."""
    _acting(operator)
    status = Structure.ACTIVE if approve else Structure.DISABLED
    if not structure.set_status(status, only_from=(Structure.PENDING,)):
        return False
    outcome = Outcome.APPROVED if approve else Outcome.REFUSED
    audit.record(Event.ADMIN_STRUCTURE_MODERATED, operator, outcome, structure=structure.id)
    if approve:
        _tell_structure(structure, _l("Votre structure est validée"), "structure_approved")
    else:
        structures.close_requests(structure, operator, structures.NOT_VALIDATED)
        _tell_structure(structure, _l("Votre structure n'est pas validée"), "structure_refused")
    return True


@database.transaction
def decide_request(operator: User, structure: Structure, membership_id: int, approve: bool) -> bool:
    """An operator decides a request to a structure that has no active
    gestionnaire principal (it would otherwise wait for nobody)."""
    _acting(operator)
    membership = Membership.get_or_none(
        (Membership.id == membership_id) & (Membership.structure == structure.id)
    )
    if membership is None or structure.manager() is not None:
        return False
    if membership.user_id == operator.id:
        raise OwnRequest
    return structures.settle(membership, structure, operator, approve, by_operators=True)
