# mediator_common.bash - helpers sourced by tests/e2e/mediator_*.sh (not a test:
# tests/run only runs *.sh files).
# Provides: $MED (the binary), $T (a temporary directory removed at exit),
# lemf_start ARGS... (starts tests/e2e/mediator_lemf.py, sets $HI2 $HI3 $LEMF_PID),
# lemf_stop (SIGTERM, waits for its JSON in $T/lemf.json), compare_summary, and
# the checks of lib/check.bash (expect_exit, wait_file, ...; EXPECT_DIR=$T).
top=${LACRE_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MED=$top/build/bin/lacre-mediator
LEMF=$top/tests/e2e/mediator_lemf.py
T=$(mktemp -d /tmp/lacre-med-XXXXXX)
. "$top/tests/e2e/lib/check.bash"   # expect_exit, wait_file (EXPECT_DIR=$T)
EXPECT_DIR=$T
LEMF_PID=
cleanup() {
	[ -n "$LEMF_PID" ] && kill "$LEMF_PID" 2>/dev/null
	[ -n "${LACRE_KEEP_TMP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
[ -x "$MED" ] || { echo "FAIL: no $MED: run make (a test run needs the build)"; exit 1; }
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }

lemf_start() {
	rm -f "$T/ready" "$T/lemf.json"
	python3 "$LEMF" --hi2 0 --hi3 0 --out "$T/lemf.json" --ready "$T/ready" "$@" 2>"$T/lemf.err" &
	LEMF_PID=$!
	wait_file 60 "$T/ready" || { echo "LEMF did not start"; cat "$T/lemf.err"; exit 1; }
	read -r HI2 HI3 < "$T/ready"
}

lemf_stop() {
	kill -TERM "$LEMF_PID"
	wait "$LEMF_PID" 2>/dev/null
	LEMF_PID=
	[ -f "$T/lemf.json" ] || { echo "LEMF wrote no JSON"; cat "$T/lemf.err"; exit 1; }
}

# compare_summary SUMMARY LEMF_JSON: every stream's count matches; extra
# copies at the receiver equal injected.duplicates; pdus match.
compare_summary() {
	python3 - "$1" "$2" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); l = json.load(open(sys.argv[2]))
bad = []
extra = 0
for k, v in s['sent'].items():
    got = l['streams'].get(k, {'copies': 0})['copies']
    if got < v:
        bad.append('stream %s: sent %d, received %d' % (k, v, got))
    extra += got - v
for k in l['streams']:
    if k not in s['sent']:
        bad.append('stream %s received but not in the summary' % k)
if extra != s['injected']['duplicates']:
    bad.append('received %d extra copies, summary says %d duplicates' % (extra, s['injected']['duplicates']))
if l['pdus'] != s['pdus_sent']:
    bad.append('receiver got %d PDUs, summary says %d' % (l['pdus'], s['pdus_sent']))
if l['keepalives'] != s['keepalives_sent'] or l['responses'] != s['keepalive_responses_ok']:
    bad.append('keep-alives: receiver %d/%d, summary %d/%d' % (l['keepalives'], l['responses'], s['keepalives_sent'], s['keepalive_responses_ok']))
if l['truncated'] != s['truncated_pdus']:
    bad.append('truncated tails: receiver %d, summary %d' % (l['truncated'], s['truncated_pdus']))
if l['cinresets'] != s['cin_resets_sent'] or l['integrity'] != s['integrity_pdus_sent']:
    bad.append('TRI counts differ')
for b in bad:
    print(b)
print('compared %d streams, %d problems' % (len(s['sent']), len(bad)))
sys.exit(1 if bad else 0)
PY
}
