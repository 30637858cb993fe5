"""The fixed cost of a request (issue 11, P1): what is done once instead of
on every request must never carry one visitor's or one language's output to
another. Attacks are named after what they try."""

from __future__ import annotations

import re

import pytest
from flask import render_template_string, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf, validate_csrf
from itsdangerous import URLSafeTimedSerializer
from markupsafe import escape
from wtforms import StringField

import breach
import forms
import views
from forms.registration import PersonalInfoForm
from forms.validators import PostalCode
from tests.support.app import CSRF_IN_PAGE, Client, HtmxClient
from tests.support.structures import sign_up
from views.registration import registration_field

SHARED = ["/", "/connexion", "/mot-de-passe-oublie/", "/inscription/"]
LAYOUT_PARTS = {"layouts/_head.html", "layouts/_footer.html"}
ENGLISH = {"Accept-Language": "en"}


def token_in(response) -> str:
    match = CSRF_IN_PAGE.search(response.get_data(as_text=True))
    return match.group(1) or match.group(2)


def tokens_in(response) -> set[str]:
    """The tokens a page carries, unmasked (each place has its own mask)."""
    html = response.get_data(as_text=True)
    found = re.findall(r'csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    found += re.findall(r'"X-CSRFToken": "([^"]+)"', html)
    return {breach.unmask(token) for token in found}


def new_client(app, htmx: bool = False) -> Client:
    app.test_client_class = HtmxClient if htmx else Client
    return app.test_client()


def renders_of(app, monkeypatch, layout_parts: bool = False) -> list[str]:
    """The pages rendered from then on; or the layout's parts alone."""
    seen: list[str] = []
    original = views.render_template

    def counting(template, **context):
        if (template in LAYOUT_PARTS) is layout_parts:
            seen.append(template)
        return original(template, **context)

    monkeypatch.setattr(views, "render_template", counting)
    return seen


@pytest.mark.parametrize("path", SHARED)
def test_a_shared_page_is_rendered_once_for_every_anonymous_visitor(app, monkeypatch, path):
    seen = renders_of(app, monkeypatch)
    first, second = new_client(app).get(path), new_client(app).get(path)
    assert first.status_code == second.status_code == 200
    assert len(seen) == 1
    assert views.TOKEN_STAND_IN not in first.get_data(as_text=True) + second.get_data(as_text=True)


def test_the_layouts_head_and_footer_are_drawn_once_per_language_for_every_page(app, mailbox, monkeypatch):
    """Every page's head (after its title) and footer read nothing but the
    language and the settings: drawn once per language, whoever asks, signed
    in or not, and never one language's for the other."""
    seen = renders_of(app, monkeypatch, layout_parts=True)
    pierre = sign_up(new_client(app), mailbox)
    french, english = new_client(app), new_client(app)
    pages = []
    for _ in range(2):
        for client, path, headers in (
            (pierre, "/structure/nouvelle", {}),
            (pierre, "/mon-compte/", {}),
            (french, "/plan-du-site", {}),
            (english, "/plan-du-site", ENGLISH),
            (english, "/connexion?x=1", ENGLISH),
        ):
            answer = client.get(path, headers=headers)
            assert answer.status_code == 200
            pages.append((headers, answer.get_data(as_text=True)))
    assert sorted(seen) == sorted([*LAYOUT_PARTS, *LAYOUT_PARTS])  # each one, in French and in English
    for headers, html in pages:
        english_page = bool(headers)
        assert ("Plan du site</a>" in html) is not english_page and ("Site map</a>" in html) is english_page
        assert re.search(r'<link rel="stylesheet" href="/static/css/app\.[0-9a-f]+\.css">', html)
        assert html.index("<title>") < html.index('rel="stylesheet"') < html.index("</head>")
        assert (
            html.index('<footer class="site-footer">')
            < html.index('class="site-footer__links"')
            < html.index("</footer>")
        )


def test_the_layout_parts_follow_the_application_root(app):
    """Kept per root the portal is mounted at: its links under one root are
    never served under another, whichever was drawn first."""

    def head_and_footer(root: str) -> tuple[str, str]:
        html = (
            new_client(app).get("/plan-du-site", base_url=f"http://localhost{root}/").get_data(as_text=True)
        )
        return html.split("</title>")[1].split("</head>")[0], html.split('<footer class="site-footer">')[1]

    for _ in range(2):
        _, footer = head_and_footer("/portail")
        assert 'href="/portail/plan-du-site"' in footer
        _, footer = head_and_footer("")
        assert 'href="/plan-du-site"' in footer and "/portail/" not in footer


