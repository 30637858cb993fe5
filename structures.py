"""Structure use cases: create a structure, ask to be attached to one, decide
on a request, cancel it, close the requests of a structure the portal's team
closes, hand over the manager role, edit. Each runs its changes, and the
mail they cause, in one transaction.

Mail to someone who is not an active member of a structure never carries its
address, e-mail or phone (« Non diffusible » or not: they are not needed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from peewee import IntegrityError

import audit
import database
import mailer
from audit import Event, Outcome
from models import ChangedMeanwhile, Membership, OutboxMail, Structure, User, db, utcnow
from rules.identifiers import SIRET
from sirene import directory


@dataclass(frozen=True)
class Found:
    """Where a structure searched for was found. On the portal: ``structure``,
    whether it ``discloses`` its details to the searcher, and the searcher's
    ``membership`` of it. Else, for a SIRET INSEE knows: its ``insee`` entry
    and a ``sibling``, an establishment of the same company on the portal."""

    structure: Structure | None = None
    discloses: bool = False
    membership: Membership | None = None
    insee: directory.Establishment | None = None
    sibling: Structure | None = None


def find(searcher: User, identifier_type: str, identifier: str) -> Found | None:
    """The portal first; for a SIRET it does not know, INSEE's directory and a
    sister establishment on the portal; None when neither knows it."""
    structure = Structure.find(identifier_type, identifier)
    if structure is not None:
        membership = Membership.get_or_none(
            (Membership.structure == structure) & (Membership.user == searcher.id)
        )
        return Found(structure=structure, discloses=structure.discloses_to(searcher), membership=membership)
    if identifier_type != SIRET:
        return None
    answer = directory.consult(identifier)
    if answer.entry is None:
        return None
    sibling = next(iter(Structure.of_siren(SIRET, answer.entry.siren)), None)
    return Found(insee=answer.entry, sibling=sibling)


class AlreadyExists(Exception):
    """A structure with that identifier type and identifier exists."""


class AlreadyYours(AlreadyExists):
    """The structure exists as it was asked for, and its gestionnaire
    principal is the one who asked (a second submit of step 6, a form sent
    again): nothing to correct."""

    def __init__(self, structure: Structure):
        super().__init__(structure.id)
        self.structure = structure


class Closed(Exception):
    """The structure is not active now (awaiting moderation, or disabled): a
    request to it cannot be approved, only refused, and its gestionnaire
    principal cannot change it (operators still can)."""


class AccountClosed(Exception):
    """The requester's account was closed by an operator since the request: it
    cannot be approved, only refused (it may be approved again once reopened)."""

    def __init__(self, requester: User):
        super().__init__(requester.id)
        self.requester = requester


class NotManager(Exception):
    """The person is not (or no longer) the structure's gestionnaire principal:
    a form sent from a page opened before they handed the role over."""


class TooManyCreated(Exception):
    """The account created STRUCTURES_PER_ACCOUNT_PER_DAY structures in the
    last 24 hours (squatting identifiers to manage them)."""


def create(creator: User, data: dict) -> Structure:
    """The structure and its creator as gestionnaire principal, or
    AlreadyExists (nothing created, even against a concurrent creation;
    AlreadyYours when the creator manages it already), or TooManyCreated."""
    try:
        structure = _create(creator, data)
    except IntegrityError:
        existing = Structure.find(data["identifier_type"], data.get("identifier"))
        if existing is not None and existing.is_managed_by(creator) and existing.holds(data):
            raise AlreadyYours(existing) from None
        raise AlreadyExists from None
    return structure


@database.transaction
def _create(creator: User, data: dict) -> Structure:
    """``create``'s transaction: run again as a whole if PostgreSQL rolls it back."""
    allowed = current_app.config["STRUCTURES_PER_ACCOUNT_PER_DAY"]
    # Concurrent creations by one account queue here, so the count
    # holds: on PostgreSQL on the creator's row (FOR UPDATE); SQLite
    # has no FOR UPDATE, its BEGIN IMMEDIATE write lock already queues them.
    if db.obj.for_update:
        User.select(User.id).where(User.id == creator.id).for_update().get()
    if Structure.created_since(creator, utcnow() - timedelta(days=1)) >= allowed:
        raise TooManyCreated
    # With moderation, the structure waits for an operator's approval.
    moderated = bool(current_app.config["STRUCTURE_MODERATION"])
    status = Structure.PENDING if moderated else Structure.ACTIVE
    structure = Structure.register(creator, status=status, **data)
    audit.record(Event.STRUCTURE_CREATED, creator, structure=structure.id)
    mailer.queue(
        creator.notification_email,
        _l("Votre structure est créée"),
        "structure_created",
        reader=creator,
        user=creator,
        structure=structure,
        kind=structure.kind,
        pending=moderated,
        url=mailer.external_url("structure.detail", structure_id=structure.id),
    )
    return structure


