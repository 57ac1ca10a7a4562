#!/usr/bin/env bash
# vault_tamper.sh - the storage lies: one byte of a sealed segment flipped,
# another segment truncated, a third deleted.  `lacre records` must report
# each precisely (and exit 3), and return nothing that failed a check.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-tamper-XXXXXX)
IPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
command -v age >/dev/null || die "Debian's age is not installed"

site=$work/site
vault_init "$site"
W1=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri) || die "warrant"
# three deliveries, three ingest runs: W1 gets (at least) three segments
for i in 1 2 3; do
	"$B/lacre-mediator" --output "$work/s$i" --targets 1 --calls 2 --seed "$i" \
		--start-time 2026-11-28T1$i:00:00Z >/dev/null 2>&1 || die "mediator"
	vault_ingest_start "$site" "run$i"
	python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/s$i.hi2" "$work/s$i.hi3" || die "send"
	vault_ingest_stop "run$i"
done
"$B/lacre" records --site "$site" --warrant "$W1" --justification "e2e: check the sealed records" --json > "$work/before.jsonl" 2>"$work/before.err" ||
	{ cat "$work/before.err"; die "records before tampering"; }
n_before=$(wc -l < "$work/before.jsonl")
"$B/lacre" warrant identity --site "$site" "$W1" --user "$SUP_KEY" --justification "e2e: open segments with age" > "$work/w1.key" 2>/dev/null || die "identity"
mine=()
for obj in $(find "$site/objects/seg" -type f | sort); do
	age -d -i "$work/w1.key" -o /dev/null "$obj" 2>/dev/null && mine+=("$obj")
done
[ ${#mine[@]} -ge 3 ] || die "expected 3 segments for $W1, found ${#mine[@]}"
flip=${mine[0]} cut=${mine[1]} del=${mine[2]}
# flip one byte in the middle of the ciphertext after the age header and
# the payload nonce (a small segment's middle could be in its header: that
# is caught too, as "does not open", but this check is about a chunk)
python3 - "$flip" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
hend = b.index(b'\n', b.index(b'\n--- ') + 1) + 1 + 16
assert len(b) > hend, "a segment without ciphertext"
b[hend + (len(b) - hend) // 2] ^= 0x01
open(p, 'wb').write(b)
PY
truncate -s $(( $(stat -c %s "$cut") - 100 )) "$cut"
rm -f "$del"

"$B/lacre" records --site "$site" --warrant "$W1" --justification "e2e: check the sealed records" --json > "$work/after.jsonl" 2>"$work/after.err"
rc=$?
cat "$work/after.err"
[ $rc -eq 3 ] || die "records exited $rc after tampering, expected 3 (verification failed)"
name() { echo "seg/$(basename "$1")"; }
grep -q "$(name "$del").*missing from the backend" "$work/after.err" || die "the deleted segment is not reported missing"
grep -q "$(name "$cut").*truncated" "$work/after.err" || die "the truncated segment is not reported truncated"
grep -q "$(name "$flip").*corrupt" "$work/after.err" || die "the flipped byte is not reported as corrupt"
n_after=$(wc -l < "$work/after.jsonl")
[ "$n_after" -lt "$n_before" ] || die "records still returned everything ($n_after of $n_before)"
# what is still returned is exactly a subset of what was there before
python3 - "$work" <<'PY' || die "a record returned after tampering was not in the untouched set"
import json, sys
w = sys.argv[1]
before = {l.strip() for l in open(f'{w}/before.jsonl')}
after = [l.strip() for l in open(f'{w}/after.jsonl')]
sys.exit(0 if all(a in before for a in after) else 1)
PY
echo "ok   flipped, truncated and deleted segments each reported; $n_after of $n_before records still readable"

# the keyless site audit reports the same three problems, and --deep too
"$B/lacre" audit --site "$site" > "$work/audit.out" 2>&1
rc=$?
cat "$work/audit.out"
[ $rc -eq 3 ] || die "audit --site exited $rc after tampering, expected 3"
grep -q "$(name "$del").*missing from the backend" "$work/audit.out" || die "audit: deleted segment not reported"
grep -q "$(name "$cut").*truncated" "$work/audit.out" || die "audit: truncated segment not reported"
# a flipped body byte keeps the keyless fingerprint (header + chunk tags):
# only a key can see it (reads above, and --deep below)
"$B/lacre" audit --site "$site" --deep > "$work/deep.out" 2>&1
rc=$?
cat "$work/deep.out"
[ $rc -eq 3 ] || die "audit --deep exited $rc after tampering, expected 3"
# (a one-chunk segment whose chunk fails opens with no key: "does not open
# with W's key: stored data is corrupt"; a later chunk: "a chunk … failed")
grep -Eq "^deep .*$(name "$flip"): (a chunk or frame failed|does not open with $W1's key: stored data is corrupt)" \
	"$work/deep.out" || die "audit --deep: flipped chunk not reported"
echo "ok   lacre audit --site (keyless) and --deep report every tampered segment"
