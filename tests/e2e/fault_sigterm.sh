#!/usr/bin/env bash
# fault_sigterm.sh - a SIGTERM of `lacre ingest` while a mediator delivers at
# full rate loses nothing: every PDU the mediator wrote (its own --summary
# record) is sealed by the first process or, after the mediator reconnects,
# by the second one; and the restart raises no gap (the stream state is
# persisted in SITE/state/streams.state).  RUNS runs (default 5; 20 with
# LACRE_SOAK=1), each with a SIGTERM at a random moment of the delivery.
#
# Counts: the mediator's data_pdus_sent against the sum of the two ingest
# processes' exit lines ("sealed N records"), per run; at the end, against
# `lacre records` of the two warrants.  Gaps: the --stats of both processes
# (sum of the streams' "gaps", and the streams named unkept at restart)
# must be 0.  Exit 0 only when nothing is lost.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-sigterm-XXXXXX)
IPID= MPID=
trap '[ -n "$IPID" ] && kill -9 $IPID 2>/dev/null; [ -n "$MPID" ] && kill -9 $MPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"

runs=${RUNS:-5}
[ -n "${LACRE_SOAK:-}" ] && runs=${RUNS:-20}
pdus=${PDUS:-120000}

# free_ports: two free loopback ports (the restarted ingest must listen on
# the ports the mediator reconnects to)
free_ports() {
	python3 -c 'import socket
a=[socket.socket() for _ in range(2)]
for s in a: s.bind(("127.0.0.1",0))
print(*[s.getsockname()[1] for s in a])'
}

# wait_file FILE SECONDS: wait for FILE to appear
wait_file() {
	local i
	for i in $(seq 1 $(($2 * 20))); do [ -f "$1" ] && return 0; sleep 0.05; done
	return 1
}

# start NAME: ingest on $P2/$P3 with --stats; sets IPID
start() {
	rm -f "$work/ready-$1"
	"$B/lacre" ingest --site "$site" --hi2 127.0.0.1:$P2 --hi3 127.0.0.1:$P3 --quiet \
		--ready-file "$work/ready-$1" --stats "$work/stats-$1.json" 2>"$work/ingest-$1.err" &
	IPID=$!
	wait_file "$work/ready-$1" 30 || { cat "$work/ingest-$1.err"; die "ingest $1 did not start within 30 s"; }
}

# stop NAME: SIGTERM, exit 0 expected; sets SEALED from its exit line
stop() {
	local rc
	kill -TERM "$IPID"
	wait "$IPID"; rc=$?; IPID=
	[ "$rc" -eq 0 ] || { cat "$work/ingest-$1.err"; die "ingest $1 exited with $rc after SIGTERM (expected 0)"; }
	SEALED=$(sed -n 's/^lacre: ingest: sealed \([0-9]*\) records.*/\1/p' "$work/ingest-$1.err" | tail -1)
}

# gaps NAME: sum of the gaps of every stream in that process's --stats,
# plus the streams it named as possibly lost at its start (unkept-at-restart)
gaps() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(v["gaps"] for v in d["streams"].values()) + d["unkept_at_restart"])' \
		"$work/stats-$1.json"
}

site=$work/site
vault_init "$site"
W1=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri) || die "warrant 1"
W2=$(vault_warrant "$site" LIID0002 2026-11-01 2027-01-31 content,iri) || die "warrant 2"

total=0 mid=0
for run in $(seq 1 "$runs"); do
	read -r P2 P3 < <(free_ports)
	start "a$run"
	"$B/lacre-mediator" --hi2 127.0.0.1:$P2 --hi3 127.0.0.1:$P3 --targets 2 --pdus "$pdus" \
		--seed "$run" --connect-timeout 60 --reconnect-wait 0.1 \
		--summary "$work/sum-$run.json" >/dev/null 2>"$work/med-$run.err" &
	MPID=$!
	# the random moment, by progress rather than by time (a loaded machine
	# delivers slower, a fast one faster): once the spool has grown by a
	# random 1..20 MiB of the delivery's ~50 MiB
	base=$(du -sb "$site/spool" | cut -f1)
	thr=$(( base + (1 + RANDOM % 20) * 1048576 ))
	for _ in $(seq 1 3000); do
		kill -0 "$MPID" 2>/dev/null || break
		[ "$(du -sb "$site/spool" 2>/dev/null | cut -f1)" -ge "$thr" ] && break
		sleep 0.01
	done
	stop "a$run"; a=$SEALED
	start "b$run"
	# the mediator reconnects and finishes; a generous deadline
	for _ in $(seq 1 1200); do kill -0 "$MPID" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$MPID" 2>/dev/null && { cat "$work/med-$run.err"; die "run $run: the mediator did not finish within 120 s"; }
	wait "$MPID"; mrc=$?; MPID=
	[ "$mrc" -eq 0 ] || { cat "$work/med-$run.err"; die "run $run: lacre-mediator exited with $mrc (expected 0)"; }
	stop "b$run"; b=$SEALED
	[ -n "$a" ] && [ -n "$b" ] || die "run $run: no 'sealed N records' exit line"
	read -r sent reconnects < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["data_pdus_sent"], d["reconnects"])' "$work/sum-$run.json")
	ga=$(gaps "a$run") gb=$(gaps "b$run")
	echo "run $run: mediator sent $sent; sealed $a before the SIGTERM + $b after = $((a + b)); reconnects $reconnects; gaps $ga + $gb"
	[ $((a + b)) -eq "$sent" ] || die "run $run: sealed $((a + b)) of $sent data PDUs the mediator wrote ($((sent - a - b)) lost)"
	[ "$ga" -eq 0 ] && [ "$gb" -eq 0 ] || die "run $run: gap events after a clean SIGTERM and restart ($ga before, $gb after): see $work/stats-b$run.json"
	[ "$a" -gt 0 ] && [ "$a" -lt "$sent" ] && [ "$reconnects" -gt 0 ] && mid=$((mid + 1))
	total=$((total + sent))
done
# the SIGTERM must have hit the delivery, not its end
[ $((mid * 2)) -ge "$runs" ] || die "only $mid of $runs SIGTERMs fell during the delivery: the test did not exercise the stop under load"
n=0
for w in "$W1" "$W2"; do
	k=$("$B/lacre" records --site "$site" --warrant "$w" --justification "e2e: count sealed records" --json 2>"$work/rec.err" | wc -l)
	n=$((n + k))
done
echo "lacre records: $n of $total sent over $runs runs ($mid SIGTERMs mid-delivery)"
[ "$n" -eq "$total" ] || { cat "$work/rec.err"; die "lacre records returns $n records, the mediator wrote $total"; }
echo "ok   fault_sigterm: $runs SIGTERMs under full-rate delivery, 0 of $total PDUs lost, no gap"
