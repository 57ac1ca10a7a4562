#!/usr/bin/env bash
# decode_encrypted.sh - `lacre decode --key` against the independent OpenLI
# vectors with encrypted payloads (../shared/vectors/openli-c): with the key
# every key of every expected object (expected-hiN.jsonl, decrypted view plus
# "encrypted") must match PDU for PDU, with exit 0, nothing on stderr and no
# byteCounter break; without the key the output must match the ciphertext
# view.  Then the failures: a wrong key (exit 1, reason named, PDUs still
# printed as ciphertext views), a PDU removed from the stream (exit 1, the
# exact byteCounter gap named), a key file that is not a key (exit 2).
# Also the mobile IRI fields of the EPS target, and a keep-alive whose
# microSeconds is 1,000,000 (decoded as the next second, flagged, exit 0).
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
shared="$top/../shared"
vec="$shared/vectors/openli-c"
lacre="$top/build/bin/lacre"
[ -x "$lacre" ] || { echo "FAIL: build/bin/lacre missing: run make (a test run needs the build)"; exit 1; }
[ -d "$vec" ] || { echo "FAIL: vectors not found at $vec: the shared test vectors are missing; check out the shared folder beside the source tree"; exit 1; }
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }
tmp=$(mktemp -d /tmp/lacre-decenc-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$top/tests/e2e/lib/check.bash"
EXPECT_DIR=$tmp
key="$vec/config/payload-encryption-key.hex"
fail=0

compare() { # $1 = actual jsonl, $2 = expected jsonl: every expected key, same value and type
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
	# with the key: the decrypted view
	"$lacre" decode --key "$key" "$vec/raw/$s.bin" > "$tmp/$s.jsonl" 2> "$tmp/$s.err"; rc=$?
	[ $rc -eq 0 ] || { echo "decode --key $s.bin: exit $rc, expected 0"; cat "$tmp/$s.err"; fail=1; }
	[ -s "$tmp/$s.err" ] && { echo "decode --key $s.bin: unexpected stderr (a byteCounter break?)"; cat "$tmp/$s.err"; fail=1; }
	compare "$tmp/$s.jsonl" "$vec/expected-$s.jsonl" || fail=1
	# every encrypted PDU was decrypted and carries its byteCounter
	python3 - "$tmp/$s.jsonl" <<'PY' || fail=1
import json, sys
n = 0
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o["encrypted"]:
        e = o.get("encryption", {})
        if e.get("decrypted") is not True or "byte_counter_count" not in e:
            print(f"offset {o['offset']}: not decrypted: {e}"); sys.exit(1)
        n += 1
print(f"{sys.argv[1]}: {n} PDUs decrypted")
sys.exit(0 if n else 1)
PY
	# without the key: the ciphertext view, and no error (nothing was asked)
	"$lacre" decode "$vec/raw/$s.bin" > "$tmp/$s.ct.jsonl" 2> "$tmp/$s.ct.err"; rc=$?
	[ $rc -eq 0 ] || { echo "decode $s.bin without key: exit $rc, expected 0"; cat "$tmp/$s.ct.err"; fail=1; }
	compare "$tmp/$s.ct.jsonl" "$vec/expected-$s.ciphertext-view.jsonl" || fail=1
done

# the EPS target's IRIs: identities, events, PDN address, APN, location
python3 - "$tmp/hi2.jsonl" <<'PY' || fail=1
import json, sys
eps = [json.loads(l) for l in open(sys.argv[1])]
eps = [o for o in eps if o.get("content") == "epsiri"]
bad = 0
def want(cond, what):
    global bad
    if not cond:
        print("EPS IRI:", what); bad += 1
want(len(eps) == 3, f"{len(eps)} ePSIRI PDUs, expected 3")
events = [o.get("mobile", {}).get("event") for o in eps]
want(events == ["bearer-activation", "bearer-modification", "bearer-deactivation"], f"events {events}")
# values as decoded/hi2.tracepktdump.txt (libwandder) shows them: the cell
# changes at the modification; the deactivation carries no RAT type
ecgi = [o.get("mobile", {}).get("uli", {}).get("ecgi") for o in eps]
want(ecgi == ["204-08-0a1b2c3", "204-08-0a1b2c7", "204-08-0a1b2c7"], f"ecgi {ecgi}")
rat = [o.get("mobile", {}).get("rat") for o in eps]
want(rat == ["eutran", "eutran", None], f"rat {rat}")
for o in eps:
    m = o.get("mobile", {})
    want(m.get("family") == "eps", f"family {m.get('family')}")
    want(m.get("imsi") == "204081234567890", f"imsi {m.get('imsi')}")
    want(m.get("msisdn") == "31612345678", f"msisdn {m.get('msisdn')}")
    want(m.get("imei") == "3520990017614801", f"imei {m.get('imei')}")
    want(m.get("apn") == "internet.c", f"apn {m.get('apn')}")
    want(m.get("pdn_address") == "10.45.7.77", f"pdn_address {m.get('pdn_address')}")
    want(m.get("uli", {}).get("tai") == "204-08-1c2d", f"tai {m.get('uli')}")
    want(o.get("location") is True, f"location {o.get('location')}")
print(f"EPS IRI: {len(eps)} checked, {bad} problems")
sys.exit(1 if bad else 0)
PY

# a wrong key: every encrypted PDU still printed (ciphertext view), the reason named, exit 1
echo 000102030405060708090a0b0c0d0e0f1011121314151617 > "$tmp/wrong.hex"
expect_exit 1 "encrypted payload not decrypted (wrong key" "$lacre" decode --key "$tmp/wrong.hex" "$vec/raw/hi2.bin" ||
	{ echo "wrong key: not refused as expected"; fail=1; }
compare "$EXPECT_DIR/expect.out" "$vec/expected-hi2.ciphertext-view.jsonl" || { echo "wrong key: ciphertext view wrong"; fail=1; }
n=$(grep -c 'not decrypted' "$EXPECT_DIR/expect.err")
[ "$n" -eq 34 ] || { echo "wrong key: $n PDUs reported, expected 34"; fail=1; }

# two keys (a rotation where the right one comes second): all decrypted, exit 0
"$lacre" decode --key "$tmp/wrong.hex" --key "$key" "$vec/raw/hi2.bin" > "$tmp/rot.jsonl" 2> "$tmp/rot.err"; rc=$?
[ $rc -eq 0 ] || { echo "two keys: exit $rc, expected 0"; cat "$tmp/rot.err"; fail=1; }
compare "$tmp/rot.jsonl" "$vec/expected-hi2.jsonl" || fail=1

# a key file that is not a key: usage error
printf 'not hex\n' > "$tmp/bad.hex"
expect_exit 2 "not a handover key" "$lacre" decode --key "$tmp/bad.hex" "$vec/raw/hi2.bin" ||
	{ echo "bad key file: not a usage error"; fail=1; }

# one encrypted CC removed from HI3: the byteCounter chain of its LIID
# breaks at exactly that PDU's bytes
python3 - "$vec/raw/hi3.bin" "$tmp/hole.bin" "$tmp/hole.want" "$tmp/hi3.jsonl" <<'PY'
import json, sys
raw = open(sys.argv[1], 'rb').read()
pdus = [json.loads(l) for l in open(sys.argv[4])]
# the 20th encrypted PDU of LIC-IPRAD-33
v = [o for o in pdus if o["liid"] == "LIC-IPRAD-33" and o["encrypted"]][19]
c = v["encryption"]["byte_counter_count"]
open(sys.argv[2], 'wb').write(raw[:v["offset"]] + raw[v["offset"] + v["length"]:])
open(sys.argv[3], 'w').write(f"byteCounter break for LIID LIC-IPRAD-33: bytes {c}..{c + v['length']} of its PDUs never arrived")
PY
expect_exit 1 "$(cat "$tmp/hole.want")" "$lacre" decode --key "$key" "$tmp/hole.bin" ||
	{ echo "removed PDU: byteCounter break not reported as expected"; fail=1; }
n=$(grep -c 'byteCounter' "$EXPECT_DIR/expect.err")
[ "$n" -eq 1 ] || { echo "removed PDU: $n byteCounter reports, expected 1"; cat "$EXPECT_DIR/expect.err"; fail=1; }

# microSeconds = 1,000,000 in the first keep-alive: the next second, flagged, not partial
python3 - "$vec/raw/hi2.bin" "$tmp/usec.bin" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read()[:73])
i = d.index(bytes.fromhex("8103075c8e"))
d[i:i + 5] = bytes.fromhex("81030f4240")
open(sys.argv[2], 'wb').write(d)
PY
"$lacre" decode "$tmp/usec.bin" > "$tmp/usec.jsonl" 2> "$tmp/usec.err"; rc=$?
[ $rc -eq 0 ] || { echo "microSeconds 1000000: exit $rc, expected 0"; cat "$tmp/usec.err"; fail=1; }
python3 - "$tmp/usec.jsonl" <<'PY' || fail=1
import json, sys
o = json.loads(open(sys.argv[1]).readline())
ok = o["time"] == "2026-12-06T21:33:21.000000Z" and o.get("flags") == ["microseconds-carried"] and "partial" not in o
print("microSeconds 1000000:", "ok" if ok else f"wrong: {o}")
sys.exit(0 if ok else 1)
PY

[ $fail -eq 0 ] && echo "decode_encrypted: ok"
exit $fail
