#!/usr/bin/env python3
"""pkg_tool.py - an independent reader/writer of the evidence package
plaintext (docs/FORMATS.md §9), for the end-to-end tests: list members,
extract one, or rewrite one member's bytes (what an attacker holding only the
court's public recipient could do before re-sealing the package with age).

  pkg_tool.py list PLAIN
  pkg_tool.py get PLAIN NAME
  pkg_tool.py edit PLAIN OUT NAME PYEXPR      (PYEXPR maps bytes `d` to new bytes)
  pkg_tool.py drop PLAIN OUT NAME
"""
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
    else:
        sys.exit("unknown command " + cmd)


main()
