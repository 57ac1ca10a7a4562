#!/usr/bin/env bash
# bench/rss.sh - the receiver's memory at steady traffic (issue 9): a site
# on a local dir: backend, lacre ingest on loopback, the mediator at a
# steady rate with long-lived streams; the receiver's VmRSS is printed after
# 1 M and after 5 M records (target: the same within 10 %), with the
# process's peak (VmHWM).  Printed, never asserted.
#   LACRE_BENCH_RSS_RATE  records per second (default 100000)
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
B=$top/build/bin
work=$(mktemp -d /tmp/lacre-bench-rss-XXXXXX)
IPID=
trap '[ -n "$IPID" ] && kill -9 $IPID 2>/dev/null; rm -rf "$work"' EXIT
export LACRE_PASSPHRASE=bench-master-passphrase LACRE_SCRYPT_LOG2N=10
rate=${LACRE_BENCH_RSS_RATE:-100000}
site=$work/site
"$B/lacre" init "$site" --hi2 127.0.0.1:7 --hi3 127.0.0.1:9 >/dev/null || exit 1
"$B/lacre" user add admin --site "$site" --role admin -o "$work/admin.key" >/dev/null || exit 1
"$B/lacre" warrant add --site "$site" --user "$work/admin.key" --case C --unit U --court J \
	--order O --order-date 2026-11-01 --from 2026-11-01 --to 2027-01-31 \
	--categories content,iri,location --target t --liid LIID0001 >/dev/null || exit 1
"$B/lacre" ingest --site "$site" --hi2 127.0.0.1:0 --hi3 127.0.0.1:0 --quiet \
	--ready-file "$work/ready" 2>"$work/ingest.err" &
IPID=$!
for _ in $(seq 1 200); do [ -f "$work/ready" ] && break; sleep 0.05; done
HI2=$(sed -n 's/^hi2=//p' "$work/ready"); HI3=$(sed -n 's/^hi3=//p' "$work/ready")
rss() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$IPID/status"; }
send() { # N records at the steady rate over 16 long sessions
	"$B/lacre-mediator" --hi2 "127.0.0.1:$HI2" --hi3 "127.0.0.1:$HI3" --targets 1 --calls 0 \
		--sessions 16 --session-packets 10000000 --pdus "$1" --rate "$rate" --seed "$2" \
		>/dev/null 2>>"$work/med.err"
}
echo "steady rate $rate records/s, 16 long sessions, dir: backend"
send 1000000 1 || { echo "mediator failed: $(tail -2 "$work/med.err")"; exit 1; }
sleep 3
r1=$(rss VmRSS)
echo "after 1 M records: VmRSS $((r1 / 1024)) MiB"
send 4000000 2 || { echo "mediator failed: $(tail -2 "$work/med.err")"; exit 1; }
sleep 3
r5=$(rss VmRSS); hwm=$(rss VmHWM)
echo "after 5 M records: VmRSS $((r5 / 1024)) MiB (peak $((hwm / 1024)) MiB)"
awk -v a="$r1" -v b="$r5" 'BEGIN { printf "ratio 5 M / 1 M: %.2f (target: within 10 %%, i.e. <= 1.10)\n", b / a }'
kill -TERM $IPID; wait $IPID; IPID=
