#!/usr/bin/env bash
# decode_vectors.sh - `lacre decode` against the independent OpenLI vectors
# (../shared/vectors/openli-a): every key of every expected object must
# match, PDU for PDU, in stream order, and the decoder must exit 0.
# Also checks that a damaged stream is reported with exit status 1 and that
# decoding resumes after the damage.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
shared="$top/../shared"
vec="$shared/vectors/openli-a"
lacre="$top/build/bin/lacre"
[ -x "$lacre" ] || { echo "FAIL: build/bin/lacre missing: run make (a test run needs the build)"; exit 1; }
[ -d "$vec" ] || { echo "FAIL: vectors not found at $vec: the shared test vectors are missing; check out the shared folder beside the source tree"; exit 1; }
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }
tmp=$(mktemp -d /tmp/lacre-decode-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0

compare() { # $1 = actual jsonl, $2 = expected jsonl
	python3 - "$1" "$2" <<'PY'
import json, sys
act = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
exp = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
bad = 0
if len(act) != len(exp):
    print(f"PDU count {len(act)}, expected {len(exp)}"); bad += 1
for i, (a, e) in enumerate(zip(act, exp)):
    for k, v in e.items():
        if k not in a:
            print(f"PDU {i} (offset {e.get('offset')}): key {k} missing"); bad += 1
        elif a[k] != v or type(a[k]) != type(v):
            print(f"PDU {i} (offset {e.get('offset')}): {k} = {a[k]!r}, expected {v!r}"); bad += 1
    if bad > 20:
        break
print(f"{sys.argv[1]}: {len(exp)} expected PDUs, {bad} mismatches")
sys.exit(1 if bad else 0)
PY
}

for s in hi2 hi3; do
	"$lacre" decode "$vec/raw/$s.bin" > "$tmp/$s.jsonl" 2> "$tmp/$s.err"; rc=$?
	if [ $rc -ne 0 ]; then echo "decode $s.bin: exit $rc"; cat "$tmp/$s.err"; fail=1; fi
	if [ -s "$tmp/$s.err" ]; then echo "decode $s.bin: unexpected stderr"; cat "$tmp/$s.err"; fail=1; fi
	compare "$tmp/$s.jsonl" "$vec/expected-$s.jsonl" || fail=1
	# the same through stdin
	"$lacre" decode - < "$vec/raw/$s.bin" > "$tmp/$s.stdin.jsonl" || { echo "decode - $s: failed"; fail=1; }
	cmp -s "$tmp/$s.jsonl" "$tmp/$s.stdin.jsonl" || { echo "stdin and file output differ for $s"; fail=1; }
done

# damage: 7 garbage bytes before the second PDU, and a truncated tail
python3 - "$vec/raw/hi2.bin" "$tmp/damaged.bin" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
open(sys.argv[2], 'wb').write(d[:169] + b'\x00garbag' + d[169:-50])
PY
"$lacre" decode "$tmp/damaged.bin" > "$tmp/damaged.jsonl" 2> "$tmp/damaged.err"; rc=$?
[ $rc -eq 1 ] || { echo "damaged stream: exit $rc, expected 1"; fail=1; }
grep -q 'offset 169: not a PS-PDU' "$tmp/damaged.err" || { echo "damaged stream: no error at offset 169"; cat "$tmp/damaged.err"; fail=1; }
grep -q 'truncated PS-PDU' "$tmp/damaged.err" || { echo "damaged stream: truncated tail not reported"; cat "$tmp/damaged.err"; fail=1; }
n=$(wc -l < "$tmp/damaged.jsonl")
[ "$n" -eq 23 ] || { echo "damaged stream: $n PDUs printed, expected 23"; fail=1; }

# usage
"$lacre" decode --help | grep -q '^usage: lacre decode' || { echo "--help: no usage"; fail=1; }
. "$top/tests/e2e/lib/check.bash"
EXPECT_DIR=$tmp
expect_exit 2 "usage: lacre decode" "$lacre" decode || { echo "no argument: not a usage error"; fail=1; }

[ $fail -eq 0 ] && echo "decode_vectors: ok"
exit $fail
