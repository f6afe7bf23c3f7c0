# apiauth.saas: `make demo` and `make test` set up everything they need from this tree.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The version matrix (README.md, "Supported versions"). The full suite runs on the newest
# ansible-core with the newest Python found here; the smoke-marked integration tests run on every
# other supported core. ansible-core 2.20 and 2.21 need Python >= 3.12; 2.17 needs <= 3.12.
CORE_NEWEST := 2.21
PYTHONS_NEWEST := 3.13 3.12
SMOKE_CORES := 2.20 2.19 2.17
OLDEST_CORE := 2.17
PYTHONS_2.20 := 3.13 3.12
# The oldest cores run on Python 3.11, the low end of the Python range, where a machine has it.
PYTHONS_2.19 := 3.11 3.12 3.13
PYTHONS_2.17 := 3.11 3.12 3.10
# A Python is chosen by RUNNING it (tests/find_python.sh): pyenv puts shims on PATH that exit 127
# for a version that is not enabled. PYTHON_NEW=/path/to/python3.13 overrides the search.
FIND_PYTHON := bash $(CURDIR)/tests/find_python.sh

VENV := .venv
BIN := $(VENV)/bin
TMP := .tmp
COLLECTIONS := $(CURDIR)/$(TMP)/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/apiauth/saas
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := false
export PYTHONDONTWRITEBYTECODE := 1
# ansible-core imports cryptography's DSA classes for its ssh-agent support, and cryptography >= 48
# warns about DSA on that import, so every ansible command would print a
# CryptographyDeprecationWarning that is not about this collection. Only that one warning is
# filtered, and only in the commands this Makefile runs; cryptography is not pinned back for it.
comma := ,
DSA_FILTER := ignore:DSA is deprecated and support will be removed:Warning
export PYTHONWARNINGS := $(if $(PYTHONWARNINGS),$(PYTHONWARNINGS)$(comma))$(DSA_FILTER)

.PHONY: help demo test venv units integration security sanity lint docs docs-lint docs-rst build smoke oldest molecule \
  changelog bench clean ee-context integration-rest chromium

help:
	@echo "make demo   run playbooks/demo.yml against the bundled simulators"
	@echo "make test   every test: units, integration, security, sanity, lint, docs, build, molecule on"
	@echo "            ansible-core $(CORE_NEWEST); the smoke tests on ansible-core $(SMOKE_CORES)"
	@echo "make docs   the collection's HTML documentation in .tmp/docs/build/html (antsibull-docs)"
	@echo "make ee-context   the execution environment's build context in .tmp/ee/context (docs/awx.md)"
	@echo "make bench  time the lookup and the app_config role against hand-written uri plays (docs/benchmarks.md)"

# The demo's environment: the newest ansible-core, the collection's requirements, the simulators.
$(VENV)/.demo-installed: requirements.txt tests/requirements-demo.txt tests/requirements-simulator.txt
	PY=$${PYTHON_NEW:-$$($(FIND_PYTHON) $(PYTHONS_NEWEST))} && echo "Python for ansible-core $(CORE_NEWEST): $$PY" \
	  && "$$PY" -m venv --clear $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r tests/requirements-demo.txt
	touch $@

# Everything else `make test` needs, added to the same environment.
$(VENV)/.installed: $(VENV)/.demo-installed requirements-test.txt tests/requirements-molecule.txt \
		tests/requirements-shared-cache.txt
	$(BIN)/pip install -q -r requirements-test.txt
	touch $@

# The collections the optional secret_store backends use (community.hashi_vault, amazon.aws,
# community.aws, kubernetes.core), unpacked from the ansible package on PyPI next to the link
# to this tree, so that tests and ansible-lint resolve their modules.
OPTIONAL_COLLECTIONS := $(COLLECTIONS)/.optional-collections
$(OPTIONAL_COLLECTIONS): tests/backends/install_collections.py $(VENV)/.installed
	$(BIN)/python tests/backends/install_collections.py $(COLLECTIONS)
	touch $@

