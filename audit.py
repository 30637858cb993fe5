"""The audit trail: security events with their time (UTC), account, client
address and outcome.

Call ``record`` inside the transaction of the change it describes, so that the
event and the change are kept or lost together. Never pass a password, a token
or a captcha answer: ``record`` refuses details named like one. The events'
names are the constants of ``Event``; their outcomes, those of ``Outcome``.
"""

from __future__ import annotations

import json
from datetime import datetime

from flask import has_request_context
from flask_babel import lazy_gettext as _l

from factors import SHOWN_LABELS
from models import AuditEvent, User, utcnow
from rules.email import lookup_email
from security import client_address
from statements import Prepared, slot


class Event:
    """The name of each event; ``outcome`` is ``Outcome.SUCCESS`` unless stated."""

    # accounts.sign_up: a pending account exists.
    ACCOUNT_CREATED = "account.created"
    # accounts.sign_up with an address that has an account (its owner is mailed).
    SIGNUP_EXISTING = "account.signup_existing"
    # accounts.activate: first password set.
    ACCOUNT_ACTIVATED = "account.activated"
    # accounts.resend_activation: a new activation link.
    ACTIVATION_RESENT = "activation.resent"
    # accounts.authenticate: SUCCESS, FAILURE (wrong password, unknown address,
    # inactive account; details ``reason``) or THROTTLED (refused during the delay).
    SIGN_IN = "auth.sign_in"
    # views.auth.logout.
    SIGN_OUT = "auth.sign_out"
    # views.account.sign_out_everywhere: every session and device cookie ended.
    SIGN_OUT_EVERYWHERE = "auth.sign_out_everywhere"
    # accounts.request_reset: SUCCESS (link mailed), UNKNOWN_ACCOUNT,
    # DISABLED_ACCOUNT, or PENDING_ACCOUNT (activation link mailed instead).
    RESET_REQUESTED = "password.reset_requested"
    # accounts.reset_password: new password from a link, every session revoked.
    PASSWORD_RESET = "password.reset"
    # accounts.change_password: SUCCESS, or FAILURE (wrong current password).
    PASSWORD_CHANGED = "password.changed"
    # accounts.update_profile (details ``fields``: names of the changed fields,
    # never their values).
    PROFILE_UPDATED = "profile.updated"
    # accounts.confirm_contact: the link mailed to the contact e-mail was followed.
    CONTACT_EMAIL_CONFIRMED = "profile.contact_email_confirmed"
    # accounts.set_survey_consent (details ``consent``).
    SURVEY_CONSENT_CHANGED = "survey_consent.changed"
    # factors.manage: a second factor enrolled (details ``kind``: totp, email,
    # passkey), or removed; recovery codes regenerated (details ``count``).
    SECOND_FACTOR_ENROLLED = "second_factor.enrolled"
    SECOND_FACTOR_REMOVED = "second_factor.removed"
    RECOVERY_CODES_GENERATED = "second_factor.recovery_codes_generated"
    # factors.manage.reauthenticate: the password asked again before changing
    # second factors, SUCCESS or FAILURE.
    SECOND_FACTOR_REAUTH = "second_factor.reauthenticated"
    # factors.verify.check: SUCCESS or FAILURE of the sign-in's second step
    # (details ``method``: totp, email, recovery, passkey; ``left`` recovery
    # codes after one is used).
    SECOND_FACTOR_USED = "second_factor.used"
    # factors.email_code.send: a code mailed.
    EMAIL_CODE_SENT = "second_factor.email_code_sent"
    # accounts.purge (`flask purge`): one event, details are counts.
    ACCOUNT_PURGED = "account.purged"

    # structures.create: a structure and its gestionnaire principal.
    STRUCTURE_CREATED = "structure.created"
    # structures.request_attachment: a request to be attached (rattachement).
    MEMBERSHIP_REQUESTED = "membership.requested"
    # structures.cancel: the requester withdrew a pending request.
    MEMBERSHIP_CANCELLED = "membership.cancelled"
    # structures.decide: APPROVED or REFUSED, details ``structure``, ``requester``;
    # structures.close_requests: CLOSED (the structure disabled or not validated).
    MEMBERSHIP_DECIDED = "membership.decided"
    # structures.hand_over: the gestionnaire principal role moves to another
    # member (details ``structure``, ``to``).
    ROLE_HANDED_OVER = "membership.role_handed_over"

    # `flask operator grant|revoke` (the account is the one granted or revoked).
    OPERATOR_GRANTED = "operator.granted"
    OPERATOR_REVOKED = "operator.revoked"
    # Operators' actions in « Administration »: the event's account is the
    # operator's; details ``target`` (an account's e-mail) or ``structure``.
    ADMIN_ACTIVATION_RESENT = "admin.activation_resent"
    ADMIN_ACCOUNT_DISABLED = "admin.account_disabled"
    ADMIN_ACCOUNT_ENABLED = "admin.account_enabled"
    ADMIN_SESSIONS_REVOKED = "admin.sessions_revoked"
    ADMIN_ACCOUNT_DELETED = "admin.account_deleted"  # details ``target``: the pseudonym
    ADMIN_MANAGER_DESIGNATED = "admin.manager_designated"  # details ``structure``, ``target``
    ADMIN_STRUCTURE_UPDATED = "admin.structure_updated"  # details ``structure``, ``fields``
    ADMIN_STRUCTURE_DISABLED = "admin.structure_disabled"
    ADMIN_STRUCTURE_ENABLED = "admin.structure_enabled"
    # Moderation (FLASK_STRUCTURE_MODERATION): APPROVED or REFUSED, details ``structure``.
    ADMIN_STRUCTURE_MODERATED = "admin.structure_moderated"
    # Outbox: details ``mail`` (an id) or ``count``.
    ADMIN_MAIL_RETRIED = "admin.mail_retried"

    # The holder's rights: « Télécharger mes données », « Supprimer mon compte »
    # (SUCCESS, or FAILURE with details ``reason``).
    DATA_EXPORTED = "account.data_exported"
    ACCOUNT_DELETED = "account.deleted"


