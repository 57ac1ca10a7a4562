#!/usr/bin/env bash
# bench/ingest_workers.sh - the whole receiver over real loopback sockets
# (lacre ingest into a sealed site: decode, route, seal, ledger, spool), one
# worker on one CPU against two workers on two CPUs (taskset, same run), for
# plain TCP and TLS and three traffic mixes:
#   cc-mixed    broadband sessions and RTP calls (as bench/pipeline.sh; each
#               connection pair carries one call target and one session target);
#   cc-sessions broadband sessions only (DNS, HTTP, ICMP, UDP), no calls;
#   cc-bulk     sessions of 1460-byte TCP segments only: MTU-sized PDUs
#               (lacre-mediator --bulk).
# Issue 15's target: throughput with 2 workers >= 1.8 x that with 1.
#
# The sender: each mix is generated once (lacre-mediator --output, one file
# pair per connection pair, two targets per pair) and replayed for every run
# (lacre-mediator --replay: sendfile() for TCP, 1 MiB SSL_write() for TLS),
# so the receiver sees the same PDUs as from the live mediator, final
# keep-alives answered, while the sender costs the kernel copy and little
# else (over TLS it also encrypts: about a third of a CPU at full rate).
# Two placements of the sender, each case run in both (IW_SENDER):
#   own     pinned to the last CPU (IW_SENDER_CPU) in both runs: in the
#           1-worker run it has that CPU to itself and the receiver has
#           CPU 0; in the 2-worker run it shares CPU 1 with the receiver.
#           On a 2-CPU machine the 2-worker run thus has less than two CPUs
#           (two minus the sender's share) against one whole CPU.
#   shared  on the receiver's CPUs in both runs (CPU 0 with 1 worker, CPUs
#           0,1 with 2): each run pays the sender's cost per byte alike, so
#           the ratio is the receiver's scaling from one CPU to two with
#           the sender's work beside it, as when mediator and receiver share
#           a box.  On a machine with spare CPUs, own is the placement to read.
#
# Printed per case: MB/s and PDUs/s by wall clock (first connect to the last
# keep-alive answer) for 1 and 2 workers and their ratio (the target's
# figure); per core: MB/s per CPU given and MB per receiver CPU-second;
# the receiver's CPU-seconds per MB and CPUs busy; the sender's
# CPU (and per MB); the CPU other processes took on the receiver's CPUs
# (/proc/stat task time minus receiver and sender; irq and softirq time,
# mostly the loopback's packet work, is printed apart and not subtracted:
# on a shared machine with
# autogroup scheduling, every other login session gets an equal share,
# niced or not); the ratio normalised by the CPU left to the receiver
# ((2-worker MB/s / CPUs left) / (1-worker MB/s / CPUs left) x 2: what two
# free CPUs would give at the same efficiency; labelled, NOT the target's
# figure); the receiver's CPU per thread (/proc/PID/task/*/stat:
# lacre-ingest is worker 0 and the main thread, lacre-wkN the other workers,
# with their POSIX AIO helpers, which inherit the name; lacre-closer,
# lacre-ticker, lacre-saver, lacre-tiles...); each worker's share of the
# wall time on a CPU / waiting for a CPU / blocked (schedstat: blocked is a
# lock, a disk write or nothing to read); each worker's PDUs (--stats); and
# the futex calls and context switches of the 2-worker run (perf stat).
# The machine's own limit (placement shared, IW_PAIR=1 by default): two
# independent receivers, separate sites and processes with one worker each,
# receiver and its own sender on CPU 0 and on CPU 1, each fed half of the
# connection pairs; nothing is shared but the machine.  Their throughput
# over the 1-worker run's is what this machine gives the workload from one
# CPU to two (caches, memory, the hypervisor): the 2-worker ratio is
# printed beside it and as a share of it.  On the 2-vCPU machine of issue
# 15 that limit was 1.46-1.94 by case, below the 1.8 target in three of
# six (docs/performance.md "Stop 24"); after the receiver's memory moved
# to huge pages, 1.58-1.77, below it in all six ("Stop 25"); in stop 26's
# whole `make bench`, 1.54-1.76.
# Prints figures; asserts nothing.  Environment: IW_CONNS (default 8, at
# most 64), IW_MB (about how many MB each mix sends, default 600), IW_CASES
# (default "cc-mixed cc-sessions cc-bulk"), IW_TLS (default "0 1"),
# IW_SENDER_CPU (default the last CPU), IW_SENDER (default "own shared"),
# IW_PERF (default 1), IW_REPEAT
# (default 1: runs of each configuration, 1 and 2 workers in turn, the
# fastest of each kept: a shared machine's neighbours come and go),
# IW_RECEIVER_BIN
# (a folder with another build's lacre and lacre-ingest: the receiver of an
# A/B comparison; the sites and the sender stay this build's), IW_PAIR
# (default 1: measure the independent pair; 0: skip it).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=$top/build/bin
R=${IW_RECEIVER_BIN:-$B}            # lacre + lacre-ingest of the receiver (an A/B against another build)
conns=${IW_CONNS:-8}
mb=${IW_MB:-600}
cases=${IW_CASES:-cc-mixed cc-sessions cc-bulk}
tlss=${IW_TLS:-0 1}
repeat=${IW_REPEAT:-1}
placements=${IW_SENDER:-own shared}
command -v taskset >/dev/null || { echo "ingest_workers.sh: taskset not found (util-linux)"; exit 0; }
command -v openssl >/dev/null || { echo "ingest_workers.sh: openssl not found"; exit 0; }
command -v python3 >/dev/null || { echo "ingest_workers.sh: python3 not found"; exit 0; }
[ -x "$B/lacre" ] && [ -x "$B/lacre-mediator" ] || { echo "ingest_workers.sh: run make first"; exit 0; }
ncpu=$(nproc)
[ "$ncpu" -ge 2 ] || { echo "ingest_workers.sh: one CPU: nothing to compare"; exit 0; }
[ "$conns" -ge 1 ] && [ "$conns" -le 64 ] || { echo "ingest_workers.sh: IW_CONNS takes 1 to 64"; exit 0; }
scpu=${IW_SENDER_CPU:-$((ncpu - 1))}
perf_ok=0
if [ "${IW_PERF:-1}" = 1 ] && command -v perf >/dev/null &&
	perf stat -e syscalls:sys_enter_futex -- true >/dev/null 2>&1; then perf_ok=1; fi
