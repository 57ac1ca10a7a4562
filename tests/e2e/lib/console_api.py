#!/usr/bin/env python3
"""console_api.py - a scripted client of lacre-console's /api (docs/console.md,
FORMATS §11 and §13), for tests/e2e/console.sh: what a browser does, in
Python, so that the test can also send what a browser would not (a request
of another user, a missing CSRF token, a forged or ended session).

The certificate is pinned: the test passes the SHA-256 fingerprint that
lacre-console printed, and any other certificate fails the connection.

Usage: console_api.py URL FINGERPRINT KEYFILE CHECK [ARGS...]
Prints one line per check: "ok ..." or "FAIL ..."; exit 0 when all pass.
"""
import base64, hashlib, http.client, json, os, ssl, sys, time, urllib.parse

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def pct(s):
    out = []
    for b in s.encode():
        c = chr(b)
        if c.isascii() and (c.isalnum() or c in "-._~:/@+"):
            out.append(c)
        else:
            out.append("%%%02X" % b)
    return "".join(out)


class Console:
    def __init__(self, url, fpr):
        u = urllib.parse.urlsplit(url)
        self.host, self.port, self.origin = u.hostname, u.port, "%s://%s" % (u.scheme, u.netloc)
        self.fpr = fpr
        self.cookie = None
        self.csrf = None
        # one TLS context for every request, as a browser keeps one: the
        # certificate is pinned below, so no CA list is loaded (building
        # ssl.create_default_context() per request loaded the system's, ~40
        # ms of the client's own time in every request bench/console.sh timed)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE     # pinned in req instead

    def req(self, method, path, body=None, headers=None, cookie=True):
        c = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=120)
        c.connect()
        der = c.sock.getpeercert(binary_form=True)
        if hashlib.sha256(der).hexdigest() != self.fpr:
            raise SystemExit("FAIL the console's certificate is not the one it printed")
        h = dict(headers or {})
        if cookie and self.cookie:
            h["Cookie"] = "lacre_session=" + self.cookie
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        return r.status, hdrs, data

    def login(self, keyfile):
        parts = open(keyfile).read().strip().split("+", 4)   # base64 may hold '+'
        name, raw = parts[2], base64.b64decode(parts[4])
        self.name = name
        self.key = Ed25519PrivateKey.from_private_bytes(raw[1:])
        st, _, d = self.req("GET", "/api/challenge")
        ch = json.loads(d)["challenge"]
        m = "lacre-console-login/v1\nuser %s\norigin %s\nchallenge %s\n" % (name, self.origin, ch)
        sig = self.key.sign(m.encode()).hex()
        body = "user %s\norigin %s\nchallenge %s\nsig %s\n" % (name, self.origin, ch, sig)
        st, h, d = self.req("POST", "/api/login", body.encode())
        if st == 200:
            self.cookie = h["set-cookie"].split(";")[0].split("=", 1)[1]
            self.csrf = json.loads(d)["csrf"]
        return st, h, json.loads(d)

    def request_bytes(self, args, user=None):
        t = "lacre-keeper-request/v1\nuser %s\ntime %d\nnonce %s\n" % (
            user or self.name, int(time.time() * 1e6), os.urandom(16).hex())
        for a in args:
            t += "arg %s\n" % pct(a)
        return (t + "sig %s\n" % self.key.sign(t.encode()).hex()).encode()

    def post(self, path, body, csrf=True):
        h = {"X-CSRF-Token": self.csrf} if csrf and self.csrf else {}
        st, _, d = self.req("POST", path, body, h)
        return st, json.loads(d)

    def run(self, args, sign=True):
        st, j = self.post("/api/run", self.request_bytes(args))
        while st == 200 and j.get("state") == "sign":
            p = base64.b64decode(j["payload"])
            ok = p.startswith(b"lacre-access-event/v1\n") and (b"\nuser %s\n" % self.name.encode()) in p
            sig = self.key.sign(p).hex() if (sign and ok) else ""
            st, j = self.post("/api/sign", ("id %s\nsig %s\n" % (j["id"], sig)).encode())
        return st, j


