#!/usr/bin/env bash
# phases.sh: where the time of one `lab run` goes. Runs
# `lab run --rm ARGS busybox true` (ARGS default --net none) RUNS times with LAB_TRACE=1 (each
# phase of the parent and of the container's init is written to stderr
# with the wall clock in microseconds, see kernel/container/ctrinit
# TraceEnv) and prints, per phase, the median moment since lab was
# spawned and the median time since the phase before.
#
#   sudo bench/phases.sh                 # builds lab from this checkout
#   sudo LAB=/usr/local/bin/lab RUNS=100 bench/phases.sh
#   sudo ARGS='--net bridge' bench/phases.sh
#
# Needs: python3, busybox-static (Debian packages).
set -euo pipefail

RUNS=${RUNS:-30}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/lab-phases.XXXXXX)
trap 'LAB_ROOT=$work/root "$LAB" container prune --all >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
if [ -z "${LAB:-}" ]; then
	LAB=$work/lab
	(cd "$here" && CGO_ENABLED=0 go build -o "$work/" ./cmd/lab ./cmd/lab-init)
fi
export LAB LAB_ROOT=$work/root
"$LAB" image import-busybox >/dev/null

read -ra extra <<<"${ARGS:---net none}" # lab run's flags, split on spaces
python3 - "$RUNS" "${extra[@]}" <<'PY'
import os, statistics, subprocess, sys, time

runs, extra = int(sys.argv[1]), sys.argv[2:]
cmd = [os.environ["LAB"], "run", "--rm", *extra, "busybox", "true"]
env = dict(os.environ, LAB_TRACE="1")
at, delta, order = {}, {}, []
for i in range(runs + 3):  # the first three warm the page cache
    start = time.time()
    p = subprocess.run(cmd, env=env, stderr=subprocess.PIPE, text=True)
    end = time.time()
    if p.returncode != 0:
        sys.exit(f"phases: {' '.join(cmd)}: exit {p.returncode}: {p.stderr}")
    if i < 3:
        continue
    events = [("spawn", start * 1e6)]
    for line in p.stderr.splitlines():
        if line.startswith("lab-trace: "):
            _, us, who, phase = line.split(" ", 3)
            events.append((f"{who}: {phase}", int(us)))
    events.sort(key=lambda e: e[1])
    events.append(("exit (seen by the caller)", end * 1e6))
    prev = events[0][1]
    for name, us in events:
        if name not in at:
            at[name], delta[name] = [], []
            order.append(name)
        at[name].append((us - start * 1e6) / 1000)
        delta[name].append((us - prev) / 1000)
        prev = us
print(f"{' '.join(cmd[1:])}: {runs} runs, medians in ms")
print(f"{'at':>7} {'+step':>7}  phase")
for name in sorted(order, key=lambda n: statistics.median(at[n])):
    print(f"{statistics.median(at[name]):7.2f} {statistics.median(delta[name]):7.2f}  {name}")
PY
