#!/usr/bin/env bash
# mobile_sessions.sh - `lacre calls` lists mobile sessions (issue 12): the
# real OpenLI 1.1.20 capture of set C (../shared/vectors/openli-c, every
# payload AES-192-CBC encrypted) ingested with the handover key; a warrant
# for the EPS target LIC-MOBILE-EPS with categories content,iri,location.
# After intake the key is gone: calls reads the pre-encryption forms the
# receiver sealed.  Checked against the set's README and expected-hi2/hi3:
#   - one mobile session, LIID LIC-MOBILE-EPS, CIN 268476417 (the CIN of
#     the 3 ePSIRI and 21 ePSCC in expected-*.jsonl);
#   - start = the bearer-activation IRI's time, end = the
#     bearer-deactivation IRI's (their PSHeader times in expected-hi2.jsonl),
#     state closed, complete;
#   - IMSI 204081234567890, MSISDN 31612345678, IMEI 3520990017614801,
#     PDN address 10.45.7.77, APN internet.c (the README's target row);
#   - the locations in time order: TAI 204-08-1c2d with ECGI
#     204-08-0a1b2c3 at activation, then ECGI 204-08-0a1b2c7 at the
#     modification (the Modify Bearer's new ECGI); the deactivation repeats
#     that cell, so two location entries and three events;
#   - 21 CC packets (expected-hi3.jsonl), bytes = the sum of the inner IP
#     packets' lengths and the packets each way = the CC direction labels
#     (both computed here from `lacre decode --key --content`);
#   - the text form lists the session as "mobile" with both cells;
#   - the index's calls table holds the session (type mobile, FORMATS §10);
#   - lacre pcap of the session's CIN: tshark reads its 21 packets and the
#     same IP bytes;
#   - an export of the warrant lists the session's pcap in media.txt and
#     lacre-verify says VERIFIED.
# Exit 0 pass, 77 skip, 1 fail.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
vec="$top/../shared/vectors/openli-c"
work=$(mktemp -d /tmp/lacre-e2e-mobile-XXXXXX)
IPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }
command -v sqlite3 >/dev/null || die "sqlite3 is not installed (scripts/deps installs it)"
command -v tshark >/dev/null || die "tshark is not installed (scripts/deps installs it)"
command -v age-keygen >/dev/null || die "age-keygen is not installed (scripts/deps installs age)"
[ -x "$B/lacre" ] || die "build/bin not built (a test run needs the build)"
[ -f "$vec/raw/hi2.bin" ] || die "vectors not found at $vec: check out the shared folder beside the source tree"
L="$B/lacre"
J=(--justification "e2e: mobile sessions")

# the inner IP packets' total length of the EPS CC, decoded independently
# of the index: lacre decode with the key, the CC-PDU's payload [2]
"$L" decode --key "$vec/config/payload-encryption-key.hex" --content "$vec/raw/hi3.bin" \
	> "$work/hi3.decoded.jsonl" 2>/dev/null
python3 - "$work/hi3.decoded.jsonl" > "$work/cc-bytes" <<'PY' || die "decoding the EPS CC"
import base64, json, sys
def tlv(b, i):
    t = b[i]; i += 1
    if t & 31 == 31:
        while b[i] & 0x80: i += 1
        i += 1
    l = b[i]; i += 1
    if l & 0x80:
        n = l & 0x7f; l = int.from_bytes(b[i:i + n], 'big'); i += n
    return t, i, l
n = total = nfrom = nto = 0
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d.get('liid') != 'LIC-MOBILE-EPS' or d.get('kind') != 'cc':
        continue
    b = base64.b64decode(d['content_b64'])
    i = 0
    if b[0] == 0x30:
        _, i, _ = tlv(b, 0)
    while i < len(b):
        t, v, l = tlv(b, i)
        if t == 0x82:
            total += l
            break
        i = v + l
    n += 1
    nfrom += d.get('direction') == 'from-target'
    nto += d.get('direction') == 'to-target'
print(n, total, nfrom, nto)
PY
read -r ncc ccbytes ccfrom ccto < "$work/cc-bytes"
[ "$ncc" -eq 21 ] || die "lacre decode found $ncc EPS CC in hi3.bin, the set's README says 21"

