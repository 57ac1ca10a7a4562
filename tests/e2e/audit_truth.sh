#!/usr/bin/env bash
# audit_truth.sh - the audits tell the truth (issue 9): on a real site,
# manufacture each kind of disagreement between the backend, the spool and
# the ingest log, and check that `lacre audit --site`, `--site --deep` and
# the keyless `lacre audit --store --vkey` exit 3 with the exact line, and
# exit 0 on the clean site (before and after each repair):
#   a. a sealed segment on the backend that no log entry names;
#   b. a logged segment deleted from the backend (its commitments have no
#      record any more);
#   c. a stray commitment leaf in the log (no record anywhere);
#   d. spool leftovers: an open segment, a loss report, a closed segment
#      whose batch is unsigned, a "ready" segment the log does not name.
# And `lacre export` of the warrant while (a) is there never waits: it
# writes the package without the unlogged records and names them.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-audit-truth-XXXXXX)
IPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
ok() { echo "ok   $*"; }

# expect STATUS NAME CMD...: run CMD (stdout+stderr to $work/out), check its status
expect() {
	local want=$1 what=$2; shift 2
	"$@" > "$work/out" 2>&1
	local rc=$?
	[ $rc -eq "$want" ] || { cat "$work/out"; die "$what: exited $rc, expected $want"; }
}
# has LINE: $work/out holds exactly this line
has() { grep -qxF -- "$1" "$work/out" || { cat "$work/out"; die "missing line: $1"; }; }
# has_re RE: a line of $work/out matches the extended regular expression
has_re() { grep -qE -- "$1" "$work/out" || { cat "$work/out"; die "no line matches: $1"; }; }

site=$work/site
vault_init "$site"
W1=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri) || die "warrant"
for i in 1 2; do
	"$B/lacre-mediator" --output "$work/s$i" --targets 1 --calls 2 --seed "$i" \
		--start-time 2026-11-28T1$i:00:00Z >/dev/null 2>&1 || die "mediator"
done
deliver() { # deliver SITE RUN STREAMS
	vault_ingest_start "$1" "$2"
	python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$3.hi2" "$3.hi3" || die "send"
	vault_ingest_stop "$2"
	IPID=
}
deliver "$site" run1 "$work/s1"
vkey=$(cat "$site/ledger/ingest/vkey")
site_audit() { expect "$1" "audit --site ($2)" "$B/lacre" audit --site "$site"; }
deep_audit() { expect "$1" "audit --site --deep ($2)" "$B/lacre" audit --site "$site" --deep; }
keyless() { expect "$1" "keyless audit ($2)" "$B/lacre" audit --store "dir:$site/objects" --vkey "$vkey" \
	--checkpoint "$site/ledger/ingest/checkpoint"; }
clean() {
	site_audit 0 "$1"; has_re ' 0 on the backend unlogged, 0 spool leftovers, 0 problems$'
	deep_audit 0 "$1"; has_re '; 0 commitments with no record .*; 0 unlogged segments with 0 records in no log; 0 problems$'
	keyless 0 "$1"; has_re ' 0 segments on the backend unlogged, 0 problems$'
}
clean "fresh site"
ok "clean site: audit --site, --deep and the keyless audit exit 0"

# ---- a. a sealed segment that no log entry names ----
# a copy of the site receives a second delivery; one of its new segments
# (sealed to W1 by the same site keys) is put on the first site's backend
cp -a "$site" "$work/site2"
sed -i "s#$site/#$work/site2/#g" "$work/site2/lacre.conf"
deliver "$work/site2" run2 "$work/s2"
extra=
for f in $(cd "$work/site2/objects/seg" && ls); do
	[ -e "$site/objects/seg/$f" ] && continue
	"$B/lacre" records --site "$work/site2" --warrant "$W1" --justification "e2e: which segment" --json \
		> "$work/r2.jsonl" 2>/dev/null || die "records of site2"
	n=$(grep -c "\"segment\":\"seg/$f\"" "$work/r2.jsonl")
	[ "$n" -gt 0 ] && { extra=$f; n_extra=$n; break; }
done
[ -n "$extra" ] || die "site2 made no new segment of $W1"
size=$(stat -c %s "$work/site2/objects/seg/$extra")
LACRE_USER="$INV_KEY" "$B/lacre" calls --site "$site" --warrant "$W1" --justification "e2e: calls before" \
	--json > "$work/calls0.jsonl" 2>/dev/null || die "calls before the planted segment"
