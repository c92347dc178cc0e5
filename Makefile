# `make run` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CHROMIUM := /usr/bin/chromium

.PHONY: run test test-postgres lint bench wrk clean chromium messages

$(VENV)/.installed: setup.cfg setup.py pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# The Swedish catalog. `make messages` extracts every string wrapped for translation, merges
# it into the .po (new strings empty, changed ones fuzzy: tests/web/test_i18n_catalog.py fails
# until a translator fills them) and compiles the .mo, which is committed so that run.py and
# the tests never depend on a build step; the same test fails when the .mo is stale.
TRANSLATIONS := returns_app/translations
POT := $(TRANSLATIONS)/messages.pot
# pybabel's default keywords (_, gettext, ngettext, N_ ...) and the lazy ones forms use; the
# catalog test extracts with the same (EXTRACT_KEYWORDS there).
BABEL_KEYWORDS := -k _l -k lazy_gettext

messages: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --add-location=file \
		--sort-output --no-wrap --project=returns-assistant -o $(POT) .
	$(VENV)/bin/pybabel update -i $(POT) -d $(TRANSLATIONS) --no-wrap --ignore-obsolete
	$(VENV)/bin/pybabel compile -d $(TRANSLATIONS) --statistics

run: $(VENV)/.installed
	$(PY) run.py

# Debian's chromium drives the browser tests (Playwright can't download browsers here).
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
				chromium fonts-dejavu-core; \
		else \
			echo "chromium is missing and can't be installed without root: browser tests will be skipped"; \
		fi; \
	fi

# PYTEST_ARGS: what pytest runs, e.g. `make test-postgres PYTEST_ARGS=tests/postgres`.
PYTEST_ARGS ?=

test: $(VENV)/.test-installed chromium
	$(PY) -m ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

# The suite on PostgreSQL: scripts/postgres_cluster.py installs Debian's postgresql if missing,
# starts a throwaway cluster as an unprivileged user in a temporary folder, runs pytest with
# RETURNS_DATABASE_URL pointing at it, then stops and deletes it. POSTGRES_CLUSTER_ARGS: e.g.
# --ports 55400-55499 to keep its port in a range.
POSTGRES_CLUSTER_ARGS ?=

test-postgres: $(VENV)/.test-installed chromium
	$(PY) -m ruff check .
	$(PY) scripts/postgres_cluster.py $(POSTGRES_CLUSTER_ARGS) -- $(PY) -m pytest $(PYTEST_ARGS)

# The load benchmark (README, "Serving it in production"): Debian's wrk drives it. It builds
# bench/data/ on first use (a few minutes at 1,000,000 orders) and writes bench/results.md.
wrk:
	@if ! command -v wrk >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; \
		else \
			echo "wrk is missing and can't be installed without root"; exit 1; \
		fi; \
	fi

bench: $(VENV)/.installed wrk
	$(PY) -m bench.run

lint: $(VENV)/.test-installed
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) instance/*.sqlite3* .pytest_cache build dist