@database.transaction
def update(structure: Structure, manager: User, details: dict) -> None:
    """The gestionnaire principal's edit; Closed, nothing stored, unless the
    structure is active (checked as it is written: an operator who disables
    it meanwhile wins); NotManager, nothing stored, if ``manager`` is not (or
    no longer) its gestionnaire principal (a hand-over sent meanwhile wins);
    ChangedMeanwhile, nothing stored, if the details are no longer those the
    edit was checked against."""
    if not structure.is_managed_by(manager):
        raise NotManager
    if not structure.update_details(only_if_open=True, as_read=True, **details):
        if not Structure.get_by_id(structure.id).is_open:
            raise Closed
        raise ChangedMeanwhile


def assign_siret(structure: Structure, manager: User, siret: str) -> bool:
    """Give a structure numbered by the portal its SIRET. False if it has an
    external identifier already; AlreadyExists if another structure has it;
    Closed, nothing stored, unless the structure is active; NotManager,
    nothing stored, if ``manager`` is not (or no longer) its gestionnaire
    principal."""
    try:
        return _assign_siret(structure, manager, siret)
    except IntegrityError:
        raise AlreadyExists from None


@database.transaction
def _assign_siret(structure: Structure, manager: User, siret: str) -> bool:
    if not structure.is_managed_by(manager):
        raise NotManager
    if structure.assign_identifier(SIRET, siret):
        return True
    if not Structure.get_by_id(structure.id).is_open:
        raise Closed
    return False


@dataclass(frozen=True)
class Asked:
    """What asking to be attached did."""

    membership: Membership
    requested: bool  # a new request; False: one was pending or active already
    to_operators: bool = False  # no gestionnaire principal: the operators decide it
    # ... and no operator was told: none but the requester, or none at all yet.
    nobody_told: bool = False


@database.transaction
def request_attachment(user: User, structure: Structure) -> Asked:
    """A pending membership, the gestionnaire principal (or, for a structure
    without one, the operators) and the requester told by mail. Closed, when
    the structure was disabled since the page read it: read again here, in
    the transaction, or the request would wait on a disabled structure whose
    pending requests its disabling had just closed."""
    if not structure.held_open():
        raise Closed
    membership, requested = Membership.request(user, structure)
    manager, told = None, 0
    if requested:
        audit.record(Event.MEMBERSHIP_REQUESTED, user, structure=structure.id)
        manager = structure.manager()
        if manager is None:
            told = _tell_operators(membership, user, structure)
        elif membership.claim_manager_notice(_notice_interval()):
            mailer.queue(
                manager.notification_email,
                _l("Nouvelle demande de rattachement"),
                "attachment_requested",
                reader=manager,
                about=user,
                manager=manager,
                requester=user,
                structure=structure,
                url=mailer.external_url("approvals.index", _anchor=_manager_anchor(membership)),
            )
        mailer.queue(
            user.notification_email,
            _l("Votre demande de rattachement est envoyée"),
            "attachment_request_sent",
            reader=user,
            user=user,
            structure=structure,
            kind=structure.kind,
            to_operators=manager is None,
            nobody_told=manager is None and not told,
            url=mailer.external_url("space.home"),
        )
    to_operators = requested and manager is None
    return Asked(membership, requested, to_operators=to_operators, nobody_told=to_operators and not told)


def left_without_manager(structure: Structure) -> None:
    """Its gestionnaire principal has gone (their account deleted or closed): the
    requests waiting for them go to the operators, as new ones would. Call
    inside the transaction, once the membership is gone."""
    for waiting in Membership.pending_for([structure]):
        _tell_operators(waiting, waiting.user, structure)


def _notice_interval() -> timedelta:
    """At most one mail to the gestionnaire principal per requester and
    structure in this interval, whatever the cycles of request and cancellation."""
    return timedelta(minutes=current_app.config["MANAGER_NOTICE_INTERVAL_MINUTES"])


