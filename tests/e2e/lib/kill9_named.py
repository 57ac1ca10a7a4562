#!/usr/bin/env python3
"""kill9_named.py - the check of fault_kill9_named.sh (issue 15): after a
kill -9 of the receiver, every PDU the mediator sent is sealed, named by a
loss event, or lies in the unread tail of its connection at the kill.

  kill9_named.py BACKEND KEY SENT_LOG PROC_NET_TCP HI2_PORT HI3_PORT WORKERS

BACKEND (dir:PATH or s3://...) holds the run's segments, sealed to the
oversight identity KEY (no warrant: every record is quarantined).
SENT_LOG is lacre-mediator's --sent-log: one line per data PDU that write()
accepted, "<handover> <connection> <local port> <stream> <seq> <length>", in
the order written.  PROC_NET_TCP is /proc/net/tcp copied while both the
receiver and the mediator were frozen at the kill: a connection's unread
bytes are its receiver socket's receive queue plus its mediator socket's
send queue.

Classes, per PDU: sealed (a record in a segment); named (in the range of a
lost-open-segment, unkept-at-restart or after-restart gap event of its
stream); tail (on a connection open at the kill, among its last PDUs whose
bytes fit in its unread bytes + its largest PDU (a PDU the framer held in
part), and on at most WORKERS of those connections - the receiver's
threads, each handling at most one read at an instant - READ_CHUNK more
(a read in progress is not yet accepted)); else named nowhere.  Prints the counts; exit 1, naming each stream and range, when any
PDU is named nowhere (or the inputs make no sense), 0 otherwise."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import objects  # noqa: E402

READ_CHUNK = 64 << 10          # lib/ingest/server_int.h SRV_READ_CHUNK: bytes per read()


def events_of(body):
    """The JSON accounting events in an event record's body."""
    out, i = [], body.find(b'{"event":')
    dec = json.JSONDecoder()
    while i >= 0:
        try:
            obj, _ = dec.raw_decode(body[i:].decode("utf-8", "replace"))
            out.append(obj)
        except ValueError:
            pass
        i = body.find(b'{"event":', i + 1)
    return out


def stream_of(ev):
    """An event's stream as the sent log names it: <liid>/<cin>/<iri|cc>."""
    cin = ev.get("cin")
    return f"{ev.get('liid')}/{cin if cin is not None else 0}/{ev.get('stream')}"


def note_event(ranges, ev):
    """Add the range event ev names, if it is a loss event, to ranges
    {stream: [(first, last, event)]}."""
    e = ev.get("event")
    if e == "lost-open-segment" and ev.get("liid") is not None and "first" in ev:
        lo, hi = ev["first"], ev["last"]
    elif e == "unkept-at-restart" or (e == "gap" and ev.get("after_restart")):
        lo, hi = ev.get("from"), ev.get("to")
    else:
        return
    if lo is not None and hi is not None:
        ranges.setdefault(stream_of(ev), []).append((int(lo), int(hi), e))


def read_backend(spec, key):
    """(sealed {(stream, seq)}, ranges {stream: [(first, last, why)]})."""
    sealed, ranges = set(), {}
    for body in objects.record_bodies(spec, key, objects.list_names(spec, "seg/"), "kill9-named"):
        k = objects.record_key(body)
        if k is not None:
            sealed.add(k)
            continue
        for ev in events_of(body):
            note_event(ranges, ev)
    return sealed, ranges


def unread_bytes(path, ports):
    """{mediator local port: unread bytes} of the connections to ports."""
    rx, tx = {}, {}
    with open(path) as f:
        next(f)
        for line in f:
            p = line.split()
            lport = int(p[1].split(":")[1], 16)
            rport = int(p[2].split(":")[1], 16)
            if p[3] != "01":            # ESTABLISHED only
                continue
            txq, rxq = (int(x, 16) for x in p[4].split(":"))
            if lport in ports:          # the receiver's side: bytes not read
                rx[rport] = rx.get(rport, 0) + rxq
            elif rport in ports:        # the mediator's side: bytes not delivered
                tx[lport] = tx.get(lport, 0) + txq
    return {m: tx[m] + rx.get(m, 0) for m in tx}


def ranges_text(seqs):
    """'a-b, c' for a sorted list of numbers."""
    out, i = [], 0
    while i < len(seqs):
        j = i
        while j + 1 < len(seqs) and seqs[j + 1] == seqs[j] + 1:
            j += 1
        out.append(f"{seqs[i]}-{seqs[j]}" if j > i else f"{seqs[i]}")
        i = j + 1
    return ", ".join(out)


