"""« Mon compte »'s « Informations personnelles » sent after another change
of them (a second tab) writes nothing over that change unseen, as a
structure's edit (forms/seen.py). A field changed meanwhile and left as
shown takes the stored value; one changed both here and meanwhile, to
different values, refuses the form once, the person's value kept and the
stored one named under it; sent again, it is written. The contact e-mail's
confirmation link follows what is written. The profile's draft carries
what the form showed. JavaScript off and under htmx."""

from __future__ import annotations

import json

import pytest

from models import Draft, User
from tests.support.app import query
from tests.support.constants import EMAIL
from tests.support.i18n import speak
from tests.support.responses import follow, text_of, without_tokens
from tests.support.seen import commit_while_checked, hint_of, made, read, seen_in, value_of
from tests.support.signup import link_in
from tests.support.structures import PIERRE, new_client

URL = "/mon-compte/"
PROFILE_URL = "/mon-compte/informations"
DRAFT_URL = "/mon-compte/informations/brouillon"
PROFILE = {"first_name": "Marie", "last_name": "Curie", "phone": "+33123456789", "contact_email": EMAIL}
CHANGED = "Ces informations ont été modifiées pendant que vous les modifiiez."
SAVED = "Vos informations ont été enregistrées."
CONTACT_SUBJECT = "Confirmez votre adresse de contact"


def stored(app, email: str = EMAIL) -> User:
    return query(app, lambda: User.by_email(email))


def tab(client) -> str:
    """« Mon compte » as a tab shows it: what its profile form carries."""
    response = client.get(URL)
    assert response.status_code == 200
    return seen_in(response)


def meanwhile(app, **changes) -> None:
    """Another change of the profile, committed (another tab)."""
    query(app, lambda: User.update(**changes).where(User.email == EMAIL).execute())


def contact_links(mailbox, address: str) -> list:
    return [mail for mail in mailbox(address) if mail.subject == CONTACT_SUBJECT]


def test_the_profile_form_carries_what_it_shows(app, marie):
    shown = read(tab(marie))
    assert shown == ["Marie", "Curie", "+33123456789", EMAIL]
    response = marie.submit(PROFILE_URL, {**PROFILE, "seen": made(shown), "phone": "06 12 34 56 78"})
    assert SAVED in follow(marie, response)
    assert stored(app).phone == "+33612345678"


def test_edits_of_different_fields_from_two_tabs_are_both_kept(app, marie):
    earlier = tab(marie)
    response = marie.submit(PROFILE_URL, {**PROFILE, "seen": tab(marie), "last_name": "Skłodowska-Curie"})
    assert SAVED in follow(marie, response)
    # The earlier tab changes the phone; its name is still the one it showed.
    response = marie.submit(PROFILE_URL, {**PROFILE, "seen": earlier, "phone": "06 12 34 56 78"})
    assert SAVED in follow(marie, response)
    user = stored(app)
    assert (user.last_name, user.phone) == ("Skłodowska-Curie", "+33612345678")


def test_one_field_changed_in_both_tabs_is_refused_once_with_the_value_stored_meanwhile(app, marie):
    earlier = tab(marie)
    meanwhile(app, first_name="Maria", phone="+33198765432")
    response = marie.submit(
        PROFILE_URL, {**PROFILE, "seen": earlier, "first_name": "Marie Salomea", "last_name": "Skłodowska"}
    )
    assert response.status_code == 422
    text = text_of(response)
    assert CHANGED in text and "Soumettez à nouveau pour l'enregistrer." in text
    assert ("<html" in text) != marie.htmx
    assert hint_of(text, "first_name") == "Enregistré entre-temps : Maria. Votre saisie est conservée."
    assert value_of(text, "first_name") == "Marie Salomea"
    # Changed meanwhile only: the stored value is taken, and named.
    assert value_of(text, "phone") == "01 98 76 54 32"  # as people write it; stored +33198765432
    assert hint_of(text, "phone").startswith("Enregistré entre-temps : 01 98 76 54 32. Facultatif.")
    # Changed here only: kept, nothing to name.
    assert value_of(text, "last_name") == "Skłodowska" and hint_of(text, "last_name") == ""
    user = stored(app)
    assert (user.first_name, user.last_name) == ("Maria", "Curie")  # nothing written
    # Sent again as it stands, the person having read the values, it is written.
    again = {**PROFILE, "seen": seen_in(response), "first_name": "Marie Salomea", "last_name": "Skłodowska",
             "phone": "+33198765432"}  # fmt: skip
    assert SAVED in follow(marie, marie.submit(PROFILE_URL, again))
    user = stored(app)
    assert (user.first_name, user.last_name, user.phone) == ("Marie Salomea", "Skłodowska", "+33198765432")