work=$(mktemp -d "${IW_DIR:-/var/tmp}/lacre-bench-iw-XXXXXX")
IPID= PPID_=
trap '[ -n "$IPID" ] && kill -9 $IPID 2>/dev/null; [ -n "$PPID_" ] && kill $PPID_ 2>/dev/null; rm -rf "$work"' EXIT
export LACRE_PASSPHRASE=bench LACRE_SCRYPT_LOG2N=10
clk=$(getconf CLK_TCK)
echo "machine: $ncpu cores, load $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: figures are noisy)"
echo "sender: lacre-mediator --replay; placements: $placements (own: pinned to CPU $scpu; shared: on the" \
	"receiver's CPUs); receiver: CPU 0 with 1 worker, CPUs 0,1 with 2; $conns connection pairs"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "/CN=lacre-bench" \
	-addext "subjectAltName=IP:127.0.0.1" -keyout "$work/srv.key" -out "$work/srv.crt" 2>/dev/null ||
	{ echo "ingest_workers.sh: openssl req failed"; exit 0; }

# gen MIX: write the mix's streams once into $work/gen/MIX.<pair>.hi2/.hi3
gen() {
	local mix=$1 pdus traffic=()
	case $mix in
	cc-mixed) pdus=$((mb * 1000000 / 360)); traffic=() ;;   # unlimited: even targets call, odd browse
	cc-sessions) pdus=$((mb * 1000000 / 700)); traffic=(--calls 0 --sessions 100000000 --session-packets 4000) ;;
	cc-bulk) pdus=$((mb * 1000000 / 1600)); traffic=(--calls 0 --sessions 100000000 --session-packets 4000 --bulk) ;;
	*) echo "ingest_workers.sh: unknown case $mix" >&2; return 1 ;;
	esac
	mkdir -p "$work/gen"
	# 2 targets per pair: with cc-mixed each pair carries a call target and
	# a session target (lacre-mediator's pair mapping), so pairs carry
	# alike loads and the placement by count is a fair split
	"$B/lacre-mediator" --output "$work/gen/$mix" --connections "$conns" --targets $((2 * conns)) --seed 7 \
		--start-time 2026-11-28T10:00:00Z --pdus "$pdus" "${traffic[@]}" \
		--summary "$work/gen/$mix.json" 2>"$work/gen.err" || { echo "generating $mix failed: $(tail -1 "$work/gen.err")" >&2; return 1; }
}