n_calls_before=$(grep -c '^{' "$work/calls0.jsonl" || true)
[ "$n_calls_before" -gt 0 ] || die "no calls before the planted segment"
cp "$work/site2/objects/seg/$extra" "$site/objects/seg/$extra"
logsize=$(sed -n 2p "$site/ledger/ingest/checkpoint")
line="unlogged       seg/$extra: on the backend ($size bytes) but named by no segment entry of the log of size $logsize: its records are in no signed checkpoint"
site_audit 3 "unlogged segment"; has "$line"; has_re ' 1 on the backend unlogged, 0 spool leftovers, 1 problems$'
keyless 3 "unlogged segment"; has "$line"
deep_audit 3 "unlogged segment"
seqr=$(python3 - "$work/r2.jsonl" "seg/$extra" <<'PY'
import json, sys
seqs = [json.loads(l)['seq'] for l in open(sys.argv[1]) if json.loads(l)['segment'] == sys.argv[2]]
print(f"{min(seqs)}..{max(seqs)}", end='')
PY
)
has "deep           seg/$extra: on the backend but named by no segment entry of the ingest log: $n_extra records ($W1's key), $n_extra of them with no commitment in the log (seq $seqr): no signed checkpoint covers them"
has_re "; 1 unlogged segments with $n_extra records in no log; "
ok "a: an unlogged segment on the backend: keyless, site and deep audits exit 3 and name it ($n_extra records)"

# a reader never shows records that no signed checkpoint covers: anyone may
# seal to a warrant's public key, so a planted segment is no evidence
expect 3 "records with an unlogged segment" env LACRE_USER="$CLERK_KEY" "$B/lacre" records --site "$site" \
	--warrant "$W1" --justification "e2e: planted segment" --json
grep -q "\"segment\":\"seg/$extra\"" "$work/out" && { cat "$work/out"; die "records shows the unlogged segment's records"; }
has_re "^lacre: $n_extra records of segment seg/$extra are in no signed checkpoint: not shown"
ok "a: records exits 3, names the unlogged segment and shows none of its $n_extra records"
# nor the index: calls (audio, pcap, the export's renderings) never include them
expect 3 "calls with an unlogged segment" env LACRE_USER="$INV_KEY" "$B/lacre" calls --site "$site" \
	--warrant "$W1" --justification "e2e: planted segment" --json
has_re "seg/$extra: records in no signed checkpoint .*none of this segment indexed"
n_after=$(grep -c '^{' "$work/out" || true)
[ "$n_after" = "$n_calls_before" ] || { cat "$work/out"; die "calls lists $n_after calls with the planted segment, $n_calls_before without"; }
ok "a: calls exits 3 and indexes nothing of the unlogged segment"

# the export of W1 does not wait for a checkpoint that will never come: it
# writes the proven records and names the unlogged ones (no content)
command -v age-keygen >/dev/null || die "Debian's age-keygen is not installed"
age-keygen -o "$work/court.key" 2>/dev/null || die "age-keygen"
R=$(grep -o 'age1[a-z0-9]*' "$work/court.key")
rm -f "$site/objects/seg/$extra"
LACRE_USER=$CLERK_KEY "$B/lacre" records --site "$site" --warrant "$W1" --justification "e2e: logged records" \
	--json > "$work/r0.jsonl" 2>/dev/null || die "records"
n_logged=$(wc -l < "$work/r0.jsonl")
cp "$work/site2/objects/seg/$extra" "$site/objects/seg/$extra"
expect 0 "export with an unlogged segment" env LACRE_USER="$CLERK_KEY" timeout 120 "$B/lacre" export --site "$site" \
	--warrant "$W1" --recipient "$R" -o "$work/ex.age" --justification "e2e: unlogged records" --json
has "lacre: $n_extra records of segment seg/$extra (seq $seqr) are in no signed checkpoint: the ingest log does not name them (lost leaves or unlogged segment); left out of this package (unlogged.txt); run lacre audit --site --deep"
grep '^{' "$work/out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
n, u = int(sys.argv[1]), int(sys.argv[2])
assert r["records"] == n == r["included"] and r["excluded"] == 0 and r["unlogged"] == u, r
' "$n_logged" "$n_extra" || { cat "$work/out"; die "export --json counts"; }
expect 0 "lacre-verify of the package" "$B/lacre-verify" "$work/ex.age" -i "$work/court.key" \
	--log-vkey "$site/ledger/ingest/vkey" --export-vkey "$site/ledger/export.vkey"
