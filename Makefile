# CanvasCraft ML Studio. Needs only Python 3.11, git and make.
#   make run    create .venv, install, migrate, seed the demo, serve on http://127.0.0.1:8000/
#   make test   install what tests need and run the whole suite (browser tests included)
#   make bench  benchmarks that print their figures (docs/benchmarks.md)
#   make lint   ruff check + format check

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
NPM_STAMP := node_modules/.installed-npm
# Tests that enqueue tasks into a shared Redis use queues of their own, never a studio's.
TEST_ENV := CANVASCRAFT_REDIS_PREFIX=canvascraft-test
# librosa's numba compiles once per cache dir: keep it outside the checkout so it survives.
export NUMBA_CACHE_DIR ?= $(HOME)/.cache/canvascraft/numba
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test test-fast test-browser bench lint format clean install chromium npm

test-browser: $(DEV_STAMP) chromium npm
	$(TEST_ENV) $(PY) -m pytest -m browser -p no:asyncio -W ignore::pytest.PytestConfigWarning -q tests/e2e

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11 or run 'make PYTHON=/path/to/python3.11'"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# Dependencies are read from pyproject.toml; installing happens only when it changed.
$(RUNTIME_STAMP): pyproject.toml | $(PY)
	$(PY) -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml','rb'))['project']['dependencies']))" > $(VENV)/requirements-runtime.txt
	$(PIP) install -r $(VENV)/requirements-runtime.txt
	touch $@

$(DEV_STAMP): pyproject.toml $(RUNTIME_STAMP)
	$(PY) -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml','rb'))['project']['optional-dependencies']['dev']))" > $(VENV)/requirements-dev.txt
	$(PIP) install -r $(VENV)/requirements-dev.txt
	touch $@

install: $(RUNTIME_STAMP)

# Browser libraries (uPlot for the live charts) come from npm, pinned in package-lock.json, and
# are served from node_modules through staticfiles. Optional: without npm (or offline) the
# studio still runs and its live charts use the built-in renderer (static/js/charts.js).
npm: $(NPM_STAMP)

$(NPM_STAMP): package.json $(wildcard package-lock.json)
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "npm not found: live charts fall back to the built-in renderer."; \
	elif [ -f package-lock.json ]; then \
		npm ci --no-audit --no-fund --loglevel=error && $(ORT_COPY) && touch $@ \
			|| echo "npm ci failed: live charts fall back to the built-in renderer."; \
	else \
		npm install --no-audit --no-fund --loglevel=error && $(ORT_COPY) && touch $@ \
			|| echo "npm install failed: live charts fall back to the built-in renderer."; \
	fi

# ONNX Runtime Web (the model page's "run in this browser"): its package is 139 MB, so only its
# WASM build (~14 MB) is copied to node_modules/.canvascraft-ort, which settings.ORT_DIR serves;
# the source map goes along because the hashed static storage resolves the script's
# sourceMappingURL. Without these files the model page runs models on the server only.
ORT_COPY := { d=node_modules/.canvascraft-ort; rm -rf $$d && mkdir -p $$d \
	&& cp $(addprefix node_modules/onnxruntime-web/dist/,ort.wasm.min.js ort.wasm.min.js.map \
		ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm) $$d/ \
	|| { echo "onnxruntime-web files missing: models run on the server only."; rm -rf $$d; }; true; }

run: $(RUNTIME_STAMP) npm
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py runstudio

# Browser tests drive Debian's Chromium; install it when missing and possible (root + apt).
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "Installing Chromium for browser tests…"; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
				|| echo "Could not install Chromium: browser tests will be skipped."; \
		else echo "Chromium missing and not installable here: browser tests will be skipped."; fi; \
	fi

# Two pytest invocations: sync Playwright and pytest-asyncio cannot share one event loop.
test: $(DEV_STAMP) chromium npm
	$(TEST_ENV) $(PY) -m pytest -m "not browser" -q
	$(TEST_ENV) $(PY) -m pytest -m browser -p no:asyncio -W ignore::pytest.PytestConfigWarning -q tests/e2e; rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 5 ]

test-fast: $(DEV_STAMP)
	$(TEST_ENV) $(PY) -m pytest -m "not browser" -q -x

bench: $(DEV_STAMP)
	$(PY) bench/tracking.py
	$(PY) bench/features.py
	$(PY) bench/training_overhead.py
	$(PY) bench/live_latency.py
	$(PY) bench/sweep_overhead.py
	$(PY) bench/sweep_page.py
	$(PY) bench/serving.py

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(DEV_STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var
