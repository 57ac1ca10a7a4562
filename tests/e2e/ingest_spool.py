#!/usr/bin/env python3
"""ingest_spool.py - an independent reader of the lacre spool format
(docs/FORMATS.md section 2), used by the ingest end-to-end tests.

  ingest_spool.py DIR          print a JSON summary of every spool file in DIR:
                               {"records": [[listener, hex], ...], "events": [obj, ...],
                                "files": N}
Checks the magic, version, every entry's length and CRC-32 and the record
layout; exits 1 with a message on any violation.
"""
import json, os, struct, sys, zlib


def read_file(path, out):
    data = open(path, "rb").read()
    if data[:8] != b"LACRESPL" or data[8:10] != b"\x00\x01" or len(data) < 24:
        sys.exit("bad spool header in %s" % path)
    off = 24
    while off < len(data):
        if off + 4 > len(data):
            sys.exit("torn entry length at %d in %s" % (off, path))
        (n,) = struct.unpack(">I", data[off:off + 4])
        body = data[off + 4:off + 4 + n]
        crcb = data[off + 4 + n:off + 8 + n]
        if len(body) != n or len(crcb) != 4:
            sys.exit("torn entry at %d in %s" % (off, path))
        if zlib.crc32(body) != struct.unpack(">I", crcb)[0]:
            sys.exit("crc mismatch at %d in %s" % (off, path))
        t = body[0]
        if t == 1:
            recv_us, listener, conn, plen = struct.unpack(">qBQB", body[1:19])
            peer = body[19:19 + plen].decode()
            (dl,) = struct.unpack(">I", body[19 + plen:23 + plen])
            pdu = body[23 + plen:]
            if len(pdu) != dl:
                sys.exit("record length mismatch at %d in %s" % (off, path))
            out["records"].append([listener, pdu.hex(), conn, peer])
        elif t == 2:
            tus, jl = struct.unpack(">qI", body[1:13])
            js = body[13:]
            if len(js) != jl:
                sys.exit("event length mismatch at %d in %s" % (off, path))
            out["events"].append(json.loads(js))
        else:
            sys.exit("unknown entry type %d at %d in %s" % (t, off, path))
        off += 8 + n


def main():
    d = sys.argv[1]
    out = {"records": [], "events": [], "files": 0}
    for name in sorted(os.listdir(d)):
        if name.startswith("spool-") and name.endswith(".lsp"):
            read_file(os.path.join(d, name), out)
            out["files"] += 1
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
