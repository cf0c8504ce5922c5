# The two commands a newcomer needs: `make uat` and `make test`. Both bootstrap .venv and a browser. `make check`
# runs the fast tests only (no browser), for the edit-test loop.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: uat uat-all test check mutate bootstrap browser node constraints schemas clean

uat: bootstrap
	$(BIN)/dana-uat run

uat-all: bootstrap
	$(BIN)/dana-uat run --all

# Workers take one test file at a time: a file's module fixtures (sandbox, Chromium) start once, and every
# server binds its own free loopback port, so files run side by side safely. Three on two cores: some tests
# wait (DANA's scripts' own fixed pauses, pip on the network), and a third worker fills those waits
# (`make test` on 2 cores: 126-129 s with two workers, 110-126 s with three, 121 s with four).
TEST_WORKERS ?= 3

test: bootstrap
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

# The edit-test loop: every test but those tests/conftest.py marks slow (a browser, a venv, a process of its own,
# load), on two workers. bench/run.py --only check times it.
check: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -n 2 --dist loadfile -q

# Mutation testing of the rule-bearing modules (bench/mutate.py; docs/architecture.md, "Mutation testing"), not
# part of `make test`: one mutmut process, slice after slice, MUTATE_CHILDREN mutants tested at once (the machine
# is shared: 1 by default). Figures go to bench/results.json; mutants/ keeps results, so a second run resumes.
MUTATE_CHILDREN ?= 1
MUTATE_SLICES   ?= runinfo,bundle,webhook,rules,recorder,report,redaction,store,handlers,pipeline,snap,protocol,grading

# The sandbox's slices are sampled (a seeded draw of MUTATE_SAMPLE mutants per module; docs/architecture.md):
# run whole, each surviving mutant there runs the sandbox's HTTP tests. Empty MUTATE_SAMPLE_SLICES: all whole.
MUTATE_SAMPLE_SLICES ?= redaction,store,handlers,pipeline,grading,protocol
MUTATE_SAMPLE        ?= 40
MUTATE_SEED          ?= 29

mutate: bootstrap
	$(BIN)/python bench/mutate.py --children $(MUTATE_CHILDREN) --slice $(MUTATE_SLICES) \
		--sample-slice "$(MUTATE_SAMPLE_SLICES)" --sample $(MUTATE_SAMPLE) --seed $(MUTATE_SEED)

bootstrap: $(STAMP) browser node

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# constraints.txt pins every dependency CI and `make` install (regenerate: `make constraints`); pip shows
# its progress, as the first install takes a minute.
$(STAMP): pyproject.toml setup.py constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -c constraints.txt -e '.[dev]'
	touch $(STAMP)

browser: $(STAMP)
	@scripts/ensure-chromium.sh $(BIN)/python

# Node.js and npm for the Node example merchant (examples/merchant-node) that the merchant-mode tests run.
node:
	@scripts/ensure-node.sh

constraints: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable --exclude dana-uat | grep -v '^#' > constraints.txt

# The editor schemas the package ships (conformance/schemas/), regenerated from the models after a change to them
# (tests/test_editor_schema.py fails until they agree).
schemas: $(STAMP)
	for name in scenarios merchant-profile; do $(BIN)/dana-uat schema $$name > conformance/schemas/$$name.schema.json; done

clean:
	rm -rf $(VENV) reports .pytest_cache mutants
