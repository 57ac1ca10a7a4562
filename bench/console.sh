#!/usr/bin/env bash
# bench/console.sh - the web console's figures (issue 13), through its HTTPS
# API as a browser speaks it (tests/e2e/lib/console_api.py's client: pinned
# certificate, signed login, signed keeper requests, CSRF token):
#   1. time to the first audio byte of a one-hour call: the page's request
#      (POST /api/run `audio CALL`, the access event signed, the "stream"
#      answer, then GET /api/file/ID) until the first byte after the WAV's
#      header arrives, and until the last; cold (first request) and warm
#      (median of the next CONSOLE_RUNS); target <= 300 ms warm;
#      and once, inside the command alone, the plan's phases (index rows
#      read, sorts, placing) up to the first audio byte (LACRE_AUDIO_TIMING);
#   2. the time to list a warrant's calls (`calls --json` through the
#      console) for a warrant with CONSOLE_CALLS short calls, made by
#      lacre-mediator through a real lacre ingest on loopback.
# Beside each, the machine's own figure: the same through the keeper's
# socket (`lacre audio` / `lacre calls --json`, no HTTPS, no browser
# relay; for audio the first byte after the header in FILE.part, looked
# at every 2 ms).  With both, where the warm first byte's time goes: the
# keeper's and the console's phase lines (LACRE_KEEPER_TIMING,
# LACRE_CONSOLE_TIMING: CLOCK_MONOTONIC, the client's clock too), in ms
# from the client's request, each phase the median of the warm runs, then
# the spans between them (the keeper's checks and forks, the signature
# round trip, the access log, the call lookup, the audio plan, the relay).
# The client keeps one TLS context, as a browser does (building one per
# request cost ~40 ms of the client's own CPU each time, three times per
# audio request).  Printed, never asserted; noisy on a shared machine.  CONSOLE_CALLS (default 10000): if
# making them exceeds about 2 minutes on this machine, set a smaller count;
# the output says how many calls were made and how long it took.
# Environment: CONSOLE_CALLS, CONSOLE_RUNS (default 5), CONSOLE_CALL_SECONDS
# (default 3600).
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top"
B=build/bin
for p in lacre lacre-mediator lacre-console; do
	[ -x "$B/$p" ] || { echo "console.sh: $B/$p missing: run make"; exit 0; }
done
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
"$PY" -c 'import cryptography' 2>/dev/null || { echo "console.sh: python3-cryptography missing"; exit 0; }
work=$(mktemp -d /tmp/lacre-bench-console-XXXXXX)
IPID= KPID= CPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "$CPID" ] && kill $CPID 2>/dev/null;
	[ -n "$KPID" ] && kill $KPID 2>/dev/null; rm -rf "$work"' EXIT
export LACRE_TOP=$top
. tests/e2e/lib/vault.bash
ncalls=${CONSOLE_CALLS:-10000} runs=${CONSOLE_RUNS:-5} secs=${CONSOLE_CALL_SECONDS:-3600}

site=$work/site
vault_init "$site"
export LACRE_SITE=$site
# a one-hour call (LIID LONG0001) and many short ones (LIID MANY0001)
WL=$(vault_warrant "$site" LONG0001 2026-11-01 2027-01-31 content,iri) || die "warrant LONG0001"
WM=$(vault_warrant "$site" MANY0001 2026-11-01 2027-01-31 iri) || die "warrant MANY0001"
t0=$(date +%s.%N)
"$B/lacre-mediator" --output "$work/l" --liid-prefix LONG --targets 1 --calls 1 --call-seconds "$secs" \
	--sessions 0 --seed 5 --start-time 2026-11-28T10:00:00Z >/dev/null 2>&1 || die "mediator (the long call)"
"$B/lacre-mediator" --output "$work/m" --liid-prefix MANY --targets 1 --calls "$ncalls" --call-seconds 2 \
	--sessions 0 --seed 6 --start-time 2026-11-29T10:00:00Z >/dev/null 2>&1 || die "mediator ($ncalls calls)"
