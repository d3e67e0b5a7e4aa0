# The two set-up commands: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_DIR := tests/node
NODE_STAMP := $(NODE_DIR)/node_modules/.installed

.PHONY: demo test lint bench install clean

$(PY_STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -c constraints.txt pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $@

$(NODE_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	npm ci --prefix $(NODE_DIR) --no-audit --no-fund --loglevel=error
	touch $@

# Debian tools some tests drive for real (needs root, as in CI): headless Chromium renders the HTML
# report; systemd-analyze verifies the operator recipes in cli/.
CHROMIUM := /usr/bin/chromium
SYSTEMD_ANALYZE := /usr/bin/systemd-analyze
$(CHROMIUM) $(SYSTEMD_ANALYZE):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core systemd

install: $(PY_STAMP)

demo: $(PY_STAMP)
	$(BIN)/defirisk demo

lint: $(PY_STAMP)
	$(BIN)/ruff check .

test: $(PY_STAMP) $(NODE_STAMP) $(CHROMIUM) $(SYSTEMD_ANALYZE) lint
	$(BIN)/python -m pytest -q

bench: $(PY_STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest -q -s -o python_files="bench_*.py" tests/benchmarks

clean:
	rm -rf $(VENV) $(NODE_DIR)/node_modules .cache .pytest_cache dist
