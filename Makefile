# Two commands set everything up on a fresh Debian/Ubuntu machine:
#   make run    create .venv, install the app, install Qt's system libraries, open the GUI
#   make test   create .venv, install the app with test extras, run every test headless
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run test install install-test sysdeps-run sysdeps-test models reproduce screenshots bench clean

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
	  { echo "MLP Studio needs Python 3.10 or newer; $(PYTHON) is $$($(PYTHON) -V 2>&1)."; exit 1; }
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  rm -rf $(VENV); \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing python3-venv (Debian ships venv separately)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv && $(PYTHON) -m venv $(VENV); \
	  else \
	    echo "Cannot create a virtual environment. Run: sudo apt-get install -y python3-venv"; exit 1; \
	  fi; }
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.app: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	@touch $@

$(VENV)/.test: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[test]'
	@touch $@ $(VENV)/.app

install: $(VENV)/.app
install-test: $(VENV)/.test

sysdeps-run: install
	$(PY) tools/sysdeps.py xcb

sysdeps-test: install-test
	$(PY) tools/sysdeps.py offscreen

run: sysdeps-run
	$(VENV)/bin/mlp-gui

test: sysdeps-test
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

# Regenerate the bundled models in resources/models/ from the data (see README).
models: install
	$(PY) tools/make_models.py

# Every experiment of the paper, side by side with its numbers: writes reports/paper/report.md.
reproduce: install
	$(VENV)/bin/mlp-engine reproduce --out reports/paper

screenshots: install-test
	QT_QPA_PLATFORM=offscreen $(PY) tools/screenshots.py --out docs

bench: install
	$(PY) -m pip install -q threadpoolctl
	$(PY) benchmarks/bench_epoch.py --all

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