def _tell_operators(membership: Membership, requester: User, structure: Structure) -> int:
    """A request to a structure without an active gestionnaire principal goes
    to the operators, who decide it in « Administration »: not to the
    requester, an operator asking to join (a mail about them is not theirs to
    read, and their own request is for another operator to decide). Returns
    how many were told: none when no other operator has an open account (the
    console's home lists the request for those granted later)."""
    others = User.is_operator & (User.status == User.ACTIVE) & (User.id != requester.id)
    operators = list(User.select().where(others))
    for operator in operators:
        mailer.queue(
            operator.notification_email,
            _l("Demande de rattachement à une structure sans gestionnaire"),
            "attachment_unmanaged",
            reader=operator,
            about=requester,
            operator=operator,
            requester=requester,
            structure=structure,
            url=mailer.external_url(
                "admin.structure", structure_id=structure.id, _anchor=_operators_anchor(membership)
            ),
        )
    return len(operators)


# The notices of a request link to its row (« Approbations », the structure's
# page in « Administration »): the anchor also tells which request a notice
# is about, to withdraw it once the request is closed.
def _manager_anchor(membership: Membership) -> str:
    return f"approval-{membership.id}"


def _operators_anchor(membership: Membership) -> str:
    return f"request-{membership.id}"


def _withdraw_notices(membership: Membership) -> bool:
    """The request is closed (cancelled, or closed by the portal's team), or
    someone else decides it now (a new gestionnaire principal): its notices
    to the gestionnaire principal and to the operators that have not gone
    out yet never will (a notice asking to decide on a request closed
    already, or to someone who no longer decides). True if the gestionnaire
    principal's was withdrawn: they never heard of the request. Call inside
    the transaction."""
    OutboxMail.withdraw(f'#{_operators_anchor(membership)}"')
    if OutboxMail.withdraw(f'#{_manager_anchor(membership)}"'):
        membership.release_manager_notice()
        return True
    return False


@database.transaction
def decide(membership: Membership, manager: User, approve: bool) -> bool:
    """Approve or refuse a pending request; the requester gets the decision
    by mail. False if the request is no longer pending; NotManager if
    ``manager`` is not (or no longer) the structure's gestionnaire principal;
    Closed for an approval the structure no longer takes; AccountClosed for
    an approval of a request whose account was closed since."""
    structure = Structure.get_by_id(membership.structure_id)
    if not structure.is_managed_by(manager):
        raise NotManager
    return settle(membership, structure, manager, approve)


def settle(
    membership: Membership, structure: Structure, by: User, approve: bool, *, by_operators: bool = False
) -> bool:
    """Record the decision made by ``by`` (the gestionnaire principal, or an
    operator for a structure without one: ``by_operators``, which the mail
    says) and mail it to the requester; call inside the transaction. False
    if the request was no longer pending; Closed for an approval while the
    structure takes no new member; AccountClosed for an approval while the
    requester's account is closed (the UPDATE checks it too: an operator
    closing it meanwhile wins)."""
    if approve and not structure.is_open:
        if membership.status != Membership.PENDING:
            return False  # decided, cancelled or closed already: said as such, not as the structure's state
        raise Closed
    requester = User.get_or_none(User.id == membership.user_id)
    if requester is None:
        return False  # the account was deleted meanwhile, its request with it
    if approve and requester.status == User.DISABLED:
        raise AccountClosed(requester)
    done = membership.approve(by) if approve else membership.refuse(by)
    if not done and approve:
        fresh = Membership.get_or_none(Membership.id == membership.id)
        if fresh is not None and fresh.status == Membership.PENDING and fresh.account_closed:
            raise AccountClosed(fresh.user)  # closed between the check above and the UPDATE
    if done:
        audit.record(
            Event.MEMBERSHIP_DECIDED,
            by,
            outcome=Outcome.APPROVED if approve else Outcome.REFUSED,
            structure=structure.id,
            requester=requester.email,
        )
        mailer.queue(
            requester.notification_email,
            _l("Votre demande de rattachement est acceptée")
            if approve
            else _l("Votre demande de rattachement est refusée"),
            "attachment_approved" if approve else "attachment_refused",
            reader=requester,
            user=requester,
            structure=structure,
            kind=structure.kind,
            by_operators=by_operators,
            url=mailer.external_url("space.home"),
        )
    return done


# How long a refused or cancelled request stays in its requester's view
# (« Mon espace », and step 5 while they have no structure).
ENDED_SHOWN_DAYS = 30


def requests_in_view(user: User) -> tuple[list[Membership], list[Membership]]:
    """The user's pending requests, and those refused or cancelled in the
    last ENDED_SHOWN_DAYS (the latest first): the person knows, and may ask
    again."""
    return Membership.requests_of(user, utcnow() - timedelta(days=ENDED_SHOWN_DAYS))


