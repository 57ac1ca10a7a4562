#!/usr/bin/env bash
# bench/pipeline.sh - the full ingest pipeline (decode, route, frame, commit,
# seal, write to dir:, ledger) on one core, beside this machine's crypto
# limits measured now:
#   openssl speed for ChaCha20-Poly1305 and SHA-256, the limit
#   1 / (1/chacha + 1/sha256), and Debian's age followed by openssl dgst over
#   the same bytes (per CPU-second, as lacre's figure).  Prints figures;
#   asserts nothing.
# Three streams from the simulator, fed as the receiver feeds the sink:
#   cc-mixed  broadband sessions (DNS, TCP handshakes and transfers, ICMP,
#             UDP) and RTP calls: every HI3 PDU, 561 bytes on average;
#   cc-bulk   the PDUs of cc-mixed of at least 1000 bytes (the MTU-sized
#             packets of transfers), 1520 bytes on average;
#   iri       SIP signalling and session events (HI2).
# The one-core figure is the receiving thread's CPU time (without the
# 64 KiB copy that stands for the kernel's recv copy) plus the CPU time of
# the threads that write its segments to the spool (O_DIRECT, POSIX AIO),
# after one untimed pass (bench_pipeline.c: the steady state).
# Each figure, lacre's and the limits', is the fastest of PIPE_RUNS runs
# (default 3): a shared machine's neighbours only ever slow a run down.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=$top/build/bin
# the spool must be on a disk file system (O_DIRECT): not tmpfs
work=$(mktemp -d "${PIPELINE_DIR:-/var/tmp}/lacre-bench-pipe-XXXXXX")
trap 'rm -rf "$work"' EXIT
export LACRE_PASSPHRASE=bench LACRE_SCRYPT_LOG2N=10

runs=${PIPE_RUNS:-3}
speed() { # $1 = evp name -> bytes/s at 16 KiB blocks, the fastest of $runs
	for _ in $(seq "$runs"); do
		openssl speed -seconds 1 -bytes 16384 -evp "$1" 2>/dev/null |
			awk '/^[a-zA-Z0-9-]+ +[0-9.]+k/ {v=$NF; sub("k","",v); print v*1000}' | tail -1
	done | sort -g | tail -1
}
chacha=$(speed chacha20-poly1305)
sha=$(speed sha256)
limit=$(python3 -c "c=$chacha; s=$sha; print(1/(1/c+1/s))")
printf 'openssl speed (16 KiB blocks, fastest of %s): ChaCha20-Poly1305 %.0f MB/s, SHA-256 %.0f MB/s\n' "$runs" \
	"$(python3 -c "print($chacha/1e6)")" "$(python3 -c "print($sha/1e6)")"
printf 'crypto limit 1/(1/chacha + 1/sha256) = %.0f MB/s\n' "$(python3 -c "print($limit/1e6)")"

# a fresh site for each run: its config holds absolute paths, and a site
# whose ledger is younger than its backend's checkpoint is refused (rollback)
new_site() {
	rm -rf "$work/site"
	"$B/lacre" init "$work/site" --hi2 127.0.0.1:7 --hi3 127.0.0.1:9 >/dev/null
	"$B/lacre" warrant add --site "$work/site" --case B --unit U --court C --order O \
		--order-date 2026-11-01 --to 2027-01-31 --categories content,iri --target t \
		--liid LIID0001 >/dev/null
}
# CC-sized traffic: broadband sessions (IPCC up to 1500 B) and calls (RTP ~330 B)
"$B/lacre-mediator" --output "$work/cc" --targets 1 --sessions 40 --session-packets 4000 --calls 20 \
	--seed 1 --start-time 2026-11-28T10:00:00Z >/dev/null 2>&1
# IRI-sized traffic: many short calls' SIP signalling and session events
"$B/lacre-mediator" --output "$work/iri" --targets 1 --calls 4000 --call-seconds 0 --sessions 2000 \
	--session-packets 1 --seed 2 --start-time 2026-11-28T10:00:00Z >/dev/null 2>&1
