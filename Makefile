# ReasonOps: `make up` starts everything, `make test` runs every test.
# uv is bootstrapped into .tools/ when it is not on PATH.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := $(CURDIR)/.tools/bin/uv
UV_DEP := $(UV)
endif

# The demo supplier contract, so breaches on `checkout` turn into penalties.
export REASONOPS_SUPPLIER_CONTRACTS ?= $(CURDIR)/examples/config/supplier-contracts.yaml
export REASONOPS_FINANCE_CONFIG ?= $(CURDIR)/examples/config/finance.yaml
# The demo on-call schedules (who carries the pager for checkout and the databases).
export REASONOPS_ONCALL ?= $(CURDIR)/examples/config/oncall.yaml
# Which incidents go to ServiceNow and how (used once REASONOPS_SERVICENOW_URL is set).
export REASONOPS_SERVICENOW_MAPPING ?= $(CURDIR)/examples/config/servicenow-mapping.yaml
# Change templates and freeze windows.
export REASONOPS_CHANGES ?= $(CURDIR)/examples/config/changes.yaml

.PHONY: up test lint bench eval tune sync schemas clean

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

# Bytecode is compiled here, once: where PYTHONDONTWRITEBYTECODE is set (as in many CI
# images) every process would otherwise compile each module it imports, seconds a start.
sync: $(UV_DEP)
	$(UV) sync --all-packages --locked --quiet --compile-bytecode
	$(UV) run --no-sync python -m compileall -q libs services tests >/dev/null

up: sync
	$(UV) run --no-sync reasonops up

# Test files run in parallel workers (one per core; TEST_WORKERS=0 runs them in one).
TEST_WORKERS ?= auto
test: sync
	$(UV) run --no-sync pytest -n $(TEST_WORKERS) --dist loadfile

lint: sync
	$(UV) run --no-sync ruff check .
	$(UV) run --no-sync mypy libs/contracts/src libs/runtime/src libs/client/src libs/sdk/src libs/mcp/src libs/cli/src libs/llm/src services/*/src
	$(UV) run --no-sync python .ci/secret_gate.py

bench: sync
	$(UV) run --no-sync python -m tests.bench.run $(BENCH_ARGS)

# Every agent's evaluation on its labelled sets (also part of `make bench`).
eval: sync
	$(UV) run --no-sync python -m tests.bench.evals

# The triage rules' learned words, from the dev split only.
tune: sync
	$(UV) run --no-sync reasonops agents tune tests/data/triage-eval.jsonl \
		--out services/agent-triage/src/reasonops_agent_triage/vocabularies/learned.yaml

schemas: sync
	$(UV) run --no-sync reasonops contracts export libs/contracts/schemas
	$(UV) run --no-sync python -m reasonops_gateway.openapi

clean:
	rm -rf .reasonops .pytest_cache .mypy_cache .ruff_cache