vault_ingest_start "$site" bench
python3 tests/e2e/lib/send_streams.py "$HI2" "$HI3" "$work/l.hi2" "$work/l.hi3" || die "sending the long call"
python3 tests/e2e/lib/send_streams.py "$HI2" "$HI3" "$work/m.hi2" "$work/m.hi3" || die "sending $ncalls calls"
vault_ingest_stop bench
IPID=
t1=$(date +%s.%N)
echo "traffic: one ${secs}-s call and $ncalls 2-s calls made by lacre-mediator and ingested in $(
	python3 -c "print('%.0f' % ($t1 - $t0))") s (CONSOLE_CALLS sets the count)"
J=(--justification "benchmark of the console" --user "$INV_KEY")
# warm indexes (the first read indexes every new segment)
LACRE_KEEPER=off "$B/lacre" calls --warrant "$WL" --json "${J[@]}" > "$work/calls.json" 2>/dev/null || die "calls"
LACRE_KEEPER=off "$B/lacre" calls --warrant "$WM" --json "${J[@]}" > /dev/null 2>&1 || die "calls ($WM)"
call=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["id"])' "$work/calls.json")
# where the first audio byte's time goes inside the command (no keeper, no
# console): the plan's phases, LACRE_AUDIO_TIMING (lib/access/audio.c)
LACRE_KEEPER=off LACRE_AUDIO_TIMING=1 "$B/lacre" audio "$call" -o "$work/timing.wav" "${J[@]}" >/dev/null \
	2>"$work/timing.err" || die "audio (timing)"
echo "audio inside the command, ms from its start: $(sed -n 's/^lacre: audio timing: \(.*\) at \(.*\) ms$/\1 \2/p' \
	"$work/timing.err" | paste -sd, -)"
rm -f "$work/timing.wav"

printf '%s\n' "$LACRE_PASSPHRASE" > "$work/pass"; chmod 600 "$work/pass"
env -u LACRE_PASSPHRASE LACRE_KEEPER_TIMING=1 "$B/lacre" keeper --site "$site" --passphrase-file "$work/pass" --quiet \
	--ready-file "$work/kready" 2>"$work/keeper.err" &
KPID=$!
wait_file 60 "$work/kready" || { cat "$work/keeper.err"; die "the keeper did not start"; }
unset LACRE_PASSPHRASE
mkdir -m 700 "$work/console"
LACRE_CONSOLE_TIMING=1 "$B/lacre-console" --site "$site" --listen 127.0.0.1:0 --web "$top/web" \
	--cert "$work/console/cert.pem" --key "$work/console/key.pem" \
	--ready-file "$work/console/ready" 2>"$work/console.err" &
CPID=$!
wait_file 20 "$work/console/ready" || { cat "$work/console.err"; die "the console did not start"; }
URL=$(sed -n 's/^url=//p' "$work/console/ready")
FPR=$(sed -n 's/.*certificate SHA-256 fingerprint \([0-9a-f]\{64\}\)$/\1/p' "$work/console.err")
[ -n "$URL" ] && [ -n "$FPR" ] || { cat "$work/console.err"; die "the console's url or fingerprint"; }

PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$top/tests/e2e/lib "$PY" - "$URL" "$FPR" "$INV_KEY" "$B/lacre" "$call" "$WM" "$runs" "$work" "$secs" <<'PY'
import base64, hashlib, http.client, json, os, ssl, statistics, subprocess, sys, time
from console_api import Console
mono = lambda: time.clock_gettime(time.CLOCK_MONOTONIC)   # the keeper's and console's timing clock
url, fpr, key, lacre, call, wm, runs, work, secs = sys.argv[1:10]
runs = int(runs)
just = "benchmark of the console"
c = Console(url, fpr)
st, _, _ = c.login(key)
if st != 200:
    sys.exit("console login: %d" % st)

