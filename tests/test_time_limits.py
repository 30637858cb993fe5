"""Time limits are announced (RGAA 13.1): the captcha's 10 minutes before it
runs out, the activation link's 60 minutes; the captcha is renewed without
losing what step 2 recorded."""

from __future__ import annotations

from tests.support.constants import CAPTCHA_ANSWER
from tests.support.responses import follow, text_of
from tests.support.signup import PERSON, challenge_on

CAPTCHA_LIMIT = "Chaque image est valable 10 minutes."
LINK_LIMIT = "Le lien est valable 1 heure"


def test_the_captcha_page_announces_its_ten_minutes(any_client):
    any_client.submit("/inscription/", PERSON)
    assert CAPTCHA_LIMIT in text_of(any_client.get("/inscription/captcha"))


def test_a_new_image_keeps_step_two_and_the_limit_starts_again(any_client):
    any_client.submit("/inscription/", PERSON)
    first = challenge_on(text_of(any_client.get("/inscription/captcha")))
    any_client.submit("/inscription/captcha/nouveau", {"challenge_id": first})
    page = text_of(any_client.get("/inscription/captcha"))
    second = challenge_on(page)
    assert second != first and CAPTCHA_LIMIT in page and PERSON["email"].lower() in page
    # Step 2 is still filled in, and the new image completes the sign-up.
    assert f'value="{PERSON["last_name"]}"' in text_of(any_client.get("/inscription/"))
    response = any_client.submit("/inscription/captcha", {"challenge_id": second, "answer": CAPTCHA_ANSWER})
    assert LINK_LIMIT in follow(any_client, response, pushed="/inscription/envoye")
