#!/usr/bin/env bash
# run-vs-crun.sh: `lab run --rm --net none busybox true` against crun and
# runc running `true` on the same busybox root file system, one after the
# other, with hyperfine. Prints each median and the ratios lab/crun and
# lab/runc (issue 8's acceptance: <= 1.0x crun, <= 0.5x runc).
#
#   sudo bench/run-vs-crun.sh            # builds lab from this checkout
#   sudo LAB=/usr/local/bin/lab RUNS=200 bench/run-vs-crun.sh
#
# Needs: crun, runc, hyperfine, busybox-static, python3 (Debian packages).
# bench/phases.sh shows where the time of one lab run goes.
# crun 1.8 rejects a cgroup v1 host that also mounts an (empty) cgroup2 at
# /sys/fs/cgroup/unified, so crun runs in a private mount namespace with
# that mount removed; hyperfine itself runs there, so the unshare is not
# timed.
set -euo pipefail

RUNS=${RUNS:-100}
WARMUP=${WARMUP:-10}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/lab-bench.XXXXXX)
forward=$(cat /proc/sys/net/ipv4/ip_forward)
# Leave the host as it was: remove the containers, the lab0 bridge and its
# rules (lab container prune --all), and put ip_forward back (--net bridge
# turns it on).
finish() {
	if [ -x "${LAB:-}" ]; then
		LAB_ROOT=$work/root "$LAB" container prune --all >/dev/null 2>&1 || true
		LAB_ROOT=$work/tmpfs/root "$LAB" container prune --all >/dev/null 2>&1 || true
	fi
	umount "$work/tmpfs" 2>/dev/null || true
	echo "$forward" >/proc/sys/net/ipv4/ip_forward
	rm -rf "$work"
}
trap finish EXIT

for tool in crun runc hyperfine python3; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install $tool)" >&2; exit 3; }
done

if [ -z "${LAB:-}" ]; then
	LAB=$work/lab
	(cd "$here" && CGO_ENABLED=0 go build -o "$work/" ./cmd/lab ./cmd/lab-init)
fi
(cd "$here" && CGO_ENABLED=0 go build -o "$work/floor" ./bench/floor)
export LAB_ROOT=$work/root
"$LAB" image import-busybox >/dev/null

# The same root file system for crun and runc: the busybox image's layer.
layer=$(find "$LAB_ROOT/images/layers" -mindepth 1 -maxdepth 1 -type d | head -1)
mkdir -p "$work/bundle"
cp -a "$layer" "$work/bundle/rootfs"
(cd "$work/bundle" && runc spec)
python3 - "$work/bundle/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["args"] = ["true"]
c["process"]["terminal"] = False
c["root"]["readonly"] = False  # lab's overlay root is writable too
json.dump(c, open(p, "w"), indent=2)
PY

hf() { hyperfine -N --style basic --warmup "$WARMUP" --runs "$RUNS" "$@"; }

echo "== lab run --rm --net none busybox true"
hf --export-json "$work/lab.json" "$LAB run --rm --net none busybox true"
echo "== crun run (true)"
unshare -m sh -c "umount /sys/fs/cgroup/unified 2>/dev/null; cd $work/bundle && \
	hyperfine -N --style basic --warmup $WARMUP --runs $RUNS --export-json $work/crun.json 'crun run -b $work/bundle lab-bench-crun'"
echo "== runc run (true)"
hf --export-json "$work/runc.json" "runc run -b $work/bundle lab-bench-runc"
echo "== first container after a second of idle (lab, crun)"
hyperfine -N --style basic --runs 10 --warmup 1 --prepare 'sleep 1' --export-json "$work/lab-idle.json" "$LAB run --rm --net none busybox true"
unshare -m sh -c "umount /sys/fs/cgroup/unified 2>/dev/null; \
	hyperfine -N --style basic --runs 10 --warmup 1 --prepare 'sleep 1' --export-json $work/crun-idle.json 'crun run -b $work/bundle lab-bench-crun'"
# The floor: what any Go runtime pays (bench/floor: clone with the five
# namespaces, exec true, wait; nothing else), and the start of the lab
# CLI alone (lab version), against crun in the same session.
echo "== floor (Go: namespaces + exec true), lab version, crun run"
unshare -m sh -c "umount /sys/fs/cgroup/unified 2>/dev/null; cd $work/bundle && \
	hyperfine -N --style basic --warmup $WARMUP --runs $RUNS --export-json $work/floor.json \
	'$work/floor' '$LAB version' 'crun run -b $work/bundle lab-bench-crun'"
# What the two ways forward could give at most: the state directory in
# memory (LAB_ROOT on a tmpfs, as crun keeps its state in /run/crun), and
# a command line as cheap to start as the smallest Go program (floor
# start), in one session with crun. env(1) starts both lab runs alike.
echo "== lab run with LAB_ROOT on disk and on a tmpfs, the smallest Go program, crun run"
mkdir -p "$work/tmpfs"
mount -t tmpfs -o size=512m lab-bench-tmpfs "$work/tmpfs"
LAB_ROOT=$work/tmpfs/root "$LAB" image import-busybox >/dev/null
unshare -m sh -c "umount /sys/fs/cgroup/unified 2>/dev/null; cd $work/bundle && \
	hyperfine -N --style basic --warmup $WARMUP --runs $RUNS --export-json $work/tmpfs.json \
	'env LAB_ROOT=$work/root $LAB run --rm --net none busybox true' \
	'env LAB_ROOT=$work/tmpfs/root $LAB run --rm --net none busybox true' \
	'$work/floor start' '$LAB version' 'crun run -b $work/bundle lab-bench-crun'"
