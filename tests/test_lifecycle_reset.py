"""« Mot de passe oublié ? »: the request, the link, the new password."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from models import OutboxMail, Token, User, db, utcnow
from tests.support.app import Client
from tests.support.concurrency import post_at_once
from tests.support.constants import EMAIL, NEW_PASSWORD, PASSWORD
from tests.support.responses import error_of, follow, signs_in_first
from tests.support.signup import link_in

# CSRF tokens carry a timestamp: they differ from one second to the next.
CSRF = re.compile(r'csrf_token"[^>]*?value="[^"]+|"X-CSRFToken": "[^"]+')
RESET_SUBJECT = "Réinitialisez votre mot de passe"


def ask_reset(client, email=EMAIL):
    return client.submit("/mot-de-passe-oublie/", {"email": email})


def reset_links(mailbox, email=EMAIL) -> list[str]:
    return [link_in(m) for m in mailbox(email) if m.subject == RESET_SUBJECT]


def choose(client, link, password=NEW_PASSWORD, confirm=None):
    return client.submit(link, {"password": password, "password_confirm": confirm or password})


def signs_in(client, password, email=EMAIL) -> bool:
    response = client.submit("/connexion", {"email": email, "password": password})
    return response.status_code in (204, 303)


def stored(app, email=EMAIL) -> User:
    with app.app_context(), db.connection_context():
        return User.by_email(email)


def test_the_sign_in_page_offers_mot_de_passe_oublie(any_client):
    text = any_client.get("/connexion").get_data(as_text=True)
    assert "Mot de passe oublié ?" in text and 'href="/mot-de-passe-oublie/"' in text
    page = any_client.get("/mot-de-passe-oublie/")
    assert page.status_code == 200
    assert "Adresse e-mail" in page.get_data(as_text=True)


def test_a_request_mails_a_link_and_answers_si_un_compte_existe(any_client, account, mailbox):
    response = ask_reset(any_client, "Marie.Curie@Exemple.fr")
    text = follow(any_client, response, pushed="/mot-de-passe-oublie/envoye")
    assert "Si un compte existe" in text
    assert '<a href="/connexion">Retour à la connexion</a>' in text  # the way back once the mail is read
    [link] = reset_links(mailbox)
    assert link.startswith("/mot-de-passe-oublie/")


def test_enumeration_on_reset_gets_the_same_answer_for_any_address(app, any_client, signup, mailbox):
    signup.create_account(email="en.attente@exemple.fr", email_confirm="en.attente@exemple.fr")
    signup.create_account()
    signup.activate()
    answers = {}
    for email in (EMAIL, "personne@exemple.fr", "en.attente@exemple.fr"):
        response = ask_reset(any_client, email)
        page = any_client.get("/mot-de-passe-oublie/envoye")
        answers[email] = (
            response.status_code,
            tuple(sorted(k for k, _ in response.headers if k.lower().startswith("hx-"))),
            CSRF.sub("CSRF", page.get_data(as_text=True).replace(email, "ADDRESS")),
        )
    assert len(set(answers.values())) == 1
    # Only the owners hear of it: a link for the active account, the
    # activation link again for the pending one, nothing for a stranger.
    assert len(reset_links(mailbox)) == 1
    assert mailbox("personne@exemple.fr") == []
    assert mailbox("en.attente@exemple.fr")[-1].subject == "Activez votre compte"


def test_a_malformed_address_is_shown_next_to_its_field_and_kept(any_client):
    response = ask_reset(any_client, "marie.curie@")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in text and "nom de domaine" in text
    assert 'value="marie.curie@"' in text


def test_opening_the_link_shows_the_form_and_changes_nothing(app, any_client, account, mailbox):
    ask_reset(any_client)
    [link] = reset_links(mailbox)
    for _ in range(2):  # a mail scanner may open it first
        response = any_client.get(link)
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert "Nouveau mot de passe" in text and "12 caractères minimum" in text
    with app.app_context(), db.connection_context():
        assert Token.get(Token.purpose == Token.RESET).used_at is None
    assert signs_in(any_client, PASSWORD)


def test_a_new_password_from_the_link_signs_in_and_notifies(app, any_client, account, mailbox):
    ask_reset(any_client)
    [link] = reset_links(mailbox)
    response = choose(any_client, link)
    if any_client.htmx:
        assert response.status_code == 200 and response.headers["HX-Push-Url"] == "/mon-compte/"
        text = response.get_data(as_text=True)
    else:
        assert response.status_code == 303 and response.headers["Location"] == "/mon-compte/"
        text = any_client.get("/mon-compte/").get_data(as_text=True)
    assert "Votre mot de passe a été modifié" in text
    assert [m.subject for m in mailbox(EMAIL)][-1] == "Votre mot de passe a été modifié"
    any_client.submit("/deconnexion")
    assert not signs_in(any_client, PASSWORD)
    assert signs_in(any_client, NEW_PASSWORD)


def test_used_token_is_refused(any_client, account, mailbox):
    ask_reset(any_client)
    [link] = reset_links(mailbox)
    choose(any_client, link)
    any_client.submit("/deconnexion")
    response = any_client.get(link)
    assert response.status_code == 410
    assert "Recevoir un nouveau lien" in response.get_data(as_text=True)
    assert choose(any_client, link, "Encore-Autre-Chose-99").status_code == 410
    assert signs_in(any_client, NEW_PASSWORD)


def test_expired_token_is_refused(app, any_client, account, mailbox):
    ask_reset(any_client)
    [link] = reset_links(mailbox)
    with app.app_context(), db.connection_context():
        Token.update(expires_at=utcnow() - timedelta(seconds=1)).where(Token.purpose == Token.RESET).execute()
    assert any_client.get(link).status_code == 410
    assert choose(any_client, link).status_code == 410
    assert signs_in(any_client, PASSWORD)


def test_the_link_lives_sixty_minutes(app, client, account, mailbox):
    ask_reset(client)
    with app.app_context(), db.connection_context():
        token = Token.get(Token.purpose == Token.RESET)
        assert token.expires_at - token.created_at == timedelta(minutes=60)


def test_attack_a_stranger_asking_again_does_not_revoke_the_link_being_opened(
    app, any_client, account, signup, mailbox
):
    """Anybody may ask a reset for any address: asked again at once, a new
    link revoked the one its holder had just opened, who got a 410 on
    sending the new password. Within the cooldown nothing is sent (the same
    answer), and the link stays good; once it is past, a new link goes."""
    ask_reset(any_client)
    [link] = reset_links(mailbox)
    assert any_client.get(link).status_code == 200
    stranger = Client(app)
    text = follow(stranger, ask_reset(stranger))
    assert "Si un compte existe" in text
    assert reset_links(mailbox) == [link]
    assert follow(any_client, choose(any_client, link)) and signs_in(Client(app), NEW_PASSWORD)
    app.config["RESEND_COOLDOWN_SECONDS"] = 0
    ask_reset(stranger)
    assert len(reset_links(mailbox)) == 2


def test_attack_a_stranger_asking_a_reset_does_not_revoke_a_pending_account_s_activation_link(
    app, any_client, signup, mailbox
):
    """A pending account's reset mails its activation link again: not
    within the cooldown after the last one, which its holder may be opening."""
    signup.create_account()
    activation = signup.activation_path()
    assert any_client.get(activation).status_code == 200
    ask_reset(Client(app))
    assert [m.subject for m in mailbox(EMAIL)].count("Activez votre compte") == 1
    assert any_client.get(activation).status_code == 200


def test_older_token_after_a_newer_one_is_refused(any_client, app, account, mailbox):
    app.config["RESEND_COOLDOWN_SECONDS"] = 0
    ask_reset(any_client)
    ask_reset(any_client)
    old, new = reset_links(mailbox)
    assert old != new
    assert any_client.get(old).status_code == 410
    assert choose(any_client, old).status_code == 410
    assert any_client.get(new).status_code == 200


def test_an_activation_link_is_not_a_reset_link(any_client, signup, mailbox):
    signup.create_account()
    activation = signup.activation_path()
    token = activation.rsplit("/", 1)[1]
    assert any_client.get(f"/mot-de-passe-oublie/{token}").status_code == 410


def test_token_used_twice_at_once_resets_once(app, account, mailbox):
    app.test_client_class = Client
    clients = [app.test_client() for _ in range(2)]
    ask_reset(clients[0])
    [link] = reset_links(mailbox)
    passwords = [NEW_PASSWORD, "Autre-Velo-Bleu-88"]
    forms = [
        {"password": p, "password_confirm": p, "csrf_token": c.csrf_token()}
        for c, p in zip(clients, passwords, strict=True)
    ]
    statuses = [r.status_code for r in post_at_once(link, clients, forms)]
    assert sorted(statuses) == [303, 410]
    with app.app_context(), db.connection_context():
        assert (
            Token.select().where((Token.purpose == Token.RESET) & Token.used_at.is_null(False)).count() == 1
        )
    changed = [m for m in mailbox(EMAIL) if m.subject == "Votre mot de passe a été modifié"]
    assert len(changed) == 1
    winner = passwords[statuses.index(303)]
    assert signs_in(app.test_client(), winner)


def test_session_alive_after_reset_is_ended(app, any_client, account, mailbox):
    """A session opened before the reset (on a stolen laptop, say) ends."""
    app.test_client_class = type(any_client)
    elsewhere = app.test_client()
    assert signs_in(elsewhere, PASSWORD)
    assert elsewhere.get("/mon-compte/").status_code == 200
    epoch = stored(app).session_epoch
    ask_reset(any_client)
    [link] = reset_links(mailbox)
    choose(any_client, link)
    assert stored(app).session_epoch == epoch + 1
    assert signs_in_first(elsewhere.get("/mon-compte/"))
    assert any_client.get("/mon-compte/").status_code == 200  # the resetting browser is signed in


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Court-1a", "au moins 12 caractères"),
        ("Azertyuiop123!", "trop courant"),
        ("Marie-Curie-2024!", "ni votre nom"),
    ],
)
def test_the_new_password_follows_the_rule_of_step_4(any_client, account, mailbox, password, message):
    ask_reset(any_client)
    [link] = reset_links(mailbox)
    response = choose(any_client, link, password)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert any_client.get(link).status_code == 200  # the link is still good
    assert signs_in(any_client, PASSWORD)


def test_attack_a_reset_to_the_current_password_is_refused_and_keeps_the_link(
    app, any_client, account, mailbox
):
    """A reset to the password a thief may know changes nothing: no session
    ends, no « modifié » mail; the link stays good for another password."""
    ask_reset(any_client)
    [link] = reset_links(mailbox)
    before, mails = stored(app), len(mailbox(EMAIL))
    response = choose(any_client, link, PASSWORD)
    assert response.status_code == 422
    assert ("<html" in response.get_data(as_text=True)) is not any_client.htmx
    assert "doit être différent du mot de passe actuel" in error_of(response, "password")
    after = stored(app)
    assert (after.password_hash, after.session_epoch) == (before.password_hash, before.session_epoch)
    assert len(mailbox(EMAIL)) == mails
    assert any_client.get(link).status_code == 200
    follow(any_client, choose(any_client, link), pushed="/mon-compte/")
    any_client.submit("/deconnexion")
    assert signs_in(any_client, NEW_PASSWORD)


def test_a_reset_checks_the_stored_hash_once_and_only_for_a_password_the_rule_accepts(
    any_client, account, mailbox, monkeypatch
):
    import accounts

    checks = []
    verify = accounts.verify_password
    monkeypatch.setattr(accounts, "verify_password", lambda *args: checks.append(1) or verify(*args))
    ask_reset(any_client)
    [link] = reset_links(mailbox)
    assert choose(any_client, link, "Court-1a").status_code == 422
    assert checks == []
    follow(any_client, choose(any_client, link), pushed="/mon-compte/")
    assert checks == [1]


def test_attack_the_reset_form_answers_one_guess_of_the_current_password_per_link(
    app, any_client, account, mailbox
):
    """Its « différent du mot de passe actuel » tells the link's holder that
    a guess is the old password. Only one guess per link: a wrong one that
    the rule accepts sets it as the password and spends the link (and the
    owner gets « modifié »); one the rule refuses is never checked."""
    ask_reset(any_client)
    [link] = reset_links(mailbox)
    assert choose(any_client, link, "court").status_code == 422  # no hash checked
    follow(any_client, choose(any_client, link, "Essai-Numero-001!"), pushed="/mon-compte/")
    assert mailbox(EMAIL)[-1].subject == "Votre mot de passe a été modifié"
    assert choose(any_client, link, PASSWORD).status_code == 410


def test_a_reset_lifts_the_sign_in_delay(app, client, account, mailbox):
    client.delete_cookie("device")  # a browser the account does not know
    for _ in range(6):
        client.submit("/connexion", {"email": EMAIL, "password": "Pas-le-bon-1234"})
    assert not signs_in(client, PASSWORD)  # in its delay
    ask_reset(client)
    [link] = reset_links(mailbox)
    choose(client, link)
    client.submit("/deconnexion")
    assert stored(app).failed_sign_ins == 0
    assert signs_in(client, NEW_PASSWORD)


def test_the_account_exists_mail_links_to_the_reset_page(client, signup, mailbox):
    signup.create_account()
    signup.activate()
    with client.session_transaction() as session:
        session.clear()
    signup.create_account(first_name="Autre")
    [mail] = [m for m in mailbox() if m.subject == "Votre compte existe déjà"]
    assert re.search(r"https?://\S+/mot-de-passe-oublie/\s", mail.body_text)


def test_a_disabled_account_is_told_by_mail_why_no_link_comes_attack_mail_flood(
    app, any_client, account, mailbox
):
    """Closed by the portal's team: no link (it would sign in nowhere), but
    its owner, who would wait for one, is told by mail why; the page answers
    as for any address. At most one such mail per cooldown, whoever asks."""
    with app.app_context(), db.connection_context():
        User.update(status=User.DISABLED).where(User.email == EMAIL).execute()
        # Its sign-up's mail, long ago.
        OutboxMail.update(created_at=utcnow() - timedelta(days=1)).execute()
    for _ in range(3):
        text = follow(any_client, ask_reset(any_client), pushed="/mot-de-passe-oublie/envoye")
        assert "Si un compte existe" in text
    told = [m for m in mailbox(EMAIL) if m.subject == "Votre compte est désactivé"]
    assert len(told) == 1 and reset_links(mailbox) == []
    assert "Ce compte a été désactivé par l'équipe du portail" in told[0].body_text
    assert "http" not in told[0].body_text.split("Bonjour")[1].split("Si vous n'êtes pas")[0]
