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
	wait_port 60 "$port" || { cat "$work/witness.err"; die "the witness did not start"; }
}
# nrec: the number of records of W1 that lacre records reads back
nrec() {
	"$B/lacre" records --site "$site" --warrant "$W1" --justification "e2e: check the sealed records" --json \
		> "$work/rec.jsonl" 2> "$work/rec.err" || { cat "$work/rec.err"; die "records $W1"; }
	wc -l < "$work/rec.jsonl"
}
# sent SUMMARY: data PDUs the mediator wrote (one target: all LIID0001, W1)
sent() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["data_pdus_sent"])' "$1"; }
start_witness
printf 'log %s\nwitness wa %s http://127.0.0.1:%s\nquorum wa\n' "$logvkey" "$wvkey" "$port" > "$work/policy"
"$B/lacre" ingest --site "$site" --set witness.policy="$work/policy" -n >/dev/null || die "ingest -n refuses the policy"

"$B/lacre-mediator" --output "$work/s" --targets 1 --calls 2 --seed 3 --start-time 2026-11-28T10:00:00Z \
	--summary "$work/s.json" >/dev/null 2>&1 || die "mediator --output s"
vault_ingest_start "$site" witnessed --set witness.policy="$work/policy"
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/s.hi2" "$work/s.hi3" || die "send"
vault_ingest_stop witnessed
# the ingest log's checkpoint (the access log publishes its own beside it)
cp=$(grep -l -x "lacre/.*/ingest" $(find "$site/objects/tlog" -name checkpoint) | head -1)
grep -q "^— witness-a " "$cp" || { cat "$cp"; die "the published checkpoint has no cosignature from witness-a"; }
"$B/lacre" audit --store "dir:$site/objects" --vkey "$logvkey" --witness-vkey "$wvkey" --quorum 1 \
	--checkpoint "$cp" || die "keyless audit with the witness quorum failed"
n1=$(nrec)
[ "$n1" -eq "$(sent "$work/s.json")" ] || die "$n1 records of $W1 read back, $(sent "$work/s.json") sent"
echo "ok   checkpoint cosigned by the witness; audit with quorum 1 passes; $n1 records"

# witness down: records are still sealed; publication waits
kill $WPID; wait $WPID 2>/dev/null; WPID=
size_before=$(sed -n 2p "$cp")
"$B/lacre-mediator" --output "$work/t" --targets 1 --calls 1 --seed 4 --start-time 2026-11-28T11:00:00Z \
	--summary "$work/t.json" >/dev/null 2>&1 || die "mediator --output t"
vault_ingest_start "$site" nowitness --set witness.policy="$work/policy"
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/t.hi2" "$work/t.hi3" || die "send"
vault_ingest_stop nowitness
[ "$(sed -n 2p "$cp")" = "$size_before" ] || die "a checkpoint was published without the witness quorum"
# (the records are counted once the witness is back: while the backend holds
# tiles beyond its published checkpoint, lacre records reports them as extra
# and exits 3)
echo "ok   witness down: checkpoint on the backend stays at $size_before"
start_witness
# published_past N: the ingest checkpoint on the backend is past size N
published_past() { [ "$(sed -n 2p "$cp")" -gt "$1" ]; }
vault_ingest_start "$site" back --set witness.policy="$work/policy"
wait_for 60 "publication of the checkpoint after the witness came back" published_past "$size_before" ||
	{ cat "$work/ingest-back.err"; die "the next start did not publish after the witness came back"; }
vault_ingest_stop back
grep -q "^— witness-a " "$cp" || die "republished checkpoint lacks the cosignature"
n=$(nrec)
[ "$n" -eq $((n1 + $(sent "$work/t.json"))) ] ||
	die "$n records of $W1 read back, $n1 + $(sent "$work/t.json") sent: records sealed while the witness was down are missing"
echo "ok   witness back: checkpoint published at size $(sed -n 2p "$cp"); all $n records, $((n - n1)) sealed while it was down, read back"
