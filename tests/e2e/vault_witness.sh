#!/usr/bin/env bash
# vault_witness.sh - the site's ingest log asks an independent witness
# (`lacre witness`, C2SP tlog-witness) to cosign its checkpoints, as named by
# witness.policy; the checkpoint on the backend carries the cosignature and
# a keyless audit that demands the witness quorum passes.  With the witness
# down, ingest still seals everything (signed locally) and the next start
# publishes once the witness is back.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-wit-XXXXXX)
IPID= WPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "$WPID" ] && kill $WPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"

site=$work/site
vault_init "$site"
W1=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri) || die "warrant"
# a first start makes the ingest log's key; its vkey goes to the witness
vault_ingest_start "$site" first; vault_ingest_stop first
logvkey=$("$B/lacre" log keys --key "$site/ledger/ingest.key") || die "log keys"
"$B/lacre" log keygen witness-a -o "$work/wa.key" --witness >/dev/null || die "witness keygen"
wvkey=$("$B/lacre" log keys --key "$work/wa.key")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start_witness() {
	"$B/lacre" witness --listen 127.0.0.1:$port --key "$work/wa.key" --state "$work/wstate" \
		--log "$logvkey" 2>"$work/witness.err" &
	WPID=$!
	for _ in $(seq 1 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),1)" 2>/dev/null && break; sleep 0.05; done
}
start_witness
printf 'log %s\nwitness wa %s http://127.0.0.1:%s\nquorum wa\n' "$logvkey" "$wvkey" "$port" > "$work/policy"
"$B/lacre" ingest --site "$site" --set witness.policy="$work/policy" -n >/dev/null || die "ingest -n refuses the policy"

"$B/lacre-mediator" --output "$work/s" --targets 1 --calls 2 --seed 3 --start-time 2026-11-28T10:00:00Z >/dev/null 2>&1
vault_ingest_start "$site" witnessed --set witness.policy="$work/policy"
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/s.hi2" "$work/s.hi3" || die "send"
vault_ingest_stop witnessed
# the ingest log's checkpoint (the access log publishes its own beside it)
cp=$(grep -l -x "lacre/.*/ingest" $(find "$site/objects/tlog" -name checkpoint) | head -1)
grep -q "^— witness-a " "$cp" || { cat "$cp"; die "the published checkpoint has no cosignature from witness-a"; }
"$B/lacre" audit --store "dir:$site/objects" --vkey "$logvkey" --witness-vkey "$wvkey" --quorum 1 \
	--checkpoint "$cp" || die "keyless audit with the witness quorum failed"
echo "ok   checkpoint cosigned by the witness; audit with quorum 1 passes"

# witness down: records are still sealed; publication waits
kill $WPID; wait $WPID 2>/dev/null; WPID=
size_before=$(sed -n 2p "$cp")
"$B/lacre-mediator" --output "$work/t" --targets 1 --calls 1 --seed 4 --start-time 2026-11-28T11:00:00Z >/dev/null 2>&1
vault_ingest_start "$site" nowitness --set witness.policy="$work/policy"
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/t.hi2" "$work/t.hi3" || die "send"
vault_ingest_stop nowitness
[ "$(sed -n 2p "$cp")" = "$size_before" ] || die "a checkpoint was published without the witness quorum"
n=$("$B/lacre" records --site "$site" --warrant "$W1" --justification "e2e: check the sealed records" --json 2>/dev/null | wc -l)
echo "ok   witness down: checkpoint on the backend stays at $size_before; $n records sealed"
start_witness
vault_ingest_start "$site" back --set witness.policy="$work/policy"; sleep 1.5; vault_ingest_stop back
[ "$(sed -n 2p "$cp")" -gt "$size_before" ] || die "the next start did not publish after the witness came back"
grep -q "^— witness-a " "$cp" || die "republished checkpoint lacks the cosignature"
echo "ok   witness back: checkpoint published at size $(sed -n 2p "$cp")"