mkdir -m 700 "$work/hkeys"
cp "$vec/config/payload-encryption-key.hex" "$work/hkeys/opc.hex"
chmod 600 "$work/hkeys/opc.hex"
site=$work/site
vault_init "$site"
export LACRE_SITE=$site
WE=$(vault_warrant "$site" LIC-MOBILE-EPS 2026-11-01 2027-01-31 content,iri,location) || die "warrant EPS"
vault_ingest_start "$site" run1 --set "handover.key_dir=$work/hkeys" --set "handover.keys=opC-telco opc.hex"
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$vec/raw/hi2.bin" "$vec/raw/hi3.bin" ||
	die "sending"
vault_ingest_stop run1
rm -rf "$work/hkeys"
export LACRE_USER=$INV_KEY

"$L" calls --warrant "$WE" --json "${J[@]}" > "$work/calls.jsonl" 2>"$work/calls.err" ||
	{ cat "$work/calls.err"; die "calls --json"; }
python3 - "$work/calls.jsonl" "$vec" "$ncc" "$ccbytes" "$ccfrom" "$ccto" <<'PY' || die "the EPS target's mobile session is not as the capture says"
import json, sys
path, vec = sys.argv[1], sys.argv[2]
ncc, ccbytes, ccfrom, ccto = (int(x) for x in sys.argv[3:7])
ok = True
def check(cond, what):
    global ok
    print(('ok   ' if cond else 'FAIL ') + what)
    ok = ok and cond
calls = [json.loads(l) for l in open(path)]
iris = [json.loads(l) for l in open(f'{vec}/expected-hi2.jsonl')]
iris = [d for d in iris if d['liid'] == 'LIC-MOBILE-EPS' and d['kind'] == 'iri']
ccs = [json.loads(l) for l in open(f'{vec}/expected-hi3.jsonl')]
ccs = [d for d in ccs if d['liid'] == 'LIC-MOBILE-EPS' and d['kind'] == 'cc']
check(len(iris) == 3 and len(ccs) == ncc == 21, f'expected-*.jsonl: 3 EPS IRIs, {len(ccs)} EPS CC')
mob = [c for c in calls if c['type'] == 'mobile']
check(len(calls) == 1 and len(mob) == 1, f'calls lists one entry, a mobile session (got {[c["type"] for c in calls]})')
if not mob:
    sys.exit(1)
m = mob[0]
ts = lambda d: d['time']
begin = [d for d in iris if d['iri_type'] == 'begin'][0]
end = [d for d in iris if d['iri_type'] == 'end'][0]
check(m['liid'] == 'LIC-MOBILE-EPS' and m['cin'] == begin['cin'] == 268476417,
      f'LIID {m["liid"]}, CIN {m["cin"]}')
check(m['family'] == 'eps', f'family {m["family"]}')
check(m['start'] == ts(begin) and m['start_event'] == 'bearer-activation',
      f'start {m["start"]} ({m["start_event"]}) = the activation IRI {ts(begin)}')
check(m['end'] == ts(end) and m['end_event'] == 'bearer-deactivation' and m['state'] == 'closed',
      f'end {m["end"]} ({m["end_event"]}, {m["state"]}) = the deactivation IRI {ts(end)}')
got = (m['imsi'], m['msisdn'], m['imei'], m['pdn_address'], m['apn'])
want = ('204081234567890', '31612345678', '3520990017614801', '10.45.7.77', 'internet.c')
check(got == want, f'IMSI, MSISDN, IMEI, PDN address, APN: {got}')
locs = [(l['time'], l['event'], l['location']) for l in m['locations']]
mod = [d for d in iris if d['iri_type'] == 'continue'][0]
wl = [(ts(begin), 'bearer-activation', {'tai': '204-08-1c2d', 'ecgi': '204-08-0a1b2c3'}),
      (ts(mod), 'bearer-modification', {'tai': '204-08-1c2d', 'ecgi': '204-08-0a1b2c7'})]
check(locs == wl, f'locations in time order: {locs}')
ev = [(e['time'], e['iri_type'], e['event'], e['rat']) for e in m['events']]
we = [(ts(begin), 'begin', 'bearer-activation', 'eutran'), (ts(mod), 'continue', 'bearer-modification', 'eutran'),
      (ts(end), 'end', 'bearer-deactivation', None)]
check(ev == we, f'events: {ev}')
check(m['iri_records'] == 3 and m['packets'] == m['cc_records'] == 21 and m['bytes'] == ccbytes,
      f'3 IRI, {m["packets"]} CC packets, {m["bytes"]} bytes (decode says {ccbytes})')
