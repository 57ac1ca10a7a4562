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
#      The keeper's phase lines (LACRE_KEEPER_TIMING=1, docs/keeper.md
#      "Timing") are names and times only, on the keeper's stderr only, and
#      show the handler woken by inotify and the access event logged before
#      the file's first byte leaves the keeper; with inotify_init1 failing
#      (LD_PRELOAD no_inotify.c) the handler's timed look gives the same
#      bytes, streamed;
#   3. pcap through the same relay still gives the in-process bytes;
#   4. the console (lacre-console, docs/console.md): `audio` answers
#      "stream" at the WAV's header; GET /api/file/ID gives the in-process
#      bytes and /api/file/ID/done status 0; `lacre audio --keeper URL`
#      (the HTTPS client) gives them too; with the segment removed the
#      download is cut short of its Content-Length (never a complete-looking
#      file), /done says status 3 with the segment's message, and `lacre
#      audio --keeper URL` exits 3 leaving no file.  The console's phase
#      lines (LACRE_CONSOLE_TIMING=1) come in the relay's order.
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
# keeper_start ERRFILE [VAR=VALUE...]: the keeper, with its phase lines
# (LACRE_KEEPER_TIMING, docs/keeper.md "Timing") in ERRFILE; sets KPID, SOCK
keeper_start() {
	local err=$1; shift
	rm -f "$work/kready"
	env -u LACRE_PASSPHRASE LACRE_KEEPER_TIMING=1 "$@" "$L" keeper --site "$site" \
		--passphrase-file "$work/pass" --quiet --ready-file "$work/kready" 2>"$err" &
	KPID=$!
	wait_file 60 "$work/kready" || { cat "$err"; die "the keeper did not start"; }
	SOCK=$(sed -n 's/^socket=//p' "$work/kready")
}
keeper_stop() {
	kill -TERM "$KPID"
	wait "$KPID" || die "the keeper exited with $?"
	KPID=
}
# audio_streamed TAG: `lacre audio` and the frame client (keeper_frames.py)
# through the keeper give the in-process WAV, and the frames show it
# streamed: the worker's summary ("lacre: f.wav: 1200.000 s, ...") is its
# last line, printed after the file is complete; a 'F' frame must come
# before it
audio_streamed() {
	local t=$1
	"$L" audio "$call" -o "$work/k$t.wav" "${J[@]}" --user "$INV_KEY" 2>"$work/k$t.err" ||
		{ cat "$work/k$t.err"; die "audio through the keeper ($t)"; }
	cmp -s "$work/direct.wav" "$work/k$t.wav" || die "the keeper's WAV differs from the in-process one ($t)"
	[ ! -e "$work/k$t.wav.part" ] || die "k$t.wav.part left behind"
	python3 "$top/tests/e2e/lib/keeper_frames.py" "$SOCK" "$INV_KEY" "$work/f$t.wav" \
		audio "$call" -o "f$t.wav" "${J[@]}" > "$work/frames$t" || { cat "$work/frames$t"; die "the frame client ($t)"; }
	tail -1 "$work/frames$t" | grep -qx 'X 0' || { cat "$work/frames$t"; die "the frame client's exit is not 0 ($t)"; }
	cmp -s "$work/direct.wav" "$work/f$t.wav" || die "the frame client's WAV differs from the in-process one ($t)"
	python3 - "$work/frames$t" "f$t.wav" <<'PY' || { cat "$work/frames$t"; die "the file was not streamed before the command ended ($t)"; }
import sys
fr = [l.rstrip("\n") for l in open(sys.argv[1])]
summary = max(i for i, l in enumerate(fr) if l.startswith("E lacre: %s: " % sys.argv[2]))
first_f = min(i for i, l in enumerate(fr) if l.startswith("F "))
sys.exit(0 if first_f < summary else 1)
PY
}
# timing_ok ERRFILE CLIENT_ERR MODE: the phase lines of the keeper's two
# audio requests: names and times only (no call, user or justification),
# none on the client's stderr, MODE (follow-inotify: the handler woken by
# the worker's writes; follow-poll: the fallback) for both, and in each the
# access event logged (gate-logged, after the user's signature) before the
# file's first byte left the keeper, which was before the worker ended
timing_ok() {
	python3 - "$1" "$2" "$3" "$call" "inv" "${J[1]}" <<'PY'
import re, sys
err, cerr, mode, call, user, just = sys.argv[1:7]
if any("timing:" in l for l in open(cerr, errors="replace")):
    sys.exit("a timing line reached the client's stderr")
reqs = {}
for l in open(err, errors="replace"):
    if "timing:" not in l:
        continue
    m = re.fullmatch(r"lacre keeper: timing: req=(\d+) t=(\d+) ([a-z0-9-]+)\n", l)
    if not m or any(x in l for x in (call, just, " " + user + " ")):
        sys.exit("not a timing line of names and times only: %r" % l)
    reqs.setdefault(m[1], {}).setdefault(m[3], int(m[2]))
audio = [r for r in reqs.values() if "file-first-sent" in r]
if len(audio) != 2:
    sys.exit("%d requests sent a file, not 2: %r" % (len(audio), reqs))
need = ["accepted", "request-read", "signature-checked", "request-checked", "handler-forked",
        "handler-start", "worker-forked", "worker-start", "sign-asked", "sign-answered", "gate-logged",
        "call-found", "file-open", "file-first-sent", "file-past-44-sent", "worker-reaped", "exit-sent", mode]
for r in audio:
    miss = [p for p in need if p not in r]
    if miss:
        sys.exit("phases missing: %s (have %s)" % (miss, sorted(r)))
    for a, b in [("accepted", "request-read"), ("request-read", "signature-checked"),
                 ("signature-checked", "handler-forked"), ("worker-start", "sign-asked"),
                 ("sign-asked", "sign-answered"), ("sign-answered", "gate-logged"),
                 ("gate-logged", "file-first-sent"), ("file-first-sent", "file-past-44-sent"),
                 ("file-first-sent", "worker-reaped"), ("worker-reaped", "exit-sent")]:
        if not r[a] <= r[b]:
            sys.exit("phase %s (t=%d) after %s (t=%d)" % (a, r[a], b, r[b]))
    if not r["gate-logged"] < r["file-first-sent"] < r["worker-reaped"]:
        sys.exit("the access log did not come before the first byte, or the file was not streamed")
PY
}