@database.transaction
def cancel(membership: Membership, user: User) -> bool:
    """The requester withdraws a pending request. Its notices not delivered
    yet are withdrawn, and the gestionnaire principal, never told of it, is
    not told of the cancel either; one who was told of this very request is
    told it is cancelled (a cycle of requests and cancels mails them at most
    a request and its cancel per ``_notice_interval``). False if it was not
    pending any more."""
    if membership.user_id != user.id or not membership.cancel():
        return False
    audit.record(Event.MEMBERSHIP_CANCELLED, user, structure=membership.structure_id)
    if _withdraw_notices(membership):
        return True  # the gestionnaire principal was not told of it: nothing to take back
    structure = Structure.get_by_id(membership.structure_id)
    manager = structure.manager()
    if manager is not None and (_told_of(membership) or membership.claim_manager_notice(_notice_interval())):
        mailer.queue(
            manager.notification_email,
            _l("Demande de rattachement annulée"),
            "attachment_cancelled",
            reader=manager,
            about=user,
            manager=manager,
            requester=user,
            structure=structure,
        )
    return True


def _told_of(membership: Membership) -> bool:
    """Whether the gestionnaire principal's notice went out for this very
    request (claimed since it was made), not for an earlier one."""
    notified = membership.manager_notified_at
    return notified is not None and notified >= membership.requested_at


@database.transaction
def hand_over(structure: Structure, manager: User, membership_id: int) -> Membership | None:
    """Another active member becomes the gestionnaire principal (and is told);
    the former one stays as utilisateur. None if that member is no longer an
    active utilisateur of it; NotManager if ``manager`` is not (or no longer)
    its gestionnaire principal; Closed unless the structure is active (an
    operator who disables it meanwhile wins: its role is frozen with the
    rest, and operators designate one themselves). Nothing changes then."""
    if not structure.held_open():
        raise Closed
    membership = structure.hand_over(manager, membership_id)
    if membership is None:
        if not structure.is_managed_by(manager):
            raise NotManager
        return None
    successor = User.get_by_id(membership.user_id)
    audit.record(Event.ROLE_HANDED_OVER, manager, structure=structure.id, to=successor.email)
    tell_new_manager(successor, structure, former=manager)
    return membership


def tell_new_manager(successor: User, structure: Structure, former: User | None) -> None:
    """Mail the new gestionnaire principal (``former`` None: an operator chose
    them), with how many requests wait for their decision. Those requests'
    notices not yet sent, to whoever decided before (the former gestionnaire
    principal, or the operators), never will: they would ask a decision of
    someone who no longer makes it. Call inside the transaction."""
    waiting = Membership.pending_for([structure])
    for membership in waiting:
        _withdraw_notices(membership)
    mailer.queue(
        successor.notification_email,
        _l("Vous êtes gestionnaire principal de votre structure"),
        "manager_role_received",
        reader=successor,
        about=former,
        user=successor,
        former=former,
        structure=structure,
        waiting=len(waiting),
        url=mailer.external_url("structure.detail", structure_id=structure.id),
        approvals_url=mailer.external_url("approvals.index"),
    )


# Why the portal's team closed the pending requests to a structure (``close_requests``).
DISABLED = "disabled"
NOT_VALIDATED = "not_validated"


def close_requests(structure: Structure, operator: User, reason: str) -> int:
    """The structure takes no request any more (an operator disabled it, or
    refused it under moderation, ``reason``): its pending requests are
    closed (``Membership.close``), their notices not yet sent withdrawn, and
    each requester told by mail, in their language. Call inside the
    transaction that changes the structure. Reopening the structure reopens
    none: the person may ask again. Returns how many were closed."""
    closed = 0
    for waiting in Membership.pending_for([structure]):
        if not waiting.close(operator):
            continue  # decided or cancelled meanwhile
        closed += 1
        requester = waiting.user
        _withdraw_notices(waiting)
        audit.record(
            Event.MEMBERSHIP_DECIDED,
            operator,
            outcome=Outcome.CLOSED,
            structure=structure.id,
            requester=requester.email,
        )
        mailer.queue(
            requester.notification_email,
            _l("Votre demande de rattachement est close"),
            "attachment_closed",
            reader=requester,
            user=requester,
            structure=structure,
            kind=structure.kind,
            not_validated=reason == NOT_VALIDATED,
            url=mailer.external_url("space.home"),
        )
    return closed
