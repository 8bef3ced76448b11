# The two commands of the README: `make lab` and `make test`. Everything else is a step of theirs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: lab test setup serve checks lint layers typecheck pytest bench clean containers browser \
	fresh-clone-check

## Set up a virtualenv with workloadlab and everything its tests need.
setup: $(STAMP)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "workloadlab needs Python 3.11 or newer"; exit 1; }
	@$(PYTHON) -m venv --without-pip $(VENV) 2>/dev/null || { \
		echo "installing python3-venv with apt"; \
		apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null && \
		$(PYTHON) -m venv --without-pip $(VENV); }

## uv when it can be had (seconds), else pip (a minute): see scripts/install-deps.sh.
$(STAMP): pyproject.toml | $(BIN)/python
	scripts/install-deps.sh $(VENV) $(PYTHON) test
	@rm -f $(VENV)/.installed-* && touch $@

ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

## Open JupyterLab on the first tutorial; its server extension starts the local server.
lab: setup
	@$(BIN)/jupyter server extension enable workloadlab.jupyter --sys-prefix >/dev/null 2>&1
	$(BIN)/jupyter lab $(ROOT_FLAG) notebooks/01-iterate-then-deploy.ipynb

## Only the local Workload API server, in the foreground.
serve: setup
	$(BIN)/workloadlab serve

## Set up, then run every check and test. pytest runs in parallel workers while lint, the layer
## contracts, mypy and the fresh-clone check run beside it (their output follows pytest's).
test: setup
	@mkdir -p .scratch; \
	$(MAKE) --no-print-directory -k checks >.scratch/checks.log 2>&1 & checks=$$!; \
	$(MAKE) --no-print-directory pytest; tests=$$?; \
	wait $$checks; checked=$$?; \
	echo "== beside pytest: lint, layers, typecheck, fresh-clone-check =="; \
	cat .scratch/checks.log; \
	[ $$tests -eq 0 ] && [ $$checked -eq 0 ]

checks: lint layers typecheck fresh-clone-check

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

## The import contracts of design.md's layers ([tool.importlinter] in pyproject.toml).
layers: setup
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy

## Rootful podman serving the Docker Engine API, and the container tests' image (installs the
## packages with apt when missing; the tests find the socket through $(PODMAN_DIR)/env).
PODMAN_DIR ?= /tmp/workloadlab-podman
export WORKLOADLAB_PODMAN_DIR := $(PODMAN_DIR)

containers:
	scripts/podman-setup.sh $(PODMAN_DIR)

## Debian's Chromium for the panel's browser test (installs it with apt when missing).
browser:
	scripts/browser-setup.sh

## Tests run in parallel workers, what shares a resource in one (see tests/README.md); then
## those that load the machine or need it quiet (marked alone), one at a time.
## PYTEST_WORKERS=0 runs them all in this process.
PYTEST_WORKERS ?= 3

## Bytecode is written even where PYTHONDONTWRITEBYTECODE is set (as in many containers' images):
## else every pytest process rewrites the asserts of every test module again, and every server,
## kernel and JupyterLab the tests start compiles workloadlab's modules again (__pycache__ is
## ignored by git).
pytest: export PYTHONDONTWRITEBYTECODE :=
pytest: setup containers browser
ifeq ($(PYTEST_WORKERS),0)
	$(BIN)/pytest --durations=20
else
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m "not alone" --durations=20
	$(BIN)/pytest -m alone --durations=5
endif

## A clone in a temp dir, with nothing but python3, sets itself up as the README says; and
## `pip install 'workloadlab[lab]'` of it gives JupyterLab with the extension (package-check.sh).
fresh-clone-check:
	@dir=$$(mktemp -d) && trap 'rm -rf "$$dir"' EXIT && \
		git clone -q "$(CURDIR)" "$$dir/workloadlab" && \
		{ UV_COMPILE_BYTECODE=0 $(MAKE) -s -C "$$dir/workloadlab" setup PYTHON="$(PYTHON)" \
			>"$$dir/setup.log" 2>&1 || \
			{ cat "$$dir/setup.log"; exit 1; }; } && \
		"$$dir/workloadlab/.venv/bin/python" -c "import workloadlab.server.app, workloadlab.notebook.panel, workloadlab.jupyter" && \
		"$$dir/workloadlab/.venv/bin/workloadlab" serve --help >/dev/null && \
		"$$dir/workloadlab/.venv/bin/jupyter" server extension list 2>&1 | grep -q "workloadlab.jupyter.*enabled" && \
		echo "fresh clone: make setup works from nothing but $(PYTHON)" && \
		scripts/package-check.sh "$$dir/workloadlab" "$(PYTHON)" "$(CURDIR)/$(VENV)/.tools/bin/uv"

## Benchmarks print ratios against a baseline measured in the same run.
bench: setup
	$(BIN)/python benchmarks/restart.py
	$(BIN)/python benchmarks/api.py
	$(BIN)/python benchmarks/api.py --client raw
	$(BIN)/python benchmarks/invoke.py
	$(BIN)/python benchmarks/client.py
	$(BIN)/python benchmarks/load_ext.py
	$(BIN)/python benchmarks/panel.py
	$(BIN)/python benchmarks/logflood.py
	$(BIN)/python benchmarks/masking.py
	$(BIN)/python benchmarks/polling.py
	$(BIN)/python benchmarks/replicas.py
	$(BIN)/python benchmarks/sync.py
	$(BIN)/python benchmarks/stream.py
	$(BIN)/python benchmarks/install.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .grimp_cache .import_linter_cache
