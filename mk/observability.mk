# Prometheus alert rules and the compose Prometheus configuration: checked and
# unit-tested with promtool (Debian's prometheus package). Part of `make test`.

PROM_DIR := observability/prometheus

.PHONY: rules-test
rules-test: deps ## check the Prometheus config and alert rules, and run their unit tests (promtool test rules)
	cd $(PROM_DIR) && promtool check config prometheus.yml && promtool test rules alerts_test.yml
