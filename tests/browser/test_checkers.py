"""The engines the browser checks rely on do find faults: a page with known
faults fails each of them (so a green run is not an engine that ran nothing)."""

from __future__ import annotations

import pytest

from tests.browser.support.htmlcs import check_htmlcs
from tests.browser.support.nu import DomArchive

FAULTY = """<!DOCTYPE html><html lang="fr"><head><title>Faute</title></head><body><main>
<form><input type="text" name="nom" hx-post="/x"><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></form>
<label for="email">Courriel</label><input id="email" type="email" autocomplete="username">
<label for="tel">Téléphone</label><input id="tel" type="tel" autocomplete="bday">
</main></body></html>"""


def test_html_codesniffer_reports_errors_and_does_not_crash_on_autocomplete(page):
    page.set_content(FAULTY)
    with pytest.raises(AssertionError) as failure:
        check_htmlcs(page, "faute")
    report = str(failure.value)
    assert "H37" in report  # the image without alt
    assert "H98" in report and 'autocomplete="bday"' in report  # reported, no crash
    assert 'autocomplete="username"' not in report  # allowed by HTML on an e-mail field


def test_the_nu_checker_names_the_page_and_the_fault(page, tmp_path):
    page.set_content(FAULTY)
    archive = DomArchive(tmp_path)
    archive.save(page, "faute")
    errors = archive.validate()
    assert any("about:blank faute" in e and "“hx-post” not allowed" in e for e in errors), errors
