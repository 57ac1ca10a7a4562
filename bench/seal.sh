#!/usr/bin/env bash
# bench/seal.sh - lacre's sealing throughput beside the machine's crypto
# limits and beside Debian's age.  Prints figures, asserts nothing.
#   1. openssl speed -evp chacha20-poly1305 and sha256 at a large block
#      size; crypto limit = 1 / (1/chacha + 1/sha256) (every sealed byte is
#      encrypted once and hashed once for its commitment);
#   2. build/bench/bench_seal (CC- and IRI-sized records through the segment
#      writer) and the ratio of each figure to the limit, by wall clock and
#      by CPU time (the CPU figure is the one that means something on a
#      shared machine);
#   3. the same SEAL_MIB MiB of bytes (default 256) sealed by
#      `age -r` + `openssl dgst -sha256` and by lacre (as 1400-byte records).
#   The workloads run twice: buffered writes to SEAL_SPOOL (tmpfs by
#   default: the kernel's page-cache copy is counted, a disk's writeback
#   throttling is not) and O_DIRECT writes to SEAL_DIRECT_SPOOL (a disk).
# Environment: SEAL_MIB, SEAL_SPOOL (default a folder in /dev/shm, else
# /tmp), SEAL_DIRECT_SPOOL (default /var/tmp).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bin=build/bench/bench_seal
[ -x "$bin" ] || { echo "seal.sh: $bin missing: run make"; exit 0; }
mib=${SEAL_MIB:-256}
blk=1048576
if [ -n "${SEAL_SPOOL:-}" ]; then
	dir=$(mktemp -d "$SEAL_SPOOL/lacre-seal-XXXXXX")
else
	dir=$(mktemp -d /dev/shm/lacre-seal-XXXXXX 2>/dev/null || mktemp -d /tmp/lacre-seal-XXXXXX)
fi
trap 'rm -rf "$dir"' EXIT

# openssl speed prints "<name> <value>k" (thousands of bytes per second)
speed() {
	openssl speed -evp "$1" -bytes "$blk" -seconds 2 2>/dev/null |
		awk 'NF >= 2 { v = $NF } END { sub("k$", "", v); printf "%.0f\n", v * 1000 }'
}
now() { date +%s.%N; }
mbps() { awk -v b="$1" -v t0="$2" -v t1="$3" 'BEGIN { printf "%.1f", b / (t1 - t0) / 1e6 }'; }

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(openssl version)"
chacha=$(speed chacha20-poly1305)
sha=$(speed sha256)
limit=$(awk -v c="$chacha" -v s="$sha" 'BEGIN { printf "%.0f", 1 / (1 / c + 1 / s) }')
awk -v c="$chacha" -v s="$sha" -v l="$limit" -v b="$blk" 'BEGIN {
	printf "openssl speed (%d-byte blocks): chacha20-poly1305 %.1f MB/s, sha256 %.1f MB/s\n", b, c / 1e6, s / 1e6
	printf "crypto limit 1/(1/chacha + 1/sha256) = %.1f MB/s; 65%% of it = %.1f MB/s\n", l / 1e6, 0.65 * l / 1e6 }'

ratios() { # bench output on stdin
	awk -v l="$limit" '/^result / {
	tag = $2; w = c = r = cr = pc = ""
	for (i = 3; i <= NF; i++) {
		split($i, kv, "=")
		if (kv[1] == "wall_mbps") w = kv[2]
		if (kv[1] == "cpu_mbps") c = kv[2]
		if (kv[1] == "records_per_s") r = kv[2]
		if (kv[1] == "cpu_records_per_s") cr = kv[2]
		if (kv[1] == "plain_cpu_mbps") pc = kv[2]
	}
	if (tag == "age_stream" || tag == "sha256") next
	printf "%-10s of crypto limit: PDU bytes %5.1f%% by wall clock, %5.1f%% by cpu time (all sealed bytes %5.1f%%)", tag, 100 * w * 1e6 / l, 100 * c * 1e6 / l, 100 * pc * 1e6 / l
	if (r != "") printf "; %.0f records/s wall, %.0f per cpu-second", r, cr
	printf "\n" }'
}

echo
out=$("$bin" --spool "$dir" --mib "$mib")
printf '%s\n' "$out" | grep -v '^result '
echo
printf '%s\n' "$out" | ratios

# the same with O_DIRECT on a disk folder (no page-cache copy; each write
# waits for the device, so wall clock includes the disk)
ddir=$(mktemp -d "${SEAL_DIRECT_SPOOL:-/var/tmp}/lacre-seal-XXXXXX" 2>/dev/null) && {
	echo
	out=$("$bin" --spool "$ddir" --mib "$mib" --direct)
	printf '%s\n' "$out" | grep -v '^result \|^primitive'
	echo
	printf '%s\n' "$out" | ratios
	rm -rf "$ddir"
}

echo
head -c $((mib << 20)) /dev/urandom > "$dir/data"
age-keygen -o "$dir/key" 2>/dev/null
rcp=$(age-keygen -y "$dir/key")
bytes=$((mib << 20))
cat "$dir/data" > /dev/null
t0=$(now)
age -r "$rcp" -o "$dir/data.age" "$dir/data"
t1=$(now)
openssl dgst -sha256 "$dir/data" > /dev/null
t2=$(now)
rm -f "$dir/data.age"
t3=$(now)
lout=$("$bin" --file "$dir/data" --rec 1400 --spool "$dir")
t4=$(now)
echo "same $mib MiB, output to $(dirname "$dir"):"
echo "  age -r                        $(mbps $bytes "$t0" "$t1") MB/s"
echo "  openssl dgst -sha256          $(mbps $bytes "$t1" "$t2") MB/s"
echo "  age -r + openssl dgst         $(mbps $bytes "$t0" "$t2") MB/s  ($(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.2f", b - a }') s)"
echo "  lacre seal (1400-byte records, frames + commitments, whole process)"
echo "                                $(mbps $bytes "$t3" "$t4") MB/s  ($(awk -v a="$t3" -v b="$t4" 'BEGIN { printf "%.2f", b - a }') s)"
printf '%s\n' "$lout" | grep -v '^result ' | sed 's/^/  /'
awk -v a0="$t0" -v a1="$t2" -v l0="$t3" -v l1="$t4" 'BEGIN {
	printf "  lacre / (age + dgst) speed ratio: %.2f\n", (a1 - a0) / (l1 - l0) }'
