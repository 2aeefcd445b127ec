#!/usr/bin/env bash
# The shipped alerting rules: valid for Prometheus, and each fires when it should (promtool's
# rule unit tests in tests/alerts_test.yml, on synthetic fedprobe series).
set -euo pipefail
: "${SOURCE_ROOT:?}"
promtool check rules "$SOURCE_ROOT/alerts/fedprobe.rules.yml"
cd "$SOURCE_ROOT/tests"
promtool test rules alerts_test.yml
