#!/usr/bin/env python3
"""pkg_tool.py - an independent reader/writer of the evidence package
plaintext (docs/FORMATS.md §9), for the end-to-end tests: list members,
extract one, or rewrite one member's bytes (what an attacker holding only the
court's public recipient could do before re-sealing the package with age).

  pkg_tool.py list PLAIN
  pkg_tool.py get PLAIN NAME
  pkg_tool.py edit PLAIN OUT NAME PYEXPR      (PYEXPR maps bytes `d` to new bytes)
  pkg_tool.py drop PLAIN OUT NAME
  pkg_tool.py segproofs PLAIN                (check every record's segment proof on its
                                              own: prints one line per proof, exit 1 on
                                              the first that fails)
  pkg_tool.py logs PLAIN                     (the package's ingest logs: one line each,
                                              "log <k> <origin> size <n> records <r>
                                              checkpoint <member> vkey <key>"; exit 1
                                              when the log members are inconsistent)

segproofs is an independent reader of lacre-segment-proof/v1 (docs/FORMATS.md
§6.1) and of the manifest's record lines: for records/, excluded/ and events/
members N with a .segment-proof, the frame's SHA-256 (records/ and events/) or
the manifest's commitment (excluded/) must reach the v2 entry's records root by
the RFC 9162 path, the entry must name the manifest's segment, i must be the
manifest's index, and the .tlog-proof must prove the manifest's leaf and carry
the checkpoint member of the log that proves the record: a single-log package
has one `log` line, `checkpoint` and a one-line `ingest.vkey`; a multi-log one
(§9.1, §9.2) a `log`/`log-size` pair per log, `logs/<k>.checkpoint` for k >= 2,
one `ingest.vkey` line per log and the log number k as the last field of every
record and event line (an exclusion's log is the one whose checkpoint its
receipt carries).
"""
import base64
import hashlib
import re
import struct
import sys

MAGIC = b"lacre-evidence/v1\n"


def parse(data):
    assert data.startswith(MAGIC), "bad magic"
    off, out = len(MAGIC), []
    while off < len(data):
        nl = data[off]
        name = data[off + 1:off + 1 + nl].decode()
        (ln,) = struct.unpack(">Q", data[off + 1 + nl:off + 9 + nl])
        start = off + 9 + nl
        out.append((name, data[start:start + ln]))
        off = start + ln
    assert off == len(data), "trailing bytes"
    return out


def build(members):
    b = bytearray(MAGIC)
    for name, d in members:
        n = name.encode()
        b += bytes([len(n)]) + n + struct.pack(">Q", len(d)) + d
    return bytes(b)


def b64(s):
    """Strict padded standard base64 (canonical: re-encodes to s)."""
    d = base64.b64decode(s, validate=True)
    assert base64.b64encode(d) == s, "non-canonical base64"
    return d


def parse_entry_v2(e):
    """The v2 segment entry: (name, size, fp, n, root)."""
    assert e[:16] == b"lacre-segment/v2", "not a v2 segment entry"
    nl = e[16]
    assert nl >= 1
    name = e[17:17 + nl].decode()
    off = 17 + nl
    (size,) = struct.unpack(">Q", e[off:off + 8])
    fl = e[off + 8]
    assert 1 <= fl <= 64
    fp = e[off + 9:off + 9 + fl]
    off += 9 + fl
    (n,) = struct.unpack(">Q", e[off:off + 8])
    root = e[off + 8:off + 40]
    assert len(root) == 32 and off + 40 == len(e), "bad entry length"
    return name, size, fp, n, root


def parse_segproof(text):
    """lacre-segment-proof/v1 in its one form: (entry, i, n, [hashes])."""
    assert text.endswith(b"\n"), "no final LF"
    lines = text[:-1].split(b"\n")
    assert lines[0] == b"lacre-segment-proof/v1", "magic"
    assert lines[1].startswith(b"entry "), "entry line"
    entry = b64(lines[1][6:])
    m = re.fullmatch(rb"record (0|[1-9][0-9]*) ([1-9][0-9]*)", lines[2])
    assert m, "record line"
    i, n = int(m.group(1)), int(m.group(2))
    hashes = [b64(l) for l in lines[3:]]
    assert all(len(h) == 32 for h in hashes), "hash length"
    return entry, i, n, hashes


