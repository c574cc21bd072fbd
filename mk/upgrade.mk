# Upgrades in place: stacks made by older commits, started again by this
# checkout on the same data. Included by the Makefile (`-include mk/*.mk`).

.PHONY: upgrade-test
upgrade-test: deps venv ## start the stack of older commits (ec0aa0e, 1bb9760), leave data, upgrade it in place to this checkout (local, then compose) and check it through nginx
	PATH="/usr/sbin:$$PATH" $(PY) -m tests.upgrade $(UPGRADE_ARGS)
