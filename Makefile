# Everything a fresh machine needs is set up by these targets (Python >= 3.10 with venv).
VENV ?= .venv
PY := $(VENV)/bin/python

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[mlflow,test]'
	touch $@

$(VENV)/.installed-demo: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[mlflow]'
	touch $@

$(VENV)/.installed-ui: $(VENV)/.installed-demo
	$(PY) -m pip install --quiet 'mlflow>=2.16'
	touch $@

.PHONY: install demo ui test test-all lint
install: $(VENV)/.installed

# The main job on the embedded local registry: nothing to configure, no GitLab needed.
demo: $(VENV)/.installed-demo
	$(VENV)/bin/gmr publish demo-model component/model \
		--params-file component/params.yaml --metrics-file component/metrics.json

# MLflow's web UI on the local registry that `make demo` (or any gmr command here) wrote.
ui: $(VENV)/.installed-ui
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false $(VENV)/bin/mlflow ui --workers 1 \
		--backend-store-uri sqlite:///$(CURDIR)/mlruns.db --host 127.0.0.1

test: $(VENV)/.installed lint
	$(PY) -m pytest $(PYTEST_ARGS)

# Every tier, with what they need provisioned first as CI does (Debian, as root): the e2e and
# image tiers cannot skip.
test-all: $(VENV)/.installed
	.ci/provision
	GMR_REQUIRE_TIERS=integration,e2e,image $(MAKE) test

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy
