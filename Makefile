# Holdless: `make run` starts the whole stack on embedded defaults; `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-unit venv sdk lint simulate bench bench-ewt soak clean catalogs

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# Twilio's Voice JavaScript SDK for the console's phone, exactly as package-lock.json names
# it (npm ci checks each package's integrity); skipped, saying so, where npm is absent: the
# console then uses the local stand-in's phone under `make run`.
SDK_BUNDLE := node_modules/@twilio/voice-sdk/dist/twilio.min.js
sdk: $(SDK_BUNDLE)

$(SDK_BUNDLE): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund && touch $@; \
	else echo "sdk: npm not found; Twilio's Voice SDK is not installed (the stand-in's phone works without it)" >&2; fi

run: $(STAMP)
	@$(MAKE) --no-print-directory sdk
	$(BIN)/holdless run

# The suite in tiers (tests/unit, tests/integration, tests/system): the pure unit tier
# first, stopping at its first failure; pytest's 5 ("no tests ran", e.g. every test
# deselected by -k) is not a failure of a tier.
test: $(STAMP)
	@$(MAKE) --no-print-directory sdk
	$(BIN)/python -m pytest tests/unit -x $(PYTEST_ARGS) || test $$? -eq 5
	$(BIN)/python -m pytest tests/integration tests/system $(PYTEST_ARGS) || test $$? -eq 5

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Translation catalogs (docs/languages.md): merge the code's sentences into every .po.
catalogs: $(STAMP)
	$(BIN)/python -m holdless.catalogs update

clean:
	rm -rf $(VENV) instance .pytest_cache node_modules

# Performance (docs/performance.md): the stack as the Procfile runs it, on REDIS_URL /
# DATABASE_URL when given (both are emptied: point them at scratch databases).
bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || echo "bench: wrk not found (apt-get install -y wrk); using the slower Python load generator" >&2
	$(BIN)/python -m bench.perf $(BENCH_ARGS)

simulate: $(STAMP)
	$(BIN)/python -m simulator scenarios/first_day.toml --out sim-out

bench-ewt: $(STAMP)
	$(BIN)/python -m bench.ewt --out docs/wait-estimates.md

# The long reliability tests (docs/reliability.md), among them the failover test, which
# starts its own Redis primary, replica and Sentinels and PostgreSQL primary and standby on
# spare ports (Debian: redis-sentinel or redis-server, postgresql; .ci/run installs them).
soak: $(STAMP)
	$(BIN)/python -m pytest -m soak -s $(PYTEST_ARGS)
