#!/usr/bin/env bash
# audio_stream.sh - a call's audio streamed through the keeper (issue 13,
# docs/keeper.md "Requests' output files", docs/cmd-audio.md):
#   1. a 20-minute call cut into many small segments (segment.max_bytes
#      1M): `lacre audio` through the keeper's socket gives the same bytes as
#      the in-process path (LACRE_KEEPER=off), and the answer's frames show
#      the file streamed: its bytes ('F') reach the client before the
#      worker's last stderr line (the summary it prints after the file is
#      complete); before this change every 'F' frame came after it;
#   2. a segment in the middle of the call removed from the backend: the
#      keeper has already sent the bytes before it (the whole file's first
#      bytes) when the worker meets the gap, and the answer ends with exit 3;
#      `lacre audio` exits 3 (missing evidence) with the segment's message and leaves neither
#      the file nor FILE.part: a short file is never presented as complete;
#   3. pcap through the same relay still gives the in-process bytes;
#   4. the console (lacre-console, docs/console.md): `audio` answers
#      "stream" at the WAV's header; GET /api/file/ID gives the in-process
#      bytes and /api/file/ID/done status 0; `lacre audio --keeper URL`
#      (the HTTPS client) gives them too; with the segment removed the
#      download is cut short of its Content-Length (never a complete-looking
#      file), /done says status 3 with the segment's message, and `lacre
#      audio --keeper URL` exits 3 leaving no file.
# Timings are never asserted (bench/console.sh prints them).
# LACRE_CONSOLE_BIN=build-asan/bin/lacre-console runs part 4 against the
# sanitizer build (its threads: the feeder, the downloads).
# Exit 0 pass, 1 fail.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-astream-XXXXXX)
IPID= KPID= CPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "$KPID" ] && kill $KPID 2>/dev/null;
	[ -n "$CPID" ] && kill $CPID 2>/dev/null;
	[ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
[ -x "$B/lacre" ] || { echo "FAIL: build/bin/lacre missing: run make (a test run needs the build)"; exit 1; }
python3 -c 'import cryptography' 2>/dev/null || die "python3-cryptography is not installed (scripts/deps installs it)"
ok() { echo "ok   $*"; }
L="$B/lacre"

site=$work/site
vault_init "$site"
export LACRE_SITE=$site
sed -i 's/^segment.max_bytes = .*/segment.max_bytes = 1M/; s/^limits.max_pdu_bytes = .*/limits.max_pdu_bytes = 64K/' \
	"$site/lacre.conf"
W=$(vault_warrant "$site" LONG0001 2026-11-01 2027-01-31 content,iri) || die "warrant LONG0001"
J=(--justification "Diligencias 13/2026: escucha de la llamada")
"$L-mediator" --output "$work/m" --liid-prefix LONG --targets 1 --calls 1 --call-seconds 1200 \
	--sessions 0 --seed 5 --start-time 2026-11-28T10:00:00Z >/dev/null 2>&1 || die "mediator"
vault_ingest_start "$site" run1
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/m.hi2" "$work/m.hi3" || die "sending the call"
vault_ingest_stop run1
IPID=
LACRE_KEEPER=off "$L" calls --warrant "$W" --json "${J[@]}" > "$work/calls.json" 2>"$work/calls.err" ||
	{ cat "$work/calls.err"; die "calls"; }
call=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["id"])' "$work/calls.json")
LACRE_KEEPER=off "$L" audio "$call" -o "$work/direct.wav" "${J[@]}" 2>"$work/direct.err" ||
	{ cat "$work/direct.err"; die "audio in process"; }
LACRE_KEEPER=off "$L" pcap --warrant "$W" -o "$work/direct.pcap" "${J[@]}" 2>"$work/dpcap.err" ||
	{ cat "$work/dpcap.err"; die "pcap in process"; }
# the segments the call's audio is read from, in creation order
python3 - "$site/index.sqlite" "$W" > "$work/segs" <<'PY' || die "listing the call's segments"
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
for (s,) in db.execute("SELECT DISTINCT r.segment FROM records r JOIN segments s ON s.warrant = r.warrant "
                       "AND s.segment = r.segment WHERE r.warrant = ? AND r.kind = 'cc' ORDER BY s.created_us, r.segment",
                       (sys.argv[2],)):
    print(s)
