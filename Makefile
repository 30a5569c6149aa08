# Two entry points for a fresh Debian machine with Python 3.11:
#   make run   - set up, build the demo and serve it with its tracker at http://127.0.0.1:8000
#   make test  - set up (including Debian's chromium for the browser tests and dovecot
#                for the bounce mailbox's) and run the tests
# PYTEST_ARGS passes options to pytest, e.g. `make test PYTEST_ARGS=--slow`.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST_ARGS ?=

.PHONY: run test install browser imap lint

$(BIN)/polku: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]' -c constraints.txt
	touch $@

install: $(BIN)/polku

browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }

# The IMAP server the bounce mailbox's tests start (tests/imapserver.py).
imap:
	@test -x /usr/sbin/dovecot || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq dovecot-imapd; }

# The dashboard's password: POLKU_ADMIN_PASSWORD when you set it, otherwise a new
# random one on every run (a documented password would let any web page that
# reaches the demo log in).
PASSWORD_SH := "$${POLKU_ADMIN_PASSWORD:-$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(18))')}"

run: install
	$(BIN)/polku build
	@POLKU_ADMIN_PASSWORD=$(PASSWORD_SH) && export POLKU_ADMIN_PASSWORD && \
	echo "Dashboard: http://127.0.0.1:8000/admin/ (password: $$POLKU_ADMIN_PASSWORD)" && \
	exec $(BIN)/polku serve --host 127.0.0.1 --port 8000

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install browser imap lint
	$(BIN)/pytest $(PYTEST_ARGS)
