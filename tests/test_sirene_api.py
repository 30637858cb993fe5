"""The optional online source (recherche-entreprises' JSON shape), against a
fake server on 127.0.0.1: found, unknown, timeout, 5xx, junk, the cache and
the circuit breaker. No test reaches the network."""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from models import db
from sirene import api, directory
from tests.support.app import Client, HtmxClient, clean_environment, make_app, outbox
from tests.support.responses import error_of, text_of
from tests.support.seen import value_of
from tests.support.signup import PERSON
from tests.support.structures import STRUCTURE, sign_up, structures

SIRET = "73282932000074"
OTHER = "73282932000058"
UNKNOWN = "44306184100047"


def company(siret: str = SIRET, state: str = "A") -> dict:
    place = {
        "siret": siret,
        "numero_voie": "12",
        "indice_repetition": None,
        "type_voie": "BD",
        "libelle_voie": "HAUSSMANN",
        "complement_adresse": "BATIMENT A",
        "code_postal": "75009",
        "libelle_commune": "PARIS 9",
        "commune": "75109",
        "etat_administratif": state,
        "liste_enseignes": ["ATELIER CURIE"],
    }
    head = {**place, "siret": SIRET}
    return {
        "siren": siret[:9],
        "nom_complet": "CURIE ET FILLES (ACF)",
        "nom_raison_sociale": "CURIE ET FILLES",
        "siege": head,
        "matching_etablissements": [place] if siret != SIRET else [],
    }


def masked_person(siret: str = SIRET, state: str = "A") -> dict:
    """A sole trader who asked not to be shown: recherche-entreprises says
    « P » and writes a placeholder where the name and street would be."""
    answer = company(siret, state)
    hidden = "[NON-DIFFUSIBLE]"
    answer.update(statut_diffusion="P", nom_complet=hidden, nom_raison_sociale=None)
    for place in [answer["siege"], *answer["matching_etablissements"]]:
        place.update(statut_diffusion="P", numero_voie=hidden, type_voie=None, libelle_voie=hidden,
                     complement_adresse=hidden, liste_enseignes=None, libelle_commune="BORDEAUX")  # fmt: skip
    return answer


