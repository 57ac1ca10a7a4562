#!/usr/bin/env bash
# ledger_cli.sh - the ledger through the CLI, on a dir: store:
#   1. keygen (log and witness keys), `lacre witness` on 127.0.0.1 (port 0);
#   2. `lacre log append` / `checkpoint` with the witness: cosigned;
#   3. `lacre proof inclusion` + `proof verify` (and a wrong entry fails);
#   4. `lacre audit` clean (exit 0), with --checkpoint and with --witness;
#   5. tampering on the store, each detected with exit 3 and a precise line:
#      a flipped tile byte (modified), a deleted tile (missing), a stale
#      checkpoint (rollback), an extra object (extra), a truncated partial
#      (truncated);
#   6. a forked log with the same key is refused by the witness (exit 3).
# Exit 0 pass, 77 skip (no build), 1 fail.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top"
L=$top/build/bin/lacre
[ -x "$L" ] || { echo "FAIL: build/bin/lacre missing: run make (a test run needs the build)"; exit 1; }
t=$(mktemp -d /tmp/lacre-ledger-XXXXXX)
wpid=
cleanup() { [ -n "$wpid" ] && kill "$wpid" 2>/dev/null; wait 2>/dev/null; rm -rf "$t"; }
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
expect() { # $1 wanted exit status, $2 description, rest: command
	local want=$1 what=$2 rc
	shift 2
	"$@" > "$t/out" 2> "$t/err"; rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$what (exit $rc)"; else fail "$what: exit $rc, wanted $want"; sed 's/^/    /' "$t/out" "$t/err" | head -20; fi
}
grep_err() { # $1 fixed text the last command's stderr must hold, $2 description
	if grep -qF -- "$1" "$t/err"; then ok "$2: $(head -1 "$t/err")"; else fail "$2: stderr lacks '$1'"; sed 's/^/    /' "$t/err" | head; fi
}
grep_out() { # $1 pattern, $2 description
	if grep -q -- "$1" "$t/out"; then ok "$2: $(grep -m1 -- "$1" "$t/out")"; else fail "$2: no line matching '$1'"; sed 's/^/    /' "$t/out" | head; fi
}

S="dir:$t/store"
expect 0 "log keygen" "$L" log keygen lacre.test/e2e -o "$t/log.key"
expect 0 "witness keygen" "$L" log keygen witness.test/w1 -o "$t/w.key" --witness
LV=$("$L" log keys --key "$t/log.key")
WV=$("$L" log keys --key "$t/w.key")
[ "$(stat -c %a "$t/log.key")" = 600 ] && ok "key file is 0600" || fail "key file mode $(stat -c %a "$t/log.key")"
expect 1 "keygen refuses to overwrite" "$L" log keygen lacre.test/e2e -o "$t/log.key"
grep_err "$t/log.key: File exists (remove it first to replace a key)" "overwrite refusal message"

"$L" witness --listen 127.0.0.1:0 --key "$t/w.key" --state "$t/wstate" --log "$LV" > "$t/wout" 2>&1 &
wpid=$!
. "$top/tests/e2e/lib/check.bash"
wait_log 60 "$t/wout" '^listening on 127\.0\.0\.1:[0-9]+$'
port=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$t/wout")
[ -n "$port" ] && ok "witness listening on $port" || { fail "witness did not start"; cat "$t/wout"; exit 1; }
W="http://127.0.0.1:$port $WV"

expect 0 "append 300 entries" bash -c "seq 1 300 | \"$L\" log append --state \"$t/st\" --store \"$S\" --key \"$t/log.key\" -"
expect 0 "checkpoint cosigned by the witness" "$L" log checkpoint --state "$t/st" --store "$S" --key "$t/log.key" --witness "$W"
grep_out "^— witness.test/w1 " "cosignature line"
cp "$t/out" "$t/cp300"
expect 0 "log keys --state" "$L" log keys --state "$t/st"
grep_out "^lacre.test/e2e+" "vkey from the state"
expect 0 "append 300 more with the witness" bash -c "seq 301 600 | \"$L\" log append --state \"$t/st\" --store \"$S\" --key \"$t/log.key\" --witness \"$W\" -"
"$L" log checkpoint --state "$t/st" --store "$S" --key "$t/log.key" --witness "$W" > "$t/cp600"

expect 0 "proof inclusion" "$L" proof inclusion --store "$S" --vkey "$LV" --index 41
cp "$t/out" "$t/r.tlog-proof"
expect 0 "proof verify" "$L" proof verify --vkey "$LV" --witness-vkey "$WV" --quorum 1 --entry-hex "$(printf 42 | od -An -tx1 | tr -d ' \n')" "$t/r.tlog-proof"
expect 3 "proof verify, wrong entry" "$L" proof verify --vkey "$LV" --entry-hex "$(printf 43 | od -An -tx1 | tr -d ' \n')" "$t/r.tlog-proof"
grep_err "receipt does not prove the entry: verification failed" "wrong entry message"

