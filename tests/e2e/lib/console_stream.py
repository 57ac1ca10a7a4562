#!/usr/bin/env python3
"""console_stream.py - a streamed WAV through lacre-console's API, for
tests/e2e/audio_stream.sh (docs/console.md, FORMATS §15).

usage: console_stream.py URL FPR KEYFILE CALL JUSTIFICATION whole REF.wav
       console_stream.py URL FPR KEYFILE CALL JUSTIFICATION cut SEGMENT
whole: `audio CALL` answers "stream"; GET /api/file/ID is REF.wav byte for
       byte (Content-Length its length); /api/file/ID/done: status 0, the
       same file id.
cut:   (a segment of the call removed from the backend) "stream"; GET
       /api/file/ID ends short of its Content-Length; /done: status 3,
       no file, its err names SEGMENT.
Prints one line per failed check; exit 0 all passed, 1 otherwise."""
import hashlib, http.client, json, ssl, sys

from console_api import Console


def get(c, path):
    """GET path with the session: (status, headers, body, complete)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE               # pinned below
    h = http.client.HTTPSConnection(c.host, c.port, context=ctx, timeout=120)
    h.connect()
    if hashlib.sha256(h.sock.getpeercert(binary_form=True)).hexdigest() != c.fpr:
        sys.exit("FAIL the console's certificate is not the one it printed")
    h.request("GET", path, headers={"Cookie": "lacre_session=" + c.cookie})
    r = h.getresponse()
    hd = {k.lower(): v for k, v in r.getheaders()}
    try:
        body, complete = r.read(), True
    except http.client.IncompleteRead as e:
        body, complete = e.partial, False
    h.close()
    return r.status, hd, body, complete


def main():
    url, fpr, key, call, just, mode, arg = sys.argv[1:8]
    c = Console(url, fpr)
    st, _, j = c.login(key)
    if st != 200:
        print("FAIL login: %d" % st)
        return 1
    st, j = c.run(["audio", call, "-o", "call.wav", "--justification", just])
    if st != 200 or j.get("state") != "stream" or "file" not in j:
        print("FAIL audio through the console: %s %s (a 'stream' answer expected)" % (st, j))
        return 1
    path = "/api/file/" + j["file"]
    st, hd, body, complete = get(c, path)
    dst, _, d = c.req("GET", path + "/done")
    dj = json.loads(d)
    bad = []
    if mode == "whole":
        ref = open(arg, "rb").read()
        if st != 200 or not complete or body != ref or hd.get("content-length") != str(len(ref)):
            bad.append("the download: HTTP %d, %d bytes%s, Content-Length %s; the WAV has %d"
                       % (st, len(body), "" if complete else " (cut short)", hd.get("content-length"), len(ref)))
        if dst != 200 or dj.get("state") != "done" or dj.get("status") != 0 or dj.get("file") != j["file"]:
            bad.append("its end: %d %s" % (dst, dj))
    else:
        if st not in (200, 404) or complete and st == 200:
            bad.append("the download of a failed command: HTTP %d, %d bytes, %s" %
                       (st, len(body), "complete" if complete else "cut short"))
        if dst != 200 or dj.get("state") != "done" or dj.get("status") != 3 or "file" in dj or \
           ("segment %s" % arg) not in dj.get("err", ""):
            bad.append("its end: %d %s" % (dst, dj))
    for b in bad:
        print("FAIL " + b)
    c.req("POST", "/api/logout", b"", {"X-CSRF-Token": c.csrf})
    return 1 if bad else 0


sys.exit(main())
