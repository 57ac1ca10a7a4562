#!/usr/bin/env bash
# fault_kill9_named.sh - issue 15: after a kill -9 of the receiver mid-run,
# every PDU it read is sealed or named.  A plain dir: site (no warrant: every
# record is quarantined to the oversight recipient, whose key the test holds),
# lacre-mediator sending short calls and sessions (many streams begin and end
# each second) at a steady rate over 4 connection pairs, logging per
# connection every data PDU that write() accepted (--sent-log).
#
# The kill: the receiver is frozen (SIGSTOP: no instruction of it runs after
# this instant, so what follows is a kill -9 at this instant), then the
# mediator; every connection's unread bytes are read from /proc/net/tcp (the
# receiver socket's receive queue + the mediator socket's send queue); the
# receiver gets SIGKILL and is restarted on the same ports; the mediator is
# resumed, reconnects, and the run finishes; a clean stop drains the spool.
#
# The check, per connection and stream, over every segment on the backend
# (decrypted with age): each PDU the mediator sent is
#   sealed  - a record in a segment, or
#   named   - in a range of a lost-open-segment, unkept-at-restart or
#             after-restart gap event, or
#   tail    - on a connection open at the kill, within its unread tail: the
#             last PDUs whose bytes fit in the unread bytes plus one PDU
#             (bytes of a PDU the framer held), and on at most 2 of them
#             (the receiver's 2 workers, --workers 2) one read more (64 KiB,
#             READ_CHUNK: a read in progress counts as not yet accepted);
# anything else is "named nowhere": the test fails and names the stream and
# the range.  A connection made after the restart has no tail.
# Runs: 3 (LACRE_SOAK=1: 10).  KILL9_BIN=DIR tests the receiver binaries
# (lacre, lacre-ingest) of another build with this build's mediator (how
# the report showed that main's receiver fails it).
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/e2e/lib/check.bash"
B=$top/build/bin
RB=${KILL9_BIN:-$B}
work=$(mktemp -d /tmp/lacre-e2e-kill9n-XXXXXX)
EXPECT_DIR=$work
die() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
IPID= MPID=
cleanup() {
	[ -n "$IPID" ] && { kill -CONT $IPID $(pgrep -P "$IPID") 2>/dev/null; kill -9 $IPID 2>/dev/null; }
	[ -n "$MPID" ] && { kill -CONT $MPID 2>/dev/null; kill $MPID 2>/dev/null; }
	[ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
export LACRE_PASSPHRASE=e2e LACRE_SCRYPT_LOG2N=10
command -v age >/dev/null && command -v age-keygen >/dev/null || skip "age is not installed"
[ -x "$B/lacre-mediator" ] && [ -x "$RB/lacre" ] || die "build first (make)"

# --sent-log logs connections: with --output it is a usage error
expect_exit 2 "--sent-log logs what was written to connections: drop it with --output" \
	"$B/lacre-mediator" --output "$work/x" --sent-log "$work/x.log" --targets 1 ||
	die "lacre-mediator --output --sent-log was not refused as a usage error"

runs=3
[ -n "${LACRE_SOAK:-}" ] && runs=10
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# rcv NAME: the receiver on the fixed ports; sets IPID
rcv() {
	rm -f "$work/ready-$1"
	"$RB/lacre" ingest --site "$site" --hi2 127.0.0.1:$P2 --hi3 127.0.0.1:$P3 --quiet --workers 2 \
		--ready-file "$work/ready-$1" 2>"$work/ingest-$1.err" &
	IPID=$!
	wait_file 60 "$work/ready-$1" || { cat "$work/ingest-$1.err"; die "ingest $1 did not start"; }
}

seed=${KILL9_SEED:-$RANDOM}
echo "seed $seed"
RANDOM=$seed
fails=0
for run in $(seq 1 $runs); do
	site=$work/site$run
	age-keygen -o "$work/oversight$run.key" 2>/dev/null || die "age-keygen failed"
	mkdir -p "$work/backend$run"
	"$RB/lacre" init "$site" --hi2 127.0.0.1:7 --hi3 127.0.0.1:9 --backend "dir:$work/backend$run" \
		--oversight-recipient "$(age-keygen -y "$work/oversight$run.key")" >/dev/null ||
		die "lacre init failed"
	P2=$(freeport) P3=$(freeport)
	rcv "a$run"
	# short calls and sessions: streams begin and end all the time, so
	# some end between the receiver's last stream-state save and the kill
	"$B/lacre-mediator" --hi2 127.0.0.1:$P2 --hi3 127.0.0.1:$P3 --connections 4 --targets 4 \
		--call-seconds 0.2 --session-packets 20 --rate "${KILL9_RATE:-12000}" --duration 7 \
		--reconnect-wait 0.1 --seed $((seed + run)) --start-time 2026-11-28T10:00:00Z \
		--summary "$work/sum$run.json" --sent-log "$work/sent$run.log" \
		>/dev/null 2>"$work/med$run.err" &
	MPID=$!
	sleep "$(( RANDOM % 3 + 2 )).$(( RANDOM % 10 ))"
	pids="$IPID $(pgrep -P "$IPID" | tr '\n' ' ')"
	# the instant of the kill: nothing of the receiver runs after it
	kill -STOP $pids
	kill -STOP "$MPID"
	sleep 0.3       # loopback segments in flight settle into the queues
	cp /proc/net/tcp "$work/tcp$run.txt"
	kill -9 $pids
	for p in $pids; do wait "$p" 2>/dev/null; done
	IPID=
	open_at_kill=$(find "$site/spool" -maxdepth 1 -name 'TMP.*' | wc -l)
	rcv "b$run"
	kill -CONT "$MPID"
	wait "$MPID" || echo "(mediator run $run: exit $?: $(tail -1 "$work/med$run.err"))"
	MPID=
	kill -TERM "$IPID"
	wait "$IPID" || { cat "$work/ingest-b$run.err"; die "run $run: the restarted receiver's clean stop failed"; }
	IPID=
	[ -z "$(ls "$site/spool/ready")" ] || die "run $run: segments still wait for upload after a clean stop"
	grep -h 'spool recovery' "$work/ingest-b$run.err"
	echo "run $run: $open_at_kill open segments at the kill"
	python3 "$top/tests/e2e/lib/kill9_named.py" "dir:$work/backend$run" "$work/oversight$run.key" \
		"$work/sent$run.log" "$work/tcp$run.txt" "$P2" "$P3" 2 || fails=$((fails + 1))
done
[ $fails -eq 0 ] || die "$fails of $runs kill -9 runs left PDUs the receiver read named nowhere"
echo "ok   $runs kill -9 runs: every PDU sent is sealed, named, or in its connection's unread tail"
