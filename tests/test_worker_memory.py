"""A web worker's memory (issue 11, P5): libraries that only rare paths need
are imported by their first use, not by every worker at start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Each is several MB in every worker: numpy (the audio captcha), py_webauthn
# and cryptography (passkeys, authenticator apps), dkimpy (signed mail only),
# qrcode (an enrolment's QR code).
RARE = ("numpy", "webauthn", "cryptography", "OpenSSL", "dkim", "dns", "qrcode")


def _modules_after(tmp_path, code: str) -> set[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FLASK_")},
        "FLASK_SECRET_KEY": "worker-memory-test-0123456789abcdef",
        "FLASK_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}",
        "FLASK_EXTERNAL_BASE_URL": "https://127.0.0.1:5000",
        "PYTHONPATH": str(ROOT),
    }
    script = (
        "import json, sys\nfrom app import create_app\napp = create_app()\n"
        + code
        + "\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_started_worker_has_not_imported_the_rare_paths_libraries(tmp_path):
    loaded = _modules_after(tmp_path, "")
    assert not loaded & set(RARE), loaded & set(RARE)


def test_the_captcha_image_does_not_import_numpy_but_its_audio_does(tmp_path):
    drawn = _modules_after(
        tmp_path, "import challenges\nwith app.app_context():\n    challenges._drawn_image('x', 'ACEFGH')"
    )
    assert "numpy" not in drawn
    spoken = _modules_after(
        tmp_path,
        "import challenges\nfrom challenges import bank\n"
        "if bank.has_voices('fr'):\n"
        "    with app.test_request_context():\n        challenges.audio_wav('x', 'fr')\n"
        "else:\n    import numpy",
    )
    assert "numpy" in spoken


def test_checking_a_password_reads_zxcvbns_list_without_importing_zxcvbn(tmp_path):
    """Importing zxcvbn ranks all its lists (14 MB a worker keeps); only its
    common passwords are used, read from its file."""
    checked = _modules_after(
        tmp_path, "from rules.passwords import check_password\ncheck_password('Correct-Cheval-42', [])"
    )
    assert "zxcvbn" not in checked


def test_the_common_passwords_are_zxcvbns_own_list():
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # its import splits the lists

    from rules.passwords import _zxcvbn_passwords

    assert _zxcvbn_passwords() == FREQUENCY_LISTS["passwords"]
    assert len(FREQUENCY_LISTS["passwords"]) == 30_000
