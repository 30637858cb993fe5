"""Mail written for one account about another (a requester named to the
manager or the operators, a former manager or a successor named in a
hand-over) says so (``OutboxMail.about_id``): erasing that account, or
purging it, withdraws the mail whatever its text says. Every template that
names another person is queued with ``about=`` (read from the code and the
templates themselves, so a new one is covered); « Mes données » lists no
mail about its holder written for someone else."""

from __future__ import annotations

import ast
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from jinja2 import meta

import accounts
import mailer
import rights
from models import Membership, OutboxMail, Structure, User, db, utcnow
from tests.support.app import Client, outbox, query, user_row
from tests.support.constants import EMAIL, PASSWORD
from tests.support.signup import PERSON
from tests.support.structures import (
    LUCIE,
    PIERRE,
    ask_to_join,
    create_structure,
    new_client,
    sign_up,
    structure_with_a_member,
)

ROOT = Path(__file__).resolve().parent.parent
NOT_CODE = {".venv", "node_modules", "tests", "bench", "migrations", "scripts", ".git"}
# What a template reads of a person to name them.
PERSON_ATTRIBUTES = {"first_name", "last_name", "full_name", "email", "contact_email", "notification_email"}
# Values the templates compute with (a count, a code): the rest get markers.
PLAIN_VALUES = {"ttl_minutes": 60, "minutes": 10, "code": "123456", "waiting": 2}
# The templates naming someone besides their reader, and that person's variable.
KNOWN_ABOUT = {
    ("attachment_requested", "requester"),
    ("attachment_cancelled", "requester"),
    ("attachment_unmanaged", "requester"),
    ("manager_role_received", "former"),
    ("manager_role_withdrawn", "successor"),
}


# -- every template naming someone is queued with about= ---------------------------------------