def verify_inclusion(i, n, leaf, path, root):
    """RFC 9162 section 2.1.3.2."""
    if i >= n:
        return False
    fn, sn, r = i, n - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def log_members(m):
    """[(origin, size, checkpoint member name, vkey line)] in manifest order."""
    logs = []
    for l in m["manifest.txt"].decode().splitlines():
        t = l.split(" ", 1)
        if t[0] == "log":
            logs.append([t[1], None])
        elif t[0] == "log-size":
            assert logs and logs[-1][1] is None, "log-size without its log line"
            logs[-1][1] = int(t[1])
    vkeys = m["ingest.vkey"].decode().splitlines()
    assert len(vkeys) == len(logs), "ingest.vkey has %d lines for %d logs" % (len(vkeys), len(logs))
    out = []
    for k, (origin, size) in enumerate(logs, 1):
        cname = "checkpoint" if k == 1 else "logs/%d.checkpoint" % k
        cp = m[cname].decode().split("\n")
        assert cp[0] == origin and int(cp[1]) == size, "%s is not the checkpoint of %s" % (cname, origin)
        assert vkeys[k - 1].split("+")[0] == origin, "ingest.vkey line %d is not %s's key" % (k, origin)
        out.append((origin, size, cname, vkeys[k - 1]))
    if len(out) < 2:
        assert not any(n.startswith("logs/") for n in m), "a single-log package with logs/ members"
    return out


def record_lines(m, nlogs):
    """{member base: (kind, n, segment, index, leaf, commitment, log k)}"""
    lines = {}
    for l in m["manifest.txt"].decode().splitlines():
        t = l.split()
        if t and t[0] in ("record", "event"):
            if nlogs > 1:
                assert len(t) == 7 and 1 <= int(t[6]) <= nlogs, "line without its log: " + l
                k = int(t[6])
            else:
                assert len(t) == 6, "a single-log package's line with a log field: " + l
                k = 1
            lines[("records/" if t[0] == "record" else "events/") + "%08d" % int(t[1])] = t[:6] + [k]
    return lines


def logs_cmd(ms):
    m = dict(ms)
    logs = log_members(m)
    lines = record_lines(m, len(logs))
    for k, (origin, size, cname, vk) in enumerate(logs, 1):
        n = sum(1 for t in lines.values() if t[0] == "record" and t[6] == k)
        print("log %d %s size %d records %d checkpoint %s vkey %s" % (k, origin, size, n, cname, vk))


def segproofs(ms):
    m = dict(ms)
    logs = log_members(m)
    lines = record_lines(m, len(logs))
    for l in m.get("exclusions.txt", b"").decode().splitlines():
        if l.startswith("excluded "):
            kv = dict(x.split("=", 1) for x in l.split()[1:] if "=" in x)
            lines["excluded/%08d" % int(kv["n"])] = ["excluded", kv["n"], kv["segment"],
                                                     kv["index"], kv["leaf"], kv["commitment"], 0]
    count = 0
    for name in sorted(k for k in m if k.endswith(".segment-proof")):
        base = name[:-len(".segment-proof")]
        _, _, seg, index, leaf, commit, k = lines[base]
        if base.startswith("excluded/"):
            c = bytes.fromhex(commit)
        else:
            c = hashlib.sha256(m[base + ".frame"]).digest()
            assert c.hex() == commit, base + ": frame is not the manifest's commitment"
        entry, i, n, path = parse_segproof(m[name])
        ename, _, _, en, root = parse_entry_v2(entry)
        assert ename == seg, "%s: entry names %s, the manifest %s" % (name, ename, seg)
        assert i == int(index), "%s: record %d, the manifest says %s" % (name, i, index)
        assert n == en, name + ": n is not the entry's count"
        if not verify_inclusion(i, n, hashlib.sha256(b"\x00" + c).digest(), path, root):
            raise AssertionError(name + ": the path does not reach the records root")
        tp = m[base + ".tlog-proof"].decode().split("\n")
        assert tp[1] == "index " + leaf, "%s: proves %s, the manifest says leaf %s" % (base, tp[1], leaf)
        # the receipt's checkpoint (after the empty line) is its log's member
        cpt = "\n".join(tp[tp.index("") + 1:]).encode()
        cps = [m[c] for (_, _, c, _) in logs]
        if k:
            assert cpt == cps[k - 1], "%s: its receipt's checkpoint is not log %d's" % (base, k)
        else:
            assert cpt in cps, "%s: its receipt's checkpoint is no log's of the package" % base
        print("ok %s record %d of %d of %s, entry leaf %s" % (base, i, n, seg, leaf))
        count += 1
    print("segment proofs: %d verified" % count)


def main():
    cmd, plain = sys.argv[1], open(sys.argv[2], "rb").read()
    ms = parse(plain)
    if cmd == "list":
        for name, d in ms:
            print(len(d), name)
    elif cmd == "get":
        sys.stdout.buffer.write(dict(ms)[sys.argv[3]])
    elif cmd in ("edit", "drop"):
        out, name = sys.argv[3], sys.argv[4]
        assert name in dict(ms), "no member " + name
        new = []
        for n, d in ms:
            if n == name:
                if cmd == "drop":
                    continue
                d = eval(sys.argv[5], {"d": d, "bytes": bytes})
            new.append((n, d))
        open(out, "wb").write(build(new))
    elif cmd in ("segproofs", "logs"):
        try:
            (segproofs if cmd == "segproofs" else logs_cmd)(ms)
        except (AssertionError, KeyError, ValueError) as e:
            print("FAIL", e)
            sys.exit(1)
    else:
        sys.exit("unknown command " + cmd)


main()
