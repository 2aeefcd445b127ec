#!/usr/bin/env bash
# The soak's 3-minute version: 10,000 loopback targets (icmp and tcp), reloads alternating good
# and bad files, scrapes and a storm of 20 concurrent scrapes, sampled every 10 s. bench/soak
# makes and removes its own namespace; the hour-long run and its figures are in bench/README.md.
# Peak RSS at most 300 MiB: the storms' bodies (about 36 MB each) wait their turn past two in
# flight (exporters/body_gate.hpp); unbounded, they peaked at 749 MiB.
set -euo pipefail
: "${FEDPROBE:?}" "${SOURCE_ROOT:?}"
exec python3 "$SOURCE_ROOT/bench/soak" "$FEDPROBE" --minutes 3 --targets 10000 \
    --reload-every 20 --storm-every 60 --sample-every 10 --max-peak-rss 300
