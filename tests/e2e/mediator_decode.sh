#!/usr/bin/env bash
# mediator_decode.sh - `lacre decode` (the project's decoder) reads every
# --output stream of lacre-mediator with no error, in all four length
# styles and both timestamp styles, and its counts per kind, content and
# stream equal the mediator's summary.  Skips (77) while `lacre decode`
# does not exist yet.
set -u
. "$(dirname "$0")/mediator_common.bash"
LACRE=$top/build/bin/lacre
"$LACRE" decode --help >/dev/null 2>&1 || { echo "FAIL: lacre decode --help failed (a test run needs the build)"; exit 1; }

for lengths in openli minimal long indefinite; do
	for ts in microsecond generalized; do
		"$MED" --output "$T/o" --seed 5 --targets 6 --calls 4 --sessions 4 --lengths $lengths --timestamp $ts \
			--start-time 2026-03-01T10:00:00Z --integrity-hash sha384 --integrity-every 40 \
			--inject-resets 1 --inject-gaps 2 --hi1 --summary "$T/o.json" || exit 1
		for hi in hi2 hi3; do
			"$LACRE" decode "$T/o.$hi" > "$T/$hi.jsonl" 2> "$T/$hi.err" || {
				echo "lacre decode failed on $hi ($lengths, $ts):"; head -5 "$T/$hi.err"; exit 1; }
			[ -s "$T/$hi.err" ] && { echo "decode warnings on $hi ($lengths, $ts):"; head -5 "$T/$hi.err"; exit 1; }
		done
		python3 - "$T" "$ts" <<'PY' || { echo "($lengths, $ts)"; exit 1; }
import json, sys, collections
t, ts = sys.argv[1], sys.argv[2]
s = json.load(open(t + '/o.json'))
sent = collections.Counter()
kinds = collections.Counter()
n = 0
for hi in ('hi2', 'hi3'):
    for line in open('%s/%s.jsonl' % (t, hi)):
        d = json.loads(line)
        n += 1
        kinds[d['kind']] += 1
        assert d['time'] is not None and d['time'].startswith('2026-'), d
        if d['kind'] in ('iri', 'cc'):
            assert d['content'] in ('ipmmiri', 'ipiri', 'ipmmcc', 'ipcc'), d
            assert (d['kind'] == 'iri') == (hi == 'hi2')
            sent['%s/%s/%s' % (d['liid'], d['cin'], d['kind'])] += 1
            if d['content'] == 'ipmmiri':
                assert d['iri_type'] in ('begin', 'continue', 'end'), d
assert dict(sent) == s['sent'], 'per-stream counts differ'
assert n == s['pdus_sent'], (n, s['pdus_sent'])
assert kinds['integrity-check'] == s['integrity_pdus_sent'], kinds
assert kinds['hi1'] == s['hi1_pdus_sent'] == 12, kinds
assert kinds['keepalive'] == s['keepalives_sent'] == 2, kinds
PY
	done
done
echo "mediator_decode: ok"
