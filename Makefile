VENV := .venv
PY := $(VENV)/bin/python
DEV_ENV := DJANGO_DEBUG=true

.PHONY: run test lint check venv clean screenshots

$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

venv: $(VENV)/.installed

## The portal with demo data, Celery worker and scheduler (SQLite and a local broker by default).
run: venv
	mkdir -p .run/broker
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py seed_demo
	$(DEV_ENV) deploy/dev/run.sh

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## Lint, Django's checks and the whole test suite on real PostgreSQL and Redis.
test: venv
	deploy/dev/ensure-test-packages.sh
	$(MAKE) lint
	deploy/dev/with-test-services.sh $(MAKE) check pytest

check:
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py check --fail-level WARNING
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py makemigrations --check --dry-run
	@# make run's own path: every migration and the demo data on SQLite.
	rm -f .run/smoke.sqlite3 && mkdir -p .run/broker
	$(DEV_ENV) DATABASE_URL=sqlite:///.run/smoke.sqlite3 $(PY) manage.py migrate --noinput -v0
	$(DEV_ENV) DATABASE_URL=sqlite:///.run/smoke.sqlite3 $(PY) manage.py seed_demo
	rm -f .run/smoke.sqlite3

## Refresh the README's screenshots in docs/screenshots/ (taken by the browser tests).
screenshots: venv
	deploy/dev/with-test-services.sh env UPDATE_SCREENSHOTS=1 $(PY) -m pytest tests/journeys/test_screenshots.py

pytest:
	$(PY) -m pytest $(PYTEST_ARGS)

## Benchmarks on real PostgreSQL, Redis, gunicorn, Celery and Kamailio; writes docs/benchmarks.md.
.PHONY: bench
bench: venv
	bench/prepare.sh
	THROWAWAY_PG_DURABLE=1 deploy/dev/with-test-services.sh $(PY) -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .run db.sqlite3