class Outcome:
    SUCCESS = "success"
    FAILURE = "failure"
    THROTTLED = "throttled"
    UNKNOWN_ACCOUNT = "unknown_account"
    DISABLED_ACCOUNT = "disabled_account"
    PENDING_ACCOUNT = "pending_account"
    APPROVED = "approved"
    REFUSED = "refused"
    CLOSED = "closed"  # a request closed by the portal's team with its structure


# How each outcome reads on a page (the data page, the console); the stored
# code stays the code (filters, exports, metrics).
OUTCOME_LABELS = {
    Outcome.SUCCESS: _l("Réussi"),
    Outcome.FAILURE: _l("Échoué"),
    Outcome.THROTTLED: _l("Ralenti : trop d'essais"),
    Outcome.UNKNOWN_ACCOUNT: _l("Compte inconnu"),
    Outcome.DISABLED_ACCOUNT: _l("Compte désactivé"),
    Outcome.PENDING_ACCOUNT: _l("Compte non activé"),
    Outcome.APPROVED: _l("Approuvée"),
    Outcome.REFUSED: _l("Refusée"),
    Outcome.CLOSED: _l("Close par l'équipe du portail"),
}


# How each event reads on the account holder's « Mes données » and in the
# console (an account's events, the journal and its filter, with the code
# beside the words); the stored code stays the code (the console's filter
# values, the data file, metrics).
EVENT_LABELS = {
    Event.ACCOUNT_CREATED: _l("Inscription"),
    Event.SIGNUP_EXISTING: _l("Nouvelle inscription avec l'adresse du compte"),
    Event.ACCOUNT_ACTIVATED: _l("Activation du compte"),
    Event.ACTIVATION_RESENT: _l("Nouvel envoi du lien d'activation"),
    Event.SIGN_IN: _l("Connexion"),
    Event.SIGN_OUT: _l("Déconnexion"),
    Event.SIGN_OUT_EVERYWHERE: _l("Déconnexion de tous les appareils"),
    Event.RESET_REQUESTED: _l("Demande de nouveau mot de passe"),
    Event.PASSWORD_RESET: _l("Nouveau mot de passe (lien reçu par courriel)"),
    Event.PASSWORD_CHANGED: _l("Changement du mot de passe"),
    Event.PROFILE_UPDATED: _l("Modification des informations personnelles"),
    Event.CONTACT_EMAIL_CONFIRMED: _l("Confirmation de l'adresse de contact"),
    Event.SURVEY_CONSENT_CHANGED: _l("Changement du consentement aux enquêtes"),
    Event.SECOND_FACTOR_ENROLLED: _l("Ajout d'une méthode de vérification en deux étapes"),
    Event.SECOND_FACTOR_REMOVED: _l("Retrait d'une méthode de vérification en deux étapes"),
    Event.RECOVERY_CODES_GENERATED: _l("Nouveaux codes de secours"),
    Event.SECOND_FACTOR_REAUTH: _l("Mot de passe confirmé"),
    Event.SECOND_FACTOR_USED: _l("Vérification en deux étapes"),
    Event.EMAIL_CODE_SENT: _l("Code de vérification envoyé par courriel"),
    Event.ACCOUNT_PURGED: _l("Suppression d'un compte jamais activé"),
    Event.STRUCTURE_CREATED: _l("Création d'une structure"),
    Event.MEMBERSHIP_REQUESTED: _l("Demande de rattachement"),
    Event.MEMBERSHIP_CANCELLED: _l("Annulation d'une demande de rattachement"),
    Event.MEMBERSHIP_DECIDED: _l("Décision sur une demande de rattachement"),
    Event.ROLE_HANDED_OVER: _l("Transmission du rôle de gestionnaire principal"),
    Event.OPERATOR_GRANTED: _l("Rôle d'opérateur accordé"),
    Event.OPERATOR_REVOKED: _l("Rôle d'opérateur retiré"),
    Event.ADMIN_ACTIVATION_RESENT: _l("Administration : nouvel envoi d'un lien d'activation"),
    Event.ADMIN_ACCOUNT_DISABLED: _l("Administration : compte désactivé"),
    Event.ADMIN_ACCOUNT_ENABLED: _l("Administration : compte réactivé"),
    Event.ADMIN_SESSIONS_REVOKED: _l("Administration : sessions fermées"),
    Event.ADMIN_ACCOUNT_DELETED: _l("Administration : compte supprimé"),
    Event.ADMIN_MANAGER_DESIGNATED: _l("Administration : gestionnaire principal désigné"),
    Event.ADMIN_STRUCTURE_UPDATED: _l("Administration : structure corrigée"),
    Event.ADMIN_STRUCTURE_DISABLED: _l("Administration : structure désactivée"),
    Event.ADMIN_STRUCTURE_ENABLED: _l("Administration : structure réactivée"),
    Event.ADMIN_STRUCTURE_MODERATED: _l("Administration : décision sur une nouvelle structure"),
    Event.ADMIN_MAIL_RETRIED: _l("Administration : courriel renvoyé"),
    Event.DATA_EXPORTED: _l("Téléchargement de mes données"),
    Event.ACCOUNT_DELETED: _l("Suppression du compte"),
}


