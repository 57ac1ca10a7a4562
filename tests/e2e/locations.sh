#!/usr/bin/env bash
# locations.sh - `lacre locations` (issue 13): the location events of a
# warrant's IRIs, from the real OpenLI 1.1.20 capture of set C
# (../shared/vectors/openli-c, every payload AES-192-CBC encrypted),
# ingested with the handover key, for a warrant on the EPS target
# LIC-MOBILE-EPS.  The expected values are found without lacre:
#   - the cells from the GTPv2-C messages the collector saw, read by tshark
#     from pcaps/mobile-gtp-c.pcap (ULI of Create Session, Modify Bearer,
#     Delete Session: TAI 204-08 TAC 0x1c2d; ECGI 204-08 ECI 10597059, then
#     10597063 twice);
#   - the same ULI octets walked out of the decrypted IRIs by a small Python
#     BER reader over decoded/hi2.preencryption.bin (ePSIRI ...
#     ePSlocationOfTheTarget [23] { userLocationInfo [1] }), with each IRI's
#     LIID, CIN, sequence number, PSHeader time and IRI type.
# Then: --json gives exactly those six rows (TAI then ECGI per IRI, in time
# order); the text form; --cin filters; no justification, another unit's
# investigator and a missing warrant are refused; the access log holds the
# read (action calls, what locations) before anything else; the index is
# schema 4 and a schema-2 index is migrated (emptied and rebuilt) to the
# same rows.
# Exit 0 pass, 1 fail.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
vec="$top/../shared/vectors/openli-c"
work=$(mktemp -d /tmp/lacre-e2e-locations-XXXXXX)
IPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
. "$top/tests/e2e/lib/check.bash"
EXPECT_DIR=$work
command -v python3 >/dev/null || die "python3 is not installed (scripts/deps installs it)"
command -v sqlite3 >/dev/null || die "sqlite3 is not installed (scripts/deps installs it)"
command -v tshark >/dev/null || die "tshark is not installed (scripts/deps installs it)"
[ -x "$B/lacre" ] || die "build/bin not built (a test run needs the build)"
[ -f "$vec/raw/hi2.bin" ] || die "vectors not found at $vec: check out the shared folder beside the source tree"
L="$B/lacre"
J=(--justification "e2e: where was the EPS target")

# 1. the expected cells, by tshark from the collector's input
tshark -r "$vec/pcaps/mobile-gtp-c.pcap" -Y 'gtpv2.uli_ecgi_flg == 1' -T fields \
	-e e212.tai.mcc -e e212.tai.mnc -e gtpv2.tai_tac -e gtpv2.ecgi_eci \
	> "$work/gtp.txt" 2>/dev/null || die "tshark on mobile-gtp-c.pcap"
# 2. the IRIs' ULI octets, by our own BER walk of the decrypted stream
python3 - "$vec/decoded/hi2.preencryption.bin" "$vec/expected-hi2.jsonl" > "$work/want.json" <<'PY' || die "walking the IRIs"
import json, sys
raw = open(sys.argv[1], 'rb').read()
exp = [json.loads(l) for l in open(sys.argv[2])]
def tlv(b, i):
    t0 = b[i]; cls = t0 >> 6; cons = (t0 >> 5) & 1; tag = t0 & 31; i += 1
    if tag == 31:
        tag = 0
        while True:
            c = b[i]; i += 1; tag = tag << 7 | (c & 0x7f)
            if not c & 0x80: break
    l = b[i]; i += 1
    if l & 0x80:
        n = l & 0x7f; l = int.from_bytes(b[i:i + n], 'big'); i += n
    return cls, cons, tag, i, l
def walk(b, i, end, path, out):
    while i < end:
        cls, cons, tag, v, l = tlv(b, i)
        p = path + [(cls, tag)]
        if cons:
            walk(b, v, v + l, p, out)
        elif len(p) >= 2 and p[-2] == (2, 23) and p[-1] == (2, 1):
            out.append(b[v:v + l])
        elif len(p) >= 2 and p[-2] == (2, 4) and p[-1] == (2, 1):
            # encryptedPayload in its pre-encryption form: the EncryptedPayload
            # SEQUENCE, then zero padding
            _, _, _, pv, pl = tlv(b, v)
            walk(b, v, pv + pl, p, out)
        i = v + l
