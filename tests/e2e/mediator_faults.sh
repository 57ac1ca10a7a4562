#!/usr/bin/env bash
# mediator_faults.sh - the fault modes against the minimal LEMF: split
# writes, cuts inside PDUs with resends, garbage, gaps and cINResets.  The
# receiver must see exactly what the summary says: per-stream counts,
# duplicates, truncated tails, resets; and sequence gaps where injected.
# Then keep-alive checks: a wrong response or none at all fails the run.
set -u
. "$(dirname "$0")/mediator_common.bash"

lemf_start
"$MED" --hi2 127.0.0.1:$HI2 --hi3 127.0.0.1:$HI3 --targets 6 --calls 6 --sessions 6 --connections 3 \
	--split-writes --disconnect-every 50 --resend-after-reconnect 3 --inject-gaps 4 --inject-resets 2 \
	--inject-restarts 2 --garbage --keepalive 0.3 --keepalive-wait 2 --reconnect-wait 0.05 --summary "$T/s.json" 2>"$T/med.err" \
	|| { echo "mediator failed"; cat "$T/med.err"; exit 1; }
lemf_stop
compare_summary "$T/s.json" "$T/lemf.json" || exit 1
python3 - "$T/s.json" "$T/lemf.json" <<'PY' || exit 1
import json, sys
s = json.load(open(sys.argv[1])); l = json.load(open(sys.argv[2]))
inj = s['injected']
assert inj['gaps'] == 4 and inj['resets'] == 2 and inj['restarts'] == 2, inj
assert inj['duplicates'] > 0 and s['truncated_pdus'] > 0 and s['reconnects'] > 0, s
assert s['garbage_bytes'] > 0 and l['garbage'] == 1, (s['garbage_bytes'], l['garbage'])
assert s['keepalive_failures'] == 0
print('faults ok:', inj, 'truncated', s['truncated_pdus'], 'reconnects', s['reconnects'])
PY

# a wrong keep-alive response (sequence number + 1) fails the run
lemf_start --bad-response 1
expect_exit 1 "keep-alive response for" "$MED" --hi2 127.0.0.1:$HI2 --hi3 127.0.0.1:$HI3 --targets 1 --calls 1 \
	--call-seconds 0.1 --keepalive 0.1 --keepalive-wait 1 --summary "$T/k.json" ||
	{ echo "wrong keep-alive response not refused"; exit 1; }
lemf_stop
python3 -c "import json; s = json.load(open('$T/k.json')); assert s['keepalive_failures'] >= 1" || exit 1

# no response at all within --keepalive-wait fails the run
lemf_start --no-response
expect_exit 1 "no keep-alive response" "$MED" --hi2 127.0.0.1:$HI2 --hi3 127.0.0.1:$HI3 --targets 1 --calls 1 \
	--call-seconds 0.1 --keepalive 0.1 --keepalive-wait 0.3 --duration 3 ||
	{ echo "missing keep-alive response not refused"; exit 1; }
lemf_stop

# keep-alive wait 0: no response needed, the run succeeds
lemf_start --no-response
"$MED" --hi2 127.0.0.1:$HI2 --hi3 127.0.0.1:$HI3 --targets 1 --calls 1 --call-seconds 0.1 \
	--keepalive 0.1 --keepalive-wait 0 2>"$T/z.err" || { echo "keepalive-wait 0 failed"; cat "$T/z.err"; exit 1; }
lemf_stop
echo "mediator_faults: ok"