def test_a_field_changed_to_the_same_value_in_both_tabs_is_no_conflict(app, marie):
    earlier = tab(marie)
    meanwhile(app, first_name="Maria")
    response = marie.submit(PROFILE_URL, {**PROFILE, "seen": earlier, "first_name": "Maria"})
    assert "Aucune modification à enregistrer." in follow(marie, response)


def test_an_edit_without_what_it_showed_is_written_as_before(app, marie):
    """A page shown before the form carried what it showed: the last one
    sent wins, as it did."""
    meanwhile(app, first_name="Maria")
    assert SAVED in follow(marie, marie.submit(PROFILE_URL, {**PROFILE, "first_name": "Marie"}))
    assert stored(app).first_name == "Marie"


def test_the_english_page_names_the_stored_value_in_english(app, marie):
    speak(marie, page=URL)
    earlier = tab(marie)
    meanwhile(app, first_name="Maria")
    text = text_of(marie.submit(PROFILE_URL, {**PROFILE, "seen": earlier, "first_name": "Marie Salomea"}))
    assert "These details were changed while you were editing them." in text
    assert hint_of(text, "first_name") == "Saved in the meantime: Maria. What you typed is kept."


# -- the contact e-mail and its confirmation link ------------------------------------------


def test_a_contact_email_changed_in_another_tab_is_kept_and_its_link_not_sent_again(app, marie, mailbox):
    earlier = tab(marie)
    later = {**PROFILE, "seen": tab(marie), "contact_email": "contact@exemple.fr"}
    assert SAVED in follow(marie, marie.submit(PROFILE_URL, later))
    [link] = contact_links(mailbox, "contact@exemple.fr")
    # The earlier tab changes the phone, its contact e-mail left as it showed it.
    response = marie.submit(PROFILE_URL, {**PROFILE, "seen": earlier, "phone": "06 12 34 56 78"})
    assert SAVED in follow(marie, response)
    user = stored(app)
    assert (user.contact_email, user.phone) == ("contact@exemple.fr", "+33612345678")
    assert not user.contact_email_confirmed
    assert contact_links(mailbox, "contact@exemple.fr") == [link]
    # The link mailed first still confirms it.
    follow(marie, marie.submit(link_in(link)))
    assert stored(app).contact_email_confirmed


def test_a_contact_email_changed_in_both_tabs_is_refused_once_then_mailed_and_the_other_link_dies(
    app, marie, mailbox
):
    earlier = tab(marie)
    later = {**PROFILE, "seen": tab(marie), "contact_email": "contact@exemple.fr"}
    assert SAVED in follow(marie, marie.submit(PROFILE_URL, later))
    [first] = contact_links(mailbox, "contact@exemple.fr")
    response = marie.submit(PROFILE_URL, {**PROFILE, "seen": earlier, "contact_email": "bureau@exemple.fr"})
    assert response.status_code == 422
    text = text_of(response)
    assert hint_of(text, "contact_email").startswith(
        "Enregistré entre-temps : contact@exemple.fr. Votre saisie est conservée. Adresse sur laquelle"
    )
    assert value_of(text, "contact_email") == "bureau@exemple.fr"
    assert contact_links(mailbox, "bureau@exemple.fr") == []
    assert stored(app).contact_email == "contact@exemple.fr"
    # Sent again: written, its own link mailed, the other address's link dead.
    again = {**PROFILE, "seen": seen_in(response), "contact_email": "bureau@exemple.fr"}
    page = follow(marie, marie.submit(PROFILE_URL, again))
    assert "Un lien de confirmation a été envoyé à bureau@exemple.fr." in page
    assert len(contact_links(mailbox, "bureau@exemple.fr")) == 1
    assert marie.get(link_in(first)).status_code == 410
    assert stored(app).contact_email == "bureau@exemple.fr"


