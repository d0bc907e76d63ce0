# Dockyard: `make run` starts the whole platform locally; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test venv system-deps k8s-bin cluster-up cluster-down bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

system-deps:
	@deploy/local/system-deps.sh

k8s-bin: system-deps
	@$(PYTHON) deploy/local/binaries.py ensure >/dev/null

test: system-deps venv k8s-bin
	$(BIN)/pytest

run: system-deps venv
	@deploy/local/run.sh

cluster-up: venv k8s-bin
	@./dockyard cluster up

cluster-down:
	@./dockyard cluster down

bench: system-deps venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .run .pytest_cache
