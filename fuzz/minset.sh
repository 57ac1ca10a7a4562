#!/usr/bin/env bash
# fuzz/minset.sh - pick the few fuzzer-made inputs worth committing: the
# seeds of fuzz/corpus/HARNESS are kept, then, greedily, the inputs of
# WORKDIR that add the most coverage edges, until CAP files in all or no
# input adds an edge.  Copies the picked inputs into fuzz/corpus/HARNESS and
# prints how many edges the seeds and the kept set reach.
#
#   fuzz/minset.sh framer /tmp/work-framer 50
#
# Each input's edge set comes from a one-file libFuzzer merge (-merge=1
# -use_counters=0) with a fresh control file: the COV line of a merge lists
# only edges new to that merge, so one file per merge gives its whole set.
set -eu
[ $# -eq 3 ] || { echo "usage: fuzz/minset.sh HARNESS WORKDIR CAP" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
h=$1 corp=$2 cap=$3
seeds=$top/fuzz/corpus/$h
bin=$top/build-fuzz/fuzz_$h
[ -x "$bin" ] || { echo "minset: $bin missing: run fuzz/build" >&2; exit 1; }
w=$(mktemp -d /tmp/lacre-minset-XXXXXX)
trap 'rm -rf "$w"' EXIT
mkdir -p "$w/cov" "$w/o" "$w/in"
i=0
for f in "$seeds"/* "$corp"/*; do
	[ -f "$f" ] || continue
	i=$((i + 1))
	rm -f "$w/o"/* "$w/in"/* "$w/ctl"
	cp "$f" "$w/in/"
	nice -n 10 "$bin" -merge=1 -use_counters=0 -max_len=65536 -merge_control_file="$w/ctl" \
		"$w/o" "$w/in" > /dev/null 2>&1 || true
	{ echo "$f"; grep '^COV' "$w/ctl" | cut -d' ' -f3- || true; } > "$w/cov/$i"
done
python3 - "$w/cov" "$seeds" "$cap" <<'PY'
import os, shutil, sys
cd, seeds, cap = sys.argv[1], sys.argv[2].rstrip('/'), int(sys.argv[3])
ents = []
for n in os.listdir(cd):
    l = open(os.path.join(cd, n)).read().split('\n')
    ents.append((l[0], set(l[1].split()) if len(l) > 1 else set()))
allc = set().union(*[c for _, c in ents]) if ents else set()
have, keep = set(), []
for f, c in ents:
    if os.path.dirname(f) == seeds:
        keep.append(f)
        have |= c
nseed, s0 = len(keep), len(have)
while len(keep) < cap:
    rest = [e for e in ents if e[0] not in keep]
    if not rest:
        break
    best = max(rest, key=lambda e: (len(e[1] - have), -os.path.getsize(e[0])))
    if not best[1] - have:
        break
    keep.append(best[0])
    have |= best[1]
for f in keep[nseed:]:
    shutil.copy(f, seeds)
print('minset: seeds reach %d edges; %d files reach %d of %d (%d added to %s)'
      % (s0, len(keep), len(have), len(allc), len(keep) - nseed, seeds))
PY
