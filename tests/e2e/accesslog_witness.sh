#!/usr/bin/env bash
# accesslog_witness.sh - the access log is witnessed like the ingest log
# (issue 10).  A site whose lacre.conf names witness.policy: one witness
# (`lacre witness` on loopback) follows both logs; accesses are logged and
# each access-log checkpoint is cosigned before it is published.  Then an
# insider who holds the site's access.key and its backend
#   a. rewrites an entry in place on the backend,
#   b. forks the log: re-signs a tree of the same size with one entry
#      changed, on the backend and in the site's own state,
#   c. cuts the log: re-signs a tree without the last entries, on the
#      backend and in the site's own state,
#   d. rolls it back: serves an older, genuinely cosigned checkpoint, on
#      the backend and in the site's own state,
# and each time `lacre audit --site` (and `lacre access-log --audit`) exits
# 3 naming what happened; in b-d only the witness still knows the truth.
# Finally a rolled-back site cannot log a new access: the witness refuses
# its next checkpoint, so the access is refused too.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-alw-XXXXXX)
IPID= WPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "$WPID" ] && kill $WPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
ok() { echo "ok   $*"; }

site=$work/site
vault_init "$site"
W1=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri) || die "warrant"
vault_ingest_start "$site" first; vault_ingest_stop first
ivkey=$("$B/lacre" log keys --key "$site/ledger/ingest.key") || die "log keys (ingest)"
avkey=$("$B/lacre" log keys --state "$site/ledger/access") || die "log keys (access)"
case "$avkey" in lacre/site/access+*) ;; *) die "access log vkey '$avkey'" ;; esac
"$B/lacre" log keygen witness-a -o "$work/wa.key" --witness >/dev/null || die "witness keygen"
wvkey=$("$B/lacre" log keys --key "$work/wa.key")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$B/lacre" witness --listen 127.0.0.1:$port --key "$work/wa.key" --state "$work/wstate" \
	--log "$ivkey" --log "$avkey" 2>"$work/witness.err" &
WPID=$!
for _ in $(seq 1 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),1)" 2>/dev/null && break; sleep 0.05; done
printf 'log %s\nlog %s\nwitness wa %s http://127.0.0.1:%s\nquorum wa\n' "$ivkey" "$avkey" "$wvkey" "$port" > "$work/policy"
grep -q '^witness.policy =' "$site/lacre.conf" || die "lacre.conf has no witness.policy line"
sed -i "s|^witness.policy =.*|witness.policy = $work/policy|" "$site/lacre.conf"

# traffic for the ingest log, and accesses for the access log
"$B/lacre-mediator" --output "$work/s" --targets 1 --calls 1 --seed 3 --start-time 2026-11-28T10:00:00Z >/dev/null 2>&1 ||
	die "mediator"
