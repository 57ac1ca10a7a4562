#!/usr/bin/env python3
"""durable_count.py - bench/durable.sh's count of what two receivers sealed
on one backend, against what the mediators sent (their --summary files).

  durable_count.py BACKEND KEY SUMMARY... -- KILLED_SUMMARY...
                   [--sent-log FILE --tcp FILE --ports HI2,HI3 --workers N]

Decrypts every seg/ object (age -d -i KEY, the oversight identity: the
LIIDs have no warrant, so every record is quarantined) with the helpers of
tests/e2e/lib/objects.py, counts data records per stream
"<liid>/<cin>/<iri|cc>" and reads the accounting events sealed beside them.
For the streams of SUMMARY (runs with no kill, or a SIGTERM): sealed must
equal sent, none sealed twice.  For those of KILLED_SUMMARY (a SIGKILL
mid-run): sealed + the records the `lost-open-segment` events name (their
"count") must equal sent; the `gap` events with "after_restart" (PDUs the
killed run received after its last state save, or never read from the
socket) are printed beside.  With the killed mediator's --sent-log, the
/proc/net/tcp copied while the killed receiver and its mediator were
frozen at the kill, and the receiver's ports, every PDU of the killed run
is put in one of three classes - sealed, named (by a lost-open-segment,
unkept-at-restart or after-restart gap range), or in the unread tail of its
connection at the kill - and the rest is counted as "named nowhere", which
must be 0 (tests/e2e/lib/kill9_named.py, issue 15).  Prints one line per
group; exit 0 when every check holds, 1 otherwise (a benchmark prints;
durable.sh shows the verdict)."""
import json, os, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e", "lib"))
import objects  # noqa: E402
import kill9_named  # noqa: E402


# the event parsing and stream naming are the kill test's
# (tests/e2e/lib/kill9_named.py): one reading of the accounting events
events_of = kill9_named.events_of
stream_of = kill9_named.stream_of


def main():
    """Count, compare, print; 0 when both groups match."""
    spec, key = sys.argv[1], sys.argv[2]
    rest = sys.argv[3:]
    cut = rest.index("--") if "--" in rest else len(rest)
    clean, killed = rest[:cut], rest[cut + 1:]
    opts = {}
    for o in ("--sent-log", "--tcp", "--ports", "--workers"):
        if o in killed:
            i = killed.index(o)
            opts[o] = killed[i + 1]
            del killed[i:i + 2]
    ranges = {}
    sealed, seen, dup = {}, set(), 0
    lost, gaps, unkept = {}, {}, {}
    segs = objects.list_names(spec, "seg/")
    for body in objects.record_bodies(spec, key, segs, "durable-count"):
        k = objects.record_key(body)
        if k is None:
            for ev in events_of(body):
                kill9_named.note_event(ranges, ev)
                if ev.get("event") == "lost-open-segment" and ev.get("liid"):
                    s = stream_of(ev)
                    lost[s] = lost.get(s, 0) + int(ev.get("count", 0))
                elif ev.get("event") == "gap" and ev.get("after_restart"):
                    s = stream_of(ev)
                    gaps[s] = gaps.get(s, 0) + int(ev.get("missing", 0))
                elif ev.get("event") == "unkept-at-restart":
                    s = stream_of(ev)
                    unkept[s] = unkept.get(s, 0) + int(ev.get("missing", 0))
            continue
        if k in seen:
            dup += 1
        seen.add(k)
        sealed[k[0]] = sealed.get(k[0], 0) + 1

    def sent_of(files):
        """Data PDUs sent per stream, over the summaries files."""
        sent = {}
        for f in files:
            for stream, n in json.load(open(f))["sent"].items():
                sent[stream] = sent.get(stream, 0) + n
        return sent

    rc = 0
    sc = sent_of(clean)
    bad = [s for s in sc if sc[s] != sealed.get(s, 0)]
    print(f"clean and SIGTERM runs: {sum(sc.values())} data PDUs sent in {len(sc)} streams, "
          f"{sum(sealed.get(s, 0) for s in sc)} sealed, {len(bad)} streams differ, {dup} sealed twice (all runs) "
          f"=> {'MATCH' if not bad and not dup else 'MISMATCH'}")
    for s in sorted(bad)[:10]:
        print(f"  {s}: sent {sc[s]}, sealed {sealed.get(s, 0)}")
    rc |= 1 if bad or dup else 0
    if killed:
        sk = sent_of(killed)
        n_sent = sum(sk.values())
        n_sealed = sum(sealed.get(s, 0) for s in sk)
        n_lost = sum(lost.get(s, 0) for s in sk)
        n_gap = sum(gaps.get(s, 0) for s in sk)
        n_unk = sum(unkept.get(s, 0) for s in sk)
        off = [s for s in sk if sk[s] != sealed.get(s, 0) + lost.get(s, 0)]
        # not named anywhere: neither sealed, nor in a lost-open-segment
        # range, nor in an unkept-at-restart or after-restart gap range
        # (those two are supersets: they may name sealed records too)
        silent = sum(max(0, sk[s] - sealed.get(s, 0) - lost.get(s, 0) - unkept.get(s, 0) - gaps.get(s, 0))
                     for s in sk)
        print(f"SIGKILL run: {n_sent} data PDUs sent, {n_sealed} sealed + {n_lost} named by lost-open-segment "
              f"= {n_sealed + n_lost} => {'MATCH' if not off else 'MISMATCH (%d short)' % (n_sent - n_sealed - n_lost)}; "
              f"unkept-at-restart names {n_unk}, gaps after the restart {n_gap}; "
              f"sent, neither sealed nor in an event's range: {silent}")
        for s in sorted(off, key=lambda x: sealed.get(x, 0) + lost.get(x, 0) - sk[x])[:5]:
            print(f"  {s}: sent {sk[s]}, sealed {sealed.get(s, 0)}, lost-open-segment {lost.get(s, 0)}, "
                  f"unkept-at-restart {unkept.get(s, 0)}, gap after restart {gaps.get(s, 0)}")
        # the sum cannot match when the kill left an unread tail: with the
        # classification below, it decides
        rc |= 1 if off and len(opts) != 4 else 0
        if len(opts) == 4:
            try:
                n, report, nowhere = kill9_named.classify(
                    seen, ranges, opts["--sent-log"], opts["--tcp"],
                    {int(p) for p in opts["--ports"].split(",")}, int(opts["--workers"]))
                print(f"SIGKILL run, per PDU of its connections: sealed {n['sealed']}, named {n['named']}, "
                      f"unread tail {n['tail']}; named nowhere {n['nowhere']} (must be 0) => "
                      f"{'OK' if not n['nowhere'] else 'DEFECT'}")
                for line in report + nowhere[:10]:
                    print("  " + line)
                rc |= 1 if n["nowhere"] else 0
            except ValueError as e:
                print(f"SIGKILL run: cannot classify its PDUs: {e}")
                rc |= 1
    print(f"({len(segs)} segments read)")
    return rc


if __name__ == "__main__":
    sys.exit(main())