@pytest.mark.parametrize("path", SHARED)
def test_a_shared_page_never_carries_another_visitors_csrf_token(app, path):
    alice, bob = new_client(app), new_client(app)
    alice_page, bob_page = alice.get(path), bob.get(path)
    alice_tokens, bob_tokens = tokens_in(alice_page), tokens_in(bob_page)
    assert len(alice_tokens) == 1 and len(bob_tokens) == 1
    assert alice_tokens != bob_tokens
    # Each token is its visitor's: it passes with its own session, not the other's.
    (bob_token,) = bob_tokens
    assert bob.post("/langue", data={"csrf_token": bob_token, "lang": "en", "next": "/"}).status_code == 303
    assert alice.post("/langue", data={"csrf_token": bob_token, "lang": "en", "next": "/"}).status_code == 400


@pytest.mark.parametrize("path", SHARED)
def test_a_shared_page_never_serves_one_language_to_another(app, path):
    french, english = new_client(app), new_client(app)
    for _ in range(2):
        assert '<html lang="fr">' in french.get(path).get_data(as_text=True)
        assert '<html lang="en">' in english.get(path, headers=ENGLISH).get_data(as_text=True)


def test_a_shared_page_never_serves_a_fragment_for_a_page_or_the_other_way(app):
    page, fragment = new_client(app), new_client(app, htmx=True)
    for _ in range(2):
        assert page.get("/connexion").get_data(as_text=True).startswith("<!doctype html>")
        html = fragment.get("/connexion").get_data(as_text=True)
        assert "<!doctype html>" not in html and 'data-hx-swap-oob="true"' in html


def test_a_signed_in_visitor_never_gets_the_anonymous_page_nor_gives_it_their_name(app, mailbox):
    anonymous = new_client(app)
    assert "Se connecter" in anonymous.get("/").get_data(as_text=True)
    person = sign_up(new_client(app), mailbox)
    home = person.get("/").get_data(as_text=True)
    assert "Mon compte" in home and "Curie" in home
    later = new_client(app).get("/").get_data(as_text=True)
    assert "Mon compte" not in later and "Curie" not in later


def test_a_flash_is_shown_to_its_visitor_only(app, mailbox):
    person = sign_up(new_client(app), mailbox)
    response = person.submit("/deconnexion", follow_redirects=True)
    assert "Vous êtes déconnecté." in response.get_data(as_text=True)
    assert "Vous êtes déconnecté." not in new_client(app).get("/").get_data(as_text=True)


def test_a_query_string_is_never_shared(app):
    first = new_client(app).get("/connexion?next=/mon-compte").get_data(as_text=True)
    assert "next=/mon-compte" in first or "next=%2Fmon-compte" in first
    assert "mon-compte" not in new_client(app).get("/connexion").get_data(as_text=True)


def test_a_page_carrying_the_visitors_own_token_is_not_shared(app, monkeypatch):
    """A page whose form was made before the stand-in took its place (the
    form carries the visitor's own token) is answered, never kept."""
    from forms.auth import LoginForm

    seen = renders_of(app, monkeypatch)
    with app.test_request_context("/connexion"):
        app.preprocess_request()
        made_too_early = LoginForm()
        response = views.shared_page("auth/login.html", lambda: {"form": made_too_early, "next_url": None})
        assert response.status_code == 200
        assert views.TOKEN_STAND_IN not in response.get_data(as_text=True)
    assert not app.extensions.get("shared_pages")
    assert len(seen) == 1


def test_a_page_showing_the_visitors_raw_token_is_not_shared_attack_token_leak(app, monkeypatch):
    """However the visitor's own token reached the render unmasked, the page
    is answered to that visitor only, never kept for the next one."""
    import breach

    render = views._render_with_stand_in

    def leaking(template, context):
        return render(template, context) + f"<!-- {breach.raw_token_payload()} -->"

    monkeypatch.setattr(views, "_render_with_stand_in", leaking)
    first = new_client(app).get("/connexion").get_data(as_text=True)
    second = new_client(app).get("/connexion").get_data(as_text=True)
    assert not app.extensions.get("shared_pages")
    assert first.split("<!-- ")[-1] != second.split("<!-- ")[-1]  # each visitor's own


# -- signing: the same cookies and tokens as the stock serializers ----------------------


def test_session_cookies_and_csrf_tokens_are_the_stock_ones(app):
    stock_sessions = SecureCookieSessionInterface().get_signing_serializer(app)
    ours = app.session_interface.get_signing_serializer(app)
    data = {"csrf_token": "ab" * 20, "lang": "en"}
    assert stock_sessions.loads(ours.dumps(data)) == data
    assert ours.loads(stock_sessions.dumps(data)) == data
    with app.test_request_context("/"):
        token = generate_csrf()
        raw = session["csrf_token"]
        stock = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
        assert stock.loads(token) == raw
        validate_csrf(stock.dumps(raw))  # a token signed the stock way passes
    forged = URLSafeTimedSerializer("another-secret", salt="wtf-csrf-token").dumps("ab" * 20)
    with app.test_request_context("/"), pytest.raises(Exception, match="invalid|does not match"):
        session["csrf_token"] = "ab" * 20
        validate_csrf(forged)


