#!/usr/bin/env bash
# bench/durable.sh - durable ingest end to end (issue 15's targets), over
# real loopback sockets: lacre-mediator (several connections, as fast as
# the receiver takes) -> lacre ingest (workers = cores) with a witness
# (`lacre witness` on loopback, quorum 1) cosigning every checkpoint.
#   (a) a dir: backend on the spool's file system: the whole process's
#       CPU-seconds against its receiving threads' (target: receiving >=
#       85 % of the whole), the ledger's objects' bytes as a share of all
#       stored bytes (target <= 1 %), and the logged latency (oldest record
#       to the first published cosigned checkpoint over it, from
#       status.prom) at full load (target <= 1 s);
#   (b) the same traffic into a Ceph RGW (S3_ENDPOINT, or one started here
#       with ../shared/services/s3-up when LACRE_BENCH_S3=1), timed until
#       the spool is drained and every record is under a published
#       checkpoint: sustained MB/s against the dir: run (target >= 50 %);
#   (c) two receivers of one site (--receiver a, b) into that one RGW (else
#       a shared dir: backend, said so), no witness: their aggregate MB/s
#       with a mediator each at full rate; then, with a mediator each at
#       4,000 PDUs/s, b is stopped (SIGTERM) and restarted on its ports
#       while its mediator sends (it reconnects), and a is killed (SIGKILL)
#       and restarted likewise; at the end every segment on the backend is
#       decrypted (bench/durable_count.py, the oversight identity) and the
#       records counted per stream: the full-rate and SIGTERM runs must
#       match the mediators' summaries exactly; for the SIGKILL run every
#       PDU its mediator sent (its --sent-log, per connection) is put in one
#       of three classes - sealed, named by a loss event, or in the unread
#       tail of its connection at the kill (the bytes /proc/net/tcp showed
#       queued while the receiver and its mediator were frozen at the kill,
#       plus one read per receiving thread) - and the "named nowhere" count
#       must be 0.
# The durable time runs from the mediator's start until status.prom shows
# no segment waiting for the backend and no record outside a published
# checkpoint.  Threads are told apart by name (/proc/PID/task/*/comm):
# lacre-closer, lacre-ticker, lacre-tiles and lacre-upload are the
# pipeline's; every other thread of the receiver is counted as receiving
# (the workers and the small stream-state saver).  Prints figures beside
# the targets; asserts nothing.  The machine is shared: figures are noisy.
# Environment: DUR_SECONDS (default 8), DUR_CONNS (default 8),
# DUR_SESSIONS (default 160: the full-rate traffic, about 370 MB),
# DUR_SET (extra "key=value" site settings, space-separated), DUR_PARTS
# (default abc: which of (a) (b) (c) to run), DUR_DIR.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=$top/build/bin
secs=${DUR_SECONDS:-8}
conns=${DUR_CONNS:-8}
sess=${DUR_SESSIONS:-160}
[ -x "$B/lacre" ] && [ -x "$B/lacre-mediator" ] || { echo "durable.sh: run make first"; exit 0; }
work=$(mktemp -d "${DUR_DIR:-/var/tmp}/lacre-bench-dur-XXXXXX")
IPID= WPID= S3UP= RA= RB= MA= MB=
cleanup() {
	for p in $IPID $RA $RB; do kill -9 "$p" 2>/dev/null; done
	for p in $MA $MB; do kill "$p" 2>/dev/null; done
	# a mediator frozen for the SIGKILL of part (c)
	[ -n "${kmed:-}" ] && { kill -CONT "$kmed"; kill "$kmed"; } 2>/dev/null
	[ -n "$WPID" ] && kill "$WPID" 2>/dev/null
	[ -n "$S3UP" ] && "$top/../shared/services/s3-down" "$work/s3" --purge >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
export LACRE_PASSPHRASE=bench LACRE_SCRYPT_LOG2N=10
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: figures are noisy)"
extra=()
for kv in ${DUR_SET:-}; do extra+=(--set "$kv"); done

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# metric FILE NAME: a value of the status file ("" when absent)
metric() { sed -n "s/^$2 //p" "$1" 2>/dev/null | head -1; }

# the witness: one key for every run; each run's log key is told to it
"$B/lacre" log keygen bench-witness -o "$work/w.key" --witness >/dev/null || { echo "durable.sh: witness keygen failed"; exit 0; }
wvkey=$("$B/lacre" log keys --key "$work/w.key")

# new_site DIR BACKEND [init options]: a site whose ingest log is cosigned
# by a fresh witness (restarted with the log's key) on a free port
new_site() {
	local site=$1 backend=$2; shift 2
	rm -rf "$site"
	"$B/lacre" init "$site" --hi2 127.0.0.1:7 --hi3 127.0.0.1:9 --backend "$backend" "$@" >/dev/null ||
		return 1
	"$B/lacre" warrant add --site "$site" --case B --unit U --court C --order O \
		--order-date 2026-11-01 --to 2027-01-31 --categories content,iri --target t \
		--liid LIID0001 >/dev/null || return 1
	# a first start makes the log's key
	"$B/lacre" ingest --site "$site" --hi2 127.0.0.1:0 --hi3 127.0.0.1:0 --quiet \
		--ready-file "$site.ready" 2>/dev/null &
	local p=$!
	for _ in $(seq 1 300); do [ -s "$site.ready" ] && break; sleep 0.1; done
	kill -TERM $p; wait $p 2>/dev/null
	local lvkey
	lvkey=$("$B/lacre" log keys --key "$site/ledger/ingest.key") || return 1
	[ -n "$WPID" ] && { kill "$WPID" 2>/dev/null; wait "$WPID" 2>/dev/null; }
	wport=$(freeport)
	rm -rf "$work/wstate"
	"$B/lacre" witness --listen 127.0.0.1:$wport --key "$work/w.key" --state "$work/wstate" \
		--log "$lvkey" >/dev/null 2>"$work/witness.err" &
	WPID=$!
	for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$wport) 2>/dev/null && break; sleep 0.1; done
	printf 'log %s\nwitness bw %s http://127.0.0.1:%s\nquorum bw\n' "$lvkey" "$wvkey" "$wport" > "$site.policy"
}

# cpu_threads PID: "receiving closer ticker tiles upload" clock ticks of
# the threads of PID, by name
cpu_threads() {
	local r=0 c0=0 t0=0 ti=0 u=0 t c n
	for t in /proc/"$1"/task/*; do
		c=$(cat "$t/comm" 2>/dev/null) || continue
		n=$(awk '{ print $14 + $15 }' "$t/stat" 2>/dev/null) || continue
		case "$c" in
		lacre-closer) c0=$((c0 + n)) ;; lacre-ticker) t0=$((t0 + n)) ;;
		lacre-tiles) ti=$((ti + n)) ;; lacre-upload) u=$((u + n)) ;; *) r=$((r + n)) ;;
		esac
	done
	echo "$r $c0 $t0 $ti $u"
}

# one LABEL SITE: feed SITE's receiver for $secs s, wait until durable;
# prints "label MB_sent recv_MBps durable_MBps recv_cpu_s all_cpu_s lat_max drain_s"
one() {
	local label=$1 site=$2 prom pid t0 t1 t2 c0 c1 lat=0 v
	prom=$site/state/status.prom
	rm -f "$work/ready"
	"$B/lacre" ingest --site "$site" --hi2 127.0.0.1:0 --hi3 127.0.0.1:0 --quiet \
		--set witness.policy="$site.policy" --ready-file "$work/ready" 2>"$work/ingest-$label.err" &
	IPID=$!
	for _ in $(seq 1 300); do [ -s "$prom" ] && [ -s "$work/ready" ] && break; sleep 0.1; done
	[ -s "$work/ready" ] || { echo "ingest did not start: $(tail -2 "$work/ingest-$label.err")" >&2; return 1; }
	. "$work/ready"
	pid=$(pgrep -P "$IPID" lacre-ingest || echo "$IPID")
	c0=$(cpu_threads "$pid")
	t0=$(date +%s.%N)
	"$B/lacre-mediator" --hi2 127.0.0.1:$hi2 --hi3 127.0.0.1:$hi3 --connections "$conns" \
		--targets 1 --sessions "$sess" --session-packets 4000 --calls 20 --duration "$secs" --rate 0 \
		--seed 7 --start-time 2026-11-28T10:00:00Z --summary "$work/sum-$label.json" \
		>/dev/null 2>"$work/med-$label.err" &
	local mpid=$!
	# the logged latency while the load runs (status.prom, once a second)
	while kill -0 $mpid 2>/dev/null; do
		v=$(metric "$prom" 'lacre_ingest_logged_latency_seconds{stat="max_1m"}')
		lat=$(awk -v a="${v:-0}" -v b="$lat" 'BEGIN { print (a > b ? a : b) }')
		sleep 0.5
	done
	wait $mpid || echo "mediator ($label) failed: $(tail -1 "$work/med-$label.err")" >&2
	t1=$(date +%s.%N)
	# durable: nothing waits for the backend, every record under a published checkpoint
	local n=0
	while :; do
		if [ "$(metric "$prom" lacre_spool_upload_files)" = 0 ] &&
			[ "$(metric "$prom" lacre_spool_unsigned_segments)" = 0 ] &&
			[ "$(metric "$prom" lacre_ingest_unlogged_oldest_age_seconds)" = 0.000 ] &&
			[ "$(metric "$prom" lacre_status_time_seconds | cut -d. -f1)" -ge "$(date -d @"${t1%.*}" +%s)" ]; then
			break
		fi
		n=$((n + 1))
		[ $n -gt 3000 ] && { echo "($label: not drained after 300 s)" >&2; break; }
		sleep 0.1
	done
	t2=$(date +%s.%N)
	v=$(metric "$prom" 'lacre_ingest_logged_latency_seconds{stat="max_1m"}')
	lat=$(awk -v a="${v:-0}" -v b="$lat" 'BEGIN { print (a > b ? a : b) }')
	c1=$(cpu_threads "$pid")
	kill -TERM "$IPID"; wait "$IPID" 2>/dev/null; IPID=
	python3 - "$work/sum-$label.json" "$label" "$t0" "$t1" "$t2" "$c0" "$c1" "$(getconf CLK_TCK)" "$lat" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
label = sys.argv[2]
t0, t1, t2 = map(float, sys.argv[3:6])
c0, c1 = [list(map(float, x.split())) for x in sys.argv[6:8]]
hz = float(sys.argv[8])
d = [(b - a) / hz for a, b in zip(c0, c1)]   # receiving closer ticker tiles upload
mb = s["bytes_sent"] / 1e6
print(label, "%.1f %.1f %.1f %.2f %.2f %s %.1f %d %s" % (mb, mb / (t1 - t0), mb / (t2 - t0), d[0], sum(d),
      sys.argv[9], t2 - t1, s["pdus_sent"], ",".join("%.2f" % x for x in d[1:])))
PY
}

# ledger_share DIR: "ledger_bytes all_bytes ledger_objects" of a dir:
# backend (everything but seg/ is the ledger's)
ledger_share() {
	python3 - "$1" <<'PY'
import os, sys
root = sys.argv[1]
led = tot = nled = 0
for d, _, fs in os.walk(root):
    for f in fs:
        p = os.path.join(d, f)
        n = os.path.getsize(p)
        tot += n
        if not os.path.relpath(p, root).startswith("seg"):
            led += n
            nled += 1
print(led, tot, nled)
PY
}

report_a() { # label MB rMBps dMBps rcpu allcpu lat drain pdus ; ledger figures
	local label mb rm dm rc ac lat dr pdus th
	read -r label mb rm dm rc ac lat dr pdus th <<<"$1"
	read -r lb ab nl <<<"$2"
	printf '%s: %.0f MB in %d PDUs; received %.1f MB/s; durable (drained, all under a published checkpoint) %.1f MB/s; drain after the load %.1f s\n' \
		"$label" "$mb" "$pdus" "$rm" "$dm" "$dr"
	printf '  CPU: receiving threads %.2f s of %.2f s for the whole process = %.0f %% (target >= 85 %%); whole process %.1f MB per CPU-s, receiving threads %.1f\n' \
		"$rc" "$ac" "$(awk -v r="$rc" -v a="$ac" 'BEGIN { print (a > 0 ? 100 * r / a : 0) }')" \
		"$(awk -v m="$mb" -v a="$ac" 'BEGIN { print (a > 0 ? m / a : 0) }')" \
		"$(awk -v m="$mb" -v r="$rc" 'BEGIN { print (r > 0 ? m / r : 0) }')"
	IFS=, read -r c_cl c_ti c_tl c_up <<<"$th"
	printf '  CPU of the pipeline threads: closer %.2f s, ticker (checkpoints) %.2f s, tiles %.2f s, upload %.2f s\n' \
		"$c_cl" "$c_ti" "$c_tl" "$c_up"
	[ "$ab" -gt 0 ] && printf '  ledger objects: %d, %d bytes of %d stored = %.3f %% (target <= 1 %%)\n' \
		"$nl" "$lb" "$ab" "$(awk -v l="$lb" -v a="$ab" 'BEGIN { print 100 * l / a }')"
	printf '  logged latency (oldest record -> first published cosigned checkpoint), max at full load: %.3f s (target <= 1 s)\n' "$lat"
}

parts=${DUR_PARTS:-abc}
dir_mbps=0
# (a) dir: backend on the spool's file system
if [ "${parts#*a}" != "$parts" ]; then
site=$work/site-dir
mkdir -p "$work/backend"
new_site "$site" "dir:$work/backend" "${extra[@]}" || { echo "durable.sh: site setup failed"; exit 0; }
ra=$(one dir "$site") || { echo "durable.sh: the dir: run failed"; exit 0; }
report_a "$ra" "$(ledger_share "$work/backend")"
dir_mbps=$(echo "$ra" | awk '{ print $4 }')
fi

# (b) the Ceph RGW
if [ -z "${S3_ENDPOINT:-}" ] && [ -n "${LACRE_BENCH_S3:-}" ] && [ -x "$top/../shared/services/s3-up" ]; then
	port=$(freeport)
	if s3env=$(S3_STORE=memstore "$top/../shared/services/s3-up" "$work/s3" "$port" 2>"$work/s3up.err"); then
		S3UP=1
		set -a; eval "$s3env"; set +a
	else
		echo "(b) s3-up failed: $(tail -2 "$work/s3up.err")"
	fi
fi
if [ -n "${S3_ENDPOINT:-}" ]; then
	printf 'access_key = %s\nsecret_key = %s\n' "${S3_ACCESS_KEY:-$AWS_ACCESS_KEY_ID}" \
		"${S3_SECRET_KEY:-$AWS_SECRET_ACCESS_KEY}" > "$work/s3.cred"
	chmod 600 "$work/s3.cred"
fi
if [ -n "${S3_ENDPOINT:-}" ] && [ "${parts#*b}" != "$parts" ]; then
	bucket="lacre-bench-$(date +%s%N | tail -c 9)"
	printf 'access_key = %s\nsecret_key = %s\n' "${S3_ACCESS_KEY:-$AWS_ACCESS_KEY_ID}" \
		"${S3_SECRET_KEY:-$AWS_SECRET_ACCESS_KEY}" > "$work/s3.cred"
	chmod 600 "$work/s3.cred"
	site=$work/site-s3
	new_site "$site" "s3://$bucket/bench" --set "s3.endpoint=$S3_ENDPOINT" \
		--set "s3.region=${S3_REGION:-us-east-1}" --set "s3.credentials=$work/s3.cred" "${extra[@]}" ||
		{ echo "(b) site setup on S3 failed"; exit 0; }
	rb=$(one s3 "$site") || { echo "(b) the S3 run failed"; exit 0; }
	read -r _ mb rm dm rc ac lat dr pdus th <<<"$rb"
	# the ratio needs part (a)'s dir: figure from this same run
	if awk -v b="${dir_mbps:-0}" 'BEGIN { exit !(b > 0) }'; then
		ratio=$(awk -v a="$dm" -v b="$dir_mbps" 'BEGIN { printf "%.0f %%", 100 * a / b }')
	else
		ratio="? (run part a in the same invocation: DUR_PARTS=ab)"
	fi
	printf 's3 (Ceph RGW %s): %.0f MB; received %.1f MB/s; durable %.1f MB/s = %s of the dir: run (target >= 50 %%); drain after the load %.1f s; logged latency max %.3f s\n' \
		"$S3_ENDPOINT" "$mb" "$rm" "$dm" "$ratio" "$dr" "$lat"
	printf '  CPU: receiving threads %.2f s of %.2f s for the whole process = %.0f %%\n' "$rc" "$ac" \
		"$(awk -v r="$rc" -v a="$ac" 'BEGIN { print (a > 0 ? 100 * r / a : 0) }')"
	IFS=, read -r c_cl c_ti c_tl c_up <<<"$th"
	printf '  CPU of the pipeline threads: closer %.2f s, ticker (checkpoints) %.2f s, tiles %.2f s, upload %.2f s\n' \
		"$c_cl" "$c_ti" "$c_tl" "$c_up"
elif [ -z "${S3_ENDPOINT:-}" ]; then
	echo "(b) S3: skipped (set S3_ENDPOINT, or LACRE_BENCH_S3=1 to start a Ceph RGW with ../shared/services/s3-up)"
fi

# (c) two receivers of one site into one backend
[ "${parts#*c}" != "$parts" ] || exit 0
age-keygen -o "$work/oversight.key" 2>/dev/null || { echo "(c) age-keygen failed"; exit 0; }
R=$(age-keygen -y "$work/oversight.key")
site=$work/site-multi
if [ -n "${S3_ENDPOINT:-}" ]; then
	mbackend="s3://lacre-bench-m$(date +%s%N | tail -c 9)/multi"
	margs=(--backend "$mbackend" --set "s3.endpoint=$S3_ENDPOINT" --set "s3.region=${S3_REGION:-us-east-1}"
		--set "s3.credentials=$work/s3.cred")
	S3ENV=(S3_ENDPOINT="$S3_ENDPOINT" S3_ACCESS_KEY="${S3_ACCESS_KEY:-$AWS_ACCESS_KEY_ID}"
		S3_SECRET_KEY="${S3_SECRET_KEY:-$AWS_SECRET_ACCESS_KEY}" S3_REGION="${S3_REGION:-us-east-1}")
	where="one Ceph RGW bucket"
else
	mkdir -p "$work/mbackend"
	mbackend="dir:$work/mbackend"
	margs=(--backend "$mbackend")
	S3ENV=()
	where="one shared dir: backend (no S3 server: set S3_ENDPOINT or LACRE_BENCH_S3=1)"
fi
"$B/lacre" init "$site" --hi2 127.0.0.1:7 --hi3 127.0.0.1:9 --oversight-recipient "$R" --name multi \
	"${margs[@]}" "${extra[@]}" >/dev/null || { echo "(c) lacre init failed"; exit 0; }
pa2=$(freeport) pa3=$(freeport) pb2=$(freeport) pb3=$(freeport)
# rcv NAME VAR: receiver NAME of the site on its fixed ports; sets VAR to its pid
rcv() {
	local n=$1 var=$2 p2 p3
	if [ "$n" = a ]; then p2=$pa2 p3=$pa3; else p2=$pb2 p3=$pb3; fi
	rm -f "$work/ready-$n"
	"$B/lacre" ingest --site "$site" --receiver "$n" --hi2 127.0.0.1:$p2 --hi3 127.0.0.1:$p3 --quiet \
		--ready-file "$work/ready-$n" 2>>"$work/ingest-$n.err" &
	eval "$var=\$!"
	for _ in $(seq 1 300); do [ -s "$work/ready-$n" ] && return 0; sleep 0.1; done
	echo "(c) receiver $n did not start: $(tail -2 "$work/ingest-$n.err")" >&2
	return 1
}
# med NAME RECEIVER PREFIX SEED RATE SECS [traffic...]: a mediator to a receiver
med() {
	local n=$1 r=$2 pre=$3 seed=$4 rate=$5 d=$6 p2 p3; shift 6
	if [ "$r" = a ]; then p2=$pa2 p3=$pa3; else p2=$pb2 p3=$pb3; fi
	"$B/lacre-mediator" --hi2 127.0.0.1:$p2 --hi3 127.0.0.1:$p3 --connections 4 --liid-prefix "$pre" \
		--targets 2 --rate "$rate" --duration "$d" --seed "$seed" --start-time 2026-11-28T10:00:00Z \
		--reconnect-wait 0.1 --summary "$work/sum-$n.json" "$@" >/dev/null 2>"$work/med-$n.err"
}
# stop_rcv PID SIG: signal a receiver and wait for it, at most 60 s (a
# backend that stops answering must not hang the benchmark), then SIGKILL;
# sets RC to its exit status (not in a subshell: only this shell can wait)
stop_rcv() {
	kill -"$2" "$1" 2>/dev/null
	for _ in $(seq 1 600); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$1" 2>/dev/null; then
		echo "(c) receiver $1 still running 60 s after SIG$2: killed" >&2
		kill -9 "$1"
	fi
	wait "$1" 2>/dev/null
	RC=$?
}
rcv a RA && rcv b RB || exit 0
t0=$(date +%s.%N)
med full-a a RA 21 0 "$secs" --sessions 80 --session-packets 4000 --calls 10 & MA=$!
med full-b b RB 22 0 "$secs" --sessions 80 --session-packets 4000 --calls 10 & MB=$!
wait $MA || echo "(c) mediator full-a failed: $(tail -1 "$work/med-full-a.err")"
wait $MB || echo "(c) mediator full-b failed: $(tail -1 "$work/med-full-b.err")"
MA= MB=
t1=$(date +%s.%N)
python3 - "$work/sum-full-a.json" "$work/sum-full-b.json" "$t0" "$t1" "$where" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
t = float(sys.argv[4]) - float(sys.argv[3])
mb = (a["bytes_sent"] + b["bytes_sent"]) / 1e6
print("two receivers into %s: %.0f MB from two mediators in %.1f s = %.1f MB/s aggregate received "
      "(a %.1f MB/s, b %.1f MB/s by their own clocks)" % (sys.argv[5], mb, t, mb / t,
      a["bytes_sent"] / 1e6 / a["elapsed_s"], b["bytes_sent"] / 1e6 / b["elapsed_s"]))
PY
# SIGTERM of b and SIGKILL of a, each while its mediator sends
med term-b b RT 23 4000 8 & MB=$!
med kill-a a RK 24 4000 8 --sent-log "$work/sent-kill-a.log" & MA=$!
sleep 3
stop_rcv "$RB" TERM; echo "(c) receiver b stopped by SIGTERM mid-run (exit $RC); restarted"; RB=
rcv b RB || exit 0
sleep 1
# the kill: a frozen, then its mediator; every connection's unread bytes
# copied from /proc/net/tcp; then SIGKILL (a kill -9 at the instant of the
# freeze: nothing of the receiver runs after it); the mediator resumes
kpids="$RA $(pgrep -P "$RA" | tr '\n' ' ')"
kmed=$(pgrep -P "$MA" lacre-mediator)
kill -STOP $kpids; [ -n "$kmed" ] && kill -STOP "$kmed"
sleep 0.3
cp /proc/net/tcp "$work/tcp-kill-a.txt"
kill -9 $kpids 2>/dev/null
for p in $kpids; do wait "$p" 2>/dev/null; done
echo "(c) receiver a killed by SIGKILL mid-run; restarted"; RA=
rcv a RA || exit 0
[ -n "$kmed" ] && kill -CONT "$kmed"
wait $MB || echo "(c) mediator term-b failed: $(tail -1 "$work/med-term-b.err")"
wait $MA || echo "(c) mediator kill-a failed: $(tail -1 "$work/med-kill-a.err")"
MA= MB= kmed=
for n in a b; do
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print("  mediator %s: %d data PDUs, %d reconnects" % (sys.argv[2], s["data_pdus_sent"], s.get("reconnects", 0)))' \
		"$work/sum-$([ $n = a ] && echo kill-a || echo term-b).json" "$([ $n = a ] && echo kill-a || echo term-b)"
done
stop_rcv "$RA" TERM; stop_rcv "$RB" TERM; RA= RB=
env "${S3ENV[@]}" python3 "$top/bench/durable_count.py" "$mbackend" "$work/oversight.key" \
	"$work/sum-full-a.json" "$work/sum-full-b.json" "$work/sum-term-b.json" -- "$work/sum-kill-a.json" \
	--sent-log "$work/sent-kill-a.log" --tcp "$work/tcp-kill-a.txt" --ports "$pa2,$pa3" --workers "$(nproc)" |
	sed 's/^/  /'
