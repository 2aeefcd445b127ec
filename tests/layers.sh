#!/usr/bin/env bash
# Layers point one way: no file includes a folder above its own. Lowest first.
set -uo pipefail
cd "${SOURCE_ROOT:?}"
layers=(core config probes federation capture engine policy exporters daemon)
fail=0
for i in "${!layers[@]}"; do
    for j in "${!layers[@]}"; do
        (( j > i )) || continue
        # Recursive: a kind's own folder (probes/mllp/) is in its layer.
        if hits=$(grep -rn --include='*.cpp' --include='*.hpp' "#include \"${layers[j]}/" "${layers[i]}" 2>/dev/null); then
            echo "FAIL: ${layers[i]}/ includes ${layers[j]}/, a layer above it:"; echo "$hits"; fail=1
        fi
    done
done
# Probes never know about Prometheus, and nothing below the daemon knows of the process.
if hits=$(grep -rln --include='*.?pp' "prometheus/" core config probes federation capture engine 2>/dev/null); then
    echo "FAIL: below the sinks, these include prometheus-cpp:"; echo "$hits"; fail=1
fi
[ $fail -eq 0 ] && echo "ok: ${layers[*]}"
exit $fail
