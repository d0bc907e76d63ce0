# Dockyard: `make run` starts the whole platform locally; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test venv lock system-deps k8s-bin k8s-plan helm-bin chart cluster-up cluster-down bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

venv: $(VENV)/.installed

# Re-pin every transitive package after a change to requirements*.txt (in a fresh virtualenv).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
	{ sed -n '1,3p' constraints.txt; .lock-venv/bin/pip freeze --all | grep -v '^\(pip\|setuptools\)=='; } > constraints.new
	mv constraints.new constraints.txt && rm -rf .lock-venv

system-deps:
	@deploy/local/system-deps.sh

k8s-bin: system-deps
	@$(PYTHON) deploy/local/binaries.py ensure >/dev/null

# Resolve the control-plane build from scratch without compiling (what tests/test_build_plan.py runs).
k8s-plan: system-deps
	@$(PYTHON) deploy/local/binaries.py plan

# helm at HELM_VERSION (versions.env), built from its Go module into its own cache directory.
helm-bin: system-deps
	@$(PYTHON) deploy/local/binaries.py helm >/dev/null

# The Helm chart rendered with the example rules (a look at what `helm install` would apply).
chart: helm-bin
	@"$$($(PYTHON) deploy/local/binaries.py helm)" template dockyard deploy/helm/dockyard -n dockyard-system \
		--set redis.url=redis://redis:6379/0 --set-file rules.catalog=rules/catalog.yaml \
		--set-file rules.routing=rules/routing.yaml --set-file rules.policy=rules/policy.yaml

test: system-deps venv k8s-bin helm-bin
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