has_re '^VERIFIED'
grep -qF "absent: unlogged $n_extra records of segment seg/$extra" "$work/out" || { cat "$work/out"; die "lacre-verify does not show the absent unlogged line"; }
age -d -i "$work/court.key" -o "$work/ex.plain" "$work/ex.age" || die "age -d"
python3 "$top/tests/e2e/lib/pkg_tool.py" get "$work/ex.plain" unlogged.txt > "$work/unl.txt" || die "no unlogged.txt"
[ "$(head -1 "$work/unl.txt")" = "lacre-unlogged/v1" ] || die "unlogged.txt: bad first line"
[ "$(grep -c "^unlogged segment=seg/$extra index=[0-9]* commitment=[0-9a-f]\{64\} " "$work/unl.txt")" -eq "$n_extra" ] ||
	{ cat "$work/unl.txt"; die "unlogged.txt does not name the $n_extra records"; }
python3 "$top/tests/e2e/lib/pkg_tool.py" list "$work/ex.plain" | grep -c '\.pdu$' > "$work/npdu"
[ "$(cat "$work/npdu")" -eq "$n_logged" ] || die "the package holds $(cat "$work/npdu") PDUs, expected $n_logged"
ok "export: $n_logged proven records written and verified, the $n_extra unlogged ones named (unlogged.txt, absent line), exit 0"
expect 1 "proof record of an unlogged record" env LACRE_USER="$CLERK_KEY" "$B/lacre" proof record --site "$site" \
	--warrant "$W1" --record "seg/$extra:0" --justification "e2e: receipt of an unlogged record"
has "lacre: record seg/$extra:0 is in no signed checkpoint: the ingest log does not name it (lost leaf or unlogged segment), so it has no receipt; run lacre audit --site --deep"
ok "proof record of an unlogged record: exit 1, says why"
expect 2 "party copy excluding an unlogged record" env LACRE_USER="$CLERK_KEY" "$B/lacre" export --site "$site" \
	--warrant "$W1" --recipient "$R" -o "$work/ex3.age" --justification "e2e: party copy" --exclude-record "seg/$extra:0"
has "lacre: export failed: exclusion 'seg/$extra:0' matches only records in no signed checkpoint, which are left out anyway (unlogged.txt): drop it"
[ ! -e "$work/ex3.age" ] || die "a refused party copy left a package"
# while ingest runs (it holds the log's lock) the same records may still be
# published: the export says so, and still does not wait
expect 0 "export while the log is locked" env LACRE_USER="$CLERK_KEY" timeout 120 flock "$site/ledger/ingest/lock" \
	"$B/lacre" export --site "$site" --warrant "$W1" --recipient "$R" -o "$work/ex2.age" --justification "e2e: running"
has "lacre: $n_extra records of segment seg/$extra (seq $seqr) are not in the published checkpoint yet: ingest is running and has not published them; left out of this package (unlogged.txt), export again once it has"
ok "export while ingest runs: the unpublished records are left out with that reason, no wait"
rm -f "$site/objects/seg/$extra"
clean "unlogged segment removed"

# ---- a logged segment not uploaded yet (SPOOL/ready) is no problem ----
pend=$(cd "$site/objects/seg" && ls | head -1)
# every segment on the backend is logged now (how many: one per receiving
# thread's writer that had records, so it depends on --workers)
nseg=$(ls "$site/objects/seg" | wc -l)
mkdir -p "$site/spool/ready"
mv "$site/objects/seg/$pend" "$site/spool/ready/$pend"
site_audit 0 "a logged segment waiting in the spool"; has_re " $nseg segments \\(1 still in the spool\\), 0 missing, "
deep_audit 0 "a logged segment waiting in the spool"; has_re "^deep: $nseg segments decrypted \\(1 from the spool\\), .* 0 problems$"
mv "$site/spool/ready/$pend" "$site/objects/seg/$pend"
ok "a logged segment waiting for upload in spool/ready: counted, read from the spool by --deep, exit 0"

# ---- b. a logged segment deleted from the backend ----
"$B/lacre" records --site "$site" --warrant "$W1" --justification "e2e: segment sizes" --json \
	> "$work/r1.jsonl" 2>/dev/null || die "records"
