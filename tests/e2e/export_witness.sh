#!/usr/bin/env bash
# export_witness.sh - an evidence package whose checkpoint a witness
# cosigned: lacre-verify accepts it with the witness's vkey and --quorum 1,
# reports the cosignature as trusted, and refuses it (exit 3) when the
# quorum names a witness that did not cosign.  Receipts are proofs, not
# promises: the local checkpoint they embed is the published, cosigned one.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-expwit-XXXXXX)
IPID= WPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "$WPID" ] && kill $WPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
command -v age-keygen >/dev/null || die "Debian's age is not installed (scripts/deps installs it)"

site=$work/site
vault_init "$site"
W1=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri) || die "warrant"
if [ -z "${CLERK_KEY:-}" ]; then
	"$B/lacre" user add admin --site "$site" --role admin -o "$work/admin.key" >/dev/null || die "user add admin"
	"$B/lacre" user add clerk --site "$site" --role clerk -o "$work/clerk.key" --user "$work/admin.key" >/dev/null
	CLERK_KEY=$work/clerk.key
fi
vault_ingest_start "$site" first; vault_ingest_stop first
logvkey=$("$B/lacre" log keys --key "$site/ledger/ingest.key") || die "log keys"
"$B/lacre" log keygen witness-a -o "$work/wa.key" --witness >/dev/null || die "witness keygen"
"$B/lacre" log keygen witness-b -o "$work/wb.key" --witness >/dev/null || die "witness keygen"
wvkey=$("$B/lacre" log keys --key "$work/wa.key")
wbvkey=$("$B/lacre" log keys --key "$work/wb.key")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$B/lacre" witness --listen 127.0.0.1:$port --key "$work/wa.key" --state "$work/wstate" \
	--log "$logvkey" 2>"$work/witness.err" &
WPID=$!
wait_port 60 "$port" || { cat "$work/witness.err"; die "the witness did not start"; }
printf 'log %s\nwitness wa %s http://127.0.0.1:%s\nquorum wa\n' "$logvkey" "$wvkey" "$port" > "$work/policy"
"$B/lacre-mediator" --output "$work/s" --targets 1 --calls 2 --seed 5 --start-time 2026-11-28T10:00:00Z >/dev/null 2>&1
vault_ingest_start "$site" witnessed --set witness.policy="$work/policy"
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/s.hi2" "$work/s.hi3" || die "send"
vault_ingest_stop witnessed
grep -q "^— witness-a " "$site/ledger/ingest/checkpoint" || die "the site's checkpoint has no cosignature"

age-keygen -o "$work/court.key" 2>/dev/null
R=$(grep -o 'age1[a-z0-9]*' "$work/court.key")
"$B/lacre" export --site "$site" --warrant "$W1" --recipient "$R" -o "$work/p.age" --user "$CLERK_KEY" \
	--justification "witnessed export" >/dev/null || die "export"
"$B/lacre-verify" "$work/p.age" -i "$work/court.key" --log-vkey "$logvkey" \
	--export-vkey "$site/ledger/export.vkey" --witness-vkey "$wvkey" --quorum 1 > "$work/v.txt"; rc=$?
[ $rc -eq 0 ] && grep -q "1 trusted cosignature" "$work/v.txt" || { cat "$work/v.txt"; die "verify with the witness quorum: exit $rc"; }
echo "ok   package verifies with witness-a's cosignature and quorum 1"
"$B/lacre-verify" "$work/p.age" -i "$work/court.key" --log-vkey "$logvkey" \
	--witness-vkey "$wbvkey" --quorum 1 > "$work/v.txt"; rc=$?
[ $rc -eq 3 ] && grep -q "FAIL checkpoint: cosigned by 0 of the trusted witnesses, the quorum is 1" "$work/v.txt" ||
	{ cat "$work/v.txt"; die "quorum of a witness that did not cosign: exit $rc"; }
echo "ok   quorum naming witness-b (who did not cosign): exit 3"
expect_exit 2 "--quorum 2 is more than the 1 --witness-vkey given" \
	"$B/lacre-verify" "$work/p.age" -i "$work/court.key" --witness-vkey "$wvkey" --quorum 2 ||
	die "--quorum above the witnesses given is not a usage error"
echo "ok   --quorum 2 with one witness: usage error"
echo "export with witnesses ok"
