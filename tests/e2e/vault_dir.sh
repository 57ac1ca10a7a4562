#!/usr/bin/env bash
# vault_dir.sh - end to end on the embedded dir: backend:
# mediator streams -> lacre ingest (site) -> sealed segments -> lacre records
# returns every in-window record byte-identical to what was sent; out-of-window,
# category-not-authorised and unknown-LIID traffic appears only in quarantine
# with its reason; Debian's age opens the segments with the warrant identity;
# no object name says anything about a LIID, case or warrant.
# BACKEND=s3 runs the same against the S3 server of .ci/run (vault_s3.sh).
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-vault-XXXXXX)
IPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }
command -v age >/dev/null || die "Debian's age is not installed (scripts/deps installs it)"

site=$work/site
init_args=()
if [ "${BACKEND:-dir}" = s3 ]; then
	if [ -z "${S3_ENDPOINT:-}" ]; then
		[ -n "${LACRE_TEST_S3:-}" ] && die "LACRE_TEST_S3 is set but S3_ENDPOINT is not: the S3 server did not start"
		echo "no S3 server (S3_ENDPOINT unset)"; exit 77
	fi
	init_args=(--backend "s3://lacre-e2e-$(date +%s%N | tail -c 9)/vault")
	# the site's own S3 settings (lacre.conf: s3.endpoint, s3.region,
	# s3.credentials), not the environment: every command below runs
	# without the S3 variables
	printf 'access_key = %s\nsecret_key = %s\n' "${S3_ACCESS_KEY:-$AWS_ACCESS_KEY_ID}" \
		"${S3_SECRET_KEY:-$AWS_SECRET_ACCESS_KEY}" > "$work/s3.cred"
	chmod 600 "$work/s3.cred"
	init_args+=(--set "s3.endpoint=$S3_ENDPOINT" --set "s3.region=${S3_REGION:-us-east-1}" \
		--set "s3.credentials=$work/s3.cred")
	unset S3_ENDPOINT AWS_ENDPOINT_URL S3_ACCESS_KEY S3_SECRET_KEY AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY S3_REGION
fi
vault_init "$site" "${init_args[@]}"
W1=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri) || die "warrant 1"
W2=$(vault_warrant "$site" LIID0002 2026-01-01 2026-03-31 content,iri) || die "warrant 2"
W3=$(vault_warrant "$site" LIID0003 2026-11-01 2027-01-31 iri) || die "warrant 3"
echo "warrants: $W1 $W2 $W3"

# the traffic: 4 targets (LIID0001..4), calls and broadband sessions, inside W1's window
"$B/lacre-mediator" --output "$work/s" --targets 4 --calls 6 --sessions 3 --seed 11 \
	--start-time 2026-11-28T10:00:00Z >/dev/null 2>&1 || die "mediator --output"
vault_ingest_start "$site" run1
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/s.hi2" "$work/s.hi3" || die "sending"
vault_ingest_stop run1
cat "$work/ingest-run1.err"

for w in "$W1" "$W3"; do
	"$B/lacre" records --site "$site" --warrant "$w" --justification "e2e: check the sealed records" --json > "$work/rec-$w.jsonl" 2>"$work/rec-$w.err" ||
		{ cat "$work/rec-$w.err"; die "records $w"; }
done
"$B/lacre" quarantine --site "$site" --user "$CLERK_KEY" --justification "e2e: oversight of quarantine" --json > "$work/q.jsonl" 2>"$work/q.err" || { cat "$work/q.err"; die "quarantine"; }
"$B/lacre" decode "$work/s.hi2" > "$work/d.hi2.jsonl" || die "decode hi2"
"$B/lacre" decode "$work/s.hi3" > "$work/d.hi3.jsonl" || die "decode hi3"