class Marker:
    """A template variable whose every attribute reads « ⟦name.attribute⟧ »:
    what the mail shows of it can be read back from the text."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attribute: str):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return f"⟦{self._name}.{attribute}⟧"

    def __str__(self) -> str:
        return f"⟦{self._name}⟧"


def mail_templates() -> list[str]:
    return sorted(p.stem for p in (ROOT / "templates/email").glob("*.txt") if not p.stem.startswith("_"))


def people_named(app, template: str) -> set[str]:
    """The variables of ``template`` whose name or address its text or HTML shows."""
    env = app.jinja_env
    names: set[str] = set()
    for suffix in ("txt", "html"):
        source = (ROOT / f"templates/email/{template}.{suffix}").read_text()
        names |= meta.find_undeclared_variables(env.parse(source))
    context = {name: PLAIN_VALUES.get(name, Marker(name)) for name in names}
    with app.test_request_context():
        text, html = mailer.render(template, **context)
    return {
        name
        for name in names
        if any(f"⟦{name}.{attribute}⟧" in text + html for attribute in PERSON_ATTRIBUTES)
    }


def queue_calls() -> list[tuple[str, ast.Call]]:
    calls = []
    for path in sorted(ROOT.rglob("*.py")):
        if NOT_CODE & set(path.relative_to(ROOT).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "queue"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "mailer"
            ):
                calls.append((f"{path.relative_to(ROOT)}:{node.lineno}", node))
    return calls


def templates_of(call: ast.Call) -> set[str] | None:
    """The template names a call may queue; None when it is a variable."""
    argument = call.args[2] if len(call.args) > 2 else None
    if isinstance(argument, ast.Constant):
        return {argument.value}
    if isinstance(argument, ast.IfExp) and all(
        isinstance(side, ast.Constant) for side in (argument.body, argument.orelse)
    ):
        return {argument.body.value, argument.orelse.value}
    return None


def wrong_people(app) -> tuple[list[str], set[tuple[str, str]]]:
    """Each call that hands a template someone other than its reader without
    saying ``about=`` that person; and the (template, variable) pairs seen
    with ``about=``."""
    named = {template: people_named(app, template) for template in mail_templates()}
    anyone = set().union(*named.values())
    wrong, about_seen = [], set()
    for where, call in queue_calls():
        values = {k.arg: ast.unparse(k.value) for k in call.keywords if k.arg}
        reader, about = values["reader"], values.get("about")
        allowed = {reader, about} - {None}
        # Someone's name or address handed over as a string (``name=user.full_name``).
        for keyword in call.keywords:
            for node in ast.walk(keyword.value):
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr in PERSON_ATTRIBUTES
                    and ast.unparse(node.value) not in allowed
                ):
                    wrong.append(f"{where}: {keyword.arg}={ast.unparse(keyword.value)} without about=")
        templates = templates_of(call)
        people = anyone if templates is None else set().union(*(named[t] for t in templates))
        for variable in sorted(people & values.keys()):
            if values[variable] not in allowed:
                wrong.append(f"{where}: names {variable}={values[variable]} without about={values[variable]}")
            elif values[variable] == about and templates is not None:
                about_seen |= {(t, variable) for t in templates if variable in named[t]}
    return wrong, about_seen


def test_every_mail_template_naming_another_account_is_queued_with_about(app):
    """A template naming a person besides its reader (by name or address),
    queued without ``about=`` that person, would outlive that person's
    erasure: no test of the erasure would notice a new one."""
    assert set(mail_templates()) >= {t for t, _ in KNOWN_ABOUT}
    assert len(queue_calls()) >= 15
    wrong, about_seen = wrong_people(app)
    assert wrong == []
    assert about_seen == KNOWN_ABOUT


def test_a_template_naming_someone_queued_without_about_is_found(app, monkeypatch):
    """The check above finds the fault it is for: a call that hands the
    manager's notice its requester without ``about=``."""
    source = (ROOT / "structures.py").read_text()
    given = re.compile(r"\n( +)about=user,\n\1manager=manager,")
    assert given.search(source)
    broken = given.sub(r"\n\1manager=manager,", source, count=1)
    real_read_text = Path.read_text

    def read_text(path, *args, **kwargs):
        return broken if path == ROOT / "structures.py" else real_read_text(path, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", read_text)
    wrong, about_seen = wrong_people(app)
    assert len(wrong) == 1 and "names requester=user without about=user" in wrong[0]
    assert ("attachment_requested", "requester") not in about_seen


def test_the_queue_refuses_a_mail_naming_another_account_that_is_not_its_about(app):
    """At run time too: an account in a mail's context besides its reader
    is its ``about``, or nothing is written."""

    with app.test_request_context(), db.connection_context():
        manager = user_row(EMAIL)
        requester = user_row(PIERRE["email"], first_name="Pierre", last_name="Durand")
        context = {"manager": manager, "requester": requester, "structure": None, "url": "/"}
        with db.atomic():
            with pytest.raises(mailer.NamesAnotherAccount):
                mailer.queue(EMAIL, "s", "attachment_requested", reader=manager, **context)
            with pytest.raises(mailer.NamesAnotherAccount):
                mailer.queue(EMAIL, "s", "attachment_requested", reader=manager, about=manager, **context)
            structure = Structure(company_name="Ateliers Curie")
            context["structure"] = structure
            written = mailer.queue(
                EMAIL, "s", "attachment_requested", reader=manager, about=requester, **context
            )
        assert (written.about_id, OutboxMail.select().count()) == (requester.id, 1)


# -- erasure withdraws the mail about the account ---------------------------------------------


def hand_over_to(app, manager: Client, successor_email: str) -> None:
    """``manager`` gives the role of their structure to the active member ``successor_email``."""

    def ids():
        membership = Membership.get(Membership.user == User.by_email(successor_email))
        return membership.structure_id, membership.id

    structure_id, membership_id = query(app, ids)
    response = manager.submit(
        f"/structure/{structure_id}/gestionnaire", {"member": membership_id, "confirm": "y"}
    )
    assert response.status_code in (200, 204, 303), response.get_data(as_text=True)


def add_member(app, email: str, structure_name: str | None = None, **fields) -> None:
    def add():
        structure = Structure.get() if structure_name is None else Structure.get(company_name=structure_name)
        user = User.by_email(email) or user_row(email, status=User.ACTIVE, **fields)
        Membership.create(user=user, structure=structure, status=Membership.ACTIVE, decided_at=utcnow())

    query(app, add)


def mail_about(app, email: str) -> list[OutboxMail]:
    return query(app, lambda: list(OutboxMail.select().where(OutboxMail.about_id == User.by_email(email).id)))


def test_deleting_a_former_manager_withdraws_the_hand_over_naming_them_by_name(app, any_client, mailbox):
    """Marie hands her structure to Pierre, then deletes her account: the mail
    telling Pierre names her « Marie Curie », without her address, and goes
    with her account (the search for « (address) » in bodies let it stay)."""
    marie = sign_up(any_client, mailbox, PERSON)
    assert create_structure(marie).status_code in (200, 303)
    new_client(app, mailbox, PIERRE)
    add_member(app, PIERRE["email"])
    hand_over_to(app, marie, PIERRE["email"])
    [told] = [m for m in mailbox(PIERRE["contact_email"]) if "Marie Curie" in m.body_text]
    assert "(" + EMAIL + ")" not in told.body_text and told.sent_at is None
    assert [m.id for m in mail_about(app, EMAIL)] == [told.id]
    pierres = [m.id for m in mailbox(PIERRE["contact_email"]) if m.id != told.id]

    assert marie.submit("/mon-compte/supprimer", {"password": PASSWORD}).status_code in (204, 303)

    left = outbox(app)
    assert not [m for m in left if "Marie" in m.body_text or "Curie" in m.body_text]
    assert [m.id for m in left if m.recipient == PIERRE["contact_email"]] == pierres


def test_deleting_a_successor_withdraws_the_hand_over_that_named_them_delivered_or_not(app, mailbox):
    """An operator gave Pierre's role to Lucie: Pierre is told « … a désigné
    Lucie Martin … ». Erased (her holder asked the support), Lucie leaves
    no such mail, delivered or not."""
    structure_with_a_member(app, mailbox)  # Pierre manages it, Lucie is a member
    with app.test_request_context():
        query(app, lambda: designate(LUCIE["email"]))
    notices = mail_about(app, LUCIE["email"])
    assert [(m.recipient, m.subject) for m in notices] == [
        (PIERRE["contact_email"], "Vous n'êtes plus gestionnaire principal de votre structure")
    ]
    assert "Lucie Martin" in notices[0].body_text
    query(app, lambda: OutboxMail.update(sent_at=utcnow()).where(OutboxMail.id == notices[0].id).execute())
    pierres = [m.id for m in mailbox(PIERRE["contact_email"]) if m.id != notices[0].id]

    query(app, lambda: erase(LUCIE["email"]))

    assert not [m for m in outbox(app) if "Lucie" in m.body_text]
    assert [m.id for m in mailbox(PIERRE["contact_email"])] == pierres


def erase(email: str) -> None:
    with db.atomic():
        rights.erase(User.by_email(email))


def test_deleting_a_requester_withdraws_the_operators_notices(app, any_client, mailbox):
    """A structure without a manager: Pierre's request goes to each operator,
    naming him; his deletion withdraws every one of them."""
    structure_with_a_member(app, mailbox)
    query(app, lambda: Membership.update(role=Membership.USER).execute())  # no manager left
    for name in ("operateur", "operatrice"):
        query(app, lambda name=name: user_row(f"{name}@exemple.fr", status=User.ACTIVE, is_operator=True))
    requester = {**PIERRE, "email": "paul.roux@exemple.fr", "email_confirm": "paul.roux@exemple.fr"}
    requester |= {"first_name": "Paul", "last_name": "Roux", "contact_email": ""}
    paul = sign_up(any_client, mailbox, requester)
    assert ask_to_join(paul).status_code in (200, 204, 303)
    notices = mail_about(app, "paul.roux@exemple.fr")
    assert sorted(m.recipient for m in notices) == ["operateur@exemple.fr", "operatrice@exemple.fr"]

    assert paul.submit("/mon-compte/supprimer", {"password": PASSWORD}).status_code in (204, 303)

    assert not [m for m in outbox(app) if "Paul Roux" in m.body_text]


@pytest.mark.parametrize("how", ["erase", "purge"])
def test_erasure_and_purge_withdraw_the_mail_about_the_account_on_either_engine(any_database_app, how):
    """By the link alone, on SQLite and PostgreSQL: the mail about the account
    goes (whatever it says, sent or not), the reader's other mail stays."""
    app = any_database_app
    old = utcnow() - timedelta(days=40)

    def prepare():
        reader = user_row("lecteur@exemple.fr", status=User.ACTIVE)
        fields = {"created_at": old, "status": User.PENDING} if how == "purge" else {"status": User.ACTIVE}
        gone = user_row("part@exemple.fr", first_name="Jean", last_name="Valjean", **fields)
        other = user_row("reste@exemple.fr", first_name="Jean", last_name="Valjean", status=User.ACTIVE)

        def mail(about, sent=None):
            return OutboxMail.create(
                recipient=reader.email, subject="s", body_text="Jean Valjean", account_id=reader.id,
                about_id=about, sent_at=sent,
            ).id  # fmt: skip

        return gone.id, {mail(gone.id), mail(gone.id, utcnow())}, {mail(other.id), mail(None)}

    gone_id, about_gone, kept = query(app, prepare)

    def run():
        if how == "erase":
            with db.atomic():
                rights.erase(User.get_by_id(gone_id))
        else:
            assert accounts.purge(30)["accounts"] == 1
        return {m.id for m in OutboxMail.select()}

    assert query(app, run) == kept
    assert not about_gone & kept


# -- attacks ------------------------------------------------------------------------------------


def test_attack_a_person_renamed_before_their_erasure_still_takes_the_mail_about_them(
    app, any_client, mailbox
):
    """Marie hands the role over, renames herself « Jeanne Dupont », then
    deletes her account: the mail naming « Marie Curie » goes all the same
    (no search by name could find it)."""
    marie = sign_up(any_client, mailbox, PERSON)
    assert create_structure(marie).status_code in (200, 303)
    new_client(app, mailbox, PIERRE)
    add_member(app, PIERRE["email"])
    hand_over_to(app, marie, PIERRE["email"])
    renamed = {"first_name": "Jeanne", "last_name": "Dupont", "phone": "", "contact_email": EMAIL}
    assert marie.submit("/mon-compte/informations", renamed).status_code in (200, 204, 303)
    assert query(app, lambda: User.by_email(EMAIL).full_name) == "Jeanne Dupont"

    assert marie.submit("/mon-compte/supprimer", {"password": PASSWORD}).status_code in (204, 303)

    assert not [m for m in outbox(app) if "Marie Curie" in m.body_text]


def test_attack_two_accounts_with_one_name_only_the_erased_ones_mail_goes(app, mailbox):
    """Two « Lucie Martin », each designated in place of the manager of her
    structure: Pierre and Paul are told, by her name alone. Erasing one
    Lucie withdraws the notice about her, not the one about her namesake."""
    structure_with_a_member(app, mailbox)  # Pierre manages it, Lucie Martin (lucie.martin@) is a member
    namesake = "lucie.martin2@exemple.fr"

    def second_structure():
        paul = user_row("paul.roux@exemple.fr", first_name="Paul", last_name="Roux", status=User.ACTIVE)
        Structure.register(paul, "siret", "44306184100047", **OTHER_STRUCTURE)

    query(app, second_structure)
    add_member(app, namesake, OTHER_STRUCTURE["company_name"], first_name="Lucie", last_name="Martin")
    for email in (LUCIE["email"], namesake):
        with app.test_request_context():
            query(app, lambda email=email: designate(email))
    notices = {email: [m.id for m in mail_about(app, email)] for email in (LUCIE["email"], namesake)}
    assert all(len(ids) == 1 for ids in notices.values())
    bodies = query(app, lambda: {m.id: m.body_text for m in OutboxMail.select()})
    assert all("Lucie Martin" in bodies[ids[0]] for ids in notices.values())

    query(app, lambda: erase(LUCIE["email"]))

    left = {m.id for m in outbox(app)}
    assert notices[LUCIE["email"]][0] not in left and notices[namesake][0] in left


OTHER_STRUCTURE = {
    "company_name": "Roux et fils",
    "address": "1 rue",
    "city": "Lyon",
    "postal_code": "69001",
    "country": "FR",
}


def designate(email: str) -> None:
    """An operator makes ``email`` the gestionnaire principal of their structure."""
    import operations

    operator = User.get_or_none(User.email == "operateur@exemple.fr") or user_row(
        "operateur@exemple.fr", status=User.ACTIVE, is_operator=True
    )
    membership = Membership.get(Membership.user == User.by_email(email))
    with db.atomic():
        operations.designate_manager(operator, Structure.get_by_id(membership.structure_id), membership.id)


def test_attack_a_structure_named_after_anothers_address_keeps_its_mail_when_that_other_is_erased(
    app, mailbox
):
    """Pierre names his structure « Ateliers (marie.curie@exemple.fr) »: the
    mail telling him it is created holds Marie's address between brackets.
    Marie's erasure, which read bodies for « (address) », deleted it."""
    marie = new_client(app, mailbox, PERSON)
    pierre = new_client(app, mailbox, PIERRE)
    assert create_structure(pierre, company_name=f"Ateliers ({EMAIL})").status_code == 303
    [created] = [m for m in mailbox(PIERRE["contact_email"]) if m.subject == "Votre structure est créée"]
    assert f"({EMAIL})" in created.body_text and created.about_id is None

    assert marie.submit("/mon-compte/supprimer", {"password": PASSWORD}).status_code == 303

    assert created.id in {m.id for m in outbox(app)}


# -- « Mes données » ----------------------------------------------------------------------------


def test_the_data_file_lists_no_mail_about_its_holder_written_for_another_attack_data_leak(
    app, any_client, mailbox
):
    """Pierre asks to join Marie's structure: the notice written for Marie
    is about Pierre, yet not Pierre's (its address is Marie's): his file and
    page list it not. Marie's list it as written to her, naming neither
    Pierre nor his address."""
    marie = new_client(app, mailbox, PERSON)
    assert create_structure(marie).status_code == 303
    pierre = sign_up(any_client, mailbox, PIERRE)
    assert ask_to_join(pierre).status_code in (200, 303)
    [notice] = mail_about(app, PIERRE["email"])
    assert notice.recipient == EMAIL

    his = json.dumps(download(pierre))
    assert EMAIL not in his and "Nouvelle demande de rattachement" not in his
    page = pierre.get("/mon-compte/donnees").get_data(as_text=True)
    assert EMAIL not in page and "Nouvelle demande de rattachement" not in page

    hers = download(marie)
    assert "Nouvelle demande de rattachement" in [m["objet"] for m in hers["courriels"]]
    assert PIERRE["email"] not in json.dumps(hers["courriels"]) and "Pierre" not in json.dumps(
        hers["courriels"]
    )

    # Pierre gone, Marie's file and page still come, without the notice.
    assert pierre.submit("/mon-compte/supprimer", {"password": PASSWORD}).status_code in (204, 303)
    assert "Nouvelle demande de rattachement" not in [m["objet"] for m in download(marie)["courriels"]]
    assert marie.get("/mon-compte/donnees").status_code == 200


def download(client) -> dict:
    response = client.get("/mon-compte/donnees.json")
    assert response.status_code == 200
    return json.loads(response.get_data(as_text=True))
