# mlmon: one command runs the main job, one runs the tests. See README.md.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# The tests and the NodePorts are on loopback; no proxy for it.
export NO_PROXY := 127.0.0.1,localhost

MODEL := app/house_price/artifacts/model.joblib
COLLECTION_LINK := .ansible/collections/ansible_collections/mlmon/monitoring

.PHONY: help setup system-packages images deploy rehearse test lint pytest molecule bench teardown clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt app/requirements.txt constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	touch $@

$(BIN)/helm: scripts/install_helm.py | $(VENV)/.installed
	$(BIN)/python scripts/install_helm.py --dest $(BIN)

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn ../../../.. $@

$(MODEL): $(VENV)/.installed $(wildcard app/house_price/*.py)
	cd app && $(BIN)/python -m house_price.train --out house_price/artifacts/model.joblib

setup: $(VENV)/.installed $(BIN)/helm $(COLLECTION_LINK) $(MODEL) ## Create the venv, install helm/kubectl, train the model

system-packages: ## Install Debian's prometheus (server, promtool) when missing; sudo when not root
	bash scripts/system_packages.sh

# Where kind runs: on a Docker machine, inventory/local as users have it; on a machine without a Docker
# engine (these build machines, CI), kind's podman provider with every image built here (make images)
# and inventory/offline layered over inventory/local.
MLMON_CACHE ?= $(HOME)/.cache/mlmon
export MLMON_CACHE
DOCKER_ENGINE := $(shell docker info >/dev/null 2>&1 && echo yes)
ifeq ($(DOCKER_ENGINE),yes)
KIND_INVENTORY := -i inventory/local
KIND_IMAGES :=
else
KIND_INVENTORY := -i inventory/local -i inventory/offline
KIND_IMAGES := images
endif

images: setup ## Build kind's node image and every image the stack runs, from Go modules and Debian (cached)
	bash scripts/system_packages.sh --kind
	@command -v go >/dev/null || { echo "make images needs Go 1.26 or newer on PATH (it builds Kubernetes, kind and the Prometheus stack from their Go modules)." >&2; exit 2; }
	bash images/build.sh
	ln -sfn $(MLMON_CACHE)/go-bin/kind $(BIN)/kind

deploy: setup $(KIND_IMAGES) ## Create a kind cluster and run site.yml on it
	ansible-playbook site.yml $(KIND_INVENTORY)

rehearse: deploy ## Another name for deploy (the emulated cluster it used to start is gone: kind runs here)

teardown: setup ## Remove what site.yml created on kind, and the cluster
	ansible-playbook playbooks/teardown.yml $(KIND_INVENTORY)

lint: setup ## ruff, yamllint, ansible-lint (production), ansible-test sanity and syntax checks
	ruff check .
	yamllint -s .
	ansible-lint
	bash scripts/ansible_sanity.sh
	ansible-playbook site.yml --syntax-check -i inventory/local
	ansible-playbook site.yml --syntax-check -i inventory/local -i inventory/offline
	ansible-playbook playbooks/teardown.yml --syntax-check -i inventory/local

pytest: setup system-packages $(KIND_IMAGES) ## The pytest suite (app, observability, stand-ins, roles; molecule and end to end on kind)
	pytest

test: lint pytest ## Everything CI runs

bench: setup ## Benchmarks; figures go to bench/RESULTS.md (installs Debian's wrk when missing)
	bash scripts/system_packages.sh --bench
	$(BIN)/python -m bench

clean: ## Remove the venv, build state and the trained model
	rm -rf $(VENV) build .ansible $(MODEL) app/house_price/artifacts/model-1.1.0.joblib
