# `make bench`: the performance run of PERFORMANCE.md (bench/). Not part of `make test`.

BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): bench/requirements.txt $(STAMP)
	$(VENV)/bin/pip install -q -r bench/requirements.txt
	touch $@

.PHONY: bench-deps
bench-deps: deps venv $(BENCH_STAMP) ## install what `make bench` needs (wrk, flask-jwt-extended, profilers)
	@command -v wrk >/dev/null || { \
		if [ "$$(id -u)" != 0 ]; then echo "run as root, or: sudo apt-get install wrk" >&2; exit 1; fi; \
		echo "installing: wrk"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

.PHONY: bench
bench: bench-deps ## measure the stack against its ceilings and a peer (own stack, ~5 min); prints a table, writes JSON
	PATH="/usr/sbin:$$PATH" $(PY) -m bench
