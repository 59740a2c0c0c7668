# FieldSync — the commands the README names.
#   make demo   central, two hubs, four volunteer devices offline, the nightly sync, the admin report
#   make test   the whole test suite (release mode: the property tests run thousands of seeded cases), then
#               scripts/schemathesis.sh (the real server against docs/openapi.yaml; creates .venv if missing),
#               then scripts/conformance.sh (the same scenarios with the Swift and the Python client)
#   make bench  every benchmark suite, ratios against baselines measured in the same run
#   make fuzz   libFuzzer on the protocol decoders (FUZZ_RUNS executions, default 2,000,000), then mutated
#               whole HTTP requests against the release server (FUZZ_HTTP_RUNS, default 1,000,000)
#   make lint   swift format lint

SWIFT ?= swift

.PHONY: build demo test bench fuzz lint clean

build:
	$(SWIFT) build -c release

demo:
	bash scripts/demo.sh

test:
	$(SWIFT) test -c release
	bash scripts/schemathesis.sh
	bash scripts/conformance.sh

bench:
	$(SWIFT) run -c release field-bench all

fuzz:
	bash scripts/fuzz/run.sh
	bash scripts/fuzz/http.sh

lint:
	$(SWIFT) format lint --strict -r Sources Tests

clean:
	rm -rf .build