# Called with (event, outcome) for each recorded event (metrics.count_event).
LISTENERS: list = []

# Details naming another account than the one that acted, by its login
# address: a request's requester, a role's successor, an operator's target.
# One at most in an event; ``record`` copies it to ``about_account``.
ABOUT_KEYS = ("requester", "to", "target")

# How a detail's name reads in the console; a name this version does not
# know reads as stored. The values stay as recorded (codes, counts, ids).
DETAIL_LABELS = {
    "consent": _l("Consentement"),
    "count": _l("Nombre"),
    "failures": _l("Échecs consécutifs"),
    "left": _l("Codes de secours restants"),
    "spent": _l("Code épuisé"),
    "fields": _l("Champs modifiés"),
    "kind": _l("Méthode"),
    "method": _l("Méthode"),
    "known_device": _l("Appareil connu"),
    "mail": _l("Courriel n°"),
    "outcome": _l("Résultat"),
    "pending_days": _l("Comptes non activés depuis (jours)"),
    "reason": _l("Motif"),
    "requester": _l("Demandeur"),
    "structure": _l("Structure n°"),
    "target": _l("Compte concerné"),
    "to": _l("Nouveau gestionnaire principal"),
    # What the nightly purge deleted (accounts.purge).
    "accounts": _l("Comptes"),
    "tokens": _l("Liens"),
    "captcha_challenges": _l("Captchas"),
    "drafts": _l("Brouillons"),
    "audit_events": _l("Événements du journal"),
}