# proc_ticks PID: the process's CPU ticks so far (utime + stime)
proc_ticks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# task_cpu PID: "TID COMM TICKS RUN_NS WAIT_NS" per thread of PID (utime +
# stime, then schedstat: ns on a CPU, ns runnable but waiting for one), then
# "all process TICKS 0 0" (the process's own count includes threads that
# have exited)
task_cpu() {
	local t
	echo "all process $(proc_ticks "$1") 0 0"
	for t in /proc/"$1"/task/*; do
		{ cat "$t/stat"; cat "$t/schedstat" 2>/dev/null || echo 0 0 0; } 2>/dev/null |
		awk -v tid="${t##*/}" 'NR == 1 { sub(/^[^(]*\(/, ""); c = $0; sub(/\).*$/, "", c); sub(/^.*\) /, "");
			ticks = $12 + $13 } NR == 2 { print tid, c, ticks, $1, $2 }'
	done
}

# site DIR: a fresh site with the bench's warrants (2 x IW_CONNS LIIDs)
site_new() {
	local dir=$1 liids=() i w
	rm -rf "$dir"
	"$B/lacre" init "$dir" --hi2 127.0.0.1:7 --hi3 127.0.0.1:9 >/dev/null 2>&1
	for ((i = 1; i <= 2 * conns; i++)); do liids+=(--liid "$(printf 'LIID%04u' "$i")"); done
	for ((w = 0; w < 2 * conns; w += 8)); do
		"$B/lacre" warrant add --site "$dir" --case B --unit U --court C --order "O$w" \
			--order-date 2026-11-01 --to 2027-01-31 --categories content,iri --target t \
			"${liids[@]:$((2 * w)):16}" >/dev/null 2>"$work/warrant.err" ||
			{ echo "warrant add failed: $(tail -1 "$work/warrant.err")" >&2; return 1; }
	done
}

