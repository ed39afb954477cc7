# smweb: `make run` serves the demo on http://127.0.0.1:5000; `make test` runs every test.
# Each target sets itself up: virtual environment, dependencies, database migrations.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
FLASK := $(BIN)/flask --app app
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test lint install upgrade seed-demo clean bench load system-packages catalogs messages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) catalogs

# The translations (smweb/translations/<language>/LC_MESSAGES/messages.po) compiled for the
# app to read; the compiled .mo files are built here, never committed.
catalogs: $(STAMP)
	$(BIN)/pybabel -q compile -d smweb/translations

# After marking new words: extract them and add them to every language's catalogue (then
# translate the new entries; tests/test_translations.py says which are missing).
messages: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k lazy_gettext --add-location=file -o smweb/translations/messages.pot .
	$(BIN)/pybabel -q update -i smweb/translations/messages.pot -d smweb/translations --no-fuzzy-matching

# What the tests drive for real, from Debian: Chromium (the browser tests), Java (the Nu HTML
# checker), HAProxy (in front of two app servers) and clamd (the ClamAV scanner tests, with a
# signature file of their own: no download). Installed with apt
# when run as root; otherwise make stops and says the command to run.
system-packages:
	@need=""; [ -x $(CHROMIUM) ] || need="chromium"; \
	command -v java >/dev/null || need="$$need default-jre-headless"; \
	command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || need="$$need haproxy"; \
	clam=""; command -v clamd >/dev/null || [ -x /usr/sbin/clamd ] || clam="clamav-daemon"; \
	if [ -z "$$need$$clam" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "make test drives Debian packages that are missing here: $$need $$clam" >&2; \
		echo "Install them, then run make test again:" >&2; \
		echo "    sudo apt-get update && sudo apt-get install $$need $$clam" >&2; \
		exit 1; \
	fi; \
	echo "installing Debian packages: $$need $$clam"; \
	apt-get update -qq; \
	if [ -n "$$need" ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; fi; \
	if [ -n "$$clam" ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$clam >/dev/null; fi

# The web server and, beside it, the worker (email notices, escalation and the other
# scheduled jobs; its log in instance/worker.log). Ctrl-C stops both.
run: export SMWEB_ENV ?= development
run: $(STAMP) catalogs
	$(FLASK) db upgrade
	$(FLASK) smweb seed-demo
	@mkdir -p instance
	@echo "smweb is starting on http://127.0.0.1:5000 with its worker (Ctrl-C stops both)"
	@$(FLASK) smweb worker >> instance/worker.log 2>&1 & worker=$$!; \
	trap 'kill -INT $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	sleep 1; kill -0 $$worker 2>/dev/null || { echo "the worker did not start: see instance/worker.log" >&2; exit 1; }; \
	$(FLASK) run --host 127.0.0.1 --port 5000

# The whole suite on SQLite; again on PostgreSQL when SMWEB_TEST_DATABASE_URL names one
# (browser tests drive the SQLite run only: they test pages, not the database).
test: $(STAMP) catalogs system-packages
	$(BIN)/ruff check .
	env -u SMWEB_TEST_DATABASE_URL $(BIN)/python -m pytest
	if [ -n "$$SMWEB_TEST_DATABASE_URL" ]; then \
		$(BIN)/python -m pytest -m "not browser" -p no:cacheprovider; fi

lint: $(STAMP)
	$(BIN)/ruff check .

# Benchmark and concurrency check (bench/README.md): flags through BENCH_ARGS, e.g.
# make bench BENCH_ARGS="--small" or BENCH_ARGS="--database-url postgresql+psycopg://...".
bench: $(STAMP) catalogs
	$(BIN)/python -m bench $(BENCH_ARGS)
	$(BIN)/python -m bench.send_mail
	$(BIN)/python -m bench.reports

# Then two app servers behind HAProxy (PostgreSQL, Redis, SeaweedFS), one killed halfway
# through 60 s of 50 users: tests/test_two_servers.py, at full length.
load: $(STAMP) catalogs system-packages
	$(BIN)/python -m bench.load $(BENCH_ARGS)
	SMWEB_TEST_DATABASE_URL=$${SMWEB_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} \
		SMWEB_LOAD_USERS=50 SMWEB_LOAD_SECONDS=60 \
		$(BIN)/pytest -q -s -p no:cacheprovider tests/test_two_servers.py -k "killed or carry"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
