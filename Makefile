# Gongyi — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PORT ?= 5000
CATALOGUES := $(wildcard app/translations app/*/translations)

.PHONY: run test test-pg test-e2e setup migrate babel-extract catalogues fonts clean bench

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the dependency lists change.
$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/activate
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

catalogues: $(VENV)/.installed
	@for d in $(CATALOGUES); do [ -z "$$(ls $$d/*/LC_MESSAGES/*.po 2>/dev/null)" ] || $(BIN)/pybabel compile -d $$d 2> /dev/null || exit 1; done

# The Chinese PDF export needs a CJK font: Debian's fonts-noto-cjk, installed only when absent.
CJK_FONT := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
fonts:
	@[ -f $(CJK_FONT) ] || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null; } \
	  || [ -f $(CJK_FONT) ] || echo "Note: install fonts-noto-cjk for the Chinese PDF export."

setup: $(VENV)/.installed catalogues fonts

migrate: setup
	$(FLASK) db upgrade

# The job queue's worker runs beside the server and stops with it.
run: migrate
	$(FLASK) seed-demo --if-empty
	@$(FLASK) worker & worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	  $(FLASK) run --host 127.0.0.1 --port $(PORT)

# pytest's exit code 5 means no test ran: that is a failure here, never a silent pass.
define run_pytest
	$(BIN)/python -m pytest $(1); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc
endef

test: setup
	$(call run_pytest,-m "not e2e" $(PYTEST_ARGS))

test-pg: setup
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} $(MAKE) --no-print-directory test

test-e2e: setup
	$(call run_pytest,-m e2e tests/e2e $(PYTEST_ARGS))

# Page checks that need tools from npm (installed into node_modules/, never committed).
# The Nu HTML checker needs Java 17; Lighthouse runs on the system Chromium.
NPM_INSTALL := npm install --no-save --no-audit --no-fund --no-package-lock
VNU_JAR := node_modules/vnu-jar/build/dist/vnu.jar
LIGHTHOUSE := node_modules/.bin/lighthouse

$(VNU_JAR):
	$(NPM_INSTALL) vnu-jar@26.9.27

$(LIGHTHOUSE):
	$(NPM_INSTALL) lighthouse@12.2.3

check-html: setup $(VNU_JAR)
	$(call run_pytest,-m e2e tests/e2e/test_html_valid.py $(PYTEST_ARGS))

# Lighthouse (mobile) on the sign-in, home, proposal and voting pages of a fresh demo
# site; writes the figures for docs/performance.md. Not part of CI.
lighthouse: setup $(LIGHTHOUSE)
	$(BIN)/python bench/lighthouse.py

# Every benchmark (bench/run_all.py): the villager's journey, the vote burst beside its
# floor, ten villages at once, the read pages at county size and the fault run, on SQLite
# and PostgreSQL against 127.0.0.1; rewrites the tables in docs/performance.md. About 5
# minutes on 2 cores. Not part of `make test`. The PostgreSQL database is created when
# missing; the fault run restarts only a private cluster of its own (needs root).
BENCH_PG_URL ?= postgresql://postgres@127.0.0.1:5432/gongyi_bench
bench: setup
	$(BIN)/python bench/run_all.py --pg-url $(BENCH_PG_URL) $(BENCH_ARGS)

# Bytes and slow-3G paint times per page type (needs a running demo site: make run).
page-weight: setup
	$(BIN)/python bench/page_weight.py http://127.0.0.1:$(PORT)

# Developers: collect new strings into every area's catalogue (then translate them).
babel-extract: setup
	$(BIN)/pybabel extract -q -F babel.cfg -k _l -o /tmp/gongyi-messages.pot .
	@for d in $(CATALOGUES); do $(BIN)/pybabel update -q -i /tmp/gongyi-messages.pot -d $$d -l zh_Hans --ignore-obsolete || exit 1; done

clean:
	rm -rf $(VENV) instance/gongyi.sqlite3*
