# The two commands: `make run` and `make test`. Everything else is a step of theirs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: run test lint fmt install services services-down migrate seed cert bench clean messages

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c "import tomllib; d = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
		print('\n'.join(d['dependencies'] + d['optional-dependencies']['dev']))" > $(VENV)/requirements.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check -r $(VENV)/requirements.txt
	@touch $(STAMP)

install: $(STAMP)

## make run: embedded PostgreSQL + Redis (unless DATABASE_URL / REDIS_URL are set), migrate, demo data once,
## then web + Celery worker + beat. Ctrl-C stops all of it.
run: install
	$(BIN)/python -m hospital.stack

## make test: lint, then the whole suite on real PostgreSQL and Redis (embedded unless the URLs are set).
test: install lint
	$(BIN)/python -m hospital.core.embedded exec --profile test -- $(MAKE) --no-print-directory _pytest

_pytest:
	HOSPITAL_EMBEDDED_PROFILE=test $(BIN)/python manage.py makemigrations --check --dry-run
	HOSPITAL_EMBEDDED_PROFILE=test $(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy hospital emr scheduling pharmacy finance ai

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

services: install
	$(BIN)/python -m hospital.core.embedded up

services-down: install
	$(BIN)/python -m hospital.core.embedded down

migrate: install
	$(BIN)/python manage.py migrate

seed: install
	$(BIN)/python manage.py seed_demo

messages: install
	$(BIN)/python manage.py compilemessages --ignore=.venv

## make cert: a self-signed certificate for the docker-compose nginx (TLS 1.3 only).
cert:
	mkdir -p deploy/certs
	openssl req -x509 -newkey rsa:3072 -sha256 -days 365 -nodes -subj "/CN=localhost" \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-keyout deploy/certs/server.key -out deploy/certs/server.crt

bench: install
	$(BIN)/python -m hospital.core.embedded exec --profile test -- $(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) var/test