# One environment per older core: .venv-2.20, .venv-2.19, .venv-2.17.
$(VENV)-%/.installed: requirements.txt tests/requirements-smoke.txt tests/requirements-simulator.txt
	@[ -n "$(PYTHONS_$*)" ] || { echo "ansible-core $* is not in the matrix (SMOKE_CORES: $(SMOKE_CORES))" >&2; exit 2; }
	PY=$$($(FIND_PYTHON) $(PYTHONS_$*)) && echo "Python for ansible-core $*: $$PY" && "$$PY" -m venv --clear $(VENV)-$*
	$(VENV)-$*/bin/pip install -q --upgrade pip
	$(VENV)-$*/bin/pip install -q -r tests/requirements-smoke.txt 'ansible-core==$*.*'
	touch $@

venv: $(VENV)/.installed $(COLLECTION_LINK) $(OPTIONAL_COLLECTIONS)

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

# The demo runs twice against one simulator: the second run is served from the
# token cache, makes no request and leaves the rendered config unchanged.
demo: $(VENV)/.demo-installed $(COLLECTION_LINK)
	rm -rf $(TMP)/demo
	$(BIN)/python tests/simulators run --state-dir $(TMP)/demo -- bash -c '\
	  $(BIN)/ansible-playbook playbooks/demo.yml -e demo_run=1 && \
	  $(BIN)/ansible-playbook playbooks/demo.yml -e demo_run=2'

units: venv
	$(BIN)/pytest -q -n 2 tests/unit tests/simulator_tests

integration: venv chromium
	$(BIN)/pytest -q -n 2 tests/integration

# Headless Chromium renders the HTML credential report in its test: installed when missing where we may (root
# with apt-get, as in CI); elsewhere that test says what to install (it fails under CI=true, else it skips).
chromium:
	@command -v chromium-browser >/dev/null 2>&1 || bash tests/install_debian_packages.sh chromium || \
	  echo "the HTML report test needs chromium" >&2

# The security and fault suite alone (docs/reliability.md); `make integration` runs it too.
# Every test_adversarial_*.py joins it by its name.
SECURITY_TESTS := $(wildcard tests/integration/test_secret_scan.py tests/integration/test_fault_matrix.py \
  tests/integration/test_tls_refusals.py tests/integration/test_stampede.py tests/integration/test_bad_input.py) \
  $(wildcard tests/integration/test_adversarial_*.py)
SECURITY_UNIT_TESTS := $(wildcard tests/unit/plugins/module_utils/test_adversarial_*.py)
security: venv
	$(BIN)/pytest -q -n 2 $(SECURITY_TESTS)
	$(BIN)/pytest -q -n 2 tests/unit/plugins/module_utils/test_token_cache.py $(SECURITY_UNIT_TESTS) \
	  -k "sigkill or killed or single_flight or adversarial"

# `make test` runs the security suite as its own stage, so this one leaves it out.
integration-rest: venv chromium
	$(BIN)/pytest -q -n 2 tests/integration $(addprefix --ignore=,$(SECURITY_TESTS))

# On the newest core and the venv's Python (ansible-test --python), no ignore file.
sanity: venv
	PATH=$(CURDIR)/$(BIN):$$PATH APIAUTH_TEST_PYTHON=$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])') \
	  bash tests/ansible_test.sh sanity

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

# The smoke-marked integration tests on an older core: make smoke-2.20, smoke-2.19, smoke-2.17.
smoke-%: $(VENV)-%/.installed $(COLLECTION_LINK)
	APIAUTH_ANSIBLE_BIN=$(CURDIR)/$(VENV)-$*/bin $(VENV)-$*/bin/pytest -q -n 2 -m smoke tests/integration

smoke: $(addprefix smoke-,$(SMOKE_CORES))

oldest: smoke-$(OLDEST_CORE)

# Molecule scenarios of the roles (extensions/molecule/), run against the vendor simulators and
# local secret stores: moto (AWS Secrets Manager), an OpenBao dev server (Vault KV v2) and a fake
# of the Kubernetes Secrets API (tests/backends/).
molecule: venv
	rm -rf $(TMP)/molecule-sim $(TMP)/molecule-backends
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python tests/simulators run --state-dir $(TMP)/molecule-sim -- \
	  $(BIN)/python tests/backends/run.py --state-dir $(TMP)/molecule-backends -- \
	  $(BIN)/molecule test --all