PY
nseg=$(wc -l < "$work/segs")
[ "$nseg" -ge 6 ] || die "the call is in $nseg segments: too few to remove one in the middle (segment.max_bytes?)"
ok "a 20-minute call in $nseg segments, $(stat -c %s "$work/direct.wav") bytes of WAV in process"

printf '%s\n' "$LACRE_PASSPHRASE" > "$work/pass"; chmod 600 "$work/pass"
env -u LACRE_PASSPHRASE "$L" keeper --site "$site" --passphrase-file "$work/pass" --quiet \
	--ready-file "$work/kready" 2>"$work/keeper.err" &
KPID=$!
wait_file 60 "$work/kready" || { cat "$work/keeper.err"; die "the keeper did not start"; }
SOCK=$(sed -n 's/^socket=//p' "$work/kready")
unset LACRE_PASSPHRASE

# --- 1. streamed, the same bytes
"$L" audio "$call" -o "$work/k.wav" "${J[@]}" --user "$INV_KEY" 2>"$work/k.err" ||
	{ cat "$work/k.err"; die "audio through the keeper"; }
cmp -s "$work/direct.wav" "$work/k.wav" || die "the keeper's WAV differs from the in-process one"
[ ! -e "$work/k.wav.part" ] || die "k.wav.part left behind"
ok "audio through the keeper: the same $(stat -c %s "$work/k.wav") bytes as in process"
python3 "$top/tests/e2e/lib/keeper_frames.py" "$SOCK" "$INV_KEY" "$work/f.wav" \
	audio "$call" -o f.wav "${J[@]}" > "$work/frames" || { cat "$work/frames"; die "the frame client"; }
tail -1 "$work/frames" | grep -qx 'X 0' || { cat "$work/frames"; die "the frame client's exit is not 0"; }
cmp -s "$work/direct.wav" "$work/f.wav" || die "the frame client's WAV differs from the in-process one"
# the worker's summary ("lacre: f.wav: 1200.000 s, ...") is its last line,
# printed after the file is complete: a 'F' frame must come before it
python3 - "$work/frames" <<'PY' || { cat "$work/frames"; die "the file was not streamed before the command ended"; }
import sys
fr = [l.rstrip("\n") for l in open(sys.argv[1])]
summary = max(i for i, l in enumerate(fr) if l.startswith("E lacre: f.wav: "))
first_f = min(i for i, l in enumerate(fr) if l.startswith("F "))
sys.exit(0 if first_f < summary else 1)
PY
ok "the WAV's bytes reach the client before the worker's last line: streamed"

# --- 2. a segment removed mid-call: failure, never a short file
mid=$(sed -n "$(( nseg / 2 + 1 ))p" "$work/segs")
obj=$site/objects/$mid
[ -f "$obj" ] || die "segment $mid not found in the backend ($obj)"
mv "$obj" "$work/removed.obj"
expect_exit 3 "segment $mid: the segment does not open" \
	"$L" audio "$call" -o "$work/bad.wav" "${J[@]}" --user "$INV_KEY" || die "audio with a segment removed"
grep -q "cannot write the audio" "$EXPECT_DIR/expect.err" || { cat "$EXPECT_DIR/expect.err"; die "no 'cannot write the audio'"; }
[ ! -e "$work/bad.wav" ] && [ ! -e "$work/bad.wav.part" ] || die "a short WAV was left as bad.wav or bad.wav.part"
python3 "$top/tests/e2e/lib/keeper_frames.py" "$SOCK" "$INV_KEY" "$work/fbad.wav" \
	audio "$call" -o fbad.wav "${J[@]}" > "$work/frames-bad" || { cat "$work/frames-bad"; die "the frame client (bad)"; }
tail -1 "$work/frames-bad" | grep -qx 'X 3' || { cat "$work/frames-bad"; die "the worker did not fail with 3"; }
sent=$(stat -c %s "$work/fbad.wav")
# bytes were streamed before the worker met the missing segment; the whole
# answer (no longer than the complete file: the worker stops appending at
# the failure) differs from it only by silence (zero bytes) where the
# missing segment's samples were: it is not the call, and exit 3 says so
python3 - "$work/fbad.wav" "$work/direct.wav" "$work/frames-bad" "$mid" <<'PY' || { cat "$work/frames-bad"; die "the failed answer's bytes"; }
import sys
got, ref = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
fr = [l.rstrip("\n") for l in open(sys.argv[3])]
prob = min(i for i, l in enumerate(fr) if l.startswith("E lacre: segment %s" % sys.argv[4]))
before = sum(int(l.split()[1]) for l in fr[:prob] if l.startswith("F "))
if before == 0:
    sys.exit("no byte was sent before the worker met the missing segment")