expect 0 "audit clean, trusted checkpoint" "$L" audit --store "$S" --vkey "$LV" --checkpoint "$t/cp600" --witness-vkey "$WV" --quorum 1
grep_out "size 600: 600 entries" "audit summary"
expect 0 "audit clean, checkpoint from the witness" "$L" audit --store "$S" --vkey "$LV" --witness "http://127.0.0.1:$port" --witness-vkey "$WV" --quorum 1

P=$(find "$t/store" -name checkpoint -printf '%h\n')
tile="$P/tile/0/001"
cp "$tile" "$t/tile.bak"
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[77]^=0x55; open(p,"wb").write(b)' "$tile"   # always a change
expect 3 "flipped tile byte" "$L" audit --store "$S" --vkey "$LV" --checkpoint "$t/cp600"
grep_out "^modified .*tile/0/001" "flipped tile reported"
mv "$t/tile.bak" "$tile"
mv "$P/tile/entries/000" "$t/b.bak"
expect 3 "deleted bundle" "$L" audit --store "$S" --vkey "$LV" --checkpoint "$t/cp600"
grep_out "^missing .*tile/entries/000: missing" "deleted bundle reported"
mv "$t/b.bak" "$P/tile/entries/000"
cp "$P/checkpoint" "$t/cp.bak"
cp "$t/cp300" "$P/checkpoint"
expect 3 "stale checkpoint" "$L" audit --store "$S" --vkey "$LV" --checkpoint "$t/cp600"
grep_out "^rollback .*size 300, older than the trusted size 600" "rollback reported"
cp "$t/cp.bak" "$P/checkpoint"
echo x > "$P/tile/0/005"
expect 3 "extra tile" "$L" audit --store "$S" --vkey "$LV" --checkpoint "$t/cp600"
grep_out "^extra .*tile/0/005: beyond the signed tree" "extra reported"
rm "$P/tile/0/005"
cp "$P/tile/0/002.p/88" "$t/p.bak"
truncate -s 100 "$P/tile/0/002.p/88"
expect 3 "truncated partial tile" "$L" audit --store "$S" --vkey "$LV" --checkpoint "$t/cp600"
grep_out "^truncated .*tile/0/002.p/88" "truncation reported"
mv "$t/p.bak" "$P/tile/0/002.p/88"
expect 0 "audit clean again" "$L" audit --store "$S" --vkey "$LV" --checkpoint "$t/cp600"

# the same through a tlog-policy file
cat > "$t/policy" <<EOP
# lacre e2e policy
log $LV
witness w1 $WV http://127.0.0.1:$port
quorum w1
EOP
expect 0 "append with --policy" bash -c "seq 601 650 | \"$L\" log append --state \"$t/st\" --store \"$S\" --key \"$t/log.key\" --policy \"$t/policy\" -"
"$L" log checkpoint --state "$t/st" --store "$S" --key "$t/log.key" --policy "$t/policy" > "$t/cp650"
expect 0 "proof inclusion at 650" "$L" proof inclusion --store "$S" --vkey "$LV" --index 649 --checkpoint "$t/cp650"
cp "$t/out" "$t/r650"
expect 0 "proof verify --policy" "$L" proof verify --policy "$t/policy" --entry-hex "$(printf 650 | od -An -tx1 | tr -d ' \n')" "$t/r650"
grep -v '^— witness' "$t/cp650" > "$t/cp650-bare"
"$L" proof inclusion --store "$S" --vkey "$LV" --index 649 --checkpoint "$t/cp650-bare" > "$t/r650-bare"
expect 3 "proof verify --policy, receipt without cosignature" "$L" proof verify --policy "$t/policy" --entry-hex "$(printf 650 | od -An -tx1 | tr -d ' \n')" "$t/r650-bare"
grep_err "receipt does not prove the entry: authentication failed" "missing cosignature message"
sed -i 's/^quorum w1$/quorum nobody/' "$t/policy"
expect 1 "a policy naming an unknown quorum is refused" "$L" audit --store "$S" --vkey "$LV" --policy "$t/policy"
grep_err "$t/policy:4: not a valid policy line" "unknown quorum message names the line"
sed -i 's/^quorum nobody$/quorum w1/' "$t/policy"
expect 0 "audit --policy" "$L" audit --store "$S" --vkey "$LV" --checkpoint "$t/cp650" --policy "$t/policy"

# a second state with the same key makes another tree: the witness refuses
expect 0 "forked log appends" bash -c "seq 1000 1700 | \"$L\" log append --state \"$t/fork\" --store \"dir:$t/store2\" --key \"$t/log.key\" -"
expect 3 "forked checkpoint refused by the witness" "$L" log checkpoint --state "$t/fork" --store "dir:$t/store2" --key "$t/log.key" --witness "$W"
grep_err "checkpoint: a witness reports a fork: log forked" "fork refusal message"

echo "fails: $fails"
[ "$fails" -eq 0 ]
