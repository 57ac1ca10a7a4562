#!/usr/bin/env python3
"""memory_budget_hogs.py - slow senders that declare a large PS-PDU and
trickle it, used by tests/e2e/memory_budget.sh (loopback only).

  memory_budget_hogs.py --port P [--senders 100] [--declare 15728640]
      [--chunk 16384] [--interval 0.02] [--duration 15] [--reconnect]
      --out FILE

Each sender connects to 127.0.0.1:P, writes the outer header of a PDU
declaring --declare content bytes (30 84 + 4 length octets) and then
--chunk bytes every --interval seconds, never completing it.  A connection
the receiver closes is counted (and, with --reconnect, opened again as a
new sender).  At the end FILE gets a JSON summary:
  {"peers": ["127.0.0.1:PORT", ...]   every local address a sender used,
   "closed_by_receiver": N, "bytes_sent": N, "connections": N,
   "max_sent_one": N}
Exits 1 when it cannot connect at all.
"""
import argparse, errno, json, selectors, socket, struct, sys, time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--senders", type=int, default=100)
    ap.add_argument("--declare", type=int, default=15 << 20)
    ap.add_argument("--chunk", type=int, default=16384)
    ap.add_argument("--interval", type=float, default=0.02)
    ap.add_argument("--duration", type=float, default=15.0)
    ap.add_argument("--reconnect", action="store_true")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    header = b"\x30\x84" + struct.pack(">I", a.declare)
    body = b"\x04" * a.chunk       # never completes: at most declare - 1 bytes are sent
    limit = len(header) + a.declare - 1
    sel = selectors.DefaultSelector()
    peers, conns = [], {}
    st = {"closed_by_receiver": 0, "bytes_sent": 0, "connections": 0, "max_sent_one": 0}

    def open_one():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.connect(("127.0.0.1", a.port))
        except OSError as e:
            s.close()
            print("hogs: connect failed: %s" % e, file=sys.stderr)
            return False
        s.setblocking(False)
        peers.append("%s:%d" % s.getsockname())
        st["connections"] += 1
        conns[s] = {"pending": header, "sent": 0}
        sel.register(s, selectors.EVENT_READ)
        return True

    def closed(s):
        sel.unregister(s)
        st["max_sent_one"] = max(st["max_sent_one"], conns[s]["sent"])
        del conns[s]
        s.close()
        st["closed_by_receiver"] += 1
        if a.reconnect and time.monotonic() < end:
            open_one()

    end = time.monotonic() + a.duration
    for _ in range(a.senders):
        if not open_one():
            break
    if not conns:
        sys.exit("hogs: no connection to 127.0.0.1:%d" % a.port)
    next_tick = time.monotonic()
    while time.monotonic() < end:
        now = time.monotonic()
        if now >= next_tick:
            next_tick = now + a.interval
            for s, c in list(conns.items()):
                if not c["pending"] and c["sent"] < limit:
                    c["pending"] = body[:limit - c["sent"]]
                if not c["pending"]:
                    continue
                try:
                    n = s.send(c["pending"])
                except BlockingIOError:
                    continue
                except OSError:
                    closed(s)
                    continue
                c["pending"] = c["pending"][n:]
                c["sent"] += n
                st["bytes_sent"] += n
        # the receiver never answers a hog: readable means closed
        for key, _ in sel.select(max(0.0, min(next_tick, end) - time.monotonic())):
            s = key.fileobj
            try:
                d = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                d = b""
            if not d:
                closed(s)
    for s, c in conns.items():
        st["max_sent_one"] = max(st["max_sent_one"], c["sent"])
        s.close()
    st["peers"] = peers
    st["still_open_at_end"] = len(conns)
    with open(a.out, "w") as f:
        json.dump(st, f)


if __name__ == "__main__":
    main()