if len(got) > len(ref):
    sys.exit("sent %d bytes, the complete file has %d" % (len(got), len(ref)))
diff = [i for i in range(len(got)) if got[i] != ref[i]]
if not diff:
    sys.exit("the answer is the complete file: the segment's removal changed nothing")
if any(got[i] != 0 for i in diff):
    sys.exit("the answer differs from the complete file by more than silence")
if diff[0] < 44:
    sys.exit("the WAV header differs")
PY
ok "segment $mid removed: exit 3, its message, no bad.wav nor .part; the keeper had streamed bytes before the failure ($sent in all)"
mv "$work/removed.obj" "$obj"

# --- 3. pcap through the same relay
"$L" pcap --warrant "$W" -o "$work/k.pcap" "${J[@]}" --user "$INV_KEY" 2>"$work/kpcap.err" ||
	{ cat "$work/kpcap.err"; die "pcap through the keeper"; }
cmp -s "$work/direct.pcap" "$work/k.pcap" || die "the keeper's pcap differs from the in-process one"
ok "pcap through the keeper: the same $(stat -c %s "$work/k.pcap") bytes as in process"

# --- 4. the console
mkdir -m 700 "$work/console"
"${LACRE_CONSOLE_BIN:-$L-console}" --site "$site" --listen 127.0.0.1:0 --web "$top/web" \
	--cert "$work/console/cert.pem" --key "$work/console/key.pem" \
	--ready-file "$work/console/ready" 2>"$work/console.err" &
CPID=$!
wait_file 20 "$work/console/ready" || { cat "$work/console.err"; die "the console did not start"; }
URL=$(sed -n 's/^url=//p' "$work/console/ready")
FPR=$(sed -n 's/.*certificate SHA-256 fingerprint \([0-9a-f]\{64\}\)$/\1/p' "$work/console.err")
[ -n "$URL" ] && [ -n "$FPR" ] || { cat "$work/console.err"; die "the console's url or fingerprint"; }
R=(--keeper "$URL" --keeper-fingerprint "$FPR")
CS=(python3 "$top/tests/e2e/lib/console_stream.py" "$URL" "$FPR" "$INV_KEY" "$call" "${J[1]}")
"${CS[@]}" whole "$work/direct.wav" || die "the console's streamed WAV"
ok "console: audio answers 'stream'; the download is the in-process WAV; its end: status 0"
"$L" audio "$call" -o "$work/h.wav" "${J[@]}" --user "$INV_KEY" "${R[@]}" 2>"$work/h.err" ||
	{ cat "$work/h.err"; die "audio through the console (HTTPS client)"; }
cmp -s "$work/direct.wav" "$work/h.wav" || die "the HTTPS client's WAV differs from the in-process one"
ok "lacre audio --keeper URL: the same bytes as in process"
mv "$obj" "$work/removed.obj"
"${CS[@]}" cut "$mid" || die "the console's answer with a segment removed"
ok "console, segment removed: the download is cut short, its end says status 3 and names the segment"
expect_exit 3 "segment $mid: the segment does not open" \
	"$L" audio "$call" -o "$work/hbad.wav" "${J[@]}" --user "$INV_KEY" "${R[@]}" ||
	die "audio --keeper URL with a segment removed"
[ ! -e "$work/hbad.wav" ] && [ ! -e "$work/hbad.wav.part" ] || die "a short WAV was left as hbad.wav or .part"
ok "lacre audio --keeper URL, segment removed: exit 3, its message, no file"
mv "$work/removed.obj" "$obj"
kill -TERM "$CPID"
wait "$CPID" || die "the console exited with $?"
CPID=

kill -TERM "$KPID"
wait "$KPID" || die "the keeper exited with $?"
KPID=
echo "PASS audio_stream"