def test_an_anonymous_session_is_not_rewritten_by_each_request(app):
    client = new_client(app)
    client.get("/inscription/")
    token = token_in(client.get("/inscription/"))
    response = client.post(
        "/inscription/champ/email", data={"csrf_token": token, "email": "marie.curie@exemple.fr"}
    )
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_a_signed_in_session_seen_from_another_browser_is_no_longer_fresh(app, mailbox):
    person = sign_up(new_client(app), mailbox)
    with person.session_transaction() as signed_in:
        assert signed_in.get("_fresh") is True
    person.get("/", headers={"User-Agent": "another browser"})
    with person.session_transaction() as signed_in:
        assert signed_in.get("_fresh") is False


# -- templates and translations -----------------------------------------------------------


def test_an_address_built_once_follows_the_application_root(app):
    with app.test_request_context("/", base_url="http://localhost/portail/"):
        assert render_template_string("{{ url_for('auth.login') }}") == "/portail/connexion"
    with app.test_request_context("/"):
        assert render_template_string("{{ url_for('auth.login') }}") == "/connexion"
        assert url_for("auth.login") == "/connexion"


def test_templates_see_globals_added_after_they_were_loaded(app):
    with app.test_request_context("/"):
        template = app.jinja_env.from_string("{{ added_later | default('missing') }}")
        assert template.render() == "missing"
        app.jinja_env.globals["added_later"] = "seen"
        try:
            assert template.render() == "seen"
        finally:
            del app.jinja_env.globals["added_later"]


def test_a_mail_in_another_language_never_leaves_its_catalogue_to_the_page(app):
    with app.test_request_context("/", headers=ENGLISH):
        assert gettext("Accueil") == "Home"
        with force_locale("fr"):
            assert gettext("Accueil") == "Accueil"
            assert render_template_string("{{ _('Accueil') }}") == "Accueil"
        assert gettext("Accueil") == "Home"
        assert render_template_string("{{ _('Accueil') }}") == "Home"


def test_template_texts_are_formatted_and_escaped_as_jinja_does(app):
    with app.test_request_context("/"):
        source = "{{ _('%(portal)s – création', portal=name) }}|{{ _('100%%') }}"
        assert render_template_string(source, name="<b>") == "&lt;b&gt; – création|100%"


def test_the_inline_check_of_a_confirmation_reads_the_address_before_it(client):
    token = token_in(client.get("/inscription/"))
    typed = {
        "csrf_token": token,
        "email": " Marie.Curie@Exemple.fr ",
        "email_confirm": "marie.curie@exemple.fr",
    }
    same = client.post("/inscription/champ/email_confirm", data=typed).get_data(as_text=True)
    assert "field--error" not in same
    typed["email_confirm"] = "pierre@exemple.fr"
    other = client.post("/inscription/champ/email_confirm", data=typed).get_data(as_text=True)
    assert "field--error" in other


# -- a live check builds only the fields it reads (Form.checking) ----------------------

LIVE_TYPED = [
    {},
    {
        "email": "Marie.Curie@Exemple.fr", "email_confirm": "marie.curie@exemple.fr", "first_name": "Marie",
        "last_name": "Curie", "phone": "01 23 45 67 89", "contact_email": "contact@exemple.fr",
    },
    {
        "email": "pas-une-adresse", "email_confirm": "pierre@exemple.fr", "first_name": "M\u200barie",
        "last_name": "Иван Ivan", "phone": "12", "contact_email": "x@", "terms": "y",
    },
]  # fmt: skip


@pytest.mark.parametrize("typed", LIVE_TYPED)
@pytest.mark.parametrize("name", PersonalInfoForm.INLINE)
def test_a_live_check_answers_as_the_whole_forms_check_of_the_field(app, name, typed):
    client = new_client(app, htmx=True)
    sent = {"csrf_token": token_in(client.get("/inscription/")), **typed}
    answer = client.post(f"/inscription/champ/{name}", data=sent)
    assert answer.status_code == 200
    with app.test_request_context(f"/inscription/champ/{name}", method="POST", data=sent):
        whole = PersonalInfoForm(meta={"csrf": False})
        expected = str(registration_field(whole.validate_one(name)))
        recheck = name == "email" and bool(whole.email_confirm.data)
    assert answer.get_data(as_text=True) == expected
    assert ("HX-Trigger" in answer.headers) is recheck