del=$(python3 -c 'import json,sys,collections; c=collections.Counter(json.loads(l)["segment"] for l in open(sys.argv[1])); print(max(c, key=c.get))' "$work/r1.jsonl")
n_del=$(grep -c "\"segment\":\"$del\"" "$work/r1.jsonl")
mv "$site/objects/$del" "$work/deleted"
site_audit 3 "deleted segment"; has_re "^segment +$del \(entry [0-9]+\): missing from the backend$"
keyless 3 "deleted segment"; has_re "^segment +$del \(entry [0-9]+\): missing from the store$"
deep_audit 3 "deleted segment"
# one leaf per segment: the segment's entry names what is lost (no
# commitment of its own is left in the log)
has_re "; 0 commitments with no record \(0 of shredded segments, 0 of open segments\); "
has_re "^deep +$del: is missing: the $n_del records its entry \(log entry [0-9]+\) logs cannot be read$"
mv "$work/deleted" "$site/objects/$del"
clean "deleted segment restored"
ok "b: a deleted segment: missing (keyless, site), and the $n_del records its entry logs lost (deep)"

# ---- d. spool leftovers ----
# the spool of lib/ingest/seal_spool.h: an open segment and its stream
# manifest, a closed segment with its (unsigned) batch file, a covered one
# waiting for upload, and what recovery sets aside in lost/
sp=$site/spool
h1=11111111111111111111111111111111 h3=33333333333333333333333333333333 h4=44444444444444444444444444444444
h5=55555555555555555555555555555555 h6=66666666666666666666666666666666
head -c 1000 /dev/urandom > "$sp/TMP.$h1"
# kind (1 iri, 2 cc), LIID hex ("LIID0001"), CIN, first, last, count
printf 'lacre-open-segment v1 %s\n2 4c49494430303031 7 5 9 5\n1 4c49494430303031 7 2 3 2\nother 4\n' "$h1" > "$sp/$h1.streams"
h7=77777777777777777777777777777777
# batch NAME RECORDS: a batch file (docs/FORMATS.md: the commitments, then the entry)
batch() {
	python3 - "$sp/$1.leaves" "$2" <<'PY'
import hashlib, os, struct, sys
entries = [os.urandom(32) for _ in range(int(sys.argv[2]))] + [b"lacre-segment/v1 (stands for the entry)"]
d = b"lacre-leaves v1\n" + struct.pack(">Q", len(entries))
for e in entries:
    d += struct.pack(">H", len(e)) + e
open(sys.argv[1], "wb").write(d + hashlib.sha256(d).digest())
PY
}
head -c 500 /dev/urandom > "$sp/$h3"
batch "$h3" 2
printf 'lacre-open-segment v1 %s\n2 4c49494430303031 7 1 4 4\n' "$h3" > "$sp/$h3.streams"   # stale: h3 is closed
head -c 700 /dev/urandom > "$sp/TMP.$h7"   # closed at the crash: batch written, not yet renamed
batch "$h7" 3
mkdir -p "$sp/ready" "$sp/lost"
head -c 300 /dev/urandom > "$sp/ready/$h4"
head -c 10 /dev/urandom > "$sp/lost/TMP.$h5"
printf 'lacre-open-segment v1 %s\n' "$h5" > "$sp/lost/$h5.streams"
head -c 200 /dev/urandom > "$sp/lost/$h6"
head -c 20 /dev/urandom > "$sp/lost/$h6.leaves"
site_audit 3 "spool leftovers"
has "spool          spool/TMP.$h1: an open segment left by a crash (1000 bytes): its records were never closed into a segment nor logged, they are lost (ingest names them at its next start); its streams are listed in spool/$h1.streams"
has "spool          spool/$h1.streams: loss report of open segment $h1, cut off by a crash: 11 records of 2 streams lost, not yet named in the ledger (ingest names them at its next start): cc LIID0001 cin 7 seq 5..9 (5); iri LIID0001 cin 7 seq 2..3 (2); 4 records of other streams"
has "spool          spool/$h3: a closed segment (500 bytes, 2 records) whose ledger batch is under no signed checkpoint: ingest logs and uploads it at its next start"
has "spool          spool/ready/$h4: waiting for upload (300 bytes) but no segment entry of the ingest log names it: its records are in no signed checkpoint"
has "spool          spool/lost/$h6: a closed segment (200 bytes) set aside by recovery because its ledger batch was damaged: its records are in no signed checkpoint"
has "spool          spool/lost/$h6.leaves: a damaged ledger batch set aside by recovery: the commitments of segment $h6 could not be logged"
has "spool          spool/TMP.$h7: a segment closed at a crash (700 bytes, 3 records) before it took its final name: its records are in no signed checkpoint; ingest renames, logs and uploads it at its next start"
has "spool/lost holds 2 files of open segments lost at a crash: the ledger names their records (lost-open-segment events of the oversight log)"
has_re ' 0 on the backend unlogged, 7 spool leftovers, 7 problems$'
# a closed segment's manifest and batch file are its own line's, not a loss
! grep -q "spool/$h3.streams\|spool/$h3.leaves\|spool/$h7.leaves" "$work/out" || { cat "$work/out"; die "a closed segment's files reported as leftovers of their own"; }
# while ingest holds the log, the open and unsigned ones are its work in progress
command -v flock >/dev/null || die "flock (util-linux) is not installed"
expect 3 "audit --site while the log is locked" flock "$site/ledger/ingest/lock" "$B/lacre" audit --site "$site"
has "ingest is running: 4 open segments or unsigned batches in the spool are not counted as problems (stop it for an exact audit)"
has_re ' 0 on the backend unlogged, 2 spool leftovers, 2 problems$'
rm -f "$sp/lost/$h6" "$sp/lost/$h6.leaves"
expect 0 "audit --site while the log is locked" flock "$site/ledger/ingest/lock" "$B/lacre" audit --site "$site"
rm -f "$sp/TMP.$h1" "$sp/$h3" "$sp/TMP.$h7" "$sp/$h7.leaves"
h8=88888888888888888888888888888888
printf 'garbage\x01line\n' > "$sp/$h8.streams"
site_audit 3 "loss report and stray leaves"
has "spool          spool/$h1.streams: loss report of open segment $h1, cut off by a crash: 11 records of 2 streams lost, not yet named in the ledger (ingest names them at its next start): cc LIID0001 cin 7 seq 5..9 (5); iri LIID0001 cin 7 seq 2..3 (2); 4 records of other streams"
has "spool          spool/$h8.streams: loss report of open segment $h8, cut off by a crash: 0 records of 0 streams lost, not yet named in the ledger (ingest names them at its next start): garbage?line?"
has "spool          spool/$h3.leaves: the commitments of segment $h3, which is neither in the spool nor named by the ingest log"
rm -f "$sp/$h1.streams" "$sp/$h3.leaves" "$sp/$h3.streams" "$sp/$h8.streams" "$sp/ready/$h4"
clean "spool leftovers removed (lost/ keeps what the ledger names)"
ok "d: spool leftovers (open segment, loss report, unsigned batch, stray leaves, unnamed ready segment, damaged batch set aside) each reported"

