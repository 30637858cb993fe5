# The two commands of the README: `make run` and `make test`.
# Both install first (idempotent, quick when nothing changed).

VENV   := .venv
PYTHON := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app app
PYTEST_WORKERS ?= auto

.PHONY: install translations test-packages speech-tools bench-packages run test lint send-mail bench clean

# The audio captcha's voice banks (voices/<language>), made from espeak-ng.
VOICE_LANGUAGES := fr en
VOICE_BANKS := $(VOICE_LANGUAGES:%=voices/%/.made)

# The compiled translation catalogues (translations/<language>/LC_MESSAGES/messages.mo).
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))

install: $(VENV)/.installed node_modules/.installed $(VOICE_BANKS) $(CATALOGUES)

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian packages, as "command:package" pairs, installed when the command is
# missing: as root with apt-get, otherwise the one command to run is printed.
# Never a downloaded browser or server: only Debian's packages.
#   chromium          the browser tests, and the benchmark's sign-ups with JavaScript
#                     on (Playwright drives /usr/bin/chromium)
#   java, openssl     the W3C Nu checker (vnu.jar from npm vnu-jar); the DKIM test key
#   espeak-ng, sox    the audio captcha's voice banks
#   the servers       throwaway PostgreSQL, redis-server, nginx -t, systemd-analyze verify
#   wrk               the web benchmark's load (the suite runs it on a tiny setting)
SPEECH_PACKAGES := /usr/bin/espeak-ng:espeak-ng /usr/bin/sox:sox
BENCH_PACKAGES := /usr/bin/wrk:wrk /usr/bin/pg_dump:postgresql /usr/bin/chromium:chromium
TEST_PACKAGES := /usr/bin/chromium:chromium /usr/bin/java:default-jre-headless /usr/bin/openssl:openssl \
  $(SPEECH_PACKAGES) /usr/bin/redis-server:redis-server \
  /usr/sbin/nginx:nginx-light /usr/bin/systemd-analyze:systemd $(BENCH_PACKAGES)

define debian_packages
	@missing=""; for pair in $(1); do \
	  [ -x "$${pair%%:*}" ] || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	  else \
	    echo "Missing packages; install them with:  sudo sh -c 'apt-get update && apt-get install -y$$missing'"; exit 1; \
	  fi; \
	fi
endef

test-packages:
	$(call debian_packages,$(TEST_PACKAGES))

speech-tools:
	$(call debian_packages,$(SPEECH_PACKAGES))

bench-packages:
	$(call debian_packages,$(BENCH_PACKAGES))

voices/%/.made: scripts/make_voices.py challenges/bank.py | $(VENV)/.installed
	$(MAKE) --no-print-directory speech-tools
	$(PYTHON) scripts/make_voices.py $*
	touch $@

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(VENV)/bin/pybabel compile --statistics -i $< -o $@

# After changing a text a person reads: extract them all, then translate
# what `messages.po` marks new or fuzzy, and `make install` compiles it.
translations: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext --project="Portail Structures" -o translations/messages.pot \
	  --sort-by-file --no-wrap --ignore-dirs=".venv node_modules tests bench migrations scripts" .
	$(VENV)/bin/pybabel update -i translations/messages.pot -d translations --no-wrap --ignore-obsolete

run: install
	FLASK_DEBUG=1 $(FLASK) init-db
	FLASK_DEBUG=1 $(FLASK) run --host 127.0.0.1 --port 5000

test: test-packages install
	@echo "Screenshots of the browser tests go to $(CURDIR)/test-artifacts/screenshots"
	$(PYTHON) -m pytest -n $(PYTEST_WORKERS) -q -m "not serial"
	@echo "Timing measurements, alone (no other test running beside them):"
	$(PYTHON) -m pytest -n 0 -q -m serial

lint: install
	$(VENV)/bin/ruff check .

# Every benchmark of bench/ (python -m bench); non-zero when a goal is missed.
# BENCH_BASELINE=main also measures that ref's tree in the same run (before/after).
bench: bench-packages install
	BENCH_BASELINE=$(BENCH_BASELINE) $(PYTHON) -m bench

send-mail: install
	$(FLASK) send-mail --loop

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache voices translations/*/LC_MESSAGES/*.mo
