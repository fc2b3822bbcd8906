# cscs.openchami - developer entry points. `make test` is the whole suite (what CI runs).
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
# ansible-test must run from a path ending in ansible_collections/<namespace>/<name>
COLL_ROOT := $(HOME)/.cache/cscs-openchami/$(shell echo "$(CURDIR)" | md5sum | cut -c1-8)/collections
COLL := $(COLL_ROOT)/ansible_collections/cscs/openchami
GET_PIP := $(HOME)/.ansible/test/cache/get_pip_24_2.py
export PATH := $(BIN):$(PATH)
ANSIBLE_TEST := cd $(COLL) && $(BIN)/ansible-test
# ansible-test warns on every run that en_US.UTF-8 is missing and it uses C.UTF-8 (which is fine); pip's
# "Requirement already satisfied" lines of its sanity venvs say nothing either
QUIET := 2>&1 | sed -u -e '/Using locale "C.UTF-8" instead of/d' -e '/^Requirement already satisfied/d'

.PHONY: test venv system-deps lint sanity units integration molecule collection-tree lab-up lab-down demo clean

test: venv lint sanity units integration
	@echo "make test: all stages passed"

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt test-requirements.txt
	@echo "venv: installing test-requirements.txt into .venv (about a minute the first time)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -q --disable-pip-version-check -U pip
	@$(BIN)/pip install -q --disable-pip-version-check -r test-requirements.txt
	@touch $@

# A copy of the tracked (and new, not ignored) files under ansible_collections/cscs/openchami.
collection-tree:
	@rm -rf $(COLL) && mkdir -p $(COLL)
	@git ls-files -co --exclude-standard | while read -r f; do [ -e "$$f" ] && echo "$$f"; done | tar -cf - -T - | tar -xf - -C $(COLL)
	@test -f $(COLL)/galaxy.yml

# ansible-test fetches pip's bootstrap script from a host this machine cannot reach;
# the standard library's ensurepip does the same job.
$(GET_PIP):
	mkdir -p $(dir $@)
	printf 'import ensurepip\nensurepip.bootstrap(upgrade=True, default_pip=True)\n' > $@

# Linted in the ansible_collections/cscs/openchami copy, so playbooks resolve cscs.openchami.* there.
lint: venv collection-tree
	@echo "lint: ansible-lint (profile production) and antsibull-changelog"
	cd $(COLL) && ANSIBLE_COLLECTIONS_PATH=$(COLL_ROOT) $(BIN)/ansible-lint --offline -q
	$(BIN)/antsibull-changelog lint

sanity: venv collection-tree $(GET_PIP)
	$(ANSIBLE_TEST) sanity --local --python 3.11 --color no $(QUIET)

units: venv collection-tree
	$(ANSIBLE_TEST) units --local --python 3.11 --color no $(QUIET)

# What the lab needs from the system: PostgreSQL server binaries, haproxy and Maven with Java 17 (Debian; Maven
# fetches Keycloak from Maven Central), Slurm 22.05 (slurm-wlm: slurmctld, slurmd, scontrol), and Go (the machine's).
system-deps:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; }
	@command -v haproxy >/dev/null || ls /usr/sbin/haproxy >/dev/null 2>&1 || { apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy; }
	@command -v mvn >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q maven; }
	@command -v slurmctld >/dev/null || ls /usr/sbin/slurmctld >/dev/null 2>&1 || { apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends slurmctld slurmd slurm-client; }
	@command -v go >/dev/null || { echo "Go (1.26 or later) is needed to build the OpenCHAMI services" >&2; exit 1; }
	@command -v debootstrap >/dev/null && command -v mksquashfs >/dev/null || { apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap squashfs-tools; }

integration: venv system-deps
	PATH=$(BIN):$$PATH $(BIN)/python -m pytest tests/integration -q -p no:cacheprovider -ra

# The roles' molecule scenarios alone (extensions/molecule/, against the lab; `integration` runs them too).
molecule: venv system-deps
	PATH=$(BIN):$$PATH $(BIN)/python -m pytest tests/integration/test_molecule.py -p no:cacheprovider -ra

lab-up: venv system-deps
	$(BIN)/python -m lab up

lab-down: venv
	$(BIN)/python -m lab down

# The main job on the local lab: bring it up and run the demo playbook against it.
demo: lab-up collection-tree
	source lab-state/lab.env && ANSIBLE_COLLECTIONS_PATH=$(COLL_ROOT) $(BIN)/ansible-playbook -i inventories/lab playbooks/demo.yml

clean:
	rm -rf .cache tests/output
