#!/usr/bin/env bash
# bench/decrypt.sh - decrypt + decode throughput (build/bench/bench_decrypt,
# the real OpenLI set-C capture, AES-192-CBC) beside the machine's own
# AES-192-CBC decryption limit measured in the same run (`openssl speed
# -evp aes-192-cbc -decrypt`, at 256-byte blocks - set C's average
# ciphertext is ~240 bytes - and at 16 KiB).  Prints the figures and the
# ratio of lacre's ciphertext rate to openssl's; asserts nothing.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bin=build/bench/bench_decrypt
[ -x "$bin" ] || { echo "decrypt.sh: $bin missing: run make"; exit 0; }
# openssl speed: the last field of the aes-192-cbc line, in kB/s (1000 bytes)
ossl() {
	openssl speed -evp aes-192-cbc -decrypt -seconds 1 -bytes "$1" 2>/dev/null |
		awk '/^(aes-192-cbc|AES-192-CBC)/ { v = $NF; sub(/k$/, "", v); printf "%.1f\n", v / 1000 }'
}
o256=$(ossl 256)
o16k=$(ossl 16384)
echo "openssl speed -evp aes-192-cbc -decrypt: ${o256:-?} MB/s at 256 B, ${o16k:-?} MB/s at 16 KiB (one core)"
out=$(LACRE_TOP=$top "$bin") || { echo "$out"; echo "(bench_decrypt exited with $?)"; exit 0; }
echo "$out" | grep -v '^RESULT '
ct2=$(echo "$out" | awk '$1 == "RESULT" && $2 == 2 { print $4 }')
ct3=$(echo "$out" | awk '$1 == "RESULT" && $2 == 3 { print $4 }')
if [ -n "$o256" ] && [ -n "$ct2" ]; then
	awk -v a="$ct2" -v b="$ct3" -v o="$o256" -v p="$o16k" 'BEGIN {
		printf "ratio: receiver (decrypt + decode) %.2f of openssl at 256 B, %.2f at 16 KiB\n", a / o, a / p
		printf "ratio: reader (no key, pre-encryption form) %.2f of openssl at 256 B\n", b / o }'
fi
