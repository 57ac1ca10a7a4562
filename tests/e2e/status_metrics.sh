#!/usr/bin/env bash
# status_metrics.sh - the operations view of a running receiver (issue 15):
# lacre ingest rewrites SITE/state/status.prom every second; `lacre status`
# shows it (running, figures that match what the mediator sent, the
# checkpoint) and exits 0; `lacre status --prometheus` and `lacre metrics`
# (GET /metrics on loopback) give the same text, which a strict parser of
# the Prometheus text format accepts and which names no LIID; after the
# receiver stops, `lacre status` says NOT RUNNING and exits 1; a damaged
# file, a missing one and bad options are refused with their statuses; a
# non-loopback --listen is refused without --allow-remote.  The memory
# figures are the kernel's: resident, and at least one 2 MiB huge page of
# it unless the kernel's transparent huge pages are off; an operator's
# GLIBC_TUNABLES too long to add the receiver's malloc settings to is
# kept, with a warning.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-status-XXXXXX)
IPID= MPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "$MPID" ] && kill $MPID 2>/dev/null; rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
. "$top/tests/e2e/lib/check.bash"
EXPECT_DIR=$work OUT=$work/expect.out
ok() { echo "ok   $*"; }
command -v python3 >/dev/null || die "python3 missing"
command -v curl >/dev/null || die "curl missing (scripts/deps installs it)"

site=$work/site
vault_init "$site"
W1=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri) || die "warrant"
"$B/lacre-mediator" --output "$work/s" --targets 2 --calls 2 --sessions 1 --seed 5 \
	--start-time 2026-11-28T10:00:00Z >/dev/null 2>&1 || die "mediator --output"
sent=$(cat "$work/s.hi2" "$work/s.hi3" | "$B/lacre" decode - 2>/dev/null | wc -l)
[ "$sent" -gt 0 ] || die "decode of the sent streams gave nothing"

vault_ingest_start "$site" run1
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/s.hi2" "$work/s.hi3" || die "sending"
# the figures reach the file within a second or two
for _ in $(seq 1 100); do
	p=$(sed -n 's/^lacre_ingest_pdus_total //p' "$site/state/status.prom" 2>/dev/null)
	[ "${p:-0}" -ge "$sent" ] && break
	sleep 0.1
done
[ "${p:-0}" -eq "$sent" ] || die "status.prom counts ${p:-none} PDUs, the mediator sent $sent"
ok "the receiver's status file counts every PDU sent ($sent)"

expect_exit 0 "" "$B/lacre" status --site "$site" || die "status while running"
grep -q "^receiver:    running (pid $IPID," "$OUT" || { cat "$OUT"; die "status does not say running with the receiver's pid"; }
grep -q "^traffic:     $sent PDUs," "$OUT" || { cat "$OUT"; die "status traffic line"; }
grep -q "^checkpoint:  size [0-9]* (lacre/" "$OUT" || { cat "$OUT"; die "status checkpoint line"; }
grep -q "^memory:      [1-9][0-9]* MiB resident, [0-9]* MiB in huge pages; budget 256 MiB" "$OUT" || { cat "$OUT"; die "status memory line"; }
grep -q "^ALERT" "$OUT" && { cat "$OUT"; die "a clean run shows an alert"; }
sed 's/^/     | /' "$OUT"
ok "lacre status: running, $sent PDUs, the checkpoint, no alert (exit 0)"

expect_exit 0 "" "$B/lacre" status --site "$site" --prometheus || die "status --prometheus"
cp "$OUT" "$work/prom.txt"
expect_exit 0 "" "$B/lacre" status --site "$site" --json || die "status --json"
python3 - "$work/prom.txt" "$OUT" "$sent" <<'PY' || die "the metrics text or JSON is not right"
import json, re, sys
text, js, sent = open(sys.argv[1]).read(), json.load(open(sys.argv[2])), int(sys.argv[3])
# the text format (0.0.4): HELP/TYPE before each family's samples, sample
# lines name{labels} value, counters end in _total
line = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-z_]+="[^"\\\n]*")(,[a-z_]+="[^"\\\n]*")*\})? (-?[0-9.e+]+)$')
typed, seen = {}, {}
for l in text.splitlines():
    if l.startswith('# TYPE '):
        _, _, n, t = l.split(' ')
        assert t in ('counter', 'gauge'), l
        assert n not in typed, 'family typed twice: ' + n
        typed[n] = t
        continue
    if l.startswith('#'):
        continue
    m = line.match(l)
    assert m, 'not a sample line: %r' % l
    n = m.group(1)
    assert n in typed, 'sample before its TYPE: ' + n
    if typed[n] == 'counter':
        assert n.endswith('_total'), n
    seen[n + (m.group(2) or '')] = float(m.group(5))