# one CPUS WORKERS TLS MIX PERF SENDER_CPUS: one run; prints one JSON object
# of figures
one() {
	local cpus=$1 nw=$2 tls=$3 mix=$4 withperf=$5 scpus=$6 iargs=() margs=()
	site_new "$work/site" || return 1
	if [ "$tls" = 1 ]; then
		iargs=(--tls --tls-cert "$work/srv.crt" --tls-key "$work/srv.key")
		margs=(--tls --tls-ca "$work/srv.crt")
	fi
	rm -f "$work/ready" "$work/stats.json"
	taskset -c "$cpus" "$R/lacre" ingest --site "$work/site" --hi2 127.0.0.1:0 --hi3 127.0.0.1:0 \
		--workers "$nw" --quiet --ready-file "$work/ready" --stats "$work/stats.json" "${iargs[@]}" \
		2>"$work/ingest.err" &
	IPID=$!
	for _ in $(seq 1 300); do [ -s "$work/site/state/status.prom" ] && break; sleep 0.1; done
	[ -s "$work/ready" ] || { echo "ingest did not start: $(tail -2 "$work/ingest.err")" >&2; return 1; }
	. "$work/ready"
	local pid
	pid=$(pgrep -P "$IPID" lacre-ingest || echo "$IPID")
	if [ "$withperf" = 1 ]; then
		perf stat -x, -e syscalls:sys_enter_futex,context-switches -p "$pid" -o "$work/perf.txt" &
		PPID_=$!
		sleep 0.3
	fi
	task_cpu "$pid" >"$work/cpu0"
	grep '^cpu[0-9]' /proc/stat >"$work/stat0"
	date +%s.%N >"$work/t0"
	taskset -c "$scpus" "$B/lacre-mediator" --replay "$work/gen/$mix" --connections "$conns" \
		--hi2 127.0.0.1:$hi2 --hi3 127.0.0.1:$hi3 "${margs[@]}" >"$work/replay.json" 2>"$work/med.err" ||
		{ echo "replay failed: $(tail -1 "$work/med.err")" >&2; }
	date +%s.%N >"$work/t1"
	grep '^cpu[0-9]' /proc/stat >"$work/stat1"
	task_cpu "$pid" >"$work/cpu1"
	if [ -n "$PPID_" ]; then kill -INT "$PPID_"; wait "$PPID_" 2>/dev/null; PPID_=; fi
	kill -TERM "$IPID"; wait "$IPID" 2>/dev/null; IPID=
	[ -s "$work/replay.json" ] || return 1
	python3 - "$work" "$clk" "$withperf" "$cpus" "$scpus" <<'PY'
import json, sys, os
work, clk, withperf = sys.argv[1], float(sys.argv[2]), sys.argv[3] == "1"
rcpus, scpus = [int(x) for x in sys.argv[4].split(",")], [int(x) for x in sys.argv[5].split(",")]
def busy(f):                     # per CPU: task jiffies (user nice system steal), irq + softirq
    d = {}
    for line in open(f):
        v = [int(x) for x in line.split()[1:9]]
        d[int(line.split()[0][3:])] = (v[0] + v[1] + v[2] + v[7], v[5] + v[6])
    return d
b0, b1 = busy(work + "/stat0"), busy(work + "/stat1")
r = json.load(open(work + "/replay.json"))
def cpu(f):
    d = {}
    for line in open(f):
        tid, comm, t, run, wait = line.split()
        d[tid] = (comm, int(t), int(run), int(wait))
    return d
a, b = cpu(work + "/cpu0"), cpu(work + "/cpu1")
threads = {}
sched = {}                       # workers: [on a CPU, waiting for a CPU] in seconds
for tid, (comm, t, run, wait) in b.items():
    if tid == "all":
        continue
    t0, run0, wait0 = a.get(tid, (comm, 0, 0, 0))[1:]
    threads[comm] = threads.get(comm, 0) + (t - t0) / clk
    if comm.startswith("lacre-wk") or comm == "lacre-ingest":
        x = sched.setdefault(comm, [0.0, 0.0])
        # the worker itself is the longest-running thread of its name (the
        # others are its POSIX AIO helpers, which inherit the name)
        if (run - run0) / 1e9 > x[0]:
            x[0], x[1] = (run - run0) / 1e9, (wait - wait0) / 1e9
total = (b["all"][1] - a["all"][1]) / clk
left = total - sum(threads.values())
if left >= 0.01:
    threads["(exited threads)"] = left
rbusy = sum(b1[c][0] - b0[c][0] for c in rcpus) / clk    # task CPU-s on the receiver's CPUs
softirq = sum(b1[c][1] - b0[c][1] for c in rcpus) / clk  # the loopback's packet work, mostly
sender = r["cpu_user_s"] + r["cpu_sys_s"]
# the snapshots bracket the replay, a little longer than its elapsed_s: the
# other processes' share is taken over the snapshots' own interval
span = float(open(work + "/t1").read()) - float(open(work + "/t0").read())
# the sender's CPU, when on the receiver's CPUs (a sender spread over
# several is taken as all on them: "shared" puts it on none but those)
others = max(0.0, rbusy - max(total, sum(threads.values())) - (sender if set(scpus) & set(rcpus) else 0))
others *= r["elapsed_s"] / span if span > r["elapsed_s"] else 1.0
softirq *= r["elapsed_s"] / span if span > r["elapsed_s"] else 1.0
out = {"mbps": r["bytes_sent"] / r["elapsed_s"] / 1e6, "others_cpu": others, "ncpu": len(rcpus),
       "sender_here": bool(set(scpus) & set(rcpus)),
       "softirq": softirq, "pdups": r["pdus_sent"] / r["elapsed_s"],
       "mb": r["bytes_sent"] / 1e6, "elapsed": r["elapsed_s"], "bpp": r["bytes_sent"] / max(1, r["pdus_sent"]),
       "sender_cpu": r["cpu_user_s"] + r["cpu_sys_s"], "recv_cpu": max(total, sum(threads.values())),
       "threads": threads, "sched": sched}
try:
    st = json.load(open(work + "/stats.json"))
    out["per_worker"] = [w["pdus"] for w in st.get("per_worker", [])]
except (OSError, ValueError):
    out["per_worker"] = []
if withperf:
    for line in open(work + "/perf.txt"):
        f = line.strip().split(",")
        if len(f) > 2 and f[0].replace(".", "").isdigit():
            out["futex" if "futex" in f[2] else "cswch"] = int(float(f[0]))
print(json.dumps(out))
PY
}

