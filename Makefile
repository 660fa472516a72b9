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

.PHONY: demo test lint venv fixtures events clean lambda-tools build watch invoke lambda-test template-lint sam-build bench fuzz

# The cargo-lambda loop: the function as Lambda runs it, with the demo key and the file sink.
WATCH_PORT ?= 9000
WATCH_OUT ?= out/watch
LOCAL_ENV := KEY_PROVIDER=local LOCAL_MASTER_KEY_FILE=events/local-master-key.hex SINKS=file FILE_SINK_DIR=$(WATCH_OUT)
LAMBDA_PATH := PATH="$(abspath $(VENV))/bin:$$PATH"
SAM_VENV ?= .venv-sam
EVENT ?= $(DEMO_EVENT)

$(VENV)/.installed: tests/support/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/support/requirements.txt
	touch $@

venv: $(VENV)/.installed

$(VENV)/.lambda-installed: deploy/requirements-lambda.txt $(VENV)/.installed
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r deploy/requirements-lambda.txt
	touch $@

## lambda-tools: cargo-lambda and ziglang (the arm64 cross-linker) from PyPI into the project's venv
lambda-tools: $(VENV)/.lambda-installed

$(SAM_VENV)/.installed: deploy/requirements-sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check -r deploy/requirements-sam.txt
	touch $@

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

## events: regenerate every Kinesis event in events/ (deterministic: the same bytes each time)
GENERATE = target/debug/das-forwarder generate --master-key-file events/local-master-key.hex
events:
	$(CARGO) build --quiet
	$(GENERATE) --out $(DEMO_EVENT)
	$(GENERATE) --out events/aurora-postgresql.json --profile postgres --records 8 --seed 2 --resource-id cluster-PGDEMO7Q2LKXH3ZC5RTUVW
	$(GENERATE) --out events/aurora-mysql.json --profile mysql --records 8 --seed 3 --resource-id cluster-MYDEMO4XK2PLQ8RNS6TJYB
	$(GENERATE) --out events/heartbeats-only.json --profile heartbeats --records 4 --seed 4 --data-keys 1
	$(GENERATE) --out events/rds-oracle.json --profile oracle --records 6 --seed 5 --resource-id db-ORADEMO5VJ3KQ7ZX2MWLHC --data-keys 2
	$(GENERATE) --out events/rds-sqlserver.json --profile sqlserver --records 6 --seed 6 --resource-id db-MSSQLDEMO8TR4WQ6YB3NZP --data-keys 2
	$(GENERATE) --out events/poison-record.json --records 12 --seed 7 --poison 5
	$(GENERATE) --out events/large-batch-1000.json --records 1000 --seed 8 --max-events 3 --data-keys 5

## build: the Lambda package, target/lambda/das-forwarder/bootstrap, for arm64 (Graviton)
build: lambda-tools
	@if rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu \
	    || rustup target add aarch64-unknown-linux-gnu; then \
	  $(LAMBDA_PATH) cargo lambda build --release --arm64 --bin das-forwarder; \
	else \
	  echo "make build: the aarch64-unknown-linux-gnu standard library cannot be installed here;"; \
	  echo "make build: building x86_64 instead (deploy it with Architectures: [x86_64])"; \
	  $(LAMBDA_PATH) cargo lambda build --release --x86-64 --bin das-forwarder; \
	fi
	@f=target/lambda/das-forwarder/bootstrap; test -x $$f && echo "$$f: $$(stat -c %s $$f) bytes, $$(file -b $$f 2>/dev/null | cut -d, -f1-2)"

## watch: the function in `cargo lambda watch` on 127.0.0.1:$(WATCH_PORT), demo key, file sink into $(WATCH_OUT)
watch: lambda-tools
	$(LOCAL_ENV) $(LAMBDA_PATH) cargo lambda watch -A 127.0.0.1 -P $(WATCH_PORT)

## invoke: send EVENT (default the demo event) to the watch; starts and stops one if none is running
invoke: lambda-tools
	$(LOCAL_ENV) $(LAMBDA_PATH) WATCH_PORT=$(WATCH_PORT) scripts/lambda-invoke.sh $(EVENT)

## lambda-test: every file in events/ through `cargo lambda watch`, responses checked against events/README.md
lambda-test: lambda-tools
	$(LAMBDA_PATH) $(CARGO) test --test it -- --ignored --nocapture lambda_loop::

## template-lint: cfn-lint and `sam validate --lint` on template.yaml and on a fleet of three streams and two keys
## (offline), then the fleet's processed template checked (tests/template/fleet.py)
template-lint: $(SAM_VENV)/.installed
	$(SAM_VENV)/bin/cfn-lint template.yaml
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam validate --lint
	rm -rf target/fleet-example && $(SAM_VENV)/bin/python tests/template/example.py target/fleet-example
	$(SAM_VENV)/bin/cfn-lint target/fleet-example/template.yaml
	cd target/fleet-example && AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} SAM_CLI_TELEMETRY=0 $(abspath $(SAM_VENV))/bin/sam validate --lint
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(SAM_VENV)/bin/python -m unittest tests/template/fleet.py

## sam-build: `sam build` (rust-cargolambda) into .aws-sam/, of template.yaml and of the three-stream fleet
## (the second reuses the first's cargo build)
sam-build: $(SAM_VENV)/.installed lambda-tools
	PATH="$(abspath $(VENV))/bin:$(abspath $(SAM_VENV))/bin:$$PATH" SAM_CLI_TELEMETRY=0 sam build --beta-features --language-extensions
	rm -rf target/fleet-example && $(SAM_VENV)/bin/python tests/template/example.py target/fleet-example
	PATH="$(abspath $(VENV))/bin:$(abspath $(SAM_VENV))/bin:$$PATH" SAM_CLI_TELEMETRY=0 sam build --beta-features --language-extensions \
	  --template-file target/fleet-example/template.yaml --base-dir . --build-dir .aws-sam/fleet-example

## bench: whole processes beside the documented Python consumer (same corpus, same moto KMS), memory on dense and hostile batches, warm invocations, stages
BENCH_ARGS ?=
bench: venv
	$(CARGO) bench --quiet --bench pipeline -- $(BENCH_ARGS)
	$(CARGO) bench --quiet --bench stages

## fuzz: every fuzz target for FUZZ_SECS seconds (libFuzzer via cargo-fuzz), from the committed seeds
FUZZ_SECS ?= 60
FUZZ_TARGETS := envelope esdk_decrypt das_events
CARGO_FUZZ_VERSION := 0.13.2
fuzz:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install --locked --quiet cargo-fuzz@$(CARGO_FUZZ_VERSION)
	@# Stable Rust: cargo-fuzz needs -Z flags (RUSTC_BOOTSTRAP); no sanitizer, so panics are what is caught.
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$t && cp -n fuzz/seeds/$$t/* fuzz/corpus/$$t/ && \
	  RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none $$t fuzz/corpus/$$t -- \
	    -max_total_time=$(FUZZ_SECS) -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 || exit 1; \
	done

clean:
	rm -rf out $(VENV) $(SAM_VENV) .aws-sam
	$(CARGO) clean
