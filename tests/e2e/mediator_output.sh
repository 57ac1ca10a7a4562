#!/usr/bin/env bash
# mediator_output.sh - --output mode: the same --seed and --start-time give
# byte-identical HI2/HI3 files (and another seed different ones), in every
# length style and both timestamp styles; the minimal LEMF's BER reader
# splits every file into whole PDUs whose counts match the summary.
set -u
export LEMF_DIR="$(cd "$(dirname "$0")" && pwd)"
. "$(dirname "$0")/mediator_common.bash"

common="--targets 5 --calls 3 --sessions 3 --start-time 2026-01-01T00:00:00Z --integrity-hash sha256 --integrity-every 25 --inject-gaps 2 --inject-resets 1 --hi1"
for lengths in openli minimal long indefinite; do
	for ts in microsecond generalized; do
		"$MED" --output "$T/a" --seed 42 --lengths $lengths --timestamp $ts $common --summary "$T/a.json" || exit 1
		"$MED" --output "$T/b" --seed 42 --lengths $lengths --timestamp $ts $common || exit 1
		cmp "$T/a.hi2" "$T/b.hi2" && cmp "$T/a.hi3" "$T/b.hi3" || { echo "not deterministic ($lengths, $ts)"; exit 1; }
		python3 - "$T/a" "$T/a.json" <<'PY' || { echo "($lengths, $ts)"; exit 1; }
import json, sys
sys.path.insert(0, __import__('os').environ['LEMF_DIR'])
import mediator_lemf as L
s = json.load(open(sys.argv[2]))
counts = {}
total = 0
for hi in ('hi2', 'hi3'):
    b = open(sys.argv[1] + '.' + hi, 'rb').read()
    o = 0
    while o < len(b):
        assert b[o] == 0x30, 'no PDU at %d' % o
        e = L.elem_end(b, o)
        assert e is not None, 'truncated PDU at %d' % o
        k, liid, cin, seq, hdr, tri = L.summarize(b[o:e])
        if k in ('iri', 'cc'):
            key = '%s/%s/%s' % (liid, cin, k)
            counts[key] = counts.get(key, 0) + 1
            assert (k == 'iri') == (hi == 'hi2'), 'IRI/CC on the wrong handover'
        total += 1
        o = e
assert counts == s['sent'], (counts, s['sent'])
assert total == s['pdus_sent'], (total, s['pdus_sent'])
assert s['integrity_pdus_sent'] > 0 and s['hi1_pdus_sent'] == 10 and s['cin_resets_sent'] == 1
PY
	done
done
"$MED" --output "$T/c" --seed 43 $common || exit 1
if cmp -s "$T/a.hi3" "$T/c.hi3"; then echo "another seed gave the same bytes"; exit 1; fi
# binary LIIDs appear as 0x... keys
"$MED" --output "$T/d" --binary-liid --targets 2 --calls 1 --sessions 1 --summary "$T/d.json" || exit 1
grep -q '"0xa5' "$T/d.json" || { echo "binary LIID keys missing"; cat "$T/d.json"; exit 1; }
echo "mediator_output: ok"
