# The two commands: `make run` (local stack) and `make test` (whole suite). Everything installs itself.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: run test token bench templates lint install java system-tools web clean-local reconcile import redrive deploy-quick
.PHONY: backfill-stats bench-years

install: $(PY_STAMP) $(NODE_STAMP) java system-tools

$(PY_STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "motcua needs Python 3.11 (the Lambda runtime)")'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

java:
	@scripts/ensure_java.sh

# The ranking page's chart library (ECharts, pinned in package.json) copied into web/vendor: no CDN.
web: $(NODE_STAMP)
	@$(PYTHON) scripts/build_web.py

# poppler-utils (the printed forms' tests) and chromium with its driver (the ranking page's test).
system-tools:
	@scripts/ensure_system_tools.sh

run: install web
	$(PY) scripts/run_local.py

test: install web
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	TZ=UTC $(PY) -m pytest

token: $(PY_STAMP)
	@test -n "$(UNIT)" || (echo "usage: make token UNIT=<unit id> ROLES=desk,processor [SUB=name]" >&2; exit 2)
	@$(PY) scripts/local_keys.py token --unit "$(UNIT)" --roles "$(or $(ROLES),desk)" $(if $(SUB),--sub "$(SUB)")

# `make bench ONLY=events` (or import_live): the event pipeline's labels alone (scripts/bench_events.py);
# ONLY=cost (scripts/bench_cost.py), ONLY=load (scripts/bench_load.py) and ONLY=documents (a dossier's files on the
# local S3 server, scripts/bench_documents.py) run their own script.
bench: install
	$(if $(filter events import_live,$(ONLY)),TZ=UTC $(PY) scripts/bench_events.py $(ONLY),$(if $(filter cost load documents,$(ONLY)),TZ=UTC $(PY) scripts/bench_$(ONLY).py,TZ=UTC $(PY) scripts/bench.py))

# After changing a PynamoDB model or a stage's table prefix: infra/*.yaml and .chalice/policy-<stage>.json.
templates: $(PY_STAMP)
	$(PY) scripts/table_template.py

# Report 06's counters of [FROM, TO] recomputed from the dossiers (local stack unless the environment says
# otherwise); prints each difference, exits 1 if any.
reconcile: $(PY_STAMP)
	@test -n "$(FROM)" -a -n "$(TO)" || (echo "usage: make reconcile FROM=2026-03-01 TO=2026-03-31" >&2; exit 2)
	$(PY) scripts/reconcile_stats.py $(FROM) $(TO)

# The backfill: report 06's counters of [FROM, TO] (and the monthly and yearly roll-ups of the months and years it
# touches) rebuilt from the dossiers, e.g. after an upgrade adds a column or the yearly roll-ups
# (docs/statistics.md); run while no event is being counted. FROM defaults to go-live, TO to today.
backfill-stats: $(PY_STAMP)
	$(PY) scripts/reconcile_stats.py --repair $(or $(FROM),2000-01-01) $(or $(TO),$(shell date +%F))

# Report 06 over one year and over three (yearly roll-ups): items read, time and their ratio (docs/performance.md).
bench-years: install
	TZ=UTC $(PY) scripts/bench_report06_years.py

# An old system's dossiers from CSV or NDJSON (docs/import.md), into the local stack unless the environment says
# otherwise; rejected rows go to FILE.rejects.csv/.ndjson; exits non-zero unless read = imported + duplicates + rejected.
import: $(PY_STAMP)
	@test -n "$(FILE)" || (echo "usage: make import FILE=demo/import/sample-old-system.csv [SOURCE=name]" >&2; exit 2)
	$(PY) scripts/import_dossiers.py "$(FILE)" $(if $(SOURCE),--source "$(SOURCE)")

lint: $(PY_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

clean-local:
	rm -rf .local/dynamodb .local/s3

# A stage's SQS dead-letter queues (docs/deploy.md, "Dead letters"), with AWS credentials: lists what each holds;
# MOVE=1 moves the messages back to the queues they came from (QUEUE=<dlq name> for one).
redrive: $(PY_STAMP)
	@test -n "$(PREFIX)" || (echo "usage: make redrive PREFIX=motcua-prod [MOVE=1] [QUEUE=motcua-prod-notifications-dlq]" >&2; exit 2)
	$(PY) scripts/redrive.py --prefix "$(PREFIX)" $(if $(MOVE),--move) $(if $(QUEUE),--queue "$(QUEUE)")

# Route 1 (docs/deploy.md): `chalice deploy` of a stage, without the printing libraries (over its 50 MB upload).
deploy-quick: $(PY_STAMP)
	@test -n "$(STAGE)" || (echo "usage: make deploy-quick STAGE=dev" >&2; exit 2)
	$(PY) scripts/deploy_quick.py --stage "$(STAGE)"
