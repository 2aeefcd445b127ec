#!/usr/bin/env bash
# The shipped alerting and recording rules: valid for Prometheus, each alert fires when it should
# and each recording rule gives what it should (promtool's rule unit tests in
# tests/alerts_test.yml, recording_test.yml and availability_test.yml, on synthetic fedprobe
# series).
set -euo pipefail
: "${SOURCE_ROOT:?}"
promtool check rules "$SOURCE_ROOT/alerts/fedprobe.rules.yml" "$SOURCE_ROOT/alerts/fedprobe.recording.yml"
cd "$SOURCE_ROOT/tests"
promtool test rules alerts_test.yml recording_test.yml availability_test.yml
