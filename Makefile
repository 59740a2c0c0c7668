# FieldSync — the commands the README names.
#   make test   the whole test suite (release mode: the property tests run thousands of seeded cases)
#   make bench  every benchmark suite, ratios against baselines measured in the same run
#   make lint   swift format lint

SWIFT ?= swift

.PHONY: build test bench lint clean

build:
	$(SWIFT) build -c release

test:
	$(SWIFT) test -c release

bench:
	$(SWIFT) run -c release field-bench all

lint:
	$(SWIFT) format lint --strict -r Sources Tests

clean:
	rm -rf .build