def test_a_live_check_builds_the_field_and_those_compared_with_it_only(app):
    with app.test_request_context("/inscription/champ/email", method="POST"):
        fields = {
            name: {field.name for field in PersonalInfoForm.checking(name)(meta={"csrf": False})}
            for name in ("email", "email_confirm", "phone")
        }
    assert fields == {
        "email": {"email", "email_confirm"},
        "email_confirm": {"email", "email_confirm"},
        "phone": {"phone"},
    }
    assert PersonalInfoForm.checking("phone") is PersonalInfoForm.checking("phone")
    assert issubclass(PersonalInfoForm.checking("phone"), PersonalInfoForm)


@pytest.mark.parametrize("htmx", [False, True])
def test_the_step_shows_each_fields_hint_and_live_check(app, htmx):
    client = new_client(app, htmx=htmx)
    shown = client.get("/inscription/")
    sent = client.post("/inscription/", data={"csrf_token": token_in(shown), "email": "pas-une-adresse"})
    assert sent.status_code == 422
    for response in (shown, sent):
        page = response.get_data(as_text=True)
        assert ("<html" in page) is not htmx  # the page, or under htmx the step alone
        for name in PersonalInfoForm.INLINE:
            assert f'data-hx-post="/inscription/champ/{name}"' in page
        for hint in PersonalInfoForm.HINTS.values():
            assert str(escape(hint)) in page
    assert '<div class="field field--error" id="field-email">' in sent.get_data(as_text=True)


def test_attack_field_names_sent_to_the_live_check_make_no_new_form(app):
    client = new_client(app, htmx=True)
    sent = {"csrf_token": token_in(client.get("/inscription/"))}
    client.post("/inscription/champ/phone", data=sent)
    made = forms._checking.cache_info().currsize
    for name in ("terms", "survey_consent", "csrf_token", "__class__", "x" * 200, "validate"):
        assert client.post(f"/inscription/champ/{name}", data=sent).status_code == 404
    assert forms._checking.cache_info().currsize == made


def test_attack_fields_a_live_check_does_not_read_change_nothing_of_its_answer(app):
    client = new_client(app, htmx=True)
    token = token_in(client.get("/inscription/"))
    plain = client.post("/inscription/champ/phone", data={"csrf_token": token, "phone": "01 23 45 67 89"})
    noisy = {
        "csrf_token": token,
        "phone": "01 23 45 67 89",
        "terms": "\x01",
        "email": "<script>",
        "first_name": "x" * 5000,
    }
    answer = client.post("/inscription/champ/phone", data=noisy)
    assert answer.status_code == 200 and answer.get_data() == plain.get_data()


def test_the_live_check_validates_a_form_of_the_fields_it_reads_only(client, monkeypatch):
    validated = []
    original = forms.Form.validate_one

    def recording(self, name):
        validated.append(set(self._fields))
        return original(self, name)

    monkeypatch.setattr(forms.Form, "validate_one", recording)
    token = token_in(client.get("/inscription/"))
    client.post("/inscription/champ/phone", data={"csrf_token": token, "phone": "01 23 45 67 89"})
    client.post(
        "/inscription/champ/email_confirm", data={"csrf_token": token, "email_confirm": "a@exemple.fr"}
    )
    assert validated == [{"phone"}, {"email", "email_confirm"}]


class PostalForm(forms.Form):
    """A form whose postal code is read in the country of another field. Its
    names and labels are step 6's, as the portal's lists of fields read them
    from every form (forms.field_labels)."""

    country = StringField(_l("Pays"))
    postal_code = StringField(_l("Code postal"), validators=[PostalCode()])
    city = StringField(_l("Ville"))


def test_a_partial_form_keeps_the_fields_its_rules_read_by_name(app):
    with app.test_request_context(
        "/", method="POST", data={"country": "BE", "postal_code": "1000", "city": "x"}
    ):
        partial = PostalForm.checking("postal_code")(meta={"csrf": False})
        assert {field.name for field in partial} == {"postal_code", "country"}
        assert not partial.validate_one("postal_code").errors  # a Belgian code, read in Belgium


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("path", SHARED)
def test_a_shared_page_follows_the_application_root(app, path, htmx):
    """Reached under « /portail » and at the site's root alike (a proxy's
    path and the intranet's direct address), a page drawn once for every
    visitor is drawn once per root: its links, its form's address and its
    assets never send a visitor to the other root's."""
    for _ in range(2):
        for root in ("/portail", ""):
            html = new_client(app, htmx).get(path, base_url=f"http://localhost{root}/").get_data(as_text=True)
            addresses = re.findall(r'(?:href|src|action|hx-post|data-hx-post)="(/[^"]*)"', html)
            assert addresses, html[:500]
            for address in addresses:
                assert address.startswith(f"{root}/"), address
                assert root or not address.startswith("/portail/"), address
