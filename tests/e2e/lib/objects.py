#!/usr/bin/env python3
"""objects.py - read and write a lacre backend's objects from a test, with
no lacre code in between (the tests play the untrusted storage's
operator).  BACKEND is dir:PATH or s3://BUCKET[/PREFIX]; for s3 the server
comes from S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY and S3_REGION (signed
with curl --aws-sigv4, path-style, as docs/storage.md describes).

  objects.py BACKEND list PREFIX        names under PREFIX, one a line
  objects.py BACKEND get NAME FILE      copy object NAME to FILE
  objects.py BACKEND put NAME FILE      replace object NAME with FILE's bytes
  objects.py BACKEND count-records KEY SUMMARY...
        decrypt every seg/ object with the age identity file KEY (age -d)
        and count its record frames (docs/FORMATS.md §3.2) per data stream
        "<liid>/<cin>/<iri|cc>" (kind 1 IRI, 2 CC); compare with the
        mediators' summaries (FORMATS §7 "sent"): every stream's count must
        match and no (stream, sequence number) may be sealed twice.  Prints
        the totals; exits 1 on any difference.
"""
import os, re, subprocess, sys, struct, urllib.parse
import xml.etree.ElementTree as ET


def s3_parts(spec):
    rest = spec[len("s3://"):]
    bucket, _, prefix = rest.partition("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return bucket, prefix


def curl(method, url, data_file=None, out_file=None):
    ep = os.environ["S3_ENDPOINT"].rstrip("/")
    region = os.environ.get("S3_REGION", "us-east-1")
    cmd = ["curl", "-sS", "-f", "-X", method, "--aws-sigv4", f"aws:amz:{region}:s3",
           "--user", f'{os.environ["S3_ACCESS_KEY"]}:{os.environ["S3_SECRET_KEY"]}',
           "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", ep + url]
    if data_file:
        cmd[5:5] = ["--data-binary", "@" + data_file]
    if out_file:
        cmd[5:5] = ["-o", out_file]
    return subprocess.run(cmd, check=True, capture_output=out_file is None).stdout


def list_names(spec, prefix):
    if spec.startswith("dir:"):
        root = spec[4:]
        out = []
        for d, _, files in os.walk(root):
            for f in files:
                rel = os.path.relpath(os.path.join(d, f), root)
                if rel.startswith(prefix) and not f.startswith(".") and ".tmp" not in f:
                    out.append(rel)
        return sorted(out)
    bucket, bp = s3_parts(spec)
    out, token = [], None
    while True:
        q = {"list-type": "2", "prefix": bp + prefix}
        if token:
            q["continuation-token"] = token
        xml = curl("GET", f"/{bucket}?" + urllib.parse.urlencode(q))
        root = ET.fromstring(xml)
        ns = re.match(r"\{.*\}", root.tag)
        ns = ns.group(0) if ns else ""
        for c in root.findall(f"{ns}Contents"):
            out.append(c.find(f"{ns}Key").text[len(bp):])
        t = root.find(f"{ns}NextContinuationToken")
        if t is None or not t.text:
            return sorted(out)
        token = t.text


def get(spec, name, path):
    if spec.startswith("dir:"):
        with open(os.path.join(spec[4:], name), "rb") as f, open(path, "wb") as o:
            o.write(f.read())
        return
    bucket, bp = s3_parts(spec)
    curl("GET", f"/{bucket}/{bp}{name}", out_file=path)


def put(spec, name, path):
    if spec.startswith("dir:"):
        target = os.path.join(spec[4:], name)
        os.chmod(target, 0o644) if os.path.exists(target) else None
        with open(path, "rb") as f, open(target, "wb") as o:
            o.write(f.read())
        return
    bucket, bp = s3_parts(spec)
    curl("PUT", f"/{bucket}/{bp}{name}", data_file=path)


def frames(pt):
    """Yield (type, body) of each frame of a segment's plaintext."""
    off = 0
    while off < len(pt):
        if pt[off:off + 5] != b"LCRF\x01" or len(pt) - off < 10:
            sys.exit(f"bad frame at offset {off}")
        typ = pt[off + 5]
        n = struct.unpack(">I", pt[off + 6:off + 10])[0]
        yield typ, pt[off + 10:off + 10 + n]
        off += 10 + n


def record_key(body):
    """(stream, seq) of a data record body, or None for other records."""
    o = 16                                   # salt
    o += 1 + 1 + 8 + 8                       # version, listener, receive time, connection
    seq = struct.unpack(">Q", body[o:o + 8])[0]; o += 8
    cin = struct.unpack(">I", body[o:o + 4])[0]; o += 4
    o += 8                                   # PDU timestamp
    flags = body[o]; o += 1
    kind = body[o]; o += 1
    o += 1 + 1 + 1                           # IRI type, direction, route
    o += 1 + body[o]                         # peer
    ll = struct.unpack(">H", body[o:o + 2])[0]
    liid = body[o + 2:o + 2 + ll]
    if kind not in (1, 2):
        return None
    text = liid.decode() if all(0x20 <= b < 0x7f for b in liid) else "0x" + liid.hex()
    c = cin if flags & 1 else 0
    return f"{text}/{c}/{'iri' if kind == 1 else 'cc'}", seq


def record_bodies(spec, key, names, tag):
    """Yield the body of every record frame of the segments names (fetched
    one at a time to a temporary file named after tag, decrypted with the
    age identity file key by Debian's age), in segment and frame order."""
    tmp = os.environ.get("TMPDIR", "/tmp") + f"/{tag}-{os.getpid()}.seg"
    try:
        for name in names:
            get(spec, name, tmp)
            pt = subprocess.run(["age", "-d", "-i", key, tmp], check=True, capture_output=True).stdout
            for typ, body in frames(pt):
                if typ == 2:
                    yield body
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def count_records(spec, key, summaries):
    sealed, seen, dup = {}, set(), 0
    segs = list_names(spec, "seg/")
    for body in record_bodies(spec, key, segs, "objects"):
        k = record_key(body)
        if k is None:
            continue
        if k in seen:
            dup += 1
        seen.add(k)
        sealed[k[0]] = sealed.get(k[0], 0) + 1
    import json
    sent = {}
    for s in summaries:
        for stream, n in json.load(open(s))["sent"].items():
            sent[stream] = sent.get(stream, 0) + n
    bad = [f"{s}: sent {sent.get(s, 0)}, sealed {sealed.get(s, 0)}"
           for s in sorted(set(sent) | set(sealed)) if sent.get(s, 0) != sealed.get(s, 0)]
    print(f"{len(segs)} segments: {sum(sealed.values())} data records sealed in {len(sealed)} streams, "
          f"{sum(sent.values())} sent by the mediators, {dup} sealed twice")
    for b in bad[:20]:
        print("  " + b)
    return 1 if bad or dup else 0


def main():
    spec, op = sys.argv[1], sys.argv[2]
    if op == "list":
        try:
            print("\n".join(list_names(spec, sys.argv[3])), flush=True)
        except BrokenPipeError:   # a reader that wanted only the first names
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    elif op == "get":
        get(spec, sys.argv[3], sys.argv[4])
    elif op == "put":
        put(spec, sys.argv[3], sys.argv[4])
    elif op == "count-records":
        sys.exit(count_records(spec, sys.argv[3], sys.argv[4:]))
    else:
        sys.exit(f"unknown operation {op}")


if __name__ == "__main__":
    main()