def main():
    url, fpr, keyfile, check = sys.argv[1:5]
    rest = sys.argv[5:]
    c = Console(url, fpr)
    fails = 0

    def ok(cond, what):
        nonlocal fails
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            fails += 1

    if check == "headers":
        st, h, d = c.req("GET", "/")
        csp = h.get("content-security-policy", "")
        ok(st == 200 and "default-src 'self'" in csp and "script-src 'self'" in csp and
           "unsafe-inline" not in csp, "GET / 200 with a strict CSP: %s" % csp)
        ok(h.get("x-content-type-options") == "nosniff" and h.get("cache-control") == "no-store",
           "nosniff and no-store")
        st, h, d = c.req("GET", "/api/session")
        ok(st == 401, "GET /api/session without a cookie: %d (401 expected)" % st)
        c.cookie = os.urandom(32).hex()
        st, h, d = c.req("GET", "/api/session")
        ok(st == 401, "a forged session cookie: %d (401 expected)" % st)
        st, h, d = c.req("GET", "/api/x?q=1")
        ok(st == 400, "a query string in a URL: %d (400 expected)" % st)
        st, h, d = c.req("GET", "/../etc/passwd")
        ok(st == 400, "a path with '..': %d (400 expected)" % st)
    elif check == "login-refused":
        st, h, j = c.login(keyfile)
        ok(st == 401 and "set-cookie" not in h and "login refused" in j.get("error", ""),
           "login with %s refused: %d %s" % (os.path.basename(keyfile), st, j.get("error")))
    elif check == "l8":
        # rest: W1 (another unit's warrant) and the justification
        w, just = rest
        st, h, j = c.login(keyfile)
        ok(st == 200 and "HttpOnly" in h["set-cookie"] and "Secure" in h["set-cookie"] and
           "SameSite=Strict" in h["set-cookie"], "login: %s" % h.get("set-cookie", "").split("=")[0])
        st, j = c.run(["calls", "--warrant", w, "--json", "--justification", just])
        err = j.get("err", "")
        ok(st == 200 and j.get("status") == 1 and
           err.strip() == "lacre: no warrant '%s' (see 'lacre warrant list')" % w and
           base64.b64decode(j.get("out", "")) == b"",
           "another unit's warrant through the console: exit %s, %r" % (j.get("status"), err.strip()))
        # without the CSRF token, the same request is refused before the keeper
        st, j2 = c.post("/api/run", c.request_bytes(["warrant", "list", "--json",
                                                      "--justification", just]), csrf=False)
        ok(st == 403 and "CSRF" in j2.get("error", ""), "POST without X-CSRF-Token: %d" % st)
        # a request naming another user is not relayed
        st, j3 = c.post("/api/run", c.request_bytes(["warrant", "list", "--json",
                                                      "--justification", just], user="inv"))
        ok(st == 403 and "another user" in j3.get("error", ""),
           "a request of another user: %d %s" % (st, j3.get("error")))
        # a signature refused by the client: the keeper refuses the read (nothing shown)
        st, j4 = c.run(["warrant", "list", "--json", "--justification", just], sign=False)
        ok(st == 200 and j4.get("status") != 0 and base64.b64decode(j4.get("out", "")) == b"",
           "an unsigned access event: exit %s, no output; %r" % (j4.get("status"), j4.get("err", "").strip()))
        # logout ends the session: the same cookie then gets nothing
        old = c.cookie
        st, j5 = c.post("/api/logout", b"")
        ok(st == 200, "logout: %d" % st)
        c.cookie = old
        st, _, _ = c.req("GET", "/api/session")
        ok(st == 401, "the logged-out session's cookie: %d (401 expected)" % st)
    elif check == "limits":
        # rest: the justification.  4 relays of one session may wait for a
        # signature; a 5th is refused (429) without reaching the keeper
        just, = rest
        c.login(keyfile)
        parked = []
        for i in range(4):
            st, j = c.post("/api/run", c.request_bytes(["warrant", "list", "--json",
                                                        "--justification", just]))
            if st == 200 and j.get("state") == "sign":
                parked.append(j["id"])
        ok(len(parked) == 4, "4 relays wait for the browser's signature: %d" % len(parked))
        st, j = c.post("/api/run", c.request_bytes(["warrant", "list", "--json",
                                                    "--justification", just]))
        ok(st == 429 and "too many requests wait" in j.get("error", ""), "a 5th: %d %s" % (st, j.get("error")))
        st, j = c.post("/api/sign", ("id %s\nsig \n" % os.urandom(32).hex()).encode())
        ok(st == 404, "a signature for no waiting relay: %d" % st)
        outs = []
        for pid in parked:
            st, j = c.post("/api/sign", ("id %s\nsig \n" % pid).encode())
            outs.append((st, j.get("state"), j.get("status"), base64.b64decode(j.get("out", ""))))
        ok(all(o[0] == 200 and o[1] == "done" and o[2] == 1 and o[3] == b"" for o in outs),
           "each refused signature ends its request with exit 1 and no output: %s" %
           [o[:3] for o in outs])
        st, j = c.post("/api/sign", ("id %s\nsig \n" % parked[0]).encode()) if parked else (0, {})
        ok(st == 404, "a relay answered once cannot be answered again: %d" % st)
    elif check == "disabled":
        # rest: the command that disables this user (run while logged in)
        st, h, j = c.login(keyfile)
        ok(st == 200, "login as %s: %d" % (c.name, st))
        st, _, _ = c.req("GET", "/api/session")
        ok(st == 200, "the session works: %d" % st)
        import subprocess
        r = subprocess.run(rest, capture_output=True, text=True)
        ok(r.returncode == 0, "disabled through the keeper: exit %d %s" % (r.returncode, r.stderr.strip()))
        st, _, _ = c.req("GET", "/api/session")
        ok(st == 401, "the disabled user's open session at the next request: %d (401 expected)" % st)
        c.cookie = None
        st, h, j = c.login(keyfile)
        ok(st == 401 and j.get("error") == "this user is disabled" and "set-cookie" not in h,
           "a new login of the disabled user: %d %s" % (st, j.get("error")))
    elif check == "range":
        # rest: a call id and the justification: its audio, then byte ranges of it
        call, just = rest
        c.login(keyfile)
        st, j = c.run(["audio", call, "-o", "call.wav", "--justification", just])
        # a WAV is streamed: "stream" with its file id at its header, the
        # command's end at /api/file/ID/done (docs/console.md)
        ok(st == 200 and j.get("state") == "stream" and "file" in j,
           "audio through the API is streamed: %s %s" % (st, j.get("state")))
        path = "/api/file/" + j.get("file", "")
        st, h, whole = c.req("GET", path)
        ok(st == 200 and h.get("content-type") == "audio/wav" and whole[:4] == b"RIFF",
           "the file: %d bytes of audio/wav" % len(whole))
        st, _, d = c.req("GET", path + "/done")
        dj = json.loads(d)
        ok(st == 200 and dj.get("state") == "done" and dj.get("status") == 0 and dj.get("file") == j["file"],
           "its end: %d %s status %s" % (st, dj.get("state"), dj.get("status")))
        st, h, part = c.req("GET", path, headers={"Range": "bytes=4-11"})
        ok(st == 206 and part == whole[4:12] and
           h.get("content-range") == "bytes 4-11/%d" % len(whole), "Range 4-11: %d %r" % (st, part))
        st, h, _ = c.req("GET", path, headers={"Range": "bytes=%d-" % len(whole)})
        ok(st == 416 and h.get("content-range") == "bytes */%d" % len(whole), "a range past the end: %d" % st)
        other = Console(c.origin + "/", c.fpr)
        other.name = c.name
        other.cookie = os.urandom(32).hex()
        st, _, _ = other.req("GET", path)
        ok(st == 401, "the file without the session: %d (401 expected)" % st)
    elif check == "health":
        # rest: a key file of a role that may not see it (investigator)
        c.login(keyfile)
        st, h, d = c.req("GET", "/api/health")
        j = json.loads(d)
        ok(st == 200 and "status" in j and "checkpoint" in j, "GET /api/health as %s: %d" % (c.name, st))
        ok(j["checkpoint"] is not None and j["checkpoint"]["size"] > 0 and
           j["checkpoint"]["origin"].startswith("lacre/"),
           "the ingest log's checkpoint: %s" % (j["checkpoint"] or j.get("checkpoint_error")))
        m = (j["status"] or {}).get("metrics", {})
        ok(j["status"] is not None and j["status"]["running"] is False and m.get("lacre_ingest_pdus_total", 0) > 0
           and m.get("lacre_seal_records_total", 0) > 0,
           "the receiver's status (stopped): %s" % (j.get("status_error") or "%d PDUs, %d sealed" % (
               m.get("lacre_ingest_pdus_total", 0), m.get("lacre_seal_records_total", 0))))
        other = Console(c.origin + "/", c.fpr)
        other.login(rest[0])
        st, _, d = other.req("GET", "/api/health")
        ok(st == 403 and "administrators and auditors" in json.loads(d).get("error", ""),
           "an investigator: %d (403 expected)" % st)
    else:
        raise SystemExit("unknown check " + check)
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
