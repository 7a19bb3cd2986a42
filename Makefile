# partnermail.links: every target does its own set-up on a fresh Debian 12 or 13 machine.
SHELL := /bin/bash
export PATH := $(CURDIR)/.venv/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.collections
export ANSIBLE_NOCOLOR := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup lint unit molecule test demo demo-clean demo-test bench build clean

setup:
	@scripts/bootstrap.sh

lint: setup
	yamllint --strict .
	ruff check .
	ansible-lint --offline
	scripts/check-docs.sh
	antsibull-changelog lint
	antsibull-docs lint-collection-docs --plugin-docs .
	scripts/sanity.sh
	scripts/galaxy-import.sh

unit: setup
	pytest tests/unit tests/integration

molecule: setup
	scripts/molecule.sh

test: lint unit demo-test molecule

demo: setup
	scripts/demo.sh

demo-clean: setup
	scripts/demo.sh clean

# The README's main command, as a newcomer runs it: twice in a row (the second run must change nothing
# and still send a new message across), then cleaned up whatever happened.
demo-test: setup
	rc=0; scripts/demo.sh && PARTNERMAIL_SKIP_SETUP=1 PARTNERMAIL_DEMO_EXPECT_UNCHANGED=1 scripts/demo.sh || rc=$$?; \
	scripts/demo.sh clean; exit $$rc

bench: setup
	scripts/bench.sh

build: setup
	ansible-galaxy collection build --force --output-path build/

clean:
	rm -rf build .pytest_cache .ruff_cache