class FakeApi:
    """recherche-entreprises in miniature; ``mode`` picks how it misbehaves."""

    def __init__(self) -> None:
        self.mode, self.state, self.requests, self.masked = "ok", "A", [], False
        self.released = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                fake.requests.append(self.path)
                query = parse_qs(urlsplit(self.path).query).get("q", [""])[0]
                if fake.mode == "slow":  # far past the timeout: a slow machine cannot blur the two
                    fake.released.wait(5.0)
                if fake.mode == "error":
                    self.send_response(503)
                    self.end_headers()
                    return
                if fake.mode == "junk":
                    body = b"<html>maintenance</html>"
                else:
                    make = masked_person if fake.masked else company
                    results = [make(query, fake.state)] if query in (SIRET, OTHER) else []
                    body = json.dumps({"results": results, "total_results": len(results)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()  # joins the answers still being written
        self.thread.join(5)


class Server(ThreadingHTTPServer):
    """A fake whose answers all end with the test that asked them: a slow
    answer left writing into the next test, to a client long gone, printed its
    broken pipe there, and a traceback printed from another thread while
    pytest parses one can trip Python 3.11's AST recursion check
    (« SystemError: AST constructor recursion depth mismatch »)."""

    daemon_threads = False  # server_close() waits for each answer

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that gave up is no fault
            super().handle_error(request, client_address)


@pytest.fixture
def fake_api():
    server = FakeApi()
    yield server
    server.stop()


def app_asking(tmp_path, monkeypatch, fake_api, **settings):
    """An app whose online source is the fake one (no proxy in the way)."""
    clean_environment(monkeypatch)
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    return make_app(tmp_path, SIRENE_API_URL=fake_api.url, SIRENE_API_TIMEOUT=0.3, **settings)


@pytest.fixture
def app(tmp_path, monkeypatch, fake_api):
    return app_asking(
        tmp_path, monkeypatch, fake_api, SIRENE_API_FAILURES_BEFORE_PAUSE=2, SIRENE_API_PAUSE_SECONDS=60
    )


def consult(app, siret):
    with app.test_request_context(), db.connection_context():
        return directory.consult(siret)


def test_found_online_with_insee_s_fields(app, fake_api):
    answer = consult(app, SIRET)
    assert answer.source == "api" and answer.entry.company_name == "CURIE ET FILLES"
    assert answer.entry.address == "12 Boulevard HAUSSMANN" and answer.entry.label == "ATELIER CURIE"
    assert answer.entry.head_office and answer.entry.active
    other = consult(app, OTHER).entry
    assert other.siret == OTHER and not other.head_office
    assert fake_api.requests[0] == f"/search?q={SIRET}"


def test_answers_are_cached(app, fake_api):
    consult(app, SIRET)
    consult(app, SIRET)
    consult(app, UNKNOWN)
    consult(app, UNKNOWN)
    assert len(fake_api.requests) == 2


def test_unknown_online_is_refused_at_step_6(app, client, mailbox):
    sign_up(client, mailbox)
    response = client.submit("/structure/nouvelle", {**STRUCTURE, "identifier": UNKNOWN})
    assert response.status_code == 422
    assert directory.UNKNOWN in error_of(response, "identifier")


def test_step_6_filled_from_the_online_source(app, client, mailbox):
    sign_up(client, mailbox)
    response = client.submit("/structure/nouvelle", {"identifier_type": "siret", "identifier": SIRET})
    text = text_of(response)
    assert response.status_code == 200 and "CURIE ET FILLES" in text and "12 Boulevard HAUSSMANN" in text


@pytest.mark.parametrize("mode", ["slow", "error", "junk"])
def test_source_down_the_person_types_by_hand_and_is_told_why(app, client, mailbox, fake_api, mode):
    fake_api.mode = mode
    sign_up(client, mailbox)
    clock = time.monotonic()
    response = client.submit("/structure/nouvelle", {**STRUCTURE, "identifier": SIRET})
    assert time.monotonic() - clock < 5
    assert response.status_code == 303  # created from what was typed
    assert structures(app)[0].company_name == STRUCTURE["company_name"]
    fake_api.mode = "ok"
    assert consult(app, OTHER).entry is not None  # the source answers again


def test_source_down_message_in_the_form(app, client, mailbox, fake_api):
    fake_api.mode = "error"
    sign_up(client, mailbox)
    response = client.submit("/structure/nouvelle", {**STRUCTURE, "identifier": SIRET, "city": ""})
    assert response.status_code == 422
    assert api.UNAVAILABLE in text_of(response)


def test_circuit_breaker_stops_asking_a_failing_source(app, fake_api):
    fake_api.mode = "error"
    for _ in range(5):
        assert consult(app, SIRET).problem == api.UNAVAILABLE
    assert len(fake_api.requests) == 2  # paused after two failures in a row
    fake_api.mode = "ok"
    assert consult(app, SIRET).problem == api.UNAVAILABLE  # still paused
    with app.app_context():
        app.extensions["sirene_api"].paused_until = 0
    assert consult(app, SIRET).entry is not None


def test_timeout_is_bounded(app, fake_api):
    fake_api.mode = "slow"
    clock = time.monotonic()
    assert consult(app, SIRET).problem == api.UNAVAILABLE
    assert time.monotonic() - clock < 3  # the timeout's 0.3 s and the request's own, not the 5 s


def test_closed_online_establishment_refused(app, client, mailbox, fake_api):
    fake_api.state = "F"
    sign_up(client, mailbox)
    response = client.submit("/structure/nouvelle", {**STRUCTURE, "identifier": SIRET})
    assert response.status_code == 422 and directory.CLOSED in error_of(response, "identifier")


def test_find_in_ignores_hostile_shapes_attack_odd_json():
    assert api.find_in({"results": [{"siege": {"siret": SIRET}}]}, SIRET).company_name is None
    assert api.find_in({"results": None}, SIRET) is None
    assert api.find_in({}, SIRET) is None


def test_attack_other_invisible_format_characters_are_removed_not_no_break_spaces():
    """Beyond the listed ones, any invisible format character (Unicode Cf:
    the Arabic letter mark, a soft hyphen, interlinear annotations) goes;
    a no-break space, which INSEE's names may hold, stays."""
    answer = company()
    answer["nom_raison_sociale"] = "CU\u061cRIE\u00ad ET\ufff9 FILLES"
    answer["siege"] = {**answer["siege"], "libelle_commune": "PARIS\u00a09"}
    entry = api.find_in({"results": [answer]}, SIRET)
    assert (entry.company_name, entry.city) == ("CURIE ET FILLES", "PARIS\u00a09")


def test_attack_a_character_the_forms_refuse_never_comes_from_the_directory():
    """A filler that draws nothing (U+3164) or a variation selector is no Cf
    character, yet step 6's fields refuse it (rules.text): a name filled in
    from the directory with one could not be sent, for a character nobody sees."""
    from rules.text import check_text

    answer = company()
    answer["nom_raison_sociale"] = "CURIE\u3164 ET FILLES\ufe0f"
    entry = api.find_in({"results": [answer]}, SIRET)
    assert entry.company_name == "CURIE ET FILLES"
    assert check_text(entry.company_name) == "CURIE ET FILLES"


def test_attack_control_characters_in_an_online_answer_are_removed():
    """The online source's answer is data from outside too: its control and
    invisible characters (a bidi override spoofing a name) never reach the
    form nor the search, as the importer keeps them out of the local copy."""
    answer = company()
    answer["nom_raison_sociale"] = "\u202eCURIE\x1f ET\u200b FILLES\r\n"
    answer["siege"] = {**answer["siege"], "libelle_commune": "PARIS\x00\x85 9", "liste_enseignes": ["A\tB"]}
    entry = api.find_in({"results": [answer]}, SIRET)
    assert (entry.company_name, entry.city, entry.label) == ("CURIE ET FILLES", "PARIS 9", "A B")


def test_attack_an_online_answer_never_shows_a_masked_person_as_diffusible():
    """A partially diffusible person found online is marked so (step 6 ticks
    « Non diffusible »), and the source's placeholder is no name nor street:
    it would be filled in, and the name locked as INSEE's."""
    entry = api.find_in({"results": [masked_person()]}, SIRET)
    assert not entry.diffusible
    assert (entry.company_name, entry.address, entry.address_2, entry.label) == (None, None, None, None)
    assert entry.city == "BORDEAUX"
    only_the_place = company()
    only_the_place["siege"]["statut_diffusion"] = "P"
    assert not api.find_in({"results": [only_the_place]}, SIRET).diffusible
    assert api.find_in({"results": [company()]}, SIRET).diffusible
    for status in ("O", "o", None):
        answer = company()
        answer["statut_diffusion"] = status
        assert api.find_in({"results": [answer]}, SIRET).diffusible


def test_step_6_with_a_masked_person_online_leaves_the_name_to_type(app, client, mailbox, fake_api):
    fake_api.masked = True
    sign_up(client, mailbox)
    response = client.submit("/structure/nouvelle", {"identifier_type": "siret", "identifier": SIRET})
    text = text_of(response)
    assert "NON-DIFFUSIBLE" not in text
    assert re.search(r'<input(?=[^>]*name="non_diffusible")(?=[^>]*checked)[^>]*>', text)
    assert not re.search(r'<input(?=[^>]*name="company_name")(?=[^>]*readonly)[^>]*>', text)
    assert value_of(text, "city") == "BORDEAUX"


def valid_siret(n: int) -> str:
    """A SIRET of a valid format (its keys), unknown to the fake source, one per n."""
    from stdnum import luhn

    siren = f"{20_000_000 + n:08d}"
    siren += luhn.calc_check_digit(siren)
    return siren + "0000" + luhn.calc_check_digit(siren + "0000")


@pytest.fixture
def limited_app(tmp_path, monkeypatch, fake_api):
    return app_asking(
        tmp_path,
        monkeypatch,
        fake_api,
        RATELIMIT_ENABLED=True,
        RATELIMIT_SIRENE_LOOKUP="3 per hour",
        TRUSTED_PROXIES=1,
    )


def signed_in(app, htmx: bool, person=PERSON):
    app.test_client_class = HtmxClient if htmx else Client
    client = app.test_client()
    return sign_up(client, lambda recipient=None: outbox(app, recipient), person)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_attack_step_6_s_own_requests_cannot_drain_the_online_source(limited_app, fake_api, htmx):
    """« Soumettre » and « Créer cette structure » (``?siret=``) over SIRET
    after SIRET: past the client's share of the source it is no longer
    asked, and under FLASK_SIRENE_CHECK the SIRET is refused for now (not
    let through unchecked), with what was typed kept."""
    client = signed_in(limited_app, htmx)
    for n in range(6):
        client.submit("/structure/nouvelle", {**STRUCTURE, "identifier": valid_siret(n)})
        client.get(f"/structure/nouvelle?siret={valid_siret(100 + n)}")
    assert len(fake_api.requests) == 3
    response = client.submit("/structure/nouvelle", {**STRUCTURE, "identifier": valid_siret(50)})
    assert response.status_code == 422
    assert directory.TOO_MANY.split(" : ")[0] in error_of(response, "identifier")
    assert value_of(text_of(response), "company_name") == STRUCTURE["company_name"]
    assert structures(limited_app) == []
    assert len(fake_api.requests) == 3


def test_attack_one_account_from_many_addresses_has_one_share_of_the_source(limited_app, fake_api):
    client = signed_in(limited_app, False)
    for n in range(6):
        client.submit(
            "/structure/nouvelle",
            {**STRUCTURE, "identifier": valid_siret(n)},
            headers={"X-Forwarded-For": f"203.0.113.{n + 1}"},
        )
    assert len(fake_api.requests) == 3


def test_answers_already_cached_cost_no_share_of_the_source(limited_app, fake_api):
    client = signed_in(limited_app, False)
    for _ in range(6):
        response = client.submit("/structure/nouvelle", {"identifier_type": "siret", "identifier": SIRET})
        assert "CURIE ET FILLES" in text_of(response)
    assert len(fake_api.requests) == 1


def test_attack_an_account_past_its_share_blocks_no_colleague_behind_the_same_address(limited_app, fake_api):
    """One office address, two accounts: the first spends its share (and
    more); the second's first « Soumettre » is checked as ever."""
    first = signed_in(limited_app, False)
    for n in range(6):
        first.submit("/structure/nouvelle", {**STRUCTURE, "identifier": valid_siret(n)})
    colleague = signed_in(
        limited_app, False, {**PERSON, "email": "pierre@exemple.fr", "email_confirm": "pierre@exemple.fr"}
    )
    response = colleague.submit("/structure/nouvelle", {"identifier_type": "siret", "identifier": SIRET})
    assert "CURIE ET FILLES" in text_of(response)