rows = []
off = 0
for d in exp:
    cls, cons, tag, v, l = tlv(raw, off)
    pdu_end = v + l
    if d['liid'] == 'LIC-MOBILE-EPS' and d['kind'] == 'iri':
        ulis = []
        walk(raw, v, pdu_end, [], ulis)
        assert len(ulis) == 1, ulis
        u = ulis[0]
        assert u[0] == 0x18 and len(u) == 13, u.hex()      # TAI + ECGI
        def plmn(p):
            mcc = f'{p[0] & 15}{p[0] >> 4}{p[1] & 15}'
            mnc = f'{p[2] & 15}{p[2] >> 4}' + ('' if p[1] >> 4 == 15 else str(p[1] >> 4))
            return mcc, mnc
        mcc, mnc = plmn(u[1:4]); tac = int.from_bytes(u[4:6], 'big')
        emcc, emnc = plmn(u[6:9]); eci = int.from_bytes(u[9:13], 'big') & 0xfffffff
        base = dict(time=d['time'], liid=d['liid'], cin=d['cin'], seq=d['seq'], iri_type=d['iri_type'])
        rows.append(dict(base, kind='tai', place=f'{mcc}-{mnc}-{tac:04x}', mcc=mcc, mnc=mnc, tac=tac))
        rows.append(dict(base, kind='ecgi', place=f'{emcc}-{emnc}-{eci:07x}', mcc=emcc, mnc=emnc, eci=eci))
    off = pdu_end
assert off == len(raw), (off, len(raw))
json.dump(rows, sys.stdout)
PY
python3 - "$work/want.json" "$work/gtp.txt" <<'PY' || die "the IRIs' cells are not the GTP messages' cells"
import json, sys
rows = json.load(open(sys.argv[1]))
gtp = [l.split('\t') for l in open(sys.argv[2]).read().split('\n') if l]
ecgi = [(r['mcc'], str(int(r['mnc'])), r['eci']) for r in rows if r['kind'] == 'ecgi']
tai = [(r['mcc'], str(int(r['mnc'])), r['tac']) for r in rows if r['kind'] == 'tai']
assert ecgi == [(g[0], g[1], int(g[3])) for g in gtp], (ecgi, gtp)
assert tai == [(g[0], g[1], int(g[2], 16)) for g in gtp], (tai, gtp)
assert len(rows) == 6
print('ok   tshark and the BER walk agree: 3 IRIs, ECI', [e[2] for e in ecgi], 'TAC', tai[0][2])
PY

# 3. the site, the warrant, the capture
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

# 4. refusals first: nothing printed
expect_exit 2 "locations needs --justification TEXT" "$L" locations --warrant "$WE" ||
	die "locations without --justification"
expect_no_output || die "locations printed something without --justification"
expect_exit 2 "--cin needs a number from 0 to 4294967295" "$L" locations --warrant "$WE" --cin x "${J[@]}" ||
	die "locations --cin x"
INV2_KEY=$work/inv2.key
"$L" user add inv2 --role investigator --unit UCO-2 -o "$INV2_KEY" --user "$ADMIN_KEY" >/dev/null ||
	die "user add inv2"
expect_exit 1 "no warrant '$WE' (see 'lacre warrant list')" \
	"$L" locations --warrant "$WE" --user "$INV2_KEY" "${J[@]}" || die "another unit's investigator was not refused"
expect_no_output || die "another unit's investigator saw locations"
expect_exit 1 "no warrant 'W-999999' (see 'lacre warrant list')" \
	"$L" locations --warrant W-999999 "${J[@]}" || die "a missing warrant was not refused"
echo "ok   refused: no justification (2), bad --cin (2), another unit's investigator and a missing warrant (1, same words)"

# 5. the listing
check_rows() {   # FILE: the --json rows are exactly want.json's
	python3 - "$1" "$work/want.json" "$WE" <<'PY'
import json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
want = json.load(open(sys.argv[2]))
for w in want:
    w['warrant'] = sys.argv[3]
ok = got == want
if not ok:
    for g, w in zip(got, want):
        if g != w:
            print('got ', g); print('want', w)
    print(len(got), 'rows, want', len(want))
sys.exit(0 if ok else 1)
PY
}
"$L" locations --warrant "$WE" --json "${J[@]}" > "$work/loc.jsonl" 2>"$work/loc.err" ||
	{ cat "$work/loc.err"; die "locations --json"; }