# pair TLS MIX: the machine's own limit, two independent receivers (one
# worker each, receiver and sender of half h on CPU h, half the connection
# pairs each); prints one JSON object: MB/s (all bytes over the longer
# replay), each half's MB/s and receiver CPU-s
pair() {
	local tls=$1 mix=$2 h n=$((conns / 2)) i iargs=() margs=() pids=() rpids=()
	if [ "$tls" = 1 ]; then
		iargs=(--tls --tls-cert "$work/srv.crt" --tls-key "$work/srv.key")
		margs=(--tls --tls-ca "$work/srv.crt")
	fi
	for h in 0 1; do
		site_new "$work/site$h" || return 1
		mkdir -p "$work/half$h"
		for ((i = 0; i < n; i++)); do
			ln -sf "$work/gen/$mix.$((h * n + i)).hi2" "$work/half$h/g.$i.hi2"
			ln -sf "$work/gen/$mix.$((h * n + i)).hi3" "$work/half$h/g.$i.hi3"
		done
		rm -f "$work/ready$h"
		taskset -c "$h" "$R/lacre" ingest --site "$work/site$h" --hi2 127.0.0.1:0 --hi3 127.0.0.1:0 \
			--workers 1 --quiet --ready-file "$work/ready$h" "${iargs[@]}" 2>"$work/ingest$h.err" &
		pids+=($!)
	done
	for _ in $(seq 1 300); do
		[ -s "$work/site0/state/status.prom" ] && [ -s "$work/site1/state/status.prom" ] && break
		sleep 0.1
	done
	for h in 0 1; do
		[ -s "$work/ready$h" ] || { echo "ingest did not start: $(tail -2 "$work/ingest$h.err")" >&2; kill -9 "${pids[@]}"; return 1; }
		rpids+=("$(pgrep -P "${pids[$h]}" lacre-ingest || echo "${pids[$h]}")")
	done
	for h in 0 1; do proc_ticks "${rpids[$h]}" >"$work/pcpu0$h"; done
	for h in 0 1; do
		. "$work/ready$h"
		taskset -c "$h" "$B/lacre-mediator" --replay "$work/half$h/g" --connections "$n" \
			--hi2 127.0.0.1:$hi2 --hi3 127.0.0.1:$hi3 "${margs[@]}" >"$work/pair$h.json" 2>"$work/pmed$h.err" &
		pids+=($!)
	done
	wait "${pids[2]}" "${pids[3]}"
	for h in 0 1; do proc_ticks "${rpids[$h]}" >"$work/pcpu$h"; done
	kill -TERM "${pids[0]}" "${pids[1]}"; wait "${pids[0]}" "${pids[1]}" 2>/dev/null
	python3 - "$work" "$clk" <<'PY'
import json, sys
work, clk = sys.argv[1], float(sys.argv[2])
r = [json.load(open("%s/pair%d.json" % (work, h))) for h in (0, 1)]
cpu = [(int(open("%s/pcpu%d" % (work, h)).read()) - int(open("%s/pcpu0%d" % (work, h)).read())) / clk
       for h in (0, 1)]
tot = sum(x["bytes_sent"] for x in r)
print(json.dumps({"mbps": tot / max(x["elapsed_s"] for x in r) / 1e6, "mb": tot / 1e6,
                  "halves": [x["bytes_sent"] / x["elapsed_s"] / 1e6 for x in r], "recv_cpu": cpu}))
PY
}

