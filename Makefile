# apiauth.saas: `make demo` and `make test` set up everything they need from this tree.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VENV_OLDEST := .venv-oldest
BIN := $(VENV)/bin
TMP := .tmp
COLLECTIONS := $(CURDIR)/$(TMP)/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/apiauth/saas
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := false
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help demo test venv units integration security sanity lint build oldest molecule changelog bench clean ee-context

help:
	@echo "make demo   run playbooks/demo.yml against the bundled simulators"
	@echo "make test   run every test (units, integration, sanity, lint, build, oldest ansible-core)"
	@echo "make ee-context   the execution environment's build context in .tmp/ee/context (docs/awx.md)"
	@echo "make bench  time the lookup and the app_config role against hand-written uri plays (docs/benchmarks.md)"

$(VENV)/.installed: requirements.txt requirements-test.txt tests/requirements-simulator.txt tests/requirements-molecule.txt \
		tests/requirements-shared-cache.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-test.txt
	touch $@

# The collections the optional secret_store backends use (community.hashi_vault, amazon.aws,
# community.aws, kubernetes.core), unpacked from the ansible package on PyPI next to the link
# to this tree, so that tests and ansible-lint resolve their modules.
OPTIONAL_COLLECTIONS := $(COLLECTIONS)/.optional-collections
$(OPTIONAL_COLLECTIONS): tests/backends/install_collections.py $(VENV)/.installed
	$(BIN)/python tests/backends/install_collections.py $(COLLECTIONS)
	touch $@

$(VENV_OLDEST)/.installed: requirements.txt tests/requirements-oldest.txt tests/requirements-simulator.txt
	$(PYTHON) -m venv $(VENV_OLDEST)
	$(VENV_OLDEST)/bin/pip install -q --upgrade pip
	$(VENV_OLDEST)/bin/pip install -q -r tests/requirements-oldest.txt
	touch $@

venv: $(VENV)/.installed $(COLLECTION_LINK) $(OPTIONAL_COLLECTIONS)

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

# The demo runs twice against one simulator: the second run is served from the
# token cache, makes no request and leaves the rendered config unchanged.
demo: venv
	rm -rf $(TMP)/demo
	$(BIN)/python tests/simulators run --state-dir $(TMP)/demo -- bash -c '\
	  $(BIN)/ansible-playbook playbooks/demo.yml -e demo_run=1 && \
	  $(BIN)/ansible-playbook playbooks/demo.yml -e demo_run=2'

units: venv
	$(BIN)/pytest -q -n 2 tests/unit tests/simulator_tests

integration: venv
	$(BIN)/pytest -q -n 2 tests/integration

# The security and fault suite alone (docs/reliability.md); `make integration` runs it too.
SECURITY_TESTS := $(wildcard tests/integration/test_secret_scan.py tests/integration/test_fault_matrix.py \
  tests/integration/test_tls_refusals.py tests/integration/test_stampede.py tests/integration/test_bad_input.py)
security: venv
	$(BIN)/pytest -q -n 2 $(SECURITY_TESTS)
	$(BIN)/pytest -q tests/unit/plugins/module_utils/test_token_cache.py -k "sigkill or killed or single_flight"

sanity: venv
	PATH=$(CURDIR)/$(BIN):$$PATH bash tests/ansible_test.sh sanity

lint: venv
	PATH=$(CURDIR)/$(BIN):$$PATH ansible-lint --offline

# Build the tarball, install it elsewhere, check it, then run the demo from the
# installed copy only (ANSIBLE_COLLECTIONS_PATH points there, not at this tree).
# ansible-builder must then find the controller dependencies an execution
# environment needs in the installed copy (meta/execution-environment.yml).
build: venv
	rm -rf $(TMP)/installed-demo $(TMP)/installed
	APIAUTH_INSTALLED_COLLECTIONS=$(CURDIR)/$(TMP)/installed PATH=$(CURDIR)/$(BIN):$$PATH \
	  bash tests/build_and_install.sh -- \
	  $(BIN)/python tests/simulators run --state-dir $(TMP)/installed-demo -- \
	  $(BIN)/ansible-playbook playbooks/demo.yml
	$(BIN)/ansible-builder introspect --sanitize $(TMP)/installed > $(TMP)/ee-dependencies.yml
	grep -q "^- 'requests" $(TMP)/ee-dependencies.yml && grep -q "^- 'cryptography" $(TMP)/ee-dependencies.yml \
	  || { echo "ansible-builder did not find the collection's Python dependencies" >&2; exit 1; }

oldest: $(VENV_OLDEST)/.installed $(COLLECTION_LINK)
	APIAUTH_ANSIBLE_BIN=$(CURDIR)/$(VENV_OLDEST)/bin $(VENV_OLDEST)/bin/pytest -q -m smoke tests/integration

# Molecule scenarios of the roles (extensions/molecule/), run against the vendor simulators and
# local secret stores: moto (AWS Secrets Manager), an OpenBao dev server (Vault KV v2) and a fake
# of the Kubernetes Secrets API (tests/backends/).
molecule: venv
	rm -rf $(TMP)/molecule-sim $(TMP)/molecule-backends
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python tests/simulators run --state-dir $(TMP)/molecule-sim -- \
	  $(BIN)/python tests/backends/run.py --state-dir $(TMP)/molecule-backends -- \
	  $(BIN)/molecule test --all

test: units integration sanity lint build oldest molecule
	@echo "make test: all suites passed"

# The build context of the execution environment for AWX and Automation Platform: the collection
# tarball beside execution-environment/execution-environment.yml, then `ansible-builder create`.
# Building the image from it needs podman or docker (docs/awx.md), which no target here assumes.
EE_CONTEXT := $(TMP)/ee/context
ee-context: venv
	rm -rf $(TMP)/ee
	$(BIN)/ansible-galaxy collection build --force --output-path $(TMP)/ee .
	cp $(TMP)/ee/apiauth-saas-*.tar.gz execution-environment/apiauth-saas.tar.gz
	$(BIN)/ansible-builder create -f execution-environment/execution-environment.yml -c $(EE_CONTEXT) \
	  --output-filename Containerfile
	@echo "Build context: $(EE_CONTEXT). Build the image with: podman build -t apiauth-saas-ee $(EE_CONTEXT)"

# Benchmark of the collection's lookup and app_config role against hand-written uri plays
# (tests/bench/, docs/benchmarks.md); not part of `make test`. BENCH_QUICK=1 for a quick check;
# BENCH_HOSTS, BENCH_FORKS, BENCH_RUNS, BENCH_VARIANTS, BENCH_MICRO, BENCH_PIPELINING, BENCH_RESUME,
# BENCH_OUT: see docs/benchmarks.md.
export BENCH_QUICK BENCH_HOSTS BENCH_FORKS BENCH_RUNS BENCH_VARIANTS BENCH_MICRO BENCH_PIPELINING BENCH_RESUME \
  BENCH_OUT
$(VENV)/.bench-installed: $(VENV)/.installed tests/requirements-bench.txt
	$(BIN)/pip install -q -r tests/requirements-bench.txt
	touch $@

bench: venv $(VENV)/.bench-installed
	$(BIN)/python tests/bench/bench_main.py

changelog: venv
	$(BIN)/antsibull-changelog lint

clean:
	rm -rf $(TMP) tests/output *.tar.gz
