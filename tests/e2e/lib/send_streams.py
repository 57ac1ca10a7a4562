#!/usr/bin/env python3
"""send_streams.py HI2_PORT HI3_PORT HI2_FILE HI3_FILE

Plays two recorded handover streams into a running `lacre ingest` on
127.0.0.1, as a mediation device would (HI2 and HI3 on their own
connections, written in pieces), then closes both.  Only loopback."""
import socket, sys, threading

def send(port, path, errs):
    try:
        data = open(path, 'rb').read()
        s = socket.create_connection(('127.0.0.1', int(port)), timeout=30)
        off = 0
        step = 7919  # odd piece size: PDUs split across writes
        while off < len(data):
            s.sendall(data[off:off + step])
            off += step
        s.shutdown(socket.SHUT_WR)
        s.settimeout(10)
        try:
            while s.recv(65536):
                pass
        except socket.timeout:
            pass
        s.close()
    except Exception as e:  # reported by the caller
        errs.append(f'{path}: {e}')

errs = []
ts = [threading.Thread(target=send, args=(sys.argv[1], sys.argv[3], errs)),
      threading.Thread(target=send, args=(sys.argv[2], sys.argv[4], errs))]
for t in ts: t.start()
for t in ts: t.join()
if errs:
    print('\n'.join(errs), file=sys.stderr)
    sys.exit(1)
