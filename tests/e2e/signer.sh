#!/usr/bin/env bash
# signer.sh - the ingest log's key out of the receiver (issue 11,
# docs/cmd-signer.md), end to end on a real site:
#   A. without ledger.signer the receiver signs in-process and says so
#      (`warning: the ingest log's key is in the receiver`);
#   B. lacre-signer's first start moves DIR/ledger/ingest.key and the last
#      signed checkpoint into DIR/signer (the log keeps its key);
#   C. `lacre ingest` with ledger.signer: no warning, mediator traffic is
#      sealed, every checkpoint signed by lacre-signer; the receiver never
#      opens ingest.key (strace of every open of the whole run); the
#      signer's size equals the log's; `lacre audit --site` is clean;
#   D. lacre-signer --test-request: a rolled-back, a forked, a bad-proof, a
#      stale-proof and another origin's checkpoint are refused (exit 3, the
#      reason named), forks/rollbacks/bad proofs are in DIR/signer/refusals,
#      a garbled frame is answered "malformed" and the signer keeps serving;
#   E. a signer that refuses the receiver (its state ahead: every request
#      is a rollback): ALERT on the receiver's stderr, segments wait in the
#      spool (none reaches the backend); the signer restored, the receiver
#      says it signs again, everything is promoted, stats count the
#      refusals, the audit is clean and nothing was lost;
#   F. kill -9 of the receiver while the signer is away: the restarted
#      receiver resumes the tree it had sent (ledger/ingest/pending), its
#      segments wait in the spool (not promoted unsigned); the signer back,
#      that tree is signed, the segments go up, the audit is clean;
#   G. an answer lost on the way (a proxy drops it): the next request is
#      refused as stale, proved again from the signer's size and signed.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-signer-XXXXXX)
IPID= SPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "$SPID" ] && kill $SPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }
[ -x "$B/lacre-signer" ] || die "build/bin/lacre-signer not built (a test run needs the build)"
ok() { echo "ok   $*"; }
has() { grep -qF -- "$1" "$EXPECT_DIR/expect.err" || { cat "$EXPECT_DIR/expect.err"; die "stderr lacks: $1"; }; }

site=$work/site
sock=$site/signer.sock
vault_init "$site"
W1=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri) || die "warrant"
origin="lacre/site/ingest"

# traffic: lacre-mediator's recorded streams (3 sets, so each run adds records)
for s in 1 2 3; do
	mkdir -p "$work/set$s"
	"$B/lacre-mediator" --output "$work/set$s/s" --targets 2 --calls 3 --sessions 2 --seed $s \
		--start-time 2026-11-2${s}T10:00:00Z >/dev/null 2>&1 || die "mediator --output"
	for l in hi2 hi3; do
		"$B/lacre" decode "$work/set$s/s.$l" > "$work/set$s/d.$l.jsonl" || die "decode set $s"
	done
done
send() { python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/set$1/s.hi2" "$work/set$1/s.hi3" || die "sending set $1"; }
signer_start() {
	rm -f "$sock"
	"$B/lacre-signer" --site "$site" "$@" 2>>"$work/signer.err" &
	SPID=$!
	wait_for 30 "lacre-signer listening" test -S "$sock" || { cat "$work/signer.err"; die "lacre-signer did not start"; }
}
signer_stop() { kill -TERM "$SPID"; wait "$SPID" || die "lacre-signer exited $?"; SPID=; }
stat_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["vault"][sys.argv[2]])' "$@"; }

# ---- A. in-process signing says so ----
vault_ingest_start "$site" a
send 1
vault_ingest_stop a
grep -q "lacre: ingest: warning: the ingest log's key is in the receiver" "$work/ingest-a.err" ||
	{ cat "$work/ingest-a.err"; die "no warning about the key in the receiver"; }
[ -f "$site/ledger/ingest.key" ] || die "in-process signing made no ledger/ingest.key"
size_a=$(sed -n 2p "$site/ledger/ingest/checkpoint")
[ "$size_a" -gt 0 ] || die "the in-process run signed nothing"
ok "A: without ledger.signer the receiver signs in-process (log size $size_a) and warns"