def classify(sealed, ranges, sent_log, tcp, ports, workers):
    """Classify every PDU of sent_log (see the module's text).  Returns
    (counts {sealed, named, tail, nowhere}, report lines, named-nowhere
    lines); raises ValueError when the inputs make no sense."""
    unread = unread_bytes(tcp, ports)
    conns = {}                  # (handover, conn number) -> [lport, [(stream, seq, len)]]
    for line in open(sent_log):
        ho, cno, lport, stream, seq, ln = line.split()
        if seq == "-":
            raise ValueError(f"sent log: a data PDU without a sequence number: {line.strip()}")
        c = conns.setdefault((ho, int(cno)), [int(lport), []])
        c[1].append((stream, int(seq), int(ln)))
    if not conns:
        raise ValueError("sent log: empty: the mediator sent nothing")
    # the connection of each handover open at the kill: its first one whose
    # port the frozen snapshot shows (those after the restart come later)
    at_kill = {}
    for (ho, cno), (lport, _) in sorted(conns.items(), key=lambda x: x[0][1]):
        if ho not in at_kill and lport in unread:
            at_kill[ho] = cno
    if not at_kill:
        raise ValueError("no connection of the sent log is in the /proc/net/tcp snapshot: "
                         "was the mediator connected at the kill?")

    def named(stream, seq):
        return any(lo <= seq <= hi for lo, hi, _ in ranges.get(stream, ()))

    # the read in progress: on the (at most) workers connections that need
    # it most, each at most READ_CHUNK bytes
    base, need = {}, {}
    for ho, cno in at_kill.items():
        lport, pdus = conns[(ho, cno)]
        base[(ho, cno)] = unread[lport] + max(p[2] for p in pdus)
        first = next((i for i, (st, sq, _) in enumerate(pdus)
                      if (st, sq) not in sealed and not named(st, sq)), len(pdus))
        need[(ho, cno)] = sum(p[2] for p in pdus[first:]) - base[(ho, cno)]
    slack = sorted((c for c in need if need[c] > 0), key=lambda c: -need[c])[:workers]

    n = {"sealed": 0, "named": 0, "tail": 0, "nowhere": 0}
    bad = {}                    # (handover, conn, stream) -> [seq]
    tail_bytes = allowed_bytes = 0
    for (ho, cno), (lport, pdus) in sorted(conns.items()):
        allow = base.get((ho, cno), 0) + (READ_CHUNK if (ho, cno) in slack else 0)
        allowed_bytes += allow
        # the tail: the longest suffix whose bytes fit in allow
        cut, acc = len(pdus), 0
        while cut > 0 and acc + pdus[cut - 1][2] <= allow:
            acc += pdus[cut - 1][2]
            cut -= 1
        for i, (stream, seq, ln) in enumerate(pdus):
            if (stream, seq) in sealed:
                n["sealed"] += 1
            elif named(stream, seq):
                n["named"] += 1
            elif i >= cut:
                n["tail"] += 1
                tail_bytes += ln
            else:
                n["nowhere"] += 1
                bad.setdefault((ho, cno, stream), []).append(seq)
    total = sum(n.values())
    kinds = {}
    for rs in ranges.values():
        for _, _, e in rs:
            kinds[e] = kinds.get(e, 0) + 1
    report = [f"sent {total} data PDUs on {len(conns)} connections ({len(at_kill)} open at the kill, "
              f"{sum(unread[conns[(h, c)][0]] for h, c in at_kill.items())} bytes unread in their sockets): "
              f"sealed {n['sealed']}, named by a loss event {n['named']}, unread tail {n['tail']} "
              f"({tail_bytes} bytes of the {allowed_bytes} allowed), named nowhere {n['nowhere']}",
              "loss events: " + (", ".join(f"{v} {k}" for k, v in sorted(kinds.items())) or "none")]
    nowhere = [f"NAMED NOWHERE: stream {stream} on {ho} connection {cno}: sequence numbers "
               f"{ranges_text(sorted(seqs))} were sent before the connection's unread tail, "
               f"yet are neither sealed nor in any loss event's range"
               for (ho, cno, stream), seqs in sorted(bad.items())]
    return n, report, nowhere


def main():
    """Classify every PDU sent; 0 when none is named nowhere."""
    if len(sys.argv) != 8:
        sys.exit(__doc__)
    spec, key, sent_log, tcp = sys.argv[1:5]
    ports = {int(sys.argv[5]), int(sys.argv[6])}
    sealed, ranges = read_backend(spec, key)
    try:
        n, report, nowhere = classify(sealed, ranges, sent_log, tcp, ports, int(sys.argv[7]))
    except ValueError as e:
        sys.exit(str(e))
    for line in report + nowhere[:20]:
        print("  " + line)
    return 1 if n["nowhere"] else 0


if __name__ == "__main__":
    sys.exit(main())
