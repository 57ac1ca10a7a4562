#!/usr/bin/env bash
# vault_scope.sh - legal rules L2 (data categories, geolocation) and L3/L4
# (late delivery) end to end: lacre-mediator -> lacre ingest -> records.
# The simulator's odd targets make calls (SIP IRI, RTP CC), its even ones
# broadband sessions (IPIRI events carrying a targetLocation, IPCC).
#   LIID0001 (calls), warrant for content and IRI: everything sealed to it.
#   LIID0002 (sessions), warrant for content and IRI, not location: its
#     IPIRI events are quarantined (category-not-authorised), its IPCC is
#     sealed to the warrant.
#   LIID0003 (calls): intercepted after its window: quarantined (after-end).
#   LIID0004 (sessions), warrant for content, IRI and location: everything
#     sealed to it.
# The windows ended months ago and the traffic was intercepted inside them
# (--start-time), so every record sealed to a warrant is a drained backlog:
# accepted, flagged late_delivery, alerted once per LIID.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-scope-XXXXXX)
IPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }

site=$work/site
vault_init "$site"
W1=$(vault_warrant "$site" LIID0001 2026-01-01 2026-03-31 content,iri) || die "warrant 1"
W2=$(vault_warrant "$site" LIID0002 2026-01-01 2026-03-31 content,iri) || die "warrant 2"
W3=$(vault_warrant "$site" LIID0003 2026-01-01 2026-01-31 content,iri,location) || die "warrant 3"
W4=$(vault_warrant "$site" LIID0004 2026-01-01 2026-03-31 content,iri,location) || die "warrant 4"
echo "warrants: $W1 $W2 $W3 $W4"

# intercepted on 2026-02-01 (inside W1, W2 and W4, after W3), delivered now
"$B/lacre-mediator" --output "$work/s" --targets 4 --calls 4 --sessions 4 --seed 5 \
	--location "cell 214-01-28501-1203" --start-time 2026-02-01T10:00:00Z >/dev/null 2>&1 ||
	die "mediator --output"
vault_ingest_start "$site" run1
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/s.hi2" "$work/s.hi3" || die "sending"
vault_ingest_stop run1
cat "$work/ingest-run1.err"

for w in "$W1" "$W2" "$W4"; do
	"$B/lacre" records --site "$site" --warrant "$w" --justification "e2e: scope checks" --json \
		> "$work/rec-$w.jsonl" 2>"$work/rec-$w.err" || { cat "$work/rec-$w.err"; die "records $w"; }
done
"$B/lacre" quarantine --site "$site" --user "$CLERK_KEY" --justification "e2e: oversight" --json \
	> "$work/q.jsonl" 2>"$work/q.err" || { cat "$work/q.err"; die "quarantine"; }
"$B/lacre" decode "$work/s.hi2" > "$work/d.hi2.jsonl" || die "decode hi2"
"$B/lacre" decode "$work/s.hi3" > "$work/d.hi3.jsonl" || die "decode hi3"

python3 - "$work" "$W1" "$W2" "$W4" <<'PY' || die "scope rules not enforced as expected"
import base64, os, sys, collections
sys.path.insert(0, os.environ['LACRE_E2E_LIB'])
from sent import sent_pdus, load, pdus
work, w1, w2, w4 = sys.argv[1:5]
sent = sent_pdus(work)   # liid -> [(kind, content, bytes)]
r1, r2, r4 = (load(f'{work}/rec-{w}.jsonl') for w in (w1, w2, w4))
q = load(f'{work}/q.jsonl')
def every(liid): return sorted(b for _, _, b in sent[liid])
ok = True
def check(cond, what):
    global ok
    print(('ok   ' if cond else 'FAIL ') + what)
    ok = ok and cond
qr = collections.defaultdict(list)
for r in q:
    qr[(r['liid'], r['reason'])].append(base64.b64decode(r['pdu']))
loc2 = sorted(b for k, c, b in sent['LIID0002'] if c == 'ipiri')
cc2 = sorted(b for k, c, b in sent['LIID0002'] if c != 'ipiri')
check(len(loc2) > 0 and len(cc2) > 0, f'LIID0002 sent {len(loc2)} IPIRI with a location, {len(cc2)} IPCC')
check(pdus(r1) == every('LIID0001') and len(r1) > 0, f'{w1}: every record of LIID0001 ({len(r1)})')
check(sorted(qr[('LIID0002', 'category-not-authorised')]) == loc2,
      'LIID0002: every IPIRI with a location quarantined as category-not-authorised')
check(pdus(r2) == cc2, f'{w2}: its IPCC sealed to the warrant ({len(r2)})')
check(sorted(qr[('LIID0003', 'after-end')]) == every('LIID0003') and len(sent['LIID0003']) > 0,
      'LIID0003 (intercepted after its window): quarantined after-end')
check(pdus(r4) == every('LIID0004') and len(r4) > 0,
      f'{w4} (location authorised): every record of LIID0004, IPIRI included ({len(r4)})')
check(all(r.get('late_delivery') is True for r in r1 + r2 + r4),
      'every record sealed to a warrant is flagged late_delivery')
check(all('late_delivery' not in r for r in q), 'nothing in quarantine carries the flag')
sys.exit(0 if ok else 1)
PY
for l in LIID0001 LIID0002 LIID0004; do
	grep -q "ALERT late delivery for LIID $l:" "$work/ingest-run1.err" || die "no late-delivery alert for $l"
done
[ "$(grep -c "ALERT late delivery" "$work/ingest-run1.err")" -eq 3 ] || die "late-delivery alerts are not one per LIID"
grep -q "ALERT quarantined records of LIID LIID0002: category-not-authorised" "$work/ingest-run1.err" ||
	die "no category alert for LIID0002"
echo "PASS vault_scope"