def fetch(path):
    """GET path with the session: the times to the first audio byte (the
    one after the WAV's 44-byte header) and to the last, and the size."""
    h = http.client.HTTPSConnection(c.host, c.port, context=c.ctx, timeout=120)   # pinned below
    h.connect()
    if hashlib.sha256(h.sock.getpeercert(binary_form=True)).hexdigest() != fpr:
        sys.exit("the console's certificate is not the one it printed")
    h.request("GET", path, headers={"Cookie": "lacre_session=" + c.cookie})
    r = h.getresponse()
    head = r.read(44)
    b = r.read(1)
    t = mono()
    n = len(head) + len(b) + len(r.read())
    tw = mono()
    h.close()
    if r.status != 200 or not b:
        sys.exit("GET %s: %d" % (path, r.status))
    return t, tw, n

def console_audio():
    """Through the console: (first audio byte, whole file) in s, size,
    and the request's start (CLOCK_MONOTONIC, s)."""
    t0 = mono()
    st, j = c.run(["audio", call, "-o", "call.wav", "--justification", just])
    if st != 200 or j.get("state") not in ("stream", "done") or j.get("status", 0) != 0:
        sys.exit("audio through the console: %s %s" % (st, j.get("err")))
    t, tw, n = fetch("/api/file/" + j["file"])
    if j["state"] == "stream":
        st, _, d = c.req("GET", "/api/file/%s/done" % j["file"])
        if st != 200 or json.loads(d).get("status") != 0:
            sys.exit("audio through the console: its end: %s %s" % (st, d[:200]))
    return t - t0, tw - t0, n, t0

