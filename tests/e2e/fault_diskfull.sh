#!/usr/bin/env bash
# fault_diskfull.sh - the spool's file system fills up (a 64 MiB tmpfs; the
# backend is down, so nothing leaves the spool): ingest must not exit or
# discard what it read.  It stops reading (TCP backpressure reaches the
# mediator), says "spool full" once, and resumes when the backend returns
# and uploads make room; at the end every PDU the mediator wrote is sealed.
# Also the spool.quota variant on an ordinary folder.  Needs root (mount).
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-full-XXXXXX)
IPID= MPID= MNT=
trap '[ -n "$IPID" ] && kill -9 $IPID 2>/dev/null; [ -n "$MPID" ] && kill $MPID 2>/dev/null; [ -n "$MNT" ] && umount "$MNT" 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
export LACRE_TEST_BACKENDS=1

ready_empty() { [ -z "$(ls "$1/ready")" ]; }

# run NAME SITE-OPTIONS...: one delivery into a site whose spool fills up
run() {
	local name=$1 spool=$2; shift 2
	local site=$work/site-$name down=$work/down-$name
	vault_init "$site" --backend "faulty:down-file=$down;dir:$work/objects-$name" \
		--set "spool.dir=$spool" "$@"
	W=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri,location) || die "warrant"
	touch "$down"
	vault_ingest_start "$site" "$name"
	# about 100 MB of CC: more than the spool can hold while the backend is down
	"$B/lacre-mediator" --hi2 127.0.0.1:$HI2 --hi3 127.0.0.1:$HI3 --targets 1 --calls 0 \
		--sessions 8 --session-packets 40000 --seed 21 --keepalive-wait 0 \
		--summary "$work/sum-$name.json" >/dev/null 2>"$work/med-$name.err" &
	MPID=$!
	wait_for 120 "a spool-full line" grep -q 'ALERT spool full' "$work/ingest-$name.err" ||
		die "$name: no 'spool full' line: $(tail -3 "$work/ingest-$name.err")"
	kill -0 "$IPID" 2>/dev/null || die "$name: ingest exited when the spool filled up"
	sleep 2
	kill -0 "$MPID" 2>/dev/null || die "$name: the mediator finished although ingest paused reading"
	rm -f "$down"
	wait "$MPID" || die "$name: the mediator failed: $(tail -2 "$work/med-$name.err")"; MPID=
	wait_for 120 "a room-again line" grep -q 'spool has room again: reading resumed' "$work/ingest-$name.err" || die "$name: never resumed"
	vault_ingest_stop "$name"
	sent=$(python3 -c 'import json,sys; print(sum(json.load(open(sys.argv[1]))["sent"].values()))' "$work/sum-$name.json")
	n=$("$B/lacre" records --site "$site" --warrant "$W" --json --justification "e2e: disk full" | wc -l)
	echo "$name: sealed $n of $sent sent"
	[ "$n" -eq "$sent" ] || die "$name: sealed $n records, the mediator sent $sent"
	grep -E 'ALERT spool|room again|spool filling' "$work/ingest-$name.err"
}

# 1. the file system itself fills up
if [ "$(id -u)" -ne 0 ]; then echo "fault_diskfull: needs root to mount a small tmpfs"; exit 77; fi
MNT=$work/fs
mkdir -p "$MNT"
mount -t tmpfs -o size=64m,mode=0700 tmpfs "$MNT" || { echo "fault_diskfull: cannot mount a tmpfs here"; exit 77; }
run fs "$MNT/spool" --set spool.reserve=4M
umount "$MNT"; MNT=

# 2. the spool reaches its quota (an ordinary folder)
run quota "$work/spool-quota" --set spool.quota=40M --set spool.reserve=1M
echo "ok   spool full: reading paused, nothing lost, resumed"
