# das-forwarder: the two first-screen commands are `make demo` and `make test`.
# Both work on a fresh machine: the Python venv (moto, the official AWS
# Encryption SDK for the interop fixtures) is created on first use.

SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
CARGO ?= cargo

DEMO_EVENT ?= events/demo-kinesis-event.json
DEMO_OUT ?= out/demo
# CI passes `cargo build --all-targets` to reuse the test build (dev-dependencies change features).
DEMO_BUILD ?= $(CARGO) build --quiet
DEMO_ENV := KEY_PROVIDER=local LOCAL_MASTER_KEY_FILE=events/local-master-key.hex SINKS=file FILE_SINK_DIR=$(DEMO_OUT)

.PHONY: demo test lint venv fixtures events clean

$(VENV)/.installed: tests/support/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/support/requirements.txt
	touch $@

venv: $(VENV)/.installed

## demo: decrypt the committed demo batch with the local key provider into out/demo (no AWS account)
demo:
	rm -rf $(DEMO_OUT)
	$(DEMO_BUILD)
	$(DEMO_ENV) target/debug/das-forwarder invoke --event $(DEMO_EVENT)
	@echo "--- output files:"; find $(DEMO_OUT) -type f | sort
	@echo "--- first event:"; f=$$(find $(DEMO_OUT)/das -name '*.ndjson' | sort | head -n 1); head -n 1 "$$f" | cut -c1-400

## test: the whole suite (unit, ESDK vectors and interop, handler, KMS against moto)
test: venv
	$(CARGO) test --all-targets
	$(CARGO) test --doc

## lint: formatting and clippy, warnings are errors
lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

## fixtures: regenerate the official-ESDK interop fixtures (commit the result)
fixtures: venv
	$(VENV)/bin/python tests/support/gen_esdk_fixtures.py

## events: regenerate the demo Kinesis event for the local key provider
events:
	$(CARGO) run --quiet -- generate --out $(DEMO_EVENT) --master-key-file events/local-master-key.hex

clean:
	rm -rf out $(VENV)
	$(CARGO) clean
