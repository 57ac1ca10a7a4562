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
# one steady delivery of 5.2 M records over 16 long sessions; VmRSS sampled
# every 0.25 s while it flows; the figure at N records is the median of the
# samples taken while the count passes N (+- 1 s of traffic): a single
# sample would catch a segment's close (its batch is a short peak) or a
# malloc_trim by chance
total=5200000
secs=$(( total / rate ))
echo "steady rate $rate records/s for ${secs} s, 16 long sessions, dir: backend"
"$B/lacre-mediator" --hi2 "127.0.0.1:$HI2" --hi3 "127.0.0.1:$HI3" --targets 1 --calls 0 \
	--sessions 16 --session-packets 10000000 --pdus "$total" --rate "$rate" --seed 1 \
	>/dev/null 2>>"$work/med.err" &
MPID=$!
t0=$(date +%s%N)
: > "$work/samples"
while kill -0 $MPID 2>/dev/null; do
	echo "$(( ($(date +%s%N) - t0) / 1000000 )) $(rss VmRSS)" >> "$work/samples"
	sleep 0.25
done
wait $MPID || { echo "mediator failed: $(tail -2 "$work/med.err")"; exit 1; }
hwm=$(rss VmHWM)
python3 - "$work/samples" "$rate" "$hwm" <<'PY'
import statistics, sys
rate = int(sys.argv[2]); hwm = int(sys.argv[3])
s = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if len(l.split()) == 2]
def at(n):
    t = n / rate * 1000
    w = [kb for ms, kb in s if abs(ms - t) <= 1000]
    return statistics.median(w) if w else None
a, b = at(1_000_000), at(5_000_000)
if a is None or b is None:
    sys.exit("not enough samples (the delivery was slower than the rate?)")
print(f"VmRSS at 1 M records: {a / 1024:.1f} MiB; at 5 M records: {b / 1024:.1f} MiB (peak {hwm / 1024:.1f} MiB)")
print(f"ratio 5 M / 1 M: {b / a:.2f} (target: the same within 10 %)")
steady = [kb for ms, kb in s if ms >= 1_000_000 / rate * 1000]
print(f"from 1 M records on: VmRSS between {min(steady) / 1024:.1f} and {max(steady) / 1024:.1f} MiB "
      f"(median {statistics.median(steady) / 1024:.1f}): each segment's close is a short peak")
PY
kill -TERM $IPID; wait $IPID; IPID=