check_rows "$work/loc.jsonl" || die "locations --json: not the six rows the capture holds"
echo "ok   locations --json: six rows (TAI 204-08-1c2d and ECGI 204-08-0a1b2c3, 0a1b2c7, 0a1b2c7) with the IRIs' times, CIN, seq, type"
"$L" locations --warrant "$WE" "${J[@]}" > "$work/loc.txt" 2>"$work/loc.err" ||
	{ cat "$work/loc.err"; die "locations (text)"; }
[ "$(wc -l < "$work/loc.txt")" -eq 6 ] || { cat "$work/loc.txt"; die "locations (text): want 6 lines"; }
grep -q "^[0-9T:.-]*Z  LIC-MOBILE-EPS  cin 268476417 seq 1  continue  ecgi 204-08-0a1b2c7$" "$work/loc.txt" ||
	{ cat "$work/loc.txt"; die "locations (text): no line for the modification's cell"; }
echo "ok   locations (text): six lines"
"$L" locations --warrant "$WE" --cin 268476417 --json "${J[@]}" > "$work/cin.jsonl" 2>"$work/loc.err" ||
	{ cat "$work/loc.err"; die "locations --cin"; }
check_rows "$work/cin.jsonl" || die "locations --cin 268476417: not the six rows"
"$L" locations --warrant "$WE" --cin 7 --json "${J[@]}" > "$work/cin7.jsonl" 2>"$work/loc.err" ||
	{ cat "$work/loc.err"; die "locations --cin 7"; }
[ ! -s "$work/cin7.jsonl" ] || die "locations --cin 7: rows of another CIN: $(cat "$work/cin7.jsonl")"
echo "ok   --cin 268476417: the six rows; --cin 7: none"

# 6. logged: every read above is an access event (action calls, what locations)
"$L" access-log --user "$AUDITOR_KEY" --justification "oversight review" --json \
	> "$work/al.jsonl" 2>"$work/al.err" || { cat "$work/al.err"; die "access-log"; }
python3 - "$work/al.jsonl" "$WE" <<'PY' || die "access log: the location reads are not logged as calls/locations"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
mine = [e for e in ev if e.get('warrant') == sys.argv[2] and e.get('what') == 'locations']
granted = [e for e in mine if e['action'] == 'calls' and e['decision'] == 'allowed' and e['user'] == 'inv'
           and e['justification'] == 'e2e: where was the EPS target']
refused = [e for e in mine if e['decision'] == 'refused' and e['user'] == 'inv2']
print(f'ok   access log: {len(granted)} allowed location reads by inv (action calls), {len(refused)} refused of inv2')
sys.exit(0 if len(granted) == 4 and len(refused) == 1 else 1)
PY

# 7. the index: schema 4; a schema-2 index migrates to the same rows
[ "$(sqlite3 "$site/index.sqlite" "SELECT value FROM meta WHERE key = 'schema'")" = 4 ] ||
	die "index schema version is not 4"
[ "$(sqlite3 "$site/index.sqlite" "SELECT count(*) FROM locations WHERE warrant = '$WE'")" = 6 ] ||
	die "index: want 6 location rows"
sqlite3 "$site/index.sqlite" "DROP TABLE locations; UPDATE meta SET value = '2' WHERE key = 'schema'" ||
	die "making a schema-2 index"
"$L" locations --warrant "$WE" --json "${J[@]}" > "$work/mig.jsonl" 2>"$work/loc.err" ||
	{ cat "$work/loc.err"; die "locations after the migration"; }
check_rows "$work/mig.jsonl" || die "locations after migrating a schema-2 index: not the six rows"
[ "$(sqlite3 "$site/index.sqlite" "SELECT value FROM meta WHERE key = 'schema'")" = 4 ] ||
	die "index schema version is not 4 after the migration"
echo "ok   index: schema 4, 6 location rows; a schema-2 index is migrated and rebuilt to the same rows"
echo "PASS locations"
