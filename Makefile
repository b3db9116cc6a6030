# Single entry points: make run, make test, make bench, make content-report (see README.md).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := RASA_TELEMETRY_ENABLED=false $(VENV)/bin/rasa
MODEL := models/crs.tar.gz
# the learned red-flag detector (issue 9): trained from its corpus, read with the rules' spellings
DETECTOR := models/red_flag_detector.joblib
DETECTOR_INPUTS := data/triage/red_flags.yml $(wildcard data/triage/corpus/*.yml) data/nlu/conversation.yml data/nlu/topics.yml data/nlu/treatments.yml crs/triage/learned.py crs/triage/folding.py
# the answer model (issue 11): which passage answers a question, learned from its corpus
ANSWER_MODEL := models/answer_model.joblib
ANSWER_INPUTS := $(wildcard data/content/questions/*.yml) crs/content/learned.py $(wildcard data/sources/*) data/content/topics.yml data/content/retrieval.yml
# everything the trained model is built from
MODEL_INPUTS := config.yml $(shell find domain data/nlu data/rules -type f 2>/dev/null)

.PHONY: help install browser detector answer-model train run shell test lint unit bench content-report purge clean cluster cluster-stop cluster-deps nurse-add

help:
	@echo "make run             set up, train if needed, start the assistant (Ctrl-C stops it)"
	@echo "make test            run every test (lint, unit, Rasa validation, conversations, HTTP end to end, NLU)"
	@echo "make shell           talk to the running assistant in this terminal"
	@echo "make bench           speed and memory: the red-flag engine, then ours beside plain rasa init under load"
	@echo "make detector        train the learned red-flag detector when its corpus changed"
	@echo "make answer-model    train the answer model when its questions or the sources changed"
	@echo "make content-report  review status, passages, topics and extraction gaps of the sources"
	@echo "make purge DAYS=30   delete conversations idle for longer (default: CRS_RETENTION_DAYS or 30)"
	@echo "make cluster         Rasa replicas behind nginx, PostgreSQL and Redis, on this machine (README: Cluster)"
	@echo "make cluster-stop    stop what make cluster started"
	@echo "make nurse-add NURSE=name  create a helpline console account (asks for the password, or NURSE_PASSWORD)"

$(VENV)/.installed: requirements.lock scripts/find-python
	@python=$$(scripts/find-python) || exit 1; \
	if [ ! -x $(PY) ] || [ "$$($(PY) -c 'import sys; print(sys.version_info[:2] == (3, 10))' 2>/dev/null)" != "True" ]; then \
	  rm -rf $(VENV) && echo "Creating $(VENV) with $$python" && "$$python" -m venv $(VENV); \
	fi
	$(PY) -m pip install --quiet --upgrade "pip==24.0"
	$(PY) -m pip install --quiet -r requirements.lock
	@touch $@

# browser tests: Debian's Chromium (test tools cannot download browsers here) and axe-core from npm
CHROMIUM ?= /usr/bin/chromium
browser: node_modules/.installed
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "Chromium is needed for the browser tests: sudo apt-get install chromium (or set CHROMIUM=/path)"; exit 1; fi; \
	fi

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	@touch $@

install: $(VENV)/.installed

$(DETECTOR): $(DETECTOR_INPUTS) | $(VENV)/.installed
	$(PY) -m crs.triage.train

detector: $(DETECTOR)

$(ANSWER_MODEL): $(ANSWER_INPUTS) | $(VENV)/.installed
	$(PY) -m crs.content.learned
	@touch $@

answer-model: $(ANSWER_MODEL)

$(MODEL): $(MODEL_INPUTS) | $(VENV)/.installed $(DETECTOR)
	@SECONDS=0; $(RASA) train --domain domain --config config.yml --data data/nlu data/rules --fixed-model-name crs --out models \
	  && echo $$SECONDS > models/crs.train-seconds
	@touch $@

train: $(MODEL)

run: $(MODEL) $(DETECTOR) $(ANSWER_MODEL)
	@scripts/run.sh

shell: $(VENV)/.installed
	@$(PY) scripts/chat.py

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check crs actions components tests scripts
	$(VENV)/bin/ruff format --check crs actions components tests scripts

unit: $(VENV)/.installed $(DETECTOR) $(ANSWER_MODEL)
	$(VENV)/bin/pytest -m "not rasa" -q

test: $(MODEL) $(DETECTOR) $(ANSWER_MODEL) lint browser cluster-deps
	CHROMIUM=$(CHROMIUM) $(VENV)/bin/pytest

# issue 13: the engine, then ours beside plain `rasa init` under the same load (docs/bench.md);
# BENCH_URL=http://... measures a running deployment instead; BENCH_ARGS="--quick" etc.
bench: $(VENV)/.installed $(DETECTOR) $(ANSWER_MODEL)
	$(PY) scripts/bench.py $(if $(BENCH_URL),--url $(BENCH_URL)) $(BENCH_ARGS)

# make bench CLUSTER=1 (issue 13) measures the cluster: `make cluster` starts it (unless it runs)
# and its base URL becomes BENCH_URL, which bench hands to the load generator
ifeq ($(CLUSTER),1)
BENCH_URL ?= $(shell $(MAKE) --no-print-directory cluster >&2 && $(PY) scripts/cluster.py url)
endif

content-report: $(VENV)/.installed
	@$(PY) -m crs.content.report

# retention (issue 10): conversations idle for more than DAYS are deleted from the tracker store
purge: $(VENV)/.installed
	@$(PY) scripts/purge.py $(if $(DAYS),--days $(DAYS))

# the cluster configuration (issue 13): Debian's PostgreSQL, Redis and nginx, installed where
# missing (the fault test in make test needs them too); scripts/cluster.py runs everything
CLUSTER_PACKAGES := $(if $(wildcard /usr/lib/postgresql/*/bin/initdb),,postgresql) $(if $(wildcard /usr/bin/redis-server),,redis-server) $(if $(wildcard /usr/sbin/nginx),,nginx)
cluster-deps:
	@if [ -n "$(strip $(CLUSTER_PACKAGES))" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(CLUSTER_PACKAGES); \
	  else echo "*** The cluster (and its fault test) needs: sudo apt-get install $(CLUSTER_PACKAGES)"; fi; \
	fi

cluster: $(MODEL) $(DETECTOR) cluster-deps
	@$(PY) scripts/cluster.py start

cluster-stop: $(VENV)/.installed
	@$(PY) scripts/cluster.py stop

# helpline console accounts (issue 12): the password is asked for, or read from NURSE_PASSWORD
nurse-add: $(VENV)/.installed
	@if [ -z "$(NURSE)" ]; then echo "usage: make nurse-add NURSE=<name>"; exit 2; fi
	@RASA_TELEMETRY_ENABLED=false $(PY) scripts/nurse_add.py "$(NURSE)" $(if $(ENDPOINTS),--endpoints $(ENDPOINTS))

clean:
	rm -rf .rasa results models/*.tar.gz .pytest_cache