def test_an_internationalised_contact_email_stored_meanwhile_is_named_as_the_field_shows_it(app, marie):
    earlier = tab(marie)
    meanwhile(app, contact_email="contact@xn--ateliers-t-j7ab.fr")
    response = marie.submit(PROFILE_URL, {**PROFILE, "seen": earlier, "contact_email": "autre@exemple.fr"})
    text = text_of(response)
    assert hint_of(text, "contact_email").startswith("Enregistré entre-temps : contact@ateliers-été.fr.")
    assert "xn--" not in without_tokens(text)


# -- the draft ---------------------------------------------------------------------------


def draft_of(app) -> dict:
    return query(app, lambda: json.loads(Draft.get().data))


def test_a_draft_taken_up_later_keeps_what_the_page_showed(app, marie):
    """Typed in one tab and kept as a draft (autosave); another tab changes
    the phone; the draft taken up later on « Mon compte » still knows what
    was shown: sent, the phone stored meanwhile stays."""
    marie.submit(DRAFT_URL, {**PROFILE, "seen": tab(marie), "first_name": "Marie Salomea"})
    meanwhile(app, phone="+33198765432")
    response = marie.get(URL)
    page = text_of(response)
    assert value_of(page, "first_name") == "Marie Salomea" and value_of(page, "phone") == "01 23 45 67 89"
    sent = {**PROFILE, "seen": seen_in(response), "first_name": "Marie Salomea"}
    assert SAVED in follow(marie, marie.submit(PROFILE_URL, sent))
    user = stored(app)
    assert (user.first_name, user.phone) == ("Marie Salomea", "+33198765432")


def test_a_refused_form_s_draft_holds_what_the_page_shows_again(app, marie):
    """The form refused after a change meanwhile is kept as a draft as the
    page shows it: the value taken, and what the page now says it showed."""
    earlier = tab(marie)
    meanwhile(app, first_name="Maria", phone="+33198765432")
    response = marie.submit(PROFILE_URL, {**PROFILE, "seen": earlier, "first_name": "Marie Salomea"})
    assert response.status_code == 422
    kept = draft_of(app)
    assert kept["seen"] == seen_in(response)
    assert (kept["first_name"], kept["phone"]) == ("Marie Salomea", "+33198765432")
    # Taken up later and sent as it is: the person's value is written, the phone stays.
    later = marie.get(URL)
    sent = {**PROFILE, "seen": seen_in(later), "first_name": "Marie Salomea", "phone": "+33198765432"}
    assert SAVED in follow(marie, marie.submit(PROFILE_URL, sent))
    user = stored(app)
    assert (user.first_name, user.phone) == ("Marie Salomea", "+33198765432")


def test_what_the_page_showed_is_kept_whole_in_the_draft(app, marie):
    """Long names (100 characters each, the most a name may have) make a
    long ``seen``: the draft keeps it whole, or it would read as made up."""
    long = {"first_name": "É" * 100, "last_name": "Ł" * 100}
    meanwhile(app, **long)
    shown = tab(marie)
    assert len(shown) > 300
    marie.submit(DRAFT_URL, {**PROFILE, **long, "seen": shown, "phone": "06 12 34 56 78"})
    assert draft_of(app)["seen"] == shown
    assert seen_in(marie.get(URL)) == shown


