# Action Plan Tracker — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test install install-dev serve clean bench

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: set up the venv and the embedded SQLite database with demo data, then serve.
## TRACKER_ENV=development allows the development SECRET_KEY (production refuses it); it is also
## written to .flaskenv (git-ignored) so later `.venv/bin/flask --app wsgi …` commands work here.
run: export TRACKER_ENV ?= development
run: install
	@test -f .flaskenv || printf '%s\n' '# Written by make run: local development (the development SECRET_KEY is allowed).' \
	    'TRACKER_ENV=development' > .flaskenv
	$(FLASK) init-db
	$(FLASK) seed --if-empty --demo-progress
	@sed "s#http://127.0.0.1:5000/#http://$(HOST):$(PORT)/#" docs/demo-logins.txt
	@HOST=$(HOST) PORT=$(PORT) FLASK="$(FLASK)" sh scripts/run-dev.sh

## make test: the whole suite (PostgreSQL and browser tests skip with a reason when absent).
test: install-dev
	$(BIN)/python -m pytest -q -rs

bench: install-dev
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) instance .pytest_cache