# Details whose value is a code, as words (« Motif : mot de passe incorrect »);
# a code this version does not know is shown as it is.
_METHODS = {
    **SHOWN_LABELS,  # the second factors' names, as their pages show them
    "recovery": _l("Code de secours"),
    "trusted_device": _l("Appareil de confiance"),
}
DETAIL_VALUE_LABELS = {
    "reason": {
        "wrong_password": _l("mot de passe incorrect"),
        "password": _l("mot de passe incorrect"),
        "unknown_account": _l("aucun compte à cette adresse"),
        "account_pending": _l("compte non activé"),
        "account_disabled": _l("compte désactivé"),
        "last_operator": _l("dernier opérateur du portail"),
        "handover": _l("rôle de gestionnaire principal à transmettre d'abord"),
    },
    "method": _METHODS,
    "kind": _METHODS,
}
# A detail that is true or false (« Consentement : oui »).
YES, NO = _l("oui"), _l("non")

# Words of a detail's name that say it could hold a secret: refused.
FORBIDDEN = frozenset({"password", "token", "answer", "secret", "hash", "otp"})


def record(event: str, user: User | None = None, outcome: str = Outcome.SUCCESS, **details) -> AuditEvent:
    """Write one event; ``details`` are small JSON-serialisable facts."""
    for name in details:
        if FORBIDDEN & set(name.lower().split("_")):
            raise ValueError(f"audit detail {name!r} may hold a secret")
    for listener in LISTENERS:
        listener(event, outcome)
    fields = {
        "at": utcnow(),
        "user": user,
        "account": user.email if user is not None else None,
        "client_address": _client_address(),
        "event": event,
        "outcome": outcome,
        "details": json.dumps(details, ensure_ascii=False, sort_keys=True, default=str) if details else None,
        "about_account": next((v for v in map(details.get, ABOUT_KEYS) if isinstance(v, str)), None),
        "structure_id": _structure_id(details.get("structure")),
    }
    _INSERT.execute(**fields)
    return AuditEvent(**fields)  # as stored


# Each step of the flow records an event or two.
_INSERT = Prepared(
    lambda: AuditEvent.insert(
        {
            field: slot(field.name, field)
            for field in (
                AuditEvent.at,
                AuditEvent.user,
                AuditEvent.account,
                AuditEvent.client_address,
                AuditEvent.event,
                AuditEvent.outcome,
                AuditEvent.details,
                AuditEvent.about_account,
                AuditEvent.structure_id,
            )
        }
    )
)


def _structure_id(value) -> int | None:
    """A structure's number as recorded (``structure=structure.id``); as step 19 reads older events."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _client_address() -> str | None:
    return client_address() if has_request_context() else None


def events(
    account: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    event: str | None = None,
    limit: int | None = None,
) -> list[AuditEvent]:
    """Events, oldest first, filtered by account e-mail, time (UTC) and name."""
    query = AuditEvent.select()
    if account:
        query = query.where(AuditEvent.account == lookup_email(account))
    if since:
        query = query.where(AuditEvent.at >= since)
    if until:
        query = query.where(AuditEvent.at < until)
    if event:
        query = query.where(AuditEvent.event == event)
    query = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if limit:
        query = query.limit(limit)
    return list(reversed(list(query)))
