# `make fuzz`: the long fuzzing run. Included by the Makefile
# (`-include mk/*.mk`). `make test` runs the same tests bounded (fixed seed, few
# examples); here FUZZ_PROFILE=long draws many more, afresh each run.

FUZZ_PATHS := tests/fuzz authcore/tests/test_token_properties.py

.PHONY: fuzz
fuzz: deps venv ## fuzz for longer than `make test` (schemathesis on a throw-away stack, hypothesis on the token/JSON parsers; ~5 min)
	PATH="/usr/sbin:$$PATH" FUZZ_PROFILE=long TEST_PATHS="$(FUZZ_PATHS)" TEST_STATE_DIR="$(CURDIR)/.state/fuzz" \
		$(PY) -m runner.suite $(PYTEST_ARGS)
