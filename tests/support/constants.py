"""Values the app under test is configured with, and the ones tests type."""

CAPTCHA_ANSWER = "K7MX3P"  # CAPTCHA_FIXED_ANSWER of the test apps
PASSWORD = "Correct-Cheval-42"
NEW_PASSWORD = "Nouveau-Velo-Rouge-77"
EMAIL = "marie.curie@exemple.fr"  # PERSON's address, as the app stores it