# ---- B. the signer's first start moves the key and the last checkpoint ----
vk_before=$(cat "$site/ledger/ingest/vkey")
signer_start
grep -q "moved the ingest log key $site/ledger/ingest.key to $site/signer/ingest.key" "$work/signer.err" ||
	{ cat "$work/signer.err"; die "the key was not moved"; }
[ ! -e "$site/ledger/ingest.key" ] || die "ledger/ingest.key is still there"
[ "$(stat -c %a "$site/signer/ingest.key")" = 600 ] || die "signer/ingest.key is not 0600"
[ "$(stat -c %a "$site/signer")" = 700 ] || die "the signer folder is not 0700"
[ "$(stat -c %a "$sock")" = 660 ] || die "the socket is not 0660"
[ "$(sed -n 's/^size //p' "$site/signer/state")" = "$size_a" ] || die "the signer did not adopt size $size_a"
expect_exit 0 "" "$B/lacre-signer" --test-request --socket "$sock" --key || die "key request"
[ "$(cat "$EXPECT_DIR/expect.out")" = "$vk_before" ] || die "the signer's vkey is not the log's"
ok "B: lacre-signer moved ledger/ingest.key (0600, folder 0700, socket 0660) and adopted size $size_a; same vkey"

# ---- C. the receiver with ledger.signer ----
grep -q '^ledger.signer = *$' "$site/lacre.conf" || die "lacre init wrote no empty ledger.signer line"
sed -i "s|^ledger.signer = *\$|ledger.signer = $sock|" "$site/lacre.conf"
command -v strace >/dev/null || die "strace is not installed (scripts/deps installs it)"
strace_args=(strace -f -qq -e trace=open,openat,openat2 -o "$work/strace.txt")
rm -f "$work/ready-c"
"${strace_args[@]}" "$B/lacre" ingest --site "$site" --hi2 127.0.0.1:0 --hi3 127.0.0.1:0 --quiet \
	--ready-file "$work/ready-c" --stats "$work/stats-c.json" 2>"$work/ingest-c.err" &
IPID=$!
wait_file 60 "$work/ready-c" || { cat "$work/ingest-c.err"; die "ingest c did not start"; }
HI2=$(sed -n 's/^hi2=//p' "$work/ready-c"); HI3=$(sed -n 's/^hi3=//p' "$work/ready-c")
send 2
# SIGTERM to the receiver itself (strace, its parent, does not pass it on)
rpid=$(pgrep -P "$IPID")
[ -n "$rpid" ] || die "no receiver process under strace"
kill -TERM "$rpid"
wait "$IPID" || { cat "$work/ingest-c.err"; die "ingest c exited with $?"; }
IPID=
grep -q "checkpoints are signed by lacre-signer at $sock ($origin)" "$work/ingest-c.err" ||
	{ cat "$work/ingest-c.err"; die "the receiver does not say who signs"; }
! grep -q "warning: the ingest log's key" "$work/ingest-c.err" || die "warning printed with ledger.signer set"
! grep -q "ALERT log signer" "$work/ingest-c.err" || { cat "$work/ingest-c.err"; die "a signer alert in a clean run"; }
size_c=$(sed -n 2p "$site/ledger/ingest/checkpoint")
[ "$size_c" -gt "$size_a" ] || die "the log did not grow under the signer ($size_a -> $size_c)"
[ "$(sed -n 's/^size //p' "$site/signer/state")" = "$size_c" ] || die "the signer's size is not the log's $size_c"
[ "$(stat_of "$work/stats-c.json" signer_refusals)" = 0 ] || die "refusals in a clean run"
[ "$(stat_of "$work/stats-c.json" signed_size)" = "$(stat_of "$work/stats-c.json" log_size)" ] || die "stats: not all signed"
[ ! -e "$site/ledger/ingest.key" ] || die "the receiver made a ledger/ingest.key"
[ -s "$work/strace.txt" ] || die "strace recorded nothing"
grep -q 'lacre.conf' "$work/strace.txt" || die "strace did not see the receiver's opens"
if grep -E 'ingest\.key' "$work/strace.txt"; then die "the receiver opened an ingest.key"; fi
ok "C: strace of the whole run: the receiver opened no ingest.key ($(wc -l < "$work/strace.txt") opens)"
expect_exit 0 "" "$B/lacre" audit --site "$site" || die "audit after the signed run"
ok "C: ingest with ledger.signer: log $size_a -> $size_c, every checkpoint signed by lacre-signer, audit clean"