# ---- c. a stray commitment in the log (last: it cannot be taken back) ----
before=$(sed -n 2p "$site/ledger/ingest/checkpoint")
expect 0 "lacre log append" "$B/lacre" log append --state "$site/ledger/ingest" --store "dir:$site/objects" \
	--key "$site/ledger/ingest.key" --hex "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
[ "$(sed -n 2p "$site/ledger/ingest/checkpoint")" -eq $((before + 1)) ] || die "the log did not grow by one"
site_audit 0 "stray leaf (the log itself is consistent)"
keyless 0 "stray leaf"
deep_audit 3 "stray leaf"
has "deep           ingest log: 1 commitments after the last segment entry have no record (log entries $before): no segment was closed over them, their records were lost in an open segment"
has_re "; 1 commitments with no record \(0 of shredded segments, 0 of open segments\); "
expect 0 "audit --deep while the log is locked" flock "$site/ledger/ingest/lock" "$B/lacre" audit --site "$site" --deep
has_re "; 1 commitments with no record \(0 of shredded segments, 1 of open segments\); .* 0 problems$"
ok "c: a commitment with no record: reported by --deep with its log index (not while ingest runs)"

# ---- f. a planted segment logged with another records root ----
# what a compromised receiver could do: log an entry that names a segment
# (right size, right fingerprint) with a records root its records do not
# hash to.  The keyless audit cannot tell (no key); the deep audit and
# every reader can: the segment's records are in no signed checkpoint.  On
# a copy of the site (the forged entry cannot be taken back)
cp -a "$site" "$work/site3"
sed -i "s#$site/#$work/site3/#g" "$work/site3/lacre.conf"
osite=$site site=$work/site3
cp "$work/site2/objects/seg/$extra" "$site/objects/seg/$extra"
fhex=$(python3 - "$work/site2/objects" "seg/$extra" <<'PY'
import glob, os, struct, sys
root, name = sys.argv[1], sys.argv[2].encode()
for p in sorted(glob.glob(root + "/tlog/*/tile/entries/**", recursive=True)):
    if not os.path.isfile(p):
        continue
    d, off = open(p, "rb").read(), 0
    while off + 2 <= len(d):
        (n,) = struct.unpack(">H", d[off:off + 2])
        e, off = bytearray(d[off + 2:off + 2 + n]), off + 2 + n
        if e[:16] == b"lacre-segment/v2" and e[17:17 + e[16]] == name:
            e[-1] ^= 1          # the last byte of the records root
            print(bytes(e).hex())
            sys.exit(0)
sys.exit(1)
PY
) || die "no v2 entry of seg/$extra in site2's log"
flog=$(sed -n 2p "$site/ledger/ingest/checkpoint")
expect 0 "lacre log append (a forged entry)" "$B/lacre" log append --state "$site/ledger/ingest" \
	--store "dir:$site/objects" --key "$site/ledger/ingest.key" --hex "$fhex"