# best A B: of two runs' JSON (A may be empty), the one with more MB/s
best() {
	python3 -c 'import json, sys
a = json.loads(sys.argv[1]) if sys.argv[1] else None
b = json.loads(sys.argv[2])
print(json.dumps(b if a is None or b["mbps"] > a["mbps"] else a))' "$1" "$2"
}

printf '%s\n' "CPU-s/MB: CPU-seconds per MB sent; sender and other processes: CPUs (CPU-s per second of the" \
	"run) they used, other processes counted on the receiver's CPUs (/proc/stat task time minus receiver" \
	"and sender; irq/softirq apart, not subtracted: mostly the loopback's own packet work);" \
	"normalised ratio: (2-worker MB/s / CPUs left to the receiver) / (1-worker MB/s / CPUs left) x 2," \
	"an estimate for two free CPUs, NOT the target's figure"
for mix in $cases; do
	gen "$mix" || continue
	for tls in $tlss; do
	for place in $placements; do
		case $place in
		own) s1=$scpu s2=$scpu ;;
		shared) s1=0 s2=0,1 ;;
		*) echo "ingest_workers.sh: IW_SENDER takes own and shared, not $place"; continue ;;
		esac
		name="$mix $([ "$tls" = 1 ] && echo TLS || echo plain), sender $place"
		r1= r2= rp=
		for ((rep = 0; rep < repeat; rep++)); do
			# 1 and 2 workers in turn; the faster run of each is kept
			x=$(one 0 1 "$tls" "$mix" 0 "$s1") || { echo "$name: 1 worker run failed"; continue 2; }
			r1=$(best "$r1" "$x")
			x=$(one 0,1 2 "$tls" "$mix" "$perf_ok" "$s2") || { echo "$name: 2 worker run failed"; continue 2; }
			r2=$(best "$r2" "$x")
			if [ "$place" = shared ] && [ "${IW_PAIR:-1}" = 1 ] && [ "$conns" -ge 2 ]; then
				x=$(pair "$tls" "$mix") && rp=$(best "$rp" "$x")
			fi
		done
		python3 - "$name" "$r1" "$r2" "$place" "$rp" <<'PY'
