#!/usr/bin/env bash
# bench/audio.sh - listening to a long call: time to the first audio byte
# and audio export speed.  Prints figures, asserts nothing.
#   1. lacre-mediator --output writes one call of AUDIO_SECONDS (default
#      3600: an hour, 180,000 RTP packets each way); lacre ingest seals it;
#   2. `lacre audio` on a cold index (the command first indexes every new
#      segment, then writes): time to the first audio byte and in all;
#   3. the same on a warm index (the usual case: commands keep the index
#      up to date as data arrives): time to the first audio byte (header
#      from the index, then the first segment decrypted), and the export
#      speed in MB of WAV per second and in seconds of call per second.
#   4. `lacre pcap` of the same call, MB/s.
# Environment: AUDIO_SECONDS.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${AUDIO_SECONDS:-3600}
work=$(mktemp -d /tmp/lacre-bench-audio-XXXXXX)
IPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
[ -x "$B/lacre" ] || { echo "audio.sh: build/bin/lacre missing: run make"; exit 0; }
now() { date +%s.%N; }

site=$work/site
vault_init "$site"
export LACRE_SITE=$site
W=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri) || die "warrant"
J=(--justification "benchmark")
t0=$(now)
"$B/lacre-mediator" --output "$work/m" --targets 1 --calls 1 --call-seconds "$secs" --seed 3 \
	--start-time 2026-11-28T10:00:00Z >/dev/null 2>&1 || die "mediator"
t1=$(now)
echo "call of $secs s: $(stat -c %s "$work/m.hi3") bytes of HI3 ($(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s to generate)"
vault_ingest_start "$site" run
t0=$(now)
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/m.hi2" "$work/m.hi3" || die "send"
vault_ingest_stop run
t1=$(now)
echo "ingest: $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s; $(ls "$site/objects/seg" | wc -l) segments, $(du -sm "$site/objects/seg" | cut -f1) MiB sealed"

t0=$(now)
"$B/lacre" calls --warrant "$W" --json "${J[@]}" > "$work/calls.json" 2>/dev/null || die "calls"
t1=$(now)
id=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["id"])' "$work/calls.json")
echo "cold index + calls: $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s ($(stat -c %s "$site/index.sqlite") bytes of index)"
rm -f "$site/index.sqlite" "$site/index.sqlite-wal" "$site/index.sqlite-shm"
t0=$(now)
"$B/lacre" audio "$id" -o "$work/cold.wav" --json "${J[@]}" > "$work/cold.json" 2>/dev/null || die "audio (cold)"
t1=$(now)
python3 - "$work/cold.json" "$t0" "$t1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); t = float(sys.argv[3]) - float(sys.argv[2])
print(f"audio, cold index: {t:.2f} s in all (index built in the same command); "
      f"first audio byte {r['first_audio_us'] / 1000:.1f} ms after the index was ready")
PY
t0=$(now)
"$B/lacre" audio "$id" -o "$work/warm.wav" --json "${J[@]}" > "$work/warm.json" 2>/dev/null || die "audio (warm)"
t1=$(now)
size=$(stat -c %s "$work/warm.wav")
python3 - "$work/warm.json" "$t0" "$t1" "$size" "$secs" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); t = float(sys.argv[3]) - float(sys.argv[2])
size, secs = int(sys.argv[4]), float(sys.argv[5])
w = r['elapsed_us'] / 1e6
print(f"audio, warm index: first audio byte after {r['first_audio_us'] / 1000:.1f} ms "
      f"(inside lacre audio_write: plan from the index, header, first segment decrypted)")
print(f"audio export: {size / 1e6:.1f} MB WAV in {w:.2f} s = {size / 1e6 / w:.1f} MB/s "
      f"({secs / w:.0f} s of call per second); whole command {t:.2f} s "
      f"(passphrase scrypt, access log, keystore included)")
PY
t0=$(now)
"$B/lacre" pcap --warrant "$W" -o "$work/c.pcap" "${J[@]}" 2>/dev/null || die "pcap"
t1=$(now)
size=$(stat -c %s "$work/c.pcap")
echo "pcap export: $(awk -v s="$size" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f MB in %.2f s = %.1f MB/s", s/1e6, b-a, s/1e6/(b-a)}') (whole command)"