site_audit 0 "a planted segment with a forged entry (size and fingerprint agree)"
deep_audit 3 "a planted segment with a forged entry"
has "deep           seg/$extra: its $n_extra records do not hash to the records root and count ($n_extra) its entry (log entry $flog) logs: not the records sealed at ingest (a replaced or forged segment); none of them is in the log"
expect 3 "records with a planted segment" env LACRE_USER="$CLERK_KEY" "$B/lacre" records --site "$site" \
	--warrant "$W1" --justification "e2e: forged entry" --json
grep -q "\"segment\":\"seg/$extra\"" "$work/out" && { cat "$work/out"; die "records shows the planted segment's records"; }
has_re "^lacre: $n_extra records of segment seg/$extra are in no signed checkpoint: not shown"
expect 3 "calls with a planted segment" env LACRE_USER="$INV_KEY" "$B/lacre" calls --site "$site" \
	--warrant "$W1" --justification "e2e: forged entry" --json
has_re "seg/$extra: records in no signed checkpoint .*none of this segment indexed"
expect 1 "proof record of a planted record" env LACRE_USER="$CLERK_KEY" "$B/lacre" proof record --site "$site" \
	--warrant "$W1" --record "seg/$extra:0" --justification "e2e: receipt of a planted record"
has_re "^lacre: record seg/$extra:0 is in no signed checkpoint"
ok "f: a segment logged with another records root: the keyless audit passes, --deep names it (exit 3), records, calls and proof record show none of its $n_extra records"
site=$osite

# ---- e. a shredded warrant: its segments no longer open ----
# the commitments of a segment no key opens are counted, not reported, when
# the log's batch layout ties them to it; interleaved (older layout) they
# cannot be told from lost ones and are reported with the segment named
J=(--justification "e2e: shred for the audit")
"$B/lacre" warrant cease "$W1" --site "$site" --order CESE-1 --order-date 2026-11-27 --at 2026-11-27 \
	--user "$CLERK_KEY" > /dev/null || die "cease $W1"
"$B/lacre" shred request --site "$site" --warrant "$W1" --order AUTO-DESTR-7/2031 --order-date 2026-11-27 \
	--user "$SUP_KEY" "${J[@]}" > "$work/sh.out" || die "shred request"
req=$(grep -o 'S-[0-9]*' "$work/sh.out" | head -1)
"$B/lacre" shred approve "$req" --site "$site" --user "$CLERK_KEY" "${J[@]}" > /dev/null || die "shred approve"
site_audit 0 "after the shred"
deep_audit 3 "after the shred (the stray commitment of c is still there)"
has "deep           ingest log: 1 commitments after the last segment entry have no record (log entries $before): no segment was closed over them, their records were lost in an open segment"
if grep -q '^deep .*no key opens it' "$work/out"; then
	has_re "^deep +ingest log: [0-9]+ commitments before the entry of seg/[0-9a-f]{32} have no record in any segment \(log entries [-0-9, .]+\); [0-9]+ logged segments that could not be read may hold them: seg/[0-9a-f]{32} \(no key opens it\)"
	ok "e: after a shred (interleaved log): the unattributable commitments are reported with the segment no key opens"
else
	# one leaf per segment: the shredded warrant's segments have no
	# commitment of their own in the log; they are counted as unopened
	has_re "^deep: .*; [1-9][0-9]* segments no key opens \(shredded\); 1 commitments with no record \(0 of shredded segments, 0 of open segments\); .*; 1 problems$"
	ok "e: after a shred: the shredded warrant's segments are counted (no key opens them), not reported"
fi