# ---- D. refusals from a hostile client ----
S=$(sed -n 's/^size //p' "$site/signer/state")
rand() { head -c 32 /dev/urandom | base64 -w0; }
req() { "$B/lacre-signer" --test-request --socket "$sock" "$@"; }
n0=0; [ -f "$site/signer/refusals" ] && n0=$(wc -l < "$site/signer/refusals")
expect_exit 3 "refused: rollback: size $((S - 1)) is below the last signed size $S" \
	req --origin "$origin" --old-size 0 --size $((S - 1)) --root "$(rand)" || die "rollback not refused"
expect_exit 3 "refused: fork: size $S was signed with another root" \
	req --origin "$origin" --old-size "$S" --size "$S" --root "$(rand)" || die "fork not refused"
expect_exit 3 "refused: bad-proof: the consistency proof from size $S to $((S + 3)) does not verify" \
	req --origin "$origin" --old-size "$S" --size $((S + 3)) --root "$(rand)" --proof "$(rand)" --proof "$(rand)" ||
	die "bad proof not refused"
expect_exit 3 "refused: stale: the proof starts at size $((S - 2)), the last signed size is $S" \
	req --origin "$origin" --old-size $((S - 2)) --size $((S + 3)) --root "$(rand)" || die "stale proof not refused"
expect_exit 3 "refused: origin: this signer signs $origin only" \
	req --origin "lacre/other/ingest" --old-size "$S" --size $((S + 3)) --root "$(rand)" || die "origin not refused"
n1=$(wc -l < "$site/signer/refusals")
[ $((n1 - n0)) -eq 3 ] || die "refusals recorded: $((n1 - n0)), want 3 (rollback, fork, bad proof)"
grep -q " fork size $S root " "$site/signer/refusals" || die "the fork is not recorded"
python3 - "$sock" <<'PY' || die "garbled frame"
import socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(10)
s.sendall(struct.pack('>I', 10) + b'LSG1\x01\x05lacr')         # a sign request cut short
a = b''
while True:
    d = s.recv(4096)
    if not d: break
    a += d
n, = struct.unpack('>I', a[:4]); body = a[4:]
assert n == len(body) and body[:5] == b'LSG1\x01' and body[5] == 1, body      # refused, malformed
print('ok   D: a garbled request is answered:', body[16:].decode())
PY
expect_exit 0 "" req --key || die "the signer stopped serving after the refusals"
[ "$(sed -n 's/^size //p' "$site/signer/state")" = "$S" ] || die "a refusal changed the signer's state"
ok "D: rollback, fork, bad proof, stale proof, other origin refused (exit 3, reason named); 3 recorded; still serving at size $S"

# ---- E. a refusing signer holds segments back; nothing is lost ----
signer_stop
cp "$site/signer/state" "$work/state.good"
printf 'lacre-signer-state v1\norigin %s\nsize %s\nroot %s\n' "$origin" $((S + 100000)) "$(rand)" > "$site/signer/state"
signer_start
segs_before=$(find "$site/objects/seg" -type f | wc -l)
vault_ingest_start "$site" e --stats "$work/stats-e.json"
send 3
wait_log 60 "$work/ingest-e.err" "ALERT log signer: refused checkpoint [0-9]+ \(rollback\)" ||
	{ cat "$work/ingest-e.err"; die "no alert for the refusing signer"; }
wait_for 60 "a closed segment waiting in the spool" sh -c "ls '$site/spool/'*.leaves >/dev/null 2>&1" ||
	die "no segment waits in the spool"
waiting=$(ls "$site/spool/"*.leaves | wc -l)
[ -z "$(ls -A "$site/spool/ready" 2>/dev/null)" ] || die "a segment reached spool/ready without a signed checkpoint"
[ "$(find "$site/objects/seg" -type f | wc -l)" -eq "$segs_before" ] || die "a segment reached the backend unsigned"
ok "E: refused: ALERT on the receiver, $waiting segments wait in the spool, none promoted or uploaded"
signer_stop
cp "$work/state.good" "$site/signer/state"
signer_start
wait_log 60 "$work/ingest-e.err" "the log signer signs again" || { cat "$work/ingest-e.err"; die "no recovery"; }
wait_for 60 "the waiting segments promoted" sh -c "! ls '$site/spool/'*.leaves >/dev/null 2>&1" ||
	die "segments still wait after the signer came back"