# -- attacks -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "forged",
    ["not json", "[1, 2]", made([{"a": 1}] * 4), "<script>alert(1)</script>", "\u200bW1td", "é" * 5000],
)
def test_attack_a_made_up_seen_field_writes_nothing_unseen(app, marie, forged):
    """What the form showed, made up or unreadable: every field that differs
    from the stored one is named, as after any change meanwhile; nothing is
    written unseen, and the field sent back holds the stored profile."""
    response = marie.submit(PROFILE_URL, {**PROFILE, "seen": forged, "first_name": "Maria"})
    assert response.status_code == 422
    text = text_of(response)
    assert "<script>alert(1)" not in text
    assert hint_of(text, "first_name") == "Enregistré entre-temps : Marie. Votre saisie est conservée."
    assert 'href="#seen"' not in text  # no error on a field the person cannot see
    assert read(seen_in(response)) == read(tab(marie))
    assert stored(app).first_name == "Marie"


def test_attack_a_seen_from_another_account_tells_nothing_of_it_and_writes_nothing_unseen(
    app, marie, mailbox
):
    """Marie posts Pierre's page's ``seen`` with her form: it is only ever
    compared with her own profile; the page names her stored values, never
    his, and his account is untouched."""
    pierre = new_client(app, mailbox, PIERRE)
    his = tab(pierre)
    response = marie.submit(PROFILE_URL, {**PROFILE, "seen": his, "first_name": "Maria"})
    assert response.status_code == 422
    text = text_of(response)
    for his_value in ("Pierre", "Durand", "pierre.contact@exemple.fr", "pierre.durand@exemple.fr"):
        assert his_value not in text
    assert hint_of(text, "first_name") == "Enregistré entre-temps : Marie. Votre saisie est conservée."
    assert read(seen_in(response)) == read(tab(marie))
    assert stored(app).first_name == "Marie"
    his_row = stored(app, PIERRE["email"])
    assert (his_row.first_name, his_row.contact_email) == ("Pierre", "pierre.contact@exemple.fr")


def test_attack_an_oversized_seen_posted_to_the_draft_is_cut_not_stored_whole(app, marie):
    marie.submit(DRAFT_URL, {**PROFILE, "seen": "A" * 60_000})
    assert len(draft_of(app)["seen"]) == 4096
    response = marie.get(URL)
    assert response.status_code == 200
    assert "A" * 5000 not in text_of(response)


@pytest.fixture
def committed_while_checked(app, monkeypatch):
    """Another change of the profile committed right after this form was
    checked, before its write: the two requests sent at the same time."""
    from forms.account import ProfileForm

    return commit_while_checked(monkeypatch, ProfileForm, lambda **details: meanwhile(app, **details))


def test_attack_a_change_committed_between_the_check_and_the_write_is_not_written_over(
    app, marie, mailbox, committed_while_checked
):
    committed_while_checked({"first_name": "Maria", "phone": "+33198765432"})
    response = marie.submit(PROFILE_URL, {**PROFILE, "seen": tab(marie), "last_name": "Skłodowska"})
    assert SAVED in follow(marie, response)
    user = stored(app)
    assert (user.first_name, user.phone, user.last_name) == ("Maria", "+33198765432", "Skłodowska")
    # One changed on both sides: refused once, the value stored meanwhile named.
    committed_while_checked({"contact_email": "contact@exemple.fr"})
    response = marie.submit(PROFILE_URL, {**PROFILE, "seen": tab(marie), "contact_email": "bureau@exemple.fr",
                                          "first_name": "Maria", "last_name": "Skłodowska",
                                          "phone": "+33198765432"})  # fmt: skip
    assert response.status_code == 422
    assert hint_of(text_of(response), "contact_email").startswith(
        "Enregistré entre-temps : contact@exemple.fr. Votre saisie est conservée."
    )
    assert stored(app).contact_email == "contact@exemple.fr"
    assert contact_links(mailbox, "bureau@exemple.fr") == []
