#!/usr/bin/env bash
# grade-class.sh: grade a folder of student submissions, one report per
# student, on a clean lab VM (run it as root in the VM, never on a
# student's own machine, where they are root).
#
#   sudo vagrant/classroom/grade-class.sh SUBMISSIONS OUT [LAB...]
#
# SUBMISSIONS holds one directory per student, each with the LAB.sh scripts
# that `lab grade --submission` runs (chroot.sh, netns.sh, ...). For every
# student, lab resets each lab, runs the script, grades the live kernel
# state and resets again; OUT gets NAME.txt (what the student sees),
# NAME.xml (JUnit), NAME.json (GitHub Classroom's result format) and one
# line per student in summary.tsv (name, "all", points, maximum). With LAB
# arguments only those labs are graded, one report and line per lab
# (NAME-LAB.txt, ...; name, LAB, points, maximum). LAB=/path/to/lab picks the lab
# binary (default: lab on PATH).
#
# Exit status: 0 when every student got full marks, 1 when someone did not,
# 2 on bad arguments, 3 when lab is missing or not run as root.
set -euo pipefail

usage() {
	echo "usage: sudo $0 SUBMISSIONS OUT [LAB...]" >&2
	exit 2
}
[ $# -ge 2 ] || usage
submissions=$1 out=$2
shift 2
[ -d "$submissions" ] || {
	echo "grade-class: $submissions: not a directory of student directories" >&2
	exit 2
}
lab=${LAB:-$(command -v lab || true)}
[ -x "$lab" ] || {
	echo "grade-class: lab not found: install it (sudo make install) or set LAB=/path/to/lab" >&2
	exit 3
}
[ "$(id -u)" -eq 0 ] || {
	echo "grade-class: run as root: grading resets labs and runs the scripts as root" >&2
	exit 3
}
mkdir -p "$out"

labs=("$@")
if [ ${#labs[@]} -eq 0 ]; then
	labs=("")
fi

status=0
: >"$out/summary.tsv"
for dir in "$submissions"/*/; do
	name=$(basename "$dir")
	for l in "${labs[@]}"; do
		suffix="" only=()
		if [ -n "$l" ]; then
			suffix="-$l" only=(--lab "$l")
		fi
		rc=0
		"$lab" grade --submission "$dir" "${only[@]}" --format text --out "$out/$name$suffix.txt" \
			--report "junit=$out/$name$suffix.xml" --report "classroom=$out/$name$suffix.json" 2>"$out/$name$suffix.err" || rc=$?
		case $rc in
		0) ;;
		1) status=1 ;;
		*)
			echo "grade-class: $name${l:+ ($l)}: lab grade failed (exit $rc): $(tail -n 1 "$out/$name$suffix.err")" >&2
			exit "$rc"
			;;
		esac
		# "wrote the text report to FILE: 40/55 points"
		points=$(sed -n 's/.*: \([0-9.]*\)\/\([0-9]*\) points$/\1\t\2/p' "$out/$name$suffix.err" | tail -n 1)
		rm -f "$out/$name$suffix.err"
		printf '%s\t%s\t%s\n' "$name" "${l:-all}" "$points" | tee -a "$out/summary.tsv"
	done
done
exit "$status"