vault_ingest_stop e
[ "$(stat_of "$work/stats-e.json" signer_refusing)" = False ] || die "stats: still refusing"
[ "$(stat_of "$work/stats-e.json" signer_refusals)" -ge 1 ] || die "stats: no refusal counted"
[ "$(stat_of "$work/stats-e.json" unsigned_segments)" = 0 ] || die "stats: segments left unsigned"
left=$(find "$site/spool" -type f | wc -l)
[ "$left" -eq 0 ] || die "$left files left in the spool after the signer came back"
size_e=$(sed -n 2p "$site/ledger/ingest/checkpoint")
[ "$(sed -n 's/^size //p' "$site/signer/state")" = "$size_e" ] || die "signer and log disagree after recovery"
expect_exit 0 "" "$B/lacre" audit --site "$site" || die "audit after the refusals"
"$B/lacre" records --site "$site" --warrant "$W1" --justification "e2e: signer" --json > "$work/rec.jsonl" 2>"$work/rec.err" ||
	{ cat "$work/rec.err"; die "records"; }
python3 - "$work" <<'PY' || die "records lost"
import json, os, sys, collections
sys.path.insert(0, os.environ['LACRE_E2E_LIB'])
from sent import pdus, load, sent_pdus
work = sys.argv[1]
got = collections.Counter(pdus(load(f'{work}/rec.jsonl')))
want = collections.Counter()
for s in ('set1', 'set2', 'set3'):
    for liid, v in sent_pdus(f'{work}/{s}').items():
        if liid == 'LIID0001':
            want.update(b for _, _, b in v)
missing = want - got
assert not missing and sum(want.values()) > 0, f'{sum(missing.values())} of {sum(want.values())} PDUs missing'
print(f'ok   E: all {sum(want.values())} LIID0001 PDUs of the three runs are in the records')
PY
ok "E: the signer back: signs again, $((size_e - size_c)) entries signed, spool empty, audit clean"

# ---- F. kill -9 while the signer is away: the unsigned tree is resumed,
# its segments wait (never promoted unsigned), then go once it is signed ----
signer_stop
grep -q "stopped at signed size $size_e" "$work/signer.err" || die "signer stop line"
segs_before=$(find "$site/objects/seg" -type f | wc -l)
vault_ingest_start "$site" f1
grep -q "ALERT log signer: $sock does not answer" "$work/ingest-f1.err" ||
	{ cat "$work/ingest-f1.err"; die "no alert for an absent signer"; }
send 1
pend=$site/ledger/ingest/pending
wait_for 60 "a signing request recorded as pending" \
	sh -c "[ -f '$pend' ] && [ \$(sed -n 's/^size //p' '$pend') -gt $size_e ] && ls '$site/spool/'*.leaves >/dev/null 2>&1" ||
	die "no pending request"
psize=$(sed -n 's/^size //p' "$pend")
kill -KILL "$IPID"; wait "$IPID" 2>/dev/null; IPID=
vault_ingest_start "$site" f2
[ -n "$(ls "$site/spool/"*.leaves 2>/dev/null)" ] || die "the waiting segments left the spool at restart"
[ -z "$(ls -A "$site/spool/ready" 2>/dev/null)" ] || die "a segment of the unsigned tree was promoted at restart"
[ "$(find "$site/objects/seg" -type f | wc -l)" -eq "$segs_before" ] || die "a segment of the unsigned tree reached the backend"
ok "F: kill -9 with the signer away: restarted on the pending tree (size $psize), its segments wait in the spool"
signer_start
wait_log 60 "$work/ingest-f2.err" "the log signer signs again" || { cat "$work/ingest-f2.err"; die "no recovery after kill -9"; }
wait_for 60 "the waiting segments promoted" sh -c "! ls '$site/spool/'*.leaves >/dev/null 2>&1" ||
	die "segments still wait after the signer came back"