# Each stage in turn, with its time (also in .tmp/stage-times.txt). A failed stage does not stop
# the others, so one run reports every failure; `make test` fails at the end if any stage did.
# The suite's own time is in the budget of README.md: under 35 minutes on 2 idle cores.
TEST_STAGES := units integration-rest security sanity lint docs-lint build ee-context molecule \
  $(addprefix smoke-,$(SMOKE_CORES))
test: venv
	@mkdir -p $(TMP); : > $(TMP)/stage-times.txt; began=$$SECONDS; failed=; \
	for stage in $(TEST_STAGES); do \
	  start=$$SECONDS; \
	  if $(MAKE) --no-print-directory $$stage; then result=passed; else result=FAILED; failed="$$failed $$stage"; fi; \
	  echo "make test: $$stage $$result in $$((SECONDS - start)) s" | tee -a $(TMP)/stage-times.txt; \
	done; \
	echo "make test: ansible-core $(CORE_NEWEST) on $$($(BIN)/python -V), smoke on $(SMOKE_CORES); $$((SECONDS - began)) s in all:"; \
	cat $(TMP)/stage-times.txt; \
	if [ -n "$$failed" ]; then echo "make test: FAILED:$$failed" >&2; exit 1; fi; \
	echo "make test: all suites passed"

# The collection's HTML documentation, as the Ansible docsite makes it (antsibull-docs, Sphinx),
# offline and with warnings as errors: intersphinx reads a local inventory of the few
# docs.ansible.com labels the pages link to (docs/docsite/offline_inventory.py).
DOCS_DIR := $(TMP)/docs
$(VENV)/.docs-installed: $(VENV)/.installed tests/requirements-docs.txt
	$(BIN)/pip install -q -r tests/requirements-docs.txt
	touch $@

docs: venv $(VENV)/.docs-installed
	rm -rf $(DOCS_DIR) && mkdir -m 700 -p $(DOCS_DIR)
	PATH=$(CURDIR)/$(BIN):$$PATH antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir $(DOCS_DIR) \
	  --project apiauth.saas --title apiauth.saas --copyright "apiauth.saas contributors" apiauth.saas >/dev/null
	$(BIN)/python docs/docsite/offline_inventory.py $(DOCS_DIR)/ansible_devel.inv
	printf '\n# Offline: only the local inventory of docs.ansible.com (make docs).\nintersphinx_mapping = {"ansible_devel": ("https://docs.ansible.com/projects/ansible/devel/", "../ansible_devel.inv")}\n' \
	  >> $(DOCS_DIR)/conf.py
	cd $(DOCS_DIR) && PATH=$(CURDIR)/$(BIN):$$PATH bash build.sh
	@echo "HTML documentation: $(DOCS_DIR)/build/html/index.html"

# The docsite pages of the guides, from docs/*.md.
docs-rst: venv
	$(BIN)/python docs/docsite/md2rst.py

# What the docsite's own CI checks: plugin and role docs, extra docs and links; the guide pages
# up to date with docs/*.md; then the HTML build itself.
docs-lint: venv
	$(BIN)/python docs/docsite/md2rst.py --check
	PATH=$(CURDIR)/$(BIN):$$PATH antsibull-docs lint-collection-docs --plugin-docs .
	$(MAKE) --no-print-directory docs

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
# BENCH_HOSTS, BENCH_FORKS, BENCH_RUNS, BENCH_VARIANTS, BENCH_SKIP, BENCH_PLAIN, BENCH_MICRO, BENCH_PIPELINING,
# BENCH_RESUME, BENCH_OUT: see docs/benchmarks.md.
export BENCH_QUICK BENCH_HOSTS BENCH_FORKS BENCH_RUNS BENCH_VARIANTS BENCH_SKIP BENCH_PLAIN BENCH_MICRO BENCH_PIPELINING \
  BENCH_RESUME BENCH_OUT
$(VENV)/.bench-installed: $(VENV)/.installed tests/requirements-bench.txt
	$(BIN)/pip install -q -r tests/requirements-bench.txt
	touch $@

bench: venv $(VENV)/.bench-installed
	$(BIN)/python tests/bench/bench_main.py

changelog: venv
	$(BIN)/antsibull-changelog lint

clean:
	rm -rf $(TMP) tests/output *.tar.gz
