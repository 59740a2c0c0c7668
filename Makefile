# FieldSync — the commands the README names. `make build`, `make demo` and `make test` first check what the build
# needs (scripts/prerequisites.sh: as root it installs a missing Debian package, otherwise it stops with the
# apt-get line to run).
#   make demo   the campaign at its real size: central, 8 city hubs, 24 volunteer devices offline for six days,
#               2,000 families, 5,200 recharge codes, the nightly syncs, the admin report (a page; all of it in demo-out/)
#   make demo-postgres  a smaller story (2 hubs, 4 devices) with central on PostgreSQL (a throwaway cluster, initdb and pg_ctl from
#               Debian's postgresql) behind two sync-server instances, each hub syncing with its own
#   make test   scripts/test-prerequisites.sh (that check, run against fakes), scripts/check-layers.sh (the
#               layering checks of docs/architecture.md), the whole test suite (release mode:
#               the property tests run thousands of seeded cases), then scripts/schemathesis.sh (the real server
#               against docs/openapi.yaml; creates .venv if missing), then scripts/conformance.sh (the same
#               scenarios with the Swift and the Python client)
#   make bench  the core and sync benchmark suites, ratios against baselines measured in the same run
#               (the duplicates suite runs alone: swift run -c release field-bench duplicates)
#   make fuzz   libFuzzer on the protocol decoders (FUZZ_RUNS executions, default 2,000,000), then mutated
#               whole HTTP requests against the release server (FUZZ_HTTP_RUNS, default 1,000,000)
#   make lint   swift format lint
SWIFT ?= swift

.PHONY: build demo demo-postgres test bench fuzz lint clean

build:
	SWIFT=$(SWIFT) bash scripts/prerequisites.sh
	$(SWIFT) build -c release

demo:
	SWIFT=$(SWIFT) bash scripts/demo.sh

demo-postgres:
	SWIFT=$(SWIFT) bash scripts/demo-postgres.sh

test:
	SWIFT=$(SWIFT) bash scripts/prerequisites.sh --test
	bash scripts/test-prerequisites.sh
	bash scripts/check-layers.sh
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
	bash scripts/check-layers.sh

clean:
	rm -rf .build