assert 'LIID' not in text, 'a LIID in the metrics'
assert seen['lacre_ingest_pdus_total'] == sent, seen['lacre_ingest_pdus_total']
assert seen['lacre_backend_up'] == 1
assert seen['lacre_seal_records_total'] >= 0
# memory: the kernel's figures; in huge pages unless the kernel has them
# off (lacre ingest runs the receiver with glibc's malloc in huge pages and
# the copies for hash checks are in 2 MiB chunks advised as huge pages)
rss, huge = seen['lacre_ingest_memory_resident_bytes'], seen['lacre_ingest_memory_huge_bytes']
assert rss > 1 << 20, rss
assert 0 <= huge <= rss, (huge, rss)
thp = open('/sys/kernel/mm/transparent_hugepage/enabled').read()
if '[never]' in thp:
    assert huge == 0, huge
else:
    assert huge >= 2 << 20, 'transparent huge pages are %s, the receiver has %d bytes in them' % (thp.strip(), huge)
assert js['running'] is True
assert {(m['name'], m['labels']) for m in js['metrics']} == {
    (k.split('{')[0], k.split('{')[1][:-1] if '{' in k else '') for k in seen}
print('ok   %d samples in %d families, parsed strictly; JSON has the same' % (len(seen), len(typed)))
PY

"$B/lacre" metrics --site "$site" --listen 127.0.0.1:0 --ready-file "$work/m.ready" 2>"$work/m.err" &
MPID=$!
wait_file 20 "$work/m.ready" || { cat "$work/m.err"; die "metrics did not start"; }
mport=$(sed -n 's/^port=//p' "$work/m.ready")
curl -sf "http://127.0.0.1:$mport/metrics" > "$work/scrape.txt" || die "GET /metrics failed"
grep -qx "lacre_up 1" "$work/scrape.txt" || { cat "$work/scrape.txt"; die "lacre_up is not 1"; }
grep -qx "lacre_ingest_pdus_total $sent" "$work/scrape.txt" || die "the scrape lacks the PDU count"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/other")
[ "$code" = 404 ] || die "GET /other answered $code, expected 404"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data x "http://127.0.0.1:$mport/metrics")
[ "$code" = 405 ] || die "POST /metrics answered $code, expected 405"
ok "lacre metrics: GET /metrics has lacre_up 1 and the counts; 404 elsewhere, 405 for POST"

vault_ingest_stop run1
IPID=
expect_exit 1 "" "$B/lacre" status --site "$site" || die "status after the stop"
grep -q "^receiver:    NOT RUNNING" "$OUT" || { cat "$OUT"; die "status after stop"; }
grep -q "^ALERT receiver not running" "$OUT" || { cat "$OUT"; die "no alert after stop"; }
curl -sf "http://127.0.0.1:$mport/metrics" | grep -qx "lacre_up 0" || die "lacre_up is not 0 after the stop"
ok "after the stop: status NOT RUNNING with an alert (exit 1); lacre_up 0"
kill $MPID; wait $MPID 2>/dev/null; MPID=

expect_exit 1 "status: no status file $work/none.prom" "$B/lacre" status --file "$work/none.prom" ||
	die "a missing status file"
printf 'lacre_ingest_pdus_total 12\nnot a line\n' > "$work/bad.prom"
expect_exit 1 "status: the status file $work/bad.prom is damaged" "$B/lacre" status --file "$work/bad.prom" ||
	die "a damaged status file"
expect_exit 2 "usage: lacre status" "$B/lacre" status --site "$site" --json --prometheus || die "--json with --prometheus"
expect_exit 2 "status: --max-age wants a number of seconds > 0, not '-1'" "$B/lacre" status --site "$site" --max-age -1 ||
	die "a negative --max-age"
expect_exit 2 "metrics: 192.0.2.1:9464 is not a loopback address" "$B/lacre" metrics --site "$site" \
	--listen 192.0.2.1:9464 || die "a non-loopback --listen"
ok "missing and damaged files exit 1; bad options and a non-loopback address exit 2"
# an operator's GLIBC_TUNABLES too long to extend: kept as set, and said so
long=$(printf 'glibc.malloc.arena_max=2:%04100d=1' 0)
expect_exit 0 "GLIBC_TUNABLES is too long to add glibc.malloc.hugetlb=1" env GLIBC_TUNABLES="$long" \
	"$B/lacre" ingest --help || die "a GLIBC_TUNABLES too long to extend"
ok "a GLIBC_TUNABLES too long to extend: the receiver starts with it as set, with a warning"
echo "ok"
