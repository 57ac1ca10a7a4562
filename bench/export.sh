#!/usr/bin/env bash
# bench/export.sh - evidence package throughput: `lacre export` (decrypt the
# warrant's segments, receipts, write the age-sealed package) and
# `lacre-verify` (decrypt, check every record, receipt and member), in MB/s
# of PDU bytes (the evidence) and of package bytes.  Prints figures, asserts
# nothing.  The traffic comes from lacre-mediator --output (EXPORT_CALLS
# calls and EXPORT_SESSIONS sessions per target, 2 targets, one with a
# warrant) through a real lacre ingest on loopback.
# Environment: EXPORT_CALLS (default 40), EXPORT_SESSIONS (default 20).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
B=build/bin
for p in lacre lacre-verify lacre-mediator; do
	[ -x "$B/$p" ] || { echo "export.sh: $B/$p missing: run make"; exit 0; }
done
command -v age-keygen >/dev/null || { echo "export.sh: age-keygen missing (scripts/deps)"; exit 0; }
command -v python3 >/dev/null || { echo "export.sh: python3 missing"; exit 0; }
work=$(mktemp -d /tmp/lacre-bench-export-XXXXXX)
IPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
export LACRE_TOP=$top
. tests/e2e/lib/vault.bash
calls=${EXPORT_CALLS:-40} sessions=${EXPORT_SESSIONS:-20}
now() { date +%s.%N; }

site=$work/site
vault_init "$site"
W=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri) || die "warrant"
if [ -z "${CLERK_KEY:-}" ]; then
	"$B/lacre" user add admin --site "$site" --role admin -o "$work/admin.key" >/dev/null || die "user add admin"
	"$B/lacre" user add clerk --site "$site" --role clerk -o "$work/clerk.key" --user "$work/admin.key" >/dev/null
	CLERK_KEY=$work/clerk.key
fi
"$B/lacre-mediator" --output "$work/s" --targets 2 --calls "$calls" --sessions "$sessions" --seed 3 \
	--start-time 2026-11-28T10:00:00Z >/dev/null 2>&1 || die "mediator"
vault_ingest_start "$site" bench
python3 tests/e2e/lib/send_streams.py "$HI2" "$HI3" "$work/s.hi2" "$work/s.hi3" || die "sending"
vault_ingest_stop bench
age-keygen -o "$work/court.key" 2>/dev/null
R=$(grep -o 'age1[a-z0-9]*' "$work/court.key")

# with renderings (WAV per call, pcap per CIN: the index is built first),
# then without (--no-media), then the verification of the first
t0=$(now)
"$B/lacre" export --site "$site" --warrant "$W" --recipient "$R" -o "$work/p.age" \
	--justification bench --user "$CLERK_KEY" --json > "$work/e.json" || die "export"
t1=$(now)
"$B/lacre" export --site "$site" --warrant "$W" --recipient "$R" -o "$work/n.age" --no-media \
	--justification bench --user "$CLERK_KEY" --json > "$work/n.json" || die "export --no-media"
t2=$(now)
"$B/lacre-verify" "$work/p.age" -i "$work/court.key" --log-vkey "$site/ledger/ingest/vkey" \
	--export-vkey "$site/ledger/export.vkey" > "$work/v.txt"; rc=$?
t3=$(now)
[ $rc -eq 0 ] || { tail -3 "$work/v.txt"; echo "export.sh: the package did not verify (exit $rc)"; }
python3 - "$work/e.json" "$(stat -c %s "$work/p.age")" "$(stat -c %s "$work/n.age")" "$t0" "$t1" "$t2" "$t3" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
size, nsize = int(sys.argv[2]), int(sys.argv[3])
t0, t1, t2, t3 = (float(x) for x in sys.argv[4:8])
mb = 1e6
pdu, n = e["pdu_bytes"] / mb, e["records"]
print(f"records {n}, PDU bytes {pdu:.1f} MB, package {size / mb:.1f} MB with {e['wavs']} WAV and "
      f"{e['pcaps']} pcap, {nsize / mb:.1f} MB without (ingest log size {e['log_size']})")
def line(what, t, sz):
    print(f"{what:20s} {t:6.2f} s  {pdu / t:7.1f} MB/s of PDUs  {sz / mb / t:7.1f} MB/s of package  {n / t:8.0f} records/s")
line("export", t1 - t0, size)
line("export --no-media", t2 - t1, nsize)
line("verify", t3 - t2, size)
PY
