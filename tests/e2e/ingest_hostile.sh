#!/usr/bin/env bash
# ingest_hostile.sh - hostile peers against a running `lacre ingest` (bash
# /dev/tcp clients, loopback only): wrong outer tag, oversized length, deep
# nesting, garbage, truncated PDU, slowloris, too many connections from one
# address.  Each must close only its own connection with one stderr line
# naming peer, offset and reason; a good sender must still be served after
# each; the process must survive and drain on SIGTERM.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
vec="$top/../shared/vectors/openli-a/raw"
lacre="$top/build/bin/lacre"
[ -x "$lacre" ] || { echo "FAIL: build/bin/lacre not built (a test run needs the build)"; exit 1; }
[ -f "$vec/hi2.bin" ] || { echo "FAIL: vectors not found at $vec: the shared test vectors are missing; check out the shared folder beside the source tree"; exit 1; }
tmp=$(mktemp -d /tmp/lacre-e2e-hostile-XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- stderr:"; cat "$tmp/stderr"; exit 1; }
. "$top/tests/e2e/lib/check.bash"
# closed_by_server: no connection to a listener of ingest waits in CLOSE_WAIT
# (the peer closed it, ingest has not yet): ingest has let go of every
# connection its clients closed, so its per-peer count is down again
closed_by_server() {
	local ports
	ports=$(printf '%04X|%04X' "$hi2" "$hi3")
	! awk -v re=":($ports)\$" 'NR > 1 && $2 ~ re && $4 == "08" { found = 1 } END { exit !found }' /proc/net/tcp
}

"$lacre" ingest --hi2 127.0.0.1:0 --hi3 127.0.0.1:0 --spool "$tmp/spool" \
	--ready-file "$tmp/ready" --stats "$tmp/stats.json" --duration 120 \
	--pdu-timeout 1 --max-conns-per-peer 6 --max-pdu 1M 2>"$tmp/stderr" &
pid=$!
wait_file 60 "$tmp/ready" || fail "ingest did not start"
. "$tmp/ready"

# The first keep-alive of hi2.bin (offset 9274, 100 bytes) and its answer.
head -c 169 "$vec/hi2.bin" > "$tmp/first"            # first PDU (169 bytes)
tail -c 100 "$vec/hi2.bin" > "$tmp/ka"               # last PDU: a keep-alive
{ head -c 98 "$tmp/ka"; printf '\x84\x00'; } > "$tmp/ka.resp"

# good sender: one data PDU + one keep-alive, must get exactly the answer
good() {
	exec 5<>/dev/tcp/127.0.0.1/$hi3 || return 1
	cat "$tmp/first" "$tmp/ka" >&5
	timeout 3 head -c 100 <&5 > "$tmp/got" || true
	exec 5>&-
	cmp -s "$tmp/got" "$tmp/ka.resp"
}
# send $1 (a file) after one good PDU on hi2; the server must close
hostile() {
	local name=$1 file=$2
	exec 4<>/dev/tcp/127.0.0.1/$hi2 || fail "$name: connect"
	cat "$tmp/first" "$file" >&4 2>/dev/null
	if ! timeout 4 cat <&4 >/dev/null; then exec 4>&-; fail "$name: connection not closed"; fi
	exec 4>&-
	good || fail "$name: good sender not served afterwards"
	echo "ok $name"
}

printf '\x31\x03\x02\x01\x00' > "$tmp/wrongtag"
printf '\x30\x84\x7f\xff\xff\xff\x00' > "$tmp/oversized"
{ printf '\x30\x80'; for i in $(seq 1 40); do printf '\xa1\x80'; done; } > "$tmp/deep"
printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' > "$tmp/garbage"
head -c 4096 /dev/urandom | tr -d '\060' > "$tmp/random"   # no 0x30 start

hostile "wrong outer tag" "$tmp/wrongtag"
hostile "oversized length" "$tmp/oversized"
hostile "deep nesting" "$tmp/deep"
hostile "garbage" "$tmp/garbage"
hostile "random bytes" "$tmp/random"

# truncated: half a PDU, then the sender closes
exec 4<>/dev/tcp/127.0.0.1/$hi2; head -c 60 "$tmp/first" >&4; exec 4>&-
wait_for 60 "ingest closing the truncated connection" closed_by_server || fail "truncated: connection kept"
good || fail "truncated: good sender not served"; echo "ok truncated"

# slowloris: 10 bytes of a PDU, then silence: closed after --pdu-timeout
exec 4<>/dev/tcp/127.0.0.1/$hi2; head -c 10 "$tmp/first" >&4
timeout 5 cat <&4 >/dev/null || fail "slowloris: not closed"
exec 4>&-
good || fail "slowloris: good sender not served"; echo "ok slowloris"

# too many connections from 127.0.0.1: 6 allowed, one of 7 is closed (the
# earlier clients' connections are released first, so the count starts at
# 0).  Which one is closed is not fixed: the workers accept in parallel, so
# the 7th to connect need not be the 7th accepted.  Exactly one must be:
# a connection the server closed reads EOF (or a reset) at once, an open
# one times out (124).
wait_for 60 "ingest releasing the earlier connections" closed_by_server || fail "per-peer limit: connections kept"
for fd in 10 11 12 13 14 15 16; do eval "exec $fd<>/dev/tcp/127.0.0.1/$hi2"; done
closed=0
for try in $(seq 1 50); do
	closed=0
	for fd in 10 11 12 13 14 15 16; do
		timeout 0.1 cat <&$fd >/dev/null 2>&1
		[ $? -ne 124 ] && closed=$((closed + 1))
	done
	[ "$closed" -ge 1 ] && break
done
[ "$closed" -eq 1 ] || fail "per-peer limit: $closed of 7 connections closed by the server (expected exactly 1)"
for fd in 10 11 12 13 14 15 16; do eval "exec $fd>&-"; done
wait_for 60 "ingest releasing the 7 connections" closed_by_server || fail "per-peer limit: connections kept"
good || fail "per-peer limit: good sender not served"; echo "ok per-peer limit"

kill -0 "$pid" || fail "ingest died"
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
[ $rc -eq 0 ] || fail "ingest exited $rc"

# one stderr line per refusal, naming conn, peer, listener, offset, reason
for re in "closed at stream offset 169: malformed PDU: bad outer tag" \
          "closed at stream offset 169: PDU larger than the limit" \
          "closed at stream offset 169: PDU nested deeper than allowed" \
          "closed at stream offset 0: PDU not completed within 1000 ms (slow sender)" \
          "refused: 6 connections from this address (limit)"; do
	grep -q "^lacre: ingest: .*127\.0\.0\.1:[0-9]*.*$re" "$tmp/stderr" || fail "no stderr line matching: $re"
done
n=$(grep -c 'bad outer tag' "$tmp/stderr")
[ "$n" -eq 3 ] || fail "expected 3 bad-outer-tag lines, got $n"
python3 -c "
import json,sys
s=json.load(open('$tmp/stats.json'))
c=s['closed']
assert c['malformed']==5 and c['slow']==1 and s['refused']['per_peer_limit']==1, s
assert s['truncated_tails']==2, s['truncated_tails']
assert s['keepalive_responses']==s['keepalives']==8, s
st=s['streams']['LIIPSTA001/7/iri']; assert st['received']==13 and st['duplicates']==12 and st['gaps']==0, st
" || fail "stats"
echo "ok"
