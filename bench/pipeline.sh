#!/usr/bin/env bash
# bench/pipeline.sh - the full ingest pipeline (decode, route, frame, commit,
# seal, write to dir:, ledger) on one core for CC-sized and IRI-sized
# records, beside this machine's crypto limits measured now:
#   openssl speed for ChaCha20-Poly1305 and SHA-256, the limit
#   1 / (1/chacha + 1/sha256), and Debian's age followed by openssl dgst over
#   the same bytes.  Prints figures; asserts nothing.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=$top/build/bin
work=$(mktemp -d /tmp/lacre-bench-pipe-XXXXXX)
trap 'rm -rf "$work"' EXIT
export LACRE_PASSPHRASE=bench LACRE_SCRYPT_LOG2N=10

speed() { # $1 = evp name -> bytes/s at 16 KiB blocks
	openssl speed -seconds 2 -bytes 16384 -evp "$1" 2>/dev/null |
		awk '/^[a-zA-Z0-9-]+ +[0-9.]+k/ {v=$NF; sub("k","",v); print v*1000}' | tail -1
}
chacha=$(speed chacha20-poly1305)
sha=$(speed sha256)
limit=$(python3 -c "c=$chacha; s=$sha; print(1/(1/c+1/s))")
printf 'openssl speed (16 KiB blocks): ChaCha20-Poly1305 %.0f MB/s, SHA-256 %.0f MB/s\n' \
	"$(python3 -c "print($chacha/1e6)")" "$(python3 -c "print($sha/1e6)")"
printf 'crypto limit 1/(1/chacha + 1/sha256) = %.0f MB/s\n' "$(python3 -c "print($limit/1e6)")"

"$B/lacre" init "$work/site" --hi2 127.0.0.1:7 --hi3 127.0.0.1:9 >/dev/null
"$B/lacre" warrant add --site "$work/site" --case B --unit U --court C --order O --order-date 2026-11-01 \
	--to 2027-01-31 --categories content,iri --target t --liid LIID0001 >/dev/null
# CC-sized traffic: broadband sessions (IPCC up to 1500 B) and calls (RTP ~330 B)
"$B/lacre-mediator" --output "$work/cc" --targets 1 --sessions 40 --session-packets 4000 --calls 20 \
	--seed 1 --start-time 2026-11-28T10:00:00Z >/dev/null 2>&1
# IRI-sized traffic: many short calls' SIP signalling and session events
"$B/lacre-mediator" --output "$work/iri" --targets 1 --calls 4000 --call-seconds 0 --sessions 2000 \
	--session-packets 1 --seed 2 --start-time 2026-11-28T10:00:00Z >/dev/null 2>&1
ls -l "$work"/cc.hi3 "$work"/iri.hi2 | awk '{print "  input", $NF, $5, "bytes"}'

out=$("$B/../bench/bench_pipeline" "$work/site" "$work/cc.hi3" 3)
echo "$out"
mbs=$(echo "$out" | sed -n 's/.*s CPU = \([0-9.]*\) MB\/s.*/\1/p')
printf '  CC ingest = %.0f %% of the crypto limit (target >= 65 %%)\n' \
	"$(python3 -c "print(100*$mbs*1e6/$limit)")"

# Debian age + openssl dgst over the same bytes (3 copies, as above)
cat "$work/cc.hi3" "$work/cc.hi3" "$work/cc.hi3" > "$work/cc3"
id=$(age-keygen 2>/dev/null | grep -o 'age1[0-9a-z]*')
t0=$(date +%s.%N)
age -r "$id" -o "$work/cc3.age" "$work/cc3" && openssl dgst -sha256 "$work/cc3.age" >/dev/null
t1=$(date +%s.%N)
sz=$(stat -c %s "$work/cc3")
printf '  age -r + openssl dgst -sha256 over the same %d bytes: %.1f MB/s (lacre: %s MB/s per core)\n' \
	"$sz" "$(python3 -c "print($sz/1e6/($t1-$t0))")" "$mbs"

out=$("$B/../bench/bench_pipeline" "$work/site" "$work/iri.hi2" 3)
echo "$out"
echo "  (target for IRI-sized records: >= 300,000 records/s per core)"