python3 - "$work" "$W1" "$W3" <<'PY' || die "records do not match what was sent"
import base64, json, os, sys, collections
sys.path.insert(0, os.environ['LACRE_E2E_LIB'])
from sent import sent_pdus, load, pdus
work, w1, w3 = sys.argv[1:4]
sent = {liid: [(k, b) for k, _, b in v] for liid, v in sent_pdus(work).items()}
sent = collections.defaultdict(list, sent)   # liid -> [(kind, bytes)]
r1, r3, q = load(f'{work}/rec-{w1}.jsonl'), load(f'{work}/rec-{w3}.jsonl'), load(f'{work}/q.jsonl')
ok = True
def check(cond, what):
    global ok
    print(('ok   ' if cond else 'FAIL ') + what)
    ok = ok and cond
# W1: every record of LIID0001, byte-identical, nothing else
check(len(r1) == len(sent['LIID0001']) > 0, f"{w1}: {len(r1)} records, sent {len(sent['LIID0001'])}")
check(pdus(r1) == sorted(b for _, b in sent['LIID0001']), f'{w1}: PDUs byte-identical to the sent ones')
check(all(r['liid'] == 'LIID0001' and r['warrant'] == w1 for r in r1), f'{w1}: only its own LIID')
check(all('late_delivery' not in r for r in r1 + r3), 'records delivered inside their window are not flagged late')
# W3 authorises IRI only: its IRI in records, its CC in quarantine
iri3 = [b for k, b in sent['LIID0003'] if k == 'iri']
cc3 = [b for k, b in sent['LIID0003'] if k == 'cc']
check(pdus(r3) == sorted(iri3) and len(iri3) > 0, f'{w3}: its {len(iri3)} IRI records, byte-identical')
qr = collections.defaultdict(list)
for r in q:
    qr[(r['liid'], r['reason'])].append(base64.b64decode(r['pdu']))
check(sorted(qr[('LIID0003', 'category-not-authorised')]) == sorted(cc3) and len(cc3) > 0,
      f'LIID0003 CC: {len(cc3)} quarantined as category-not-authorised')
check(sorted(qr[('LIID0002', 'after-end')]) == sorted(b for _, b in sent['LIID0002']),
      f"LIID0002 (warrant window in the past): {len(sent['LIID0002'])} quarantined as after-end")
check(sorted(qr[('LIID0004', 'unknown-liid')]) == sorted(b for _, b in sent['LIID0004']),
      f"LIID0004 (no warrant): {len(sent['LIID0004'])} quarantined as unknown-liid")
allq = sum(len(v) for v in qr.values())
check(allq == len(cc3) + len(sent['LIID0002']) + len(sent['LIID0004']), f'quarantine holds exactly {allq} records')
check(not any(r.get('liid') == 'LIID0001' for r in q), 'no in-window record in quarantine')
sys.exit(0 if ok else 1)
PY

# nothing is left in the spool after a clean stop
left=$(find "$site/spool" -type f | wc -l)
[ "$left" -eq 0 ] || die "$left files left in the spool after SIGTERM"

if [ "${BACKEND:-dir}" = dir ]; then
	# Debian's age opens W1's segments with the identity lacre prints
	"$B/lacre" warrant identity --site "$site" "$W1" --user "$SUP_KEY" --justification "e2e: open segments with age" > "$work/w1.key" 2>/dev/null || die "warrant identity"
	opened=0 total=0
	for obj in $(find "$site/objects/seg" -type f); do
		total=$((total + 1))
		if age -d -i "$work/w1.key" -o "$work/plain" "$obj" 2>/dev/null; then
			opened=$((opened + 1))
			head -c 4 "$work/plain" | grep -q LCRF || die "age-decrypted segment does not start with a frame"
		fi
	done
	[ "$opened" -ge 1 ] || die "age opened none of the $total segments with W1's identity"
	echo "ok   age -d opened $opened of $total segments with $W1's identity"
	# opaque names
	if find "$site/objects" | grep -Eqi 'liid|w-0|case|ord-'; then die "an object name reveals a LIID, case or warrant"; fi
	echo "ok   object names are opaque"
fi
echo "vault end to end ok"
