#!/usr/bin/env bash
# bench/keeper.sh - what the keeper costs a read (issue 10): the same read
# through the keeper (a signed request over its Unix socket, the worker's
# access-event signature asked of the client, the output relayed in
# frames) and in-process (LACRE_KEEPER=off: the CLI unlocks the master key
# itself, as before the keeper), each KEEPER_RUNS times, alternating, the
# median printed:
#   1. `lacre records --json` of one warrant: records per second;
#   2. `lacre audio CALL -o FILE`: the time from the command's start to the
#      first audio byte the caller can read, polled every 0.5 ms.  Both
#      paths write FILE.part (in-process: mapped and sized up front, so its
#      size says nothing) and publish FILE whole (rename; the keeper's
#      client: link after the relayed bytes), so this is the time until
#      FILE appears with more than its 44-byte header.  Through the keeper
#      the file is relayed after the worker ends (docs/keeper.md).
# Each as a ratio keeper / in-process (target: the keeper costs < 10 %,
# i.e. a records/s ratio >= 0.90 and a first-byte ratio <= 1.10).  Printed,
# never asserted.  The traffic (KEEPER_CALL_SECONDS, default 60, of one
# call and 4 sessions) comes from lacre-mediator --output through a real
# lacre ingest on loopback; the keeper runs as this user.
# Environment: KEEPER_RUNS (default 7), KEEPER_CALL_SECONDS.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top"
B=build/bin
for p in lacre lacre-mediator; do
	[ -x "$B/$p" ] || { echo "keeper.sh: $B/$p missing: run make"; exit 0; }
done
command -v python3 >/dev/null || { echo "keeper.sh: python3 missing"; exit 0; }
work=$(mktemp -d /tmp/lacre-bench-keeper-XXXXXX)
IPID= KPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "$KPID" ] && kill $KPID 2>/dev/null; rm -rf "$work"' EXIT
export LACRE_TOP=$top
. tests/e2e/lib/vault.bash
runs=${KEEPER_RUNS:-7} secs=${KEEPER_CALL_SECONDS:-60}

site=$work/site
vault_init "$site"
export LACRE_SITE=$site
W=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri) || die "warrant"
"$B/lacre-mediator" --output "$work/m" --targets 1 --calls 1 --call-seconds "$secs" --sessions 4 \
	--seed 5 --start-time 2026-11-28T10:00:00Z >/dev/null 2>&1 || die "mediator"
vault_ingest_start "$site" bench
python3 tests/e2e/lib/send_streams.py "$HI2" "$HI3" "$work/m.hi2" "$work/m.hi3" || die "sending"
vault_ingest_stop bench
IPID=
J=(--justification "benchmark of the keeper" --user "$INV_KEY")
# a warm index for both (the first read indexes every new segment)
LACRE_KEEPER=off "$B/lacre" calls --warrant "$W" --json "${J[@]}" > "$work/calls.json" 2>/dev/null ||
	die "calls"
call=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["id"])' "$work/calls.json")

printf '%s\n' "$LACRE_PASSPHRASE" > "$work/pass"; chmod 600 "$work/pass"
env -u LACRE_PASSPHRASE "$B/lacre" keeper --site "$site" --passphrase-file "$work/pass" --quiet \
	--ready-file "$work/kready" 2>"$work/keeper.err" &
KPID=$!
wait_file 60 "$work/kready" || { cat "$work/keeper.err"; die "the keeper did not start"; }

# bench.py MODE...: one measurement per line, "keeper" or "inproc" first
python3 - "$B/lacre" "$W" "$call" "$work" "$runs" "${J[@]}" <<'PY'
import os, statistics, subprocess, sys, time
lacre, w, call, work, runs = sys.argv[1:6]
runs = int(runs)
just = sys.argv[6:]
def env(mode):
    e = dict(os.environ)
    if mode == "keeper":
        e.pop("LACRE_PASSPHRASE", None)      # a client never has it
    else:
        e["LACRE_KEEPER"] = "off"
    return e
def records(mode):
    t0 = time.perf_counter()
    p = subprocess.run([lacre, "records", "--warrant", w, "--json"] + just, env=env(mode),
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    t = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit("records (%s) exited with %d" % (mode, p.returncode))
    return p.stdout.count(b"\n"), t
def first_audio(mode, i):
    out = os.path.join(work, "a-%s-%d.wav" % (mode, i))
    seen = None
    t0 = time.perf_counter()
    p = subprocess.Popen([lacre, "audio", call, "-o", out] + just, env=env(mode),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while seen is None:
        try:
            if os.stat(out).st_size > 44:
                seen = time.perf_counter() - t0
        except FileNotFoundError:
            pass
        if seen is None and p.poll() is not None:
            seen = time.perf_counter() - t0 if os.path.exists(out) else -1
        time.sleep(0.0005)
    rc = p.wait()
    t = time.perf_counter() - t0
    if rc != 0 or seen < 0:
        sys.exit("audio (%s) exited with %d" % (mode, rc))
    size = os.stat(out).st_size
    os.unlink(out)
    return seen, t, size
rec = {"keeper": [], "inproc": []}
aud = {"keeper": [], "inproc": []}
n = 0
for i in range(runs):
    for mode in (("keeper", "inproc") if i % 2 == 0 else ("inproc", "keeper")):
        n, t = records(mode)
        rec[mode].append(n / t)
        aud[mode].append(first_audio(mode, i))
med = lambda xs: statistics.median(xs)
rk, ri = med(rec["keeper"]), med(rec["inproc"])
fk, fi = med([a[0] for a in aud["keeper"]]), med([a[0] for a in aud["inproc"]])
ak, ai = med([a[1] for a in aud["keeper"]]), med([a[1] for a in aud["inproc"]])
size = aud["keeper"][0][2]
print(f"records --json of {n} records, median of {runs}: keeper {rk:,.0f} records/s, "
      f"in-process {ri:,.0f} records/s: ratio {rk / ri:.2f} (target >= 0.90)")
print(f"audio of a {size / 1e6:.1f} MB call, first audio byte, median of {runs}: keeper "
      f"{fk * 1000:.1f} ms, in-process {fi * 1000:.1f} ms: ratio {fk / fi:.2f} (target <= 1.10)")
print(f"audio, whole command: keeper {ak * 1000:.1f} ms, in-process {ai * 1000:.1f} ms: "
      f"ratio {ak / ai:.2f}")
PY
kill -TERM "$KPID"; wait "$KPID"; KPID=