vault_ingest_start "$site" witnessed
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/s.hi2" "$work/s.hi3" || die "send"
vault_ingest_stop witnessed
read_records() {
	"$B/lacre" records --site "$site" --warrant "$W1" --user "$INV_KEY" \
		--justification "e2e: access log witness $1" > "$work/rec-$1.txt" 2> "$work/rec-$1.err"
}
read_records 1 || { cat "$work/rec-1.err"; die "records 1"; }
read_records 2 || { cat "$work/rec-2.err"; die "records 2"; }
acp=$(grep -l -x "lacre/site/access" $(find "$site/objects/tlog" -name checkpoint)) || die "no access-log checkpoint on the backend"
aprefix=$(dirname "$acp")
cp "$acp" "$work/old-checkpoint"        # a genuine, cosigned checkpoint
old_size=$(sed -n 2p "$acp")
read_records 3 || { cat "$work/rec-3.err"; die "records 3"; }
read_records 4 || { cat "$work/rec-4.err"; die "records 4"; }
size=$(sed -n 2p "$acp")
[ "$size" -gt "$old_size" ] || die "the access log did not grow ($old_size -> $size)"
grep -q "^— witness-a " "$acp" || { cat "$acp"; die "the access log's checkpoint on the backend has no cosignature of witness-a"; }
cmp -s "$acp" "$site/ledger/access/checkpoint" || die "the backend's access checkpoint is not the site's"
wcp=$(python3 -c "
import hashlib, urllib.request
h = hashlib.sha256(b'lacre/site/access').hexdigest()
print(urllib.request.urlopen('http://127.0.0.1:$port/%s/checkpoint' % h, timeout=5).read().decode().splitlines()[1])")
[ "$wcp" = "$size" ] || die "witness-a cosigned size $wcp of the access log, the site is at $size"
ok "access log witnessed: checkpoint of size $size on the backend cosigned by witness-a (witness at $wcp)"

# both logs intact
"$B/lacre" audit --site "$site" > "$work/audit.txt" 2>&1; rc=$?
grep -q "^audited access log " "$work/audit.txt" || { cat "$work/audit.txt"
	die "lacre audit --site does not audit the access log (cmd_audit_site.c must call accesslog_audit_print: include/lacre/accesslog.h)"; }
[ $rc -eq 0 ] && grep -q "^audited ingest log size [0-9]*: .* 0 problems" "$work/audit.txt" &&
	grep -q "^audited access log lacre/site/access size $size: $size entries, 1 witness checkpoint(s) compared, 0 problems: INTACT" "$work/audit.txt" ||
	{ cat "$work/audit.txt"; die "lacre audit --site on an intact site: exit $rc"; }
ok "lacre audit --site: both logs intact, exit 0"
"$B/lacre" access-log --audit --site "$site" > "$work/aa.txt" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q ": INTACT$" "$work/aa.txt" || { cat "$work/aa.txt"; die "access-log --audit on an intact site: exit $rc"; }
ok "lacre access-log --audit: INTACT, exit 0"

# keep the good site (the backend is inside it: dir:$site/objects)
cp -a "$site" "$work/good"
restore() { rm -rf "$site" && cp -a "$work/good" "$site" || die "restore"; }
# the access log's entries, as the insider reads them from the backend
python3 - "$aprefix/tile/entries/000.p/$size" > "$work/entries" <<'PY' || die "reading the entry bundle"
import sys
d = open(sys.argv[1], 'rb').read(); i = 0
while i < len(d):
    n = int.from_bytes(d[i:i + 2], 'big'); print(d[i + 2:i + 2 + n].hex()); i += 2 + n
PY
[ "$(wc -l < "$work/entries")" -eq "$size" ] || die "the bundle does not hold $size entries"
# forge ENTRIES-FILE: re-sign a tree of those entries with the site's
# access.key, and put it in place of the backend's tree and the site's state
forge() {
	rm -rf "$work/forged"
	"$B/lacre" log append --state "$work/forged/state" --store "dir:$work/forged/objects" \
		--key "$site/ledger/access.key" --hex - < "$1" >/dev/null || die "forging with access.key"
	rm -rf "$aprefix" && cp -a "$work/forged/objects/tlog/$(basename "$aprefix")" "$aprefix" || die "forged tree"
	rm -rf "$site/ledger/access" && cp -a "$work/forged/state" "$site/ledger/access" || die "forged state"
}
# expect NAME VERDICT PATTERN: both audits exit 3, name the verdict, and
# `lacre audit` prints a line matching PATTERN
expect() {
	local name=$1 verdict=$2 pat=$3 rc1 rc2
	"$B/lacre" audit --site "$site" > "$work/audit.txt" 2>&1; rc1=$?
	"$B/lacre" access-log --audit --site "$site" > "$work/aa.txt" 2>&1; rc2=$?
	if [ $rc1 -eq 3 ] && [ $rc2 -eq 3 ] && grep -Eq "$pat" "$work/audit.txt" &&
	   grep -q "^audited access log lacre/site/access .*: $verdict$" "$work/audit.txt" &&
	   grep -q ": $verdict$" "$work/aa.txt" && grep -q "^audited ingest log .* 0 problems" "$work/audit.txt"; then
		ok "$name: lacre audit --site exit 3, $verdict: $(grep -E "$pat" "$work/audit.txt" | head -1 | tr -s ' ')"
	else
		cat "$work/audit.txt"; echo "--"; cat "$work/aa.txt"
		die "$name: lacre audit exit $rc1, access-log --audit exit $rc2 (expected 3, $verdict, '$pat')"
	fi
}

# a. an entry rewritten in place on the backend
python3 -c 'import sys; p=sys.argv[1]; d=bytearray(open(p,"rb").read()); d[2 + 34 + 5] ^= 1; open(p,"wb").write(d)' \
	"$aprefix/tile/entries/000.p/$size"
expect "rewritten entry" REWRITTEN "^modified +access log tile/entries/000\.p/$size: 1 of $size hashes differ"
restore

# b. a fork: the same size, entry 1 changed, re-signed with access.key
# (entry 1's first byte becomes another value: "ff", or "00" when it is ff)
python3 -c 'import sys; l=open(sys.argv[1]).read().split("\n"); l[1]=("00" if l[1][:2]=="ff" else "ff")+l[1][2:]; open(sys.argv[2],"w").write("\n".join(l))' \
	"$work/entries" "$work/forked"
cmp -s "$work/entries" "$work/forked" && die "the forked entries are the same"
forge "$work/forked"
expect "forked log (backend and site state)" FORK \
	"^fork +access log checkpoint: .*witness wa.* two checkpoints of size $size with different roots"
grep -q "do not meet the witness quorum" "$work/audit.txt" || die "fork: the forged checkpoint's missing cosignature is not reported"
restore

# c. a cut: the last two entries dropped, re-signed with access.key
head -n $((size - 2)) "$work/entries" > "$work/cut"
forge "$work/cut"
expect "cut log (backend and site state)" CUT \
	"^rollback +access log checkpoint: the store serves size $((size - 2)), older than the trusted size $size"
grep -q "0 cosignatures do not meet the witness quorum" "$work/audit.txt" || die "cut: the missing cosignature is not reported"
restore

# d. a rollback: an older, genuinely cosigned checkpoint served again
cp "$work/old-checkpoint" "$acp"
cp "$work/old-checkpoint" "$site/ledger/access/checkpoint"
expect "rolled-back log (backend and site state)" ROLLBACK \
	"^rollback +access log checkpoint: the store serves size $old_size, older than the trusted size $size"
grep -q "do not meet the witness quorum" "$work/audit.txt" && die "rollback: a genuine checkpoint was called uncosigned"
restore

# without the witness the cut state would pass as the site's own: the
# witness is what catches it.  And a cut site cannot log a new access.
head -n $((size - 2)) "$work/entries" > "$work/cut"
forge "$work/cut"
"$B/lacre" records --site "$site" --warrant "$W1" --user "$INV_KEY" \
	--justification "e2e: after the cut" > "$work/after.txt" 2> "$work/after.err"; rc=$?
[ $rc -ne 0 ] && [ ! -s "$work/after.txt" ] && grep -q "witness refused the access log's checkpoint" "$work/after.err" ||
	{ cat "$work/after.err"; die "an access on a cut access log: exit $rc (expected a refusal naming the witness)"; }
ok "an access on the cut site is refused (exit $rc): $(head -1 "$work/after.err")"
restore
read_records 5 || { cat "$work/rec-5.err"; die "records after restore"; }
ok "the restored site logs accesses again"
echo "access log witness ok"