# --- 1. streamed, the same bytes; the phase lines
keeper_start "$work/keeper.err"
unset LACRE_PASSPHRASE
audio_streamed ""
ok "audio through the keeper: the same $(stat -c %s "$work/k.wav") bytes as in process, twice"
ok "the WAV's bytes reach the client before the worker's last line: streamed"
timing_ok "$work/keeper.err" "$work/k.err" follow-inotify || die "the keeper's phase lines (inotify)"
ok "phase lines: names and times only, keeper's stderr only; woken by inotify; access log before the first byte"
# without inotify (no_inotify.c: inotify_init1 fails as at the per-user
# limit): the timed look at the output file, the same bytes, streamed
keeper_stop
cc -shared -fPIC -O1 -o "$work/no_inotify.so" "$top/tests/e2e/no_inotify.c" || die "cannot build the inotify shim"
# (a sanitizer build wants its runtime first: the shim goes before it)
keeper_start "$work/keeper-poll.err" LD_PRELOAD="$work/no_inotify.so" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
grep -q no_inotify "/proc/$KPID/maps" || die "the inotify shim is not loaded in the keeper"
audio_streamed "-poll"
timing_ok "$work/keeper-poll.err" "$work/k-poll.err" follow-poll || die "the keeper's phase lines (no inotify)"
ok "without inotify: the timed look, the same bytes, streamed, access log before the first byte"
keeper_stop
keeper_start "$work/keeper.err"

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
LACRE_CONSOLE_TIMING=1 "${LACRE_CONSOLE_BIN:-$L-console}" --site "$site" --listen 127.0.0.1:0 --web "$top/web" \
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
python3 - "$work/console.err" <<'PY' || { cat "$work/console.err"; die "the console's phase lines"; }
import re, sys
ph = []
for l in open(sys.argv[1], errors="replace"):
    if "timing:" in l:
        m = re.fullmatch(r"lacre-console: timing: t=(\d+) ([a-z0-9-]+)\n", l)
        if not m:
            sys.exit("not a timing line of a name and a time only: %r" % l)
        ph.append((int(m[1]), m[2]))
t = {}
for tt, p in ph:
    t.setdefault(p, tt)
for p in ("conn-start", "tls-accepted", "request-read", "keeper-request-sent", "keeper-sign-in",
          "keeper-signature-sent", "keeper-file-first-in", "file-head-sent", "file-past-44-write",
          "answer-sent"):
    if p not in t:
        sys.exit("no %s line" % p)
for a, b in [("keeper-request-sent", "keeper-sign-in"), ("keeper-sign-in", "keeper-signature-sent"),
             ("keeper-signature-sent", "keeper-file-first-in"), ("keeper-file-first-in", "file-head-sent"),
             ("file-head-sent", "file-past-44-write")]:
    if not t[a] <= t[b]:
        sys.exit("phase %s after %s" % (a, b))
PY
ok "console phase lines (LACRE_CONSOLE_TIMING): names and times, in the order of the relay"
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

keeper_stop
echo "PASS audio_stream"