vault_ingest_stop f2
size_f=$(sed -n 2p "$site/ledger/ingest/checkpoint")
[ "$size_f" -ge "$psize" ] || die "the resumed tree ($psize) is not in the log ($size_f)"
[ "$(sed -n 's/^size //p' "$site/signer/state")" = "$size_f" ] || die "signer and log disagree after kill -9"
expect_exit 0 "" "$B/lacre" audit --site "$site" || die "audit after kill -9"
[ "$(find "$site/objects/seg" -type f | wc -l)" -gt "$segs_before" ] || die "the waiting segments never reached the backend"
ok "F: the signer back: the resumed tree signed (log $size_e -> $size_f), segments uploaded, audit clean"

# ---- G. an answer lost on the way (the signer signed, the receiver never
# heard): the next checkpoint is refused as stale, proved from the signer's
# size and signed; no refusal counted, the log and the signer agree ----
python3 - "$sock" "$work/proxy.sock" "$work/proxy.log" <<'PY' &
import socket, struct, sys, os
real, path, logp = sys.argv[1:4]
srv = socket.socket(socket.AF_UNIX); srv.bind(path); srv.listen(8)
log = open(logp, 'w', buffering=1)
def frame(s):
    h = b''
    while len(h) < 4:
        d = s.recv(4 - len(h))
        if not d: return None
        h += d
    n, = struct.unpack('>I', h); b = b''
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d: return None
        b += d
    return h + b
# the first sign answer is dropped after the signer signed; until the tree
# has grown, requests are not passed on (so the next one is for a larger
# tree, proved from the size the receiver knows: stale)
dropped = None
while True:
    c, _ = srv.accept()
    req = frame(c)
    if req is None: c.close(); continue
    size = None
    if req[8] == 1:
        ol = req[9]; old, size = struct.unpack('>QQ', req[10 + ol:26 + ol])
    if dropped is not None and size is not None and size <= dropped:
        log.write('held %d\n' % size); c.close(); continue
    u = socket.socket(socket.AF_UNIX); u.connect(real); u.sendall(req); ans = frame(u); u.close()
    if size is not None:
        status = 'signed' if ans[8] == 0 else 'refused %d' % ans[9]
        log.write('sign old %d size %d %s\n' % (old, size, status))
        if dropped is None and ans[8] == 0:
            dropped = size
            log.write('dropped\n'); c.close(); continue
    c.sendall(ans); c.close()
PY
PXPID=$!
wait_for 30 "the proxy listening" test -S "$work/proxy.sock" || die "proxy did not start"
vault_ingest_start "$site" g --set ledger.signer="$work/proxy.sock" --stats "$work/stats-g.json"
send 2
wait_log 60 "$work/proxy.log" "^dropped$" || die "no answer was dropped"
send 3
wait_log 60 "$work/ingest-g.err" "the log signer signs again" || { cat "$work/ingest-g.err"; die "no recovery after a lost answer"; }
wait_for 60 "the waiting segments promoted" sh -c "! ls '$site/spool/'*.leaves >/dev/null 2>&1" ||
	die "segments still wait after a lost answer"
vault_ingest_stop g
kill "$PXPID"; wait "$PXPID" 2>/dev/null
grep -q "refused 6" "$work/proxy.log" || { cat "$work/proxy.log"; die "no stale refusal after the lost answer"; }
[ "$(stat_of "$work/stats-g.json" signer_refusals)" = 0 ] || die "a lost answer counted as a refusal"
size_g=$(sed -n 2p "$site/ledger/ingest/checkpoint")
[ "$size_g" -gt "$size_f" ] && [ "$(sed -n 's/^size //p' "$site/signer/state")" = "$size_g" ] ||
	die "signer and log disagree after a lost answer"
expect_exit 0 "" "$B/lacre" audit --site "$site" || die "audit after a lost answer"
ok "G: a lost answer: the next request refused as stale, proved from the signer's size and signed (log $size_f -> $size_g), audit clean"
signer_stop
grep -q "stopped at signed size $size_g" "$work/signer.err" || die "signer stop line"
echo "signer end to end ok"