import json, sys
name, a, b, place = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
p = json.loads(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[5] else None
def sshare(x):                   # the sender's CPUs (CPU-s per s)
    return x["sender_cpu"] / x["elapsed"]
def oshare(x):                   # other processes' CPUs on the receiver's CPUs
    return x["others_cpu"] / x["elapsed"]
def left(x, sender_here):        # CPUs left to the receiver
    return max(0.01, x["ncpu"] - (sshare(x) if sender_here else 0) - oshare(x))
l1 = left(a, a["sender_here"])   # 1 worker: receiver on CPU 0
l2 = left(b, b["sender_here"])   # 2 workers: CPUs 0,1
ratio = b["mbps"] / a["mbps"] if a["mbps"] > 0 else 0
norm = (b["mbps"] / l2) / (a["mbps"] / l1) * 2 if a["mbps"] > 0 else 0
for lab, x, l in (("1 worker: ", a, l1), ("2 workers:", b, l2)):
    print("%-17s %s %6.1f MB/s %7.0f PDUs/s (%.1f MB/s per core given, %.0f MB per receiver CPU-s), "
          "receiver %.4f CPU-s/MB (%.2f CPUs busy), sender %.2f CPU "
          "(%.4f CPU-s/MB), other processes %.2f CPU and irq/softirq %.2f CPU on the receiver's; left to "
          "the receiver %.2f of %d CPUs"
          % (name if x is a else "", lab, x["mbps"], x["pdups"], x["mbps"] / x["ncpu"],
             x["mb"] / x["recv_cpu"] if x["recv_cpu"] > 0 else 0, x["recv_cpu"] / x["mb"],
             x["recv_cpu"] / x["elapsed"], sshare(x), x["sender_cpu"] / x["mb"], oshare(x),
             x["softirq"] / x["elapsed"], l, x["ncpu"]))
print("%-17s ratio %.2f (throughput, 2 workers over 1: the target's figure, >= 1.8; sender %s); "
      "normalised by the CPU left to the receiver (MB/s per CPU left, 2 workers over 1, x 2) %.2f; "
      "%.0f B/PDU, %.0f MB"
      % ("", ratio, "on its own CPU in both runs, beside worker 2 in the 2-worker run" if place == "own"
         else "on the receiver's CPUs in both runs", norm, a["bpp"], a["mb"]))
if p and a["mbps"] > 0:
    lim = p["mbps"] / a["mbps"]
    print("%-17s machine's own limit: two independent receivers (1 worker each, each with its sender on its "
          "own CPU, half the connections): %.1f MB/s (halves %s), receiver CPU-s %s (1 worker: %.2f for "
          "all of it); ratio %.2f over 1 worker; 2 workers reach %.0f %% of it"
          % ("", p["mbps"], " + ".join("%.1f" % h for h in p["halves"]),
             " + ".join("%.2f" % c for c in p["recv_cpu"]), a["recv_cpu"], lim,
             100 * ratio / lim if lim > 0 else 0))
for lab, x in (("1w", a), ("2w", b)):
    th = sorted(x["threads"].items(), key=lambda kv: -kv[1])
    extra = ""
    if "futex" in x:
        extra = "; futex calls %d (%.0f/s), context switches %d" % (x["futex"], x["futex"] / x["elapsed"], x.get("cswch", 0))
    print("%-17s   %s threads (CPU-s): %s; PDUs per worker %s%s" % ("", lab,
          " ".join("%s %.2f" % kv for kv in th if kv[1] >= 0.01), x["per_worker"], extra))
    # of the run's wall time, each worker thread: on a CPU / runnable but
    # waiting for a CPU (taken by another thread or process) / blocked (a
    # lock, a disk write, nothing to read)
    print("%-17s   %s worker time: %s" % ("", lab, "; ".join(
        "%s on CPU %.0f%%, waiting for a CPU %.0f%%, blocked %.0f%%" % (k, 100 * v[0] / x["elapsed"],
        100 * v[1] / x["elapsed"], max(0, 100 - 100 * (v[0] + v[1]) / x["elapsed"]))
        for k, v in sorted(x["sched"].items()))))
PY
	done
	done
	rm -f "$work/gen/$mix".*
done