def keeper_audio(i):
    """`lacre audio` through keeper.sock: (first audio byte in FILE.part,
    whole file) in s; the file is looked at every 2 ms."""
    out = os.path.join(work, "k-%d.wav" % i)
    t0 = mono()
    p = subprocess.Popen([lacre, "audio", call, "-o", out, "--justification", just, "--user", key],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    first = None
    while p.poll() is None:
        if first is None:
            try:
                if os.stat(out + ".part").st_size > 44:
                    first = mono() - t0
            except FileNotFoundError:
                pass
        time.sleep(0.002)
    whole = mono() - t0
    err = p.stderr.read()
    if p.returncode != 0:
        sys.exit("lacre audio through the keeper: %s" % err.decode().strip())
    os.unlink(out)
    return (first if first is not None else whole), whole, None, t0

ms = lambda v: "%.0f ms" % (v * 1000)

def stamps(path, tag):
    """The timing lines of a log: (t in s, who, phase), who = 'keeper' or
    'console'."""
    out = []
    for line in open(path, errors="replace"):
        if tag not in line:
            continue
        f = line.split()
        t = [x for x in f if x.startswith("t=")]
        if t:
            out.append((int(t[0][2:]) / 1e6, "console" if "console" in tag else "keeper", f[-1]))
    return out

def phases(label, runs_):
    """Print the phases of the runs (each (first, whole, size, t0)): for
    each phase (a repeated one numbered: the console sees three
    connections), the median over the runs of its time from the run's
    request, up to the run's first audio byte at the client; then the
    spans that say whose the time is."""
    log = stamps(os.path.join(work, "keeper.err"), "lacre keeper: timing:") + \
          stamps(os.path.join(work, "console.err"), "lacre-console: timing:")
    per = {}
    for first, _, _, t0 in runs_:
        seen = {}
        for t, who, ph in sorted(x for x in log if t0 <= x[0] <= t0 + first):
            k = (who, ph)
            seen[k] = seen.get(k, 0) + 1
            name = ("c:" if who == "console" else "k:") + ph + ("" if seen[k] == 1 else "#%d" % seen[k])
            per.setdefault(name, []).append(t - t0)
    if not per:
        print(f"  {label}: no timing lines (LACRE_KEEPER_TIMING, LACRE_CONSOLE_TIMING)")
        return
    n = len(runs_)
    rows = sorted((med(v), name, len(v)) for name, v in per.items())
    print(f"  {label}, phases: ms from the request, median of {n} (a phase seen in fewer runs says in how many):")
    line = "   "
    for t, name, k in rows:
        item = f" {name} {t * 1000:.1f}" + ("" if k == n else f" ({k}/{n})")
        if len(line) + len(item) > 110:
            print(line)
            line = "   "
        line += item + ","
    print(line.rstrip(","))
    m = {name: med(v) for name, v in per.items() if len(v) == n}
    firstb = med([r[0] for r in runs_])
    spans = [("to the keeper", None, "k:accepted"), ("keeper's checks and forks", "k:accepted", "k:worker-start"),
             ("worker to the access request", "k:worker-start", "k:sign-asked"),
             ("signature round trip", "k:sign-asked", "k:sign-answered"),
             ("access log (durable)", "k:sign-answered", "k:gate-logged"),
             ("key and index", "k:gate-logged", "k:index-updated"), ("call lookup", "k:index-updated", "k:call-found"),
             ("audio plan to header", "k:call-found", "k:file-first-sent"),
             ("header to first audio", "k:file-first-sent", "k:file-past-44-sent"),
             ("relay to the client", "k:file-past-44-sent", None)]
    out = []
    for what, a, b in spans:
        ta = 0.0 if a is None else m.get(a)
        tb = firstb if b is None else m.get(b)
        if ta is not None and tb is not None:
            out.append(f"{what} {(tb - ta) * 1000:.0f}")
    print(f"    spans (ms, from the medians): {', '.join(out)}; first audio byte at the client {firstb * 1000:.0f}")
med = lambda v: statistics.median(v)
cold = console_audio()
size = cold[2]
warm = [console_audio() for _ in range(runs)]
kcold = keeper_audio(0)
kwarm = [keeper_audio(i + 1) for i in range(runs)]
print(f"audio of a {int(secs) / 60:.0f}-minute call ({size / 1e6:.1f} MB WAV); figures are noisy (a shared "
      f"machine); warm = median of {runs}:")
print(f"  through the console (HTTPS, browser API): first audio byte cold {ms(cold[0])}, warm "
      f"{ms(med([w[0] for w in warm]))} (target <= 300 ms warm); whole file cold {ms(cold[1])}, warm "
      f"{ms(med([w[1] for w in warm]))}")
print(f"  through the keeper's socket (`lacre audio -o`): first audio byte cold {ms(kcold[0])}, warm "
      f"{ms(med([w[0] for w in kwarm]))}; whole file cold {ms(kcold[1])}, warm {ms(med([w[1] for w in kwarm]))}")
phases("through the console", warm)
phases("through the keeper's socket", kwarm)

def console_calls():
    t0 = time.perf_counter()
    st, j = c.run(["calls", "--warrant", wm, "--json", "--justification", just])
    t = time.perf_counter() - t0
    if st != 200 or j.get("status") != 0:
        sys.exit("calls through the console: %s %s" % (st, j.get("err")))
    return t, base64.b64decode(j["out"]).count(b"\n")

def keeper_calls():
    t0 = time.perf_counter()
    p = subprocess.run([lacre, "calls", "--warrant", wm, "--json", "--justification", just, "--user", key],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    if p.returncode != 0:
        sys.exit("lacre calls through the keeper: %d" % p.returncode)
    return time.perf_counter() - t0, p.stdout.count(b"\n")

cc = [console_calls() for _ in range(runs)]
kc = [keeper_calls() for _ in range(runs)]
print(f"calls --json of a warrant with {cc[0][1]} calls, median of {runs}: through the console "
      f"{statistics.median(t for t, _ in cc) * 1000:.0f} ms, through the keeper's socket "
      f"{statistics.median(t for t, _ in kc) * 1000:.0f} ms ({kc[0][1]} calls)")
PY
kill -TERM "$CPID"; wait "$CPID"; CPID=
kill -TERM "$KPID"; wait "$KPID"; KPID=