# --net bridge against --net none in one session: minutes apart, this
# machine's medians drift by more than the difference.
echo "== lab run --rm --net none / --net bridge busybox true"
hf --export-json "$work/lab-bridge.json" "$LAB run --rm --net none busybox true" "$LAB run --rm --net bridge busybox true"

# Removing a running container: lab rm -f (kill, wait, release cgroup,
# network and state; what stop + rm do) against crun delete -f of a
# detached crun container, each prepared by starting one that sleeps.
mkdir -p "$work/bundle-sleep"
python3 - "$work/bundle/config.json" "$work/bundle-sleep/config.json" "$work/bundle/rootfs" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["sleep", "1000"]
c["root"]["path"] = sys.argv[3]
json.dump(c, open(sys.argv[2], "w"), indent=2)
PY
echo "== lab rm -f of a running container"
hyperfine -N --style basic --warmup 3 --runs "$((RUNS / 2))" --export-json "$work/lab-rm.json" \
	--prepare "$LAB run -d --net none --name lab-bench-rm busybox sleep 1000" "$LAB rm -f lab-bench-rm"
echo "== lab stop -t 0 + lab rm of a running container"
hyperfine --style basic --warmup 3 --runs "$((RUNS / 2))" --export-json "$work/lab-stoprm.json" \
	--prepare "$LAB run -d --net none --name lab-bench-rm busybox sleep 1000" "$LAB stop -t 0 lab-bench-rm >/dev/null && $LAB rm lab-bench-rm >/dev/null"
echo "== crun delete -f of a running container"
unshare -m sh -c "umount /sys/fs/cgroup/unified 2>/dev/null; \
	hyperfine -N --style basic --warmup 3 --runs $((RUNS / 2)) --export-json $work/crun-rm.json \
	--prepare 'crun run -d -b $work/bundle-sleep lab-bench-crun-rm' 'crun delete -f lab-bench-crun-rm'"

python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
med = lambda n: json.load(open(f"{w}/{n}.json"))["results"][0]["median"] * 1000
lab, crun, runc = med("lab"), med("crun"), med("runc")
print()
print(f"median  lab {lab:.1f} ms   crun {crun:.1f} ms   runc {runc:.1f} ms")
print(f"ratio   lab/crun {lab/crun:.2f}x (want <= 1.0)   lab/runc {lab/runc:.2f}x (want <= 0.5)")
li, ci = med("lab-idle"), med("crun-idle")
print(f"idle    lab {li:.1f} ms   crun {ci:.1f} ms   ratio {li/ci:.2f}x")
n, b = [r["median"] * 1000 for r in json.load(open(f"{w}/lab-bridge.json"))["results"]]
print(f"bridge  lab {b:.1f} ms   (+{b-n:.1f} ms over --net none {n:.1f} ms, same session, want <= 5)")
fl = [r["median"] * 1000 for r in json.load(open(f"{w}/floor.json"))["results"]]
print(f"floor   Go namespaces+exec {fl[0]:.1f} ms   lab version {fl[1]:.1f} ms   crun {fl[2]:.1f} ms (same session)")
tm = [r["median"] * 1000 for r in json.load(open(f"{w}/tmpfs.json"))["results"]]
print(f"tmpfs   lab {tm[0]:.1f} ms (state on disk)   {tm[1]:.1f} ms (on a tmpfs)   crun {tm[4]:.1f} ms (same session)")
print(f"        smallest Go program {tm[2]:.1f} ms   lab version {tm[3]:.1f} ms")
best = tm[1] - (tm[3] - tm[2])
print(f"        both ways forward at best: {best:.1f} ms = {best/tm[4]:.2f}x crun")
rm, srm, crm = med("lab-rm"), med("lab-stoprm"), med("crun-rm")
print(f"remove  lab rm -f {rm:.1f} ms   lab stop -t 0 + rm {srm:.1f} ms (with a shell)   crun delete -f {crm:.1f} ms")
PY

echo "== 50 containers in a row, then 50 at once (lab run --rm --net none busybox true)"
start=$(date +%s.%N)
for _ in $(seq 50); do "$LAB" run --rm --net none busybox true; done
mid=$(date +%s.%N)
seq 50 | xargs -P 50 -I{} "$LAB" run --rm --net none busybox true
end=$(date +%s.%N)
python3 -c "print(f'50 in a row {($mid-$start)*1000:.0f} ms, 50 concurrently {($end-$mid)*1000:.0f} ms')"
left=$(find "$LAB_ROOT/containers" -mindepth 1 -maxdepth 1 -type d | wc -l)
echo "state directories left after them: $left"

# A detached container's supervisor: resident memory (want < 3 MiB).
id=$("$LAB" run -d --net none busybox sleep 30)
sup=$(python3 -c "import json,sys; print(json.load(open('$LAB_ROOT/containers/$id/state.json'))['supervisor'])")
echo "supervisor RSS $(awk '/VmRSS/ {print $2, $3}' /proc/"$sup"/status)"
"$LAB" rm -f "$id" >/dev/null

# The runtime alone, without the lab CLI's process start-up: the same run
# from a Go benchmark (create, start, wait, clean up), in the package's
# test binary, which also re-executes itself as the container init.
if [ -z "${NO_GO_BENCH:-}" ] && command -v go >/dev/null; then
	echo "== in-process: go test -bench RunTrue ./kernel/container"
	(cd "$here" && CGO_ENABLED=0 go test -run '^$' -bench RunTrue -benchtime 50x ./kernel/container | grep Benchmark)
fi
