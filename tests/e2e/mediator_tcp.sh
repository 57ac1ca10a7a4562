#!/usr/bin/env bash
# mediator_tcp.sh - lacre-mediator delivers calls and sessions over TCP to a
# minimal LEMF (tests/e2e/mediator_lemf.py, an independent BER reader); the
# receiver's per-stream counts equal the --summary, keep-alives are all
# answered, the rate is honoured (never above the --rate asked; the lower
# bound only catches a stalled pacer: throughput belongs to bench/), 100
# connection pairs work, and a non-loopback target is refused.
set -u
. "$(dirname "$0")/mediator_common.bash"

lemf_start
start=$(date +%s%N)
"$MED" --hi2 127.0.0.1:$HI2 --hi3 127.0.0.1:$HI3 --targets 6 --calls 6 --sessions 6 \
	--rate 1000 --keepalive 0.2 --keepalive-wait 2 --summary "$T/s1.json" || { echo "mediator failed"; exit 1; }
el=$(( $(date +%s%N) - start ))
lemf_stop
compare_summary "$T/s1.json" "$T/lemf.json" || exit 1
python3 - "$T/s1.json" "$el" <<'PY' || exit 1
import json, sys
s = json.load(open(sys.argv[1])); el = int(sys.argv[2]) / 1e9
n = s['pdus_sent'] - s['keepalives_sent']
# 6 calls of 2 s (7 IRI + 200 CC) and 6 sessions (4 IRI + 20 CC)
assert s['data_pdus_sent'] == 6 * 207 + 6 * 24, s['data_pdus_sent']
assert len(s['sent']) == 24, len(s['sent'])
assert s['keepalive_responses_ok'] == s['keepalives_sent'] >= 2
rate = n / el
print('sent %d PDUs in %.2f s: %.0f/s' % (n, el, rate))
# --rate is a ceiling: the whole run (connection set-up included) must not
# beat it by more than timer granularity; the floor is a quarter of it, so a
# loaded 2-core machine passes and a pacer that stalls does not
assert rate <= 1060, 'rate %.0f above the 1000/s ceiling' % rate
assert rate >= 250, 'rate %.0f: the pacer stalls (under a quarter of 1000/s)' % rate
PY

# many connections: 100 pairs, 200 targets, every pair used
lemf_start
"$MED" --hi2 127.0.0.1:$HI2 --hi3 127.0.0.1:$HI3 --targets 200 --connections 100 \
	--calls 100 --sessions 100 --call-seconds 0.2 --session-packets 4 --summary "$T/s2.json" \
	|| { echo "mediator failed with 100 connections"; exit 1; }
lemf_stop
compare_summary "$T/s2.json" "$T/lemf.json" || exit 1
python3 -c "
import json; l = json.load(open('$T/lemf.json'))
assert l['connections'] == 200, l['connections']" || exit 1

# refusals: non-loopback address, missing receiver
expect_exit 1 "192.0.2.1 is not a loopback address" "$MED" --hi2 192.0.2.1:5001 --hi3 127.0.0.1:5002 ||
	{ echo "remote target not refused"; exit 1; }
expect_exit 1 "cannot connect" "$MED" --hi2 127.0.0.1:1 --hi3 127.0.0.1:1 --connect-timeout 0.5 ||
	{ echo "no receiver not reported"; exit 1; }
expect_exit 2 "unknown option --bogus: see lacre-mediator --help" "$MED" --bogus ||
	{ echo "an unknown option is not a usage error"; exit 1; }
echo "mediator_tcp: ok"
