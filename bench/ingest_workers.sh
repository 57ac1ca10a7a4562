#!/usr/bin/env bash
# bench/ingest_workers.sh - the whole receiver over real loopback sockets
# (lacre-mediator -> lacre ingest into a sealed site: decode, route, seal,
# ledger, spool), one worker on one CPU against two workers on two CPUs
# (taskset), for plain TCP and TLS and two traffic mixes:
#   cc-mixed  broadband sessions and RTP calls (the mix of bench/pipeline.sh);
#   cc-sessions broadband sessions only, no calls (the live mediator cannot
#             send only the MTU-sized PDUs of bench/pipeline.sh's cc-bulk).
# For each: MB/s and PDUs/s by wall clock (the mediator sends as fast as
# the receiver takes: TCP backpressure), MB per CPU-second of the receiver
# (its utime + stime from /proc), and the ratio 2 workers / 1 worker
# (target >= 1.8).  The mediator itself is not pinned: on a 2-core machine
# it competes with the receiver for the same cores, so the 2-CPU figure
# understates what two free cores give; a shared machine makes every figure
# noisy.  Prints figures; asserts nothing.
# Environment: IW_SECONDS (default 8), IW_CONNS (default 8).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=$top/build/bin
secs=${IW_SECONDS:-8}
conns=${IW_CONNS:-8}
command -v taskset >/dev/null || { echo "ingest_workers.sh: taskset not found (util-linux)"; exit 0; }
command -v openssl >/dev/null || { echo "ingest_workers.sh: openssl not found"; exit 0; }
[ -x "$B/lacre" ] && [ -x "$B/lacre-mediator" ] || { echo "ingest_workers.sh: run make first"; exit 0; }
ncpu=$(nproc)
[ "$ncpu" -ge 2 ] || { echo "ingest_workers.sh: one CPU: nothing to compare"; exit 0; }
work=$(mktemp -d "${IW_DIR:-/var/tmp}/lacre-bench-iw-XXXXXX")
IPID=
trap '[ -n "$IPID" ] && kill -9 $IPID 2>/dev/null; rm -rf "$work"' EXIT
export LACRE_PASSPHRASE=bench LACRE_SCRYPT_LOG2N=10
echo "machine: $ncpu cores, load $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: figures are noisy)"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "/CN=lacre-bench" \
	-addext "subjectAltName=IP:127.0.0.1" -keyout "$work/srv.key" -out "$work/srv.crt" 2>/dev/null ||
	{ echo "ingest_workers.sh: openssl req failed"; exit 0; }

# one run: $1 label, $2 cpus (taskset list), $3 workers, $4 tls (0|1), $5.. mediator traffic options;
# prints "MBps PDUps MB_per_cpu_s"
one() {
	local label=$1 cpus=$2 nw=$3 tls=$4; shift 4
	local iargs=() margs=()
	rm -rf "$work/site"
	"$B/lacre" init "$work/site" --hi2 127.0.0.1:7 --hi3 127.0.0.1:9 >/dev/null 2>&1
	"$B/lacre" warrant add --site "$work/site" --case B --unit U --court C --order O \
		--order-date 2026-11-01 --to 2027-01-31 --categories content,iri --target t \
		--liid LIID0001 >/dev/null 2>&1
	if [ "$tls" = 1 ]; then
		iargs=(--tls --tls-cert "$work/srv.crt" --tls-key "$work/srv.key")
		margs=(--tls --tls-ca "$work/srv.crt")
	fi
	rm -f "$work/ready"
	taskset -c "$cpus" "$B/lacre" ingest --site "$work/site" --hi2 127.0.0.1:0 --hi3 127.0.0.1:0 \
		--workers "$nw" --quiet --ready-file "$work/ready" "${iargs[@]}" 2>"$work/ingest.err" &
	IPID=$!
	for _ in $(seq 1 300); do [ -s "$work/site/state/status.prom" ] && break; sleep 0.1; done
	[ -s "$work/ready" ] || { echo "ingest did not start: $(tail -2 "$work/ingest.err")" >&2; return 1; }
	. "$work/ready"
	local pid
	pid=$(pgrep -P "$IPID" lacre-ingest || echo "$IPID")
	local cpu0 cpu1
	cpu0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	"$B/lacre-mediator" --hi2 127.0.0.1:$hi2 --hi3 127.0.0.1:$hi3 "${margs[@]}" --connections "$conns" \
		--targets 1 --duration "$secs" --rate 0 --seed 7 --start-time 2026-11-28T10:00:00Z "$@" \
		--summary "$work/sum.json" >/dev/null 2>"$work/med.err" || { echo "mediator failed: $(tail -1 "$work/med.err")" >&2; }
	cpu1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	kill -TERM "$IPID"; wait "$IPID" 2>/dev/null; IPID=
	python3 - "$work/sum.json" "$cpu0" "$cpu1" "$(getconf CLK_TCK)" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
cpu = (float(sys.argv[3]) - float(sys.argv[2])) / float(sys.argv[4])
t = s["elapsed_s"]
print("%.1f %.0f %.1f %.0f" % (s["bytes_sent"] / t / 1e6, s["pdus_sent"] / t,
                               s["bytes_sent"] / 1e6 / cpu if cpu > 0 else 0, s["bytes_sent"] / max(1, s["pdus_sent"])))
PY
}

for tls in 0 1; do
	for mix in cc-mixed cc-sessions; do
		if [ "$mix" = cc-mixed ]; then traffic=(--sessions 40 --session-packets 4000 --calls 20)
		else traffic=(--sessions 40 --session-packets 4000 --calls 0); fi
		name="$mix $([ "$tls" = 1 ] && echo TLS || echo plain)"
		r1=$(one "$name" 0 1 "$tls" "${traffic[@]}") || { echo "$name: 1 worker run failed"; continue; }
		r2=$(one "$name" 0,1 2 "$tls" "${traffic[@]}") || { echo "$name: 2 worker run failed"; continue; }
		read -r m1 p1 c1 avg <<<"$r1"
		read -r m2 p2 c2 _ <<<"$r2"
		printf '%-15s 1 CPU/1 worker: %6.1f MB/s %7.0f PDUs/s (%5.1f MB per CPU-s) | 2 CPUs/2 workers: %6.1f MB/s %7.0f PDUs/s (%5.1f MB per CPU-s, %5.1f MB/s per core) | ratio %.2f (target >= 1.8); %d B/PDU\n' \
			"$name" "$m1" "$p1" "$c1" "$m2" "$p2" "$c2" "$(awk -v m="$m2" 'BEGIN { print m / 2 }')" \
			"$(awk -v a="$m1" -v b="$m2" 'BEGIN { print (a > 0 ? b / a : 0) }')" "$avg"
	done
done