# the bulk stream: the PDUs of at least 1000 bytes, in order (offsets and
# lengths from lacre decode)
"$B/lacre" decode "$work/cc.hi3" | python3 -c '
import json, sys
d = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "wb") as out:
    for line in sys.stdin:
        p = json.loads(line)
        if p["length"] >= 1000:
            out.write(d[p["offset"]:p["offset"] + p["length"]])
' "$work/cc.hi3" "$work/bulk.hi3"
mv "$work/cc.hi3" "$work/mixed.hi3"

run() { # $1 = label, $2 = stream, $3 = kind (cc|iri)
	echo "-- $1"
	# $runs runs, each on a fresh site; the fastest one-core figure is
	# kept and printed whole (a shared machine's neighbours come and go:
	# the limits above are the fastest of $runs too), the others' range
	local best="" bestmbs=0 all=""
	for _ in $(seq "$runs"); do
		new_site
		if ! out=$("$top/build/bench/bench_pipeline" "$work/site" "$2" 3 2>"$work/err"); then
			echo "  bench_pipeline failed:"
			sed 's/^/  /' "$work/err"
			return
		fi
		m=$(echo "$out" | grep "one core" | sed -n 's/.* s CPU = \([0-9.]*\) MB\/s.*/\1/p')
		all="$all ${m%.*}"
		if python3 -c "import sys; sys.exit(0 if $m > $bestmbs else 1)"; then
			best=$out
			bestmbs=$m
		fi
	done
	out=$best
	echo "$out" | sed 's/^/  /'
	echo "  one-core MB/s of the $runs runs:$all (the fastest is shown)"
	mbs=$(echo "$out" | grep "one core" | sed -n 's/.* s CPU = \([0-9.]*\) MB\/s.*/\1/p')
	rps=$(echo "$out" | grep "one core" | sed -n 's/.* MB\/s, \([0-9]*\) records\/s.*/\1/p')
	cat "$2" "$2" "$2" > "$work/in3"
	id=$(age-keygen 2>/dev/null | grep -o 'age1[0-9a-z]*')
	sz=$(stat -c %s "$work/in3")
	# age, then openssl dgst over its output: CPU time of both (user +
	# system, all their threads), like lacre's figure, and wall time
	read -r agembs agewall < <(python3 - "$id" "$work/in3" "$runs" <<'PY'
import os, resource, subprocess, sys, time
rid, path = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3])
n = os.path.getsize(path)
best_cpu = best_wall = None
for _ in range(runs):          # the fastest of runs, as lacre's figure
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run(['age', '-r', rid, '-o', path + '.age', path], check=True)
    subprocess.run(['openssl', 'dgst', '-sha256', path + '.age'], check=True, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = ru.ru_utime + ru.ru_stime - before.ru_utime - before.ru_stime
    best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
    best_wall = wall if best_wall is None else min(best_wall, wall)
print(n / 1e6 / best_cpu, n / 1e6 / best_wall)
PY
)
	rm -f "$work/in3" "$work/in3.age"
	if [ "$3" = cc ]; then
		# issue 15's targets: cc-bulk >= 60 % of the limit, cc-mixed
		# >= 1.0 x age + openssl dgst (the ratio at the end of the line)
		printf '  => %s: lacre %.0f MB/s per core = %.0f %% of the crypto limit (issue 15: cc-bulk >= 60 %%, cc-mixed >= 1.0 x age+dgst); ' \
			"$1" "$mbs" "$(python3 -c "print(100*$mbs*1e6/$limit)")"
	else
		printf '  => %s: lacre %s records/s per core (issue 15: >= 600,000); %.0f MB/s; ' "$1" "$rps" "$mbs"
	fi
	printf 'age -r + openssl dgst -sha256 over the same %d bytes (fastest of '"$runs"'): %.0f MB/s per CPU-second, %.0f MB/s wall (lacre / age+dgst = %.2f)\n' \
		"$sz" "$agembs" "$agewall" "$(python3 -c "print($mbs/$agembs)")"
}
run "cc-mixed" "$work/mixed.hi3" cc
run "cc-bulk (PDUs >= 1000 B)" "$work/bulk.hi3" cc
run "iri" "$work/iri.hi2" iri
