"""sent.py - what the simulator sent and what lacre gave back, for the vault
end-to-end checks (tests/e2e/vault_*.sh).

sent_pdus(work) reads WORK/s.hi2 and WORK/s.hi3 with the offsets of
`lacre decode` (WORK/d.hi2.jsonl, WORK/d.hi3.jsonl) and returns
{liid: [(kind, content, pdu bytes), ...]}, keep-alives left out.
load(path) reads JSON lines; pdus(records) gives the sorted PDU bytes of
`lacre records --json` / `lacre quarantine --json` lines.
"""
import base64
import collections
import json


def sent_pdus(work):
    sent = collections.defaultdict(list)
    for lst in ('hi2', 'hi3'):
        data = open(f'{work}/s.{lst}', 'rb').read()
        for line in open(f'{work}/d.{lst}.jsonl'):
            d = json.loads(line)
            if d['kind'] in ('keepalive', 'keepalive-response'):
                continue
            sent[d['liid']].append((d['kind'], d.get('content'),
                                    data[d['offset']:d['offset'] + d['length']]))
    return sent


def load(path):
    return [json.loads(l) for l in open(path)]


def pdus(records):
    return sorted(base64.b64decode(r['pdu']) for r in records)