check((m['packets_from_target'], m['packets_to_target']) == (ccfrom, ccto) and ccfrom + ccto == 21,
      f'packets from / to the target {m["packets_from_target"]}/{m["packets_to_target"]} '
      f'= the CC direction labels ({ccfrom}/{ccto})')
check(m['complete'] is True and m['problems'] == [] and m['iri_gaps'] == 0 and m['cc_gaps'] == 0,
      f'complete, no gaps ({m["problems"]})')
sys.exit(0 if ok else 1)
PY

"$L" calls --warrant "$WE" "${J[@]}" > "$work/calls.txt" 2>"$work/calls.err" ||
	{ cat "$work/calls.err"; die "calls (text)"; }
grep -q "^$WE-268476417  mobile  imsi 204081234567890 msisdn 31612345678 imei 3520990017614801  pdn 10.45.7.77 apn internet.c  .* packets 21 .* complete$" "$work/calls.txt" ||
	{ cat "$work/calls.txt"; die "calls (text): no mobile session line"; }
[ "$(grep -c '^  .*ecgi=204-08-0a1b2c[37]$' "$work/calls.txt")" -eq 2 ] ||
	{ cat "$work/calls.txt"; die "calls (text): want the two cells each on a line"; }
echo "ok   calls (text): the mobile session line and its two cells"

row=$(sqlite3 "$site/index.sqlite" "SELECT type, target_ip, imsi, apn, locations FROM calls WHERE warrant = '$WE'")
case $row in
"mobile|10.45.7.77|204081234567890|internet.c|"*"tai=204-08-1c2d ecgi=204-08-0a1b2c3; "*"ecgi=204-08-0a1b2c7") ;;
*) die "index calls table: got '$row'" ;;
esac
[ "$(sqlite3 "$site/index.sqlite" "SELECT value FROM meta WHERE key = 'schema'")" = 4 ] ||
	die "index schema version is not 4"
echo "ok   index: calls table row type mobile with PDN, IMSI, APN and both cells; schema 4"
# the session's packets: lacre pcap of its CIN, read by tshark
"$L" pcap --warrant "$WE" --cin 268476417 -o "$work/eps.pcap" "${J[@]}" 2>"$work/pcap.err" ||
	{ cat "$work/pcap.err"; die "pcap of the mobile session"; }
got=$(tshark -r "$work/eps.pcap" -T fields -e ip.len 2>/dev/null | awk '{n++; s+=$1} END {print n+0, s+0}')
[ "$got" = "21 $ccbytes" ] || die "pcap of the mobile session: tshark reads '$got' (packets, IP bytes), want '21 $ccbytes'"
echo "ok   pcap of the session's CIN: tshark reads its 21 packets, $ccbytes IP bytes"
# the export carries the session's pcap (media.txt) and verifies
export LACRE_USER=$CLERK_KEY
age-keygen -o "$work/court.key" 2>/dev/null || die "age-keygen"
R=$(grep -o 'age1[a-z0-9]*' "$work/court.key")
"$L" export --warrant "$WE" --recipient "$R" -o "$work/e.age" "${J[@]}" > /dev/null 2>"$work/exp.err" ||
	{ cat "$work/exp.err"; die "export"; }
age -d -i "$work/court.key" -o "$work/e.plain" "$work/e.age" || die "age -d"
python3 "$top/tests/e2e/lib/pkg_tool.py" get "$work/e.plain" media.txt > "$work/media.txt" || die "media.txt"
grep -q "^pcap pcap/${WE,,}-268476417.pcap call $WE-268476417 cin 268476417 packets 21 " "$work/media.txt" ||
	{ cat "$work/media.txt"; die "the export's media.txt has no pcap of the mobile session with 21 packets"; }
"$B/lacre-verify" "$work/e.age" -i "$work/court.key" --log-vkey "$site/ledger/ingest/vkey" \
	--export-vkey "$site/ledger/export.vkey" > "$work/v.txt" 2>&1 || { cat "$work/v.txt"; die "lacre-verify"; }
grep -q '^VERIFIED' "$work/v.txt" || { cat "$work/v.txt"; die "lacre-verify: not VERIFIED"; }
echo "ok   export: media.txt lists the mobile session's pcap (21 packets); lacre-verify: VERIFIED"
echo "PASS mobile_sessions"
