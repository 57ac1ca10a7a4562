#!/usr/bin/env python3
"""console_firefox.py - the web console in a real headless Firefox
(tests/e2e/console_firefox.sh, docs/console.md), driven over Marionette
(tests/e2e/lib/marionette.py: Debian has firefox-esr but no geckodriver).

The console's self-signed certificate is imported into the fresh profile
as a trusted root (certutil); the session keeps acceptInsecureCerts false,
so a certificate other than CERT_PEM fails the test.  The user's key is
loaded through the login page's file input, as a user would; WebCrypto
(Ed25519) signs everything.  Only 127.0.0.1 is contacted: every proxy
points at a dead-end listener on loopback and every name resolves to
127.0.0.1 (see marionette.py); Firefox runs under strace, and the test
fails if any of its processes named another address in a connect or send.

Usage: console_firefox.py FIREFOX URL CERT_PEM SHOTS_DIR INV_KEY AUDITOR_KEY W_OWN W_OTHER JUST WAV_OUT
                          ADMIN_KEY CLERK_KEY COURT_RECIPIENT PACKAGE_OUT
Prints "ok ..." / "FAIL ..." lines; exit 0 when every check passes, 1 otherwise.
"""
import base64, os, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from marionette import Firefox, MarionetteError, destinations, is_loopback  # noqa: E402

firefox, url, cert_pem, shots, inv_key, aud_key, w_own, w_other, just, wav_out, admin_key = sys.argv[1:12]
clerk_key, court_recipient, package_out = sys.argv[12:15]
fails = 0


def ok(cond, what):
    """Prints one check's result; a failed one makes the exit status 1."""
    global fails
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        fails += 1


log = os.path.join(shots, "..", "firefox.log")
traces = [os.path.join(shots, "..", "firefox-%s.strace" % n) for n in ("bare", "test")]

# without the certificate in its profile Firefox refuses the console: the
# trust below is what makes the page load (acceptInsecureCerts stays false)
bare = Firefox(firefox, timeout=60, log=log, trace=traces[0])
try:
    bare.navigate(url)
    ok(False, "a profile without the console's certificate loaded the page")
except MarionetteError as e:
    ok(e.code == "insecure certificate",
       "a profile without the console's certificate: %r (insecure certificate expected)" % str(e))
finally:
    bare.quit()

ff = Firefox(firefox, trust_pem=cert_pem, timeout=60, log=log, trace=traces[1])


def shot(name):
    """A screenshot of the page, SHOTS_DIR/name.png."""
    ff.screenshot(os.path.join(shots, name + ".png"))


def exists(css):
    """Whether css selects an element now."""
    return len(ff.find_all(css)) > 0


def text(css):
    """The element's visible text, "" when there is none."""
    return ff.text(css) if exists(css) else ""


def displayed(id_):
    """Whether the element with this id is shown (not hidden)."""
    return ff.script("const e = document.getElementById(arguments[0]);"
                     "return !!e && !e.hidden && e.offsetParent !== null;", id_)


def wait_for(pred, what, seconds=60):
    """Polls pred() until it is true; False (and the page's messages) after
    seconds."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if pred():
                return True
        except MarionetteError:
            pass  # the page is changing under us: ask again
        time.sleep(0.2)
    print("     (waited %d s for %s; messages: %r, %r)" % (seconds, what, text("#msg"), text("#login-msg")))
    return False


def login(keyfile):
    """Loads keyfile through the login form's file input and submits."""
    ff.send_keys("#keyfile", keyfile)
    ff.click("#login-button")


def go(justification=None):
    """Answers the justification form a view shows when it is opened
    (prefilled with the last one; justification replaces it)."""
    wait_for(lambda: exists("#just-go"), "the justification form")
    if justification is not None:
        ff.clear("#justification")
        ff.send_keys("#justification", justification)
    ff.click("#just-go")


def nav(view, justification=None):
    """Opens a view from the navigation bar and answers its justification."""
    ff.click("#nav-" + view)
    go(justification)


def fetch_status(path):
    """The HTTP status the page gets for a GET of path (with its cookies)."""
    return ff.async_script("""
        const done = arguments[arguments.length - 1];
        fetch(arguments[0]).then((r) => done(r.status), (e) => done('error: ' + e.message));""", path)


try:
    print("     %s %s" % (ff.capabilities.get("browserName"), ff.capabilities.get("browserVersion")))
    ff.navigate(url)
    ok(ff.script("return window.isSecureContext") is True,
       "the page is a secure context: the console's certificate is trusted as a root of the profile")
    ed = ff.async_script("""
        const done = arguments[arguments.length - 1];
        crypto.subtle.generateKey({name: 'Ed25519'}, false, ['sign', 'verify'])
          .then(() => done('yes'), (e) => done('no: ' + e.message));""")
    ok(ed == "yes", "Firefox's WebCrypto has Ed25519: %s" % ed)
    shot("01-login")

    # the investigator logs in with the key file
    login(inv_key)
    ok(wait_for(lambda: displayed("app"), "the app"),
       "investigator logged in: %s %s" % (text("#who-name"), text("#who-role")))
    shot("02-logged-in")
    # no justification: the view is not opened
    nav("warrants")
    ok(wait_for(lambda: "justification first" in text("#msg"), "the justification demand") and
       not exists("#warrants"), "a view without a justification is not opened: %r" % text("#msg"))
    go(just)
    ok(wait_for(lambda: exists("#warrants"), "the warrant table"), "warrant list shown")
    wt = text("#warrants")
    ok(w_own in wt and w_other not in wt,
       "the own unit's warrant %s is listed, the other unit's %s is not" % (w_own, w_other))
    shot("03-warrants")
    # the other unit's warrant, asked by its id: the L8 answer, as for a missing one
    ff.send_keys("#open-warrant", w_other)
    ff.click("button.open-warrant")
    go()
    l8 = "lacre: no warrant '%s' (see 'lacre warrant list')" % w_other
    ok(wait_for(lambda: text("#msg") == l8, "the L8 answer") and not exists("#calls"),
       "the other unit's warrant by its id: %r" % text("#msg"))
    shot("04-other-unit")

    # the own warrant's calls, a voip call's page, its audio
    nav("warrants")
    wait_for(lambda: exists("#warrants button.open-calls"), "the warrant table")
    ff.click("#warrants button.open-calls")
    go()
    ok(wait_for(lambda: exists("#calls"), "the calls table"), "calls shown")
    ct = text("#calls")
    ok("voip" in ct and "target-call" in ct, "the timeline shows a voip call with its direction")
    shot("05-calls")
    # the first voip row's open button
    opened = ff.script("""
        const r = Array.from(document.querySelectorAll('#calls tr')).find((t) => t.textContent.includes('voip'));
        const b = r && r.querySelector('button.open-call');
        if (!b) return false;
        b.id = 'ff-open-voip';
        return true;""")
    ok(opened, "a voip row has an open button")
    if opened:
        ff.click("#ff-open-voip")
    go()
    wait_for(lambda: exists("button.play-audio"), "the call page")
    ff.click("button.play-audio")
    ok(wait_for(lambda: exists("#player"), "the audio element"), "the audio element is on the call page")
    src = ff.script("const p = document.getElementById('player'); return p ? p.src : ''")
    # the bytes the player got, fetched by the page with its session
    got = ff.async_script("""
        const done = arguments[arguments.length - 1];
        fetch(arguments[0]).then((r) => r.blob().then((b) => {
          const fr = new FileReader();
          fr.onload = () => done([r.status, r.headers.get('content-type'), fr.result.split(',')[1]]);
          fr.readAsDataURL(b);
        }), (e) => done(['error', e.message, '']));""", src)
    wav = base64.b64decode(got[2] or "")
    with open(wav_out, "wb") as f:
        f.write(wav)
    ok(got[0] == 200 and got[1] == "audio/wav" and wav[:4] == b"RIFF" and wav[8:12] == b"WAVE" and
       len(wav) > 44, "the audio element's source is a WAV: %s %s, %d bytes" % (got[0], got[1], len(wav)))
    wait_for(lambda: ff.script("const p = document.getElementById('player');"
                               "return p.readyState >= 1 && p.duration > 0"), "the WAV's metadata", 30)
    dur = ff.script("return document.getElementById('player').duration")
    ok(dur is not None and dur > 0, "Firefox's audio element decoded the WAV: duration %.3f s" % (dur or 0))
    # any error of the element from here on is kept (window.ffMediaError)
    state = ff.async_script("""
        const done = arguments[arguments.length - 1], p = document.getElementById('player');
        window.ffMediaError = p.error ? p.error.code + ' ' + p.error.message : null;
        p.addEventListener('error', () => {
          window.ffMediaError = p.error ? p.error.code + ' ' + p.error.message : 'error';
        });
        if (!p.paused && p.readyState >= 3) { done('playing'); return; }
        p.addEventListener('playing', () => done('playing'), {once: true});
        p.addEventListener('error', () => done('error ' + (p.error && p.error.code)), {once: true});
        p.play().catch((e) => done('play failed: ' + e.message));
        setTimeout(() => done('no playing event in 20 s'), 20000);""")
    ok(state == "playing", "the audio element reaches 'playing': %s" % state)
    # it advances: the clock runs while it plays
    t0, w0 = ff.script("return document.getElementById('player').currentTime"), time.monotonic()
    wait_for(lambda: ff.script("return document.getElementById('player').currentTime") > t0 + 0.2,
             "the playback position to advance", 10)
    t1, w1 = ff.script("return document.getElementById('player').currentTime"), time.monotonic()
    ok(t1 > t0, "the playback position advances: %.3f s -> %.3f s in %.2f s of wall time" %
       (t0, t1, w1 - w0))
    # played to the end: the played ranges cover the whole WAV
    wait_for(lambda: ff.script("return document.getElementById('player').ended"), "the end", 10)
    pl = ff.script("""
        const p = document.getElementById('player'), r = p.played;
        return [p.ended, r.length, r.length ? r.start(0) : -1, r.length ? r.end(r.length - 1) : -1, p.duration,
                window.ffMediaError, p.error ? p.error.code + ' ' + p.error.message : null];""")
    ok(pl[0] is True and pl[1] >= 1 and pl[2] == 0 and abs(pl[3] - pl[4]) < 0.05,
       "the audio element played the WAV to its end: ended %s, played %s..%s of %s s" %
       (pl[0], pl[2], pl[3], pl[4]))
    ok(pl[5] is None and pl[6] is None, "no media error while it played: %s, %s" % (pl[5], pl[6]))
    ok(wait_for(lambda: "audio: left channel" in text("#msg"), "the level display"),
       "the level display is drawn: %r" % text("#msg"))
    # the level display: the page decoded the WAV's PCM onto a canvas; each
    # half (left channel above, right below) has waveform pixels
    px = ff.script("""
        const c = document.getElementById('level');
        if (!c) return null;
        const g = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let up = 0, down = 0;
        for (let i = 0; i < g.length; i += 4) {
          if (g[i] === g[i + 1] && g[i + 1] === g[i + 2]) continue;   // grey: background, middle line
          if (i / 4 < c.width * c.height / 2) up++; else down++;
        }
        return [up, down, c.width, c.height];""")
    ok(px is not None and px[0] > 100 and px[1] > 100,
       "the level canvas has waveform pixels for both channels: %s" % px)
    shot("06-call-audio")
    # the pcap, downloaded by Firefox into the profile's download folder
    ff.click("button.get-pcap")
    ok(wait_for(lambda: exists("#pcap-link"), "the pcap link"), "pcap ready: %r" % text("#msg"))
    pcap = os.path.join(ff.downloads, "content.pcap")
    if exists("#pcap-link"):
        ff.click("#pcap-link")
    wait_for(lambda: os.path.exists(pcap) and os.path.getsize(pcap) > 24 and
             not [f for f in os.listdir(ff.downloads) if f.endswith(".part")], "the pcap download", 30)
    pb = open(pcap, "rb").read() if os.path.exists(pcap) else b""
    ok(pb[:4] == bytes([0xd4, 0xc3, 0xb2, 0xa1]) and len(pb) > 24,
       "Firefox downloaded the pcap: %d bytes, magic %s" % (len(pb), pb[:4].hex()))

    # logout: the page returns to the login form and the session gets nothing
    ff.click("#logout")
    ok(wait_for(lambda: displayed("login"), "the login form"), "logged out: %r" % text("#login-msg"))
    st = fetch_status("/api/session")
    ok(st == 401, "after logout /api/session answers %s (401 expected)" % st)
    st = fetch_status(src)
    ok(st == 401, "after logout the call's audio answers %s (401 expected)" % st)
    ok(not any(c.get("name") == "lacre_session" and c.get("value") for c in ff.cookies()),
       "the session cookie is cleared")
    shot("07-logged-out")

    # a forged session cookie (random, as long as a real one) gets nothing
    forged = os.urandom(32).hex()
    ff.add_cookie({"name": "lacre_session", "value": forged, "path": "/", "secure": True,
                   "httpOnly": True, "sameSite": "Strict"})
    ok(any(c.get("name") == "lacre_session" and c.get("value") == forged for c in ff.cookies()),
       "a forged session cookie is set in the browser")
    st = fetch_status("/api/session")
    ok(st == 401, "the forged session: /api/session answers %s (401 expected)" % st)
    st = fetch_status(src)
    ok(st == 401, "the forged session: the call's audio answers %s (401 expected)" % st)
    ff.navigate(url)
    ok(wait_for(lambda: displayed("login"), "the login form") and not displayed("app"),
       "the forged session: the page shows the login form, not the app")
    shot("08-forged-session")

    # the auditor sees the investigator's accesses, each logged first
    login(aud_key)
    ok(wait_for(lambda: displayed("app"), "the auditor's app"),
       "auditor logged in: %s %s" % (text("#who-name"), text("#who-role")))
    nav("accesslog", "oversight review of the console test in Firefox")
    ok(wait_for(lambda: exists("#access-log"), "the access log"), "access log shown")
    ver = text("#verification")
    ok(" 0 failed verification" in ver, "verification status: %r" % ver)
    rows = ff.script("return Array.from(document.querySelectorAll('#access-log tr')).map((r) => r.innerText)")
    for action in ("warrant-list", "calls", "audio", "pcap"):
        ok(any(" inv " in " %s " % r.replace("\t", " ") and (" %s " % action) in " %s " % r.replace("\t", " ")
               and "allowed" in r and just in r for r in rows),
           "the access log shows inv's %s in Firefox, allowed, with its justification" % action)
    shot("09-access-log")
    ff.click("#logout")
    ok(wait_for(lambda: displayed("login"), "the login form"), "the auditor logged out")

    # the clerk exports W_OWN for the court in Firefox: the page shows the
    # package's summary and lacre-verify's report of it; the package itself,
    # fetched by the page with its session, goes to PACKAGE_OUT for
    # console_firefox.sh to verify offline with the court's key
    login(clerk_key)
    ok(wait_for(lambda: displayed("app"), "the clerk's app"),
       "clerk logged in: %s %s" % (text("#who-name"), text("#who-role")))
    nav("quarantine", "delivery to the court in Firefox, order ORD-LIID0001")
    ok(wait_for(lambda: exists("#quarantine"), "the quarantine table"),
       "the clerk's quarantine list: %r" % text("#msg"))
    nav("export")
    ff.send_keys("#export-warrant", w_own)
    ff.send_keys("#export-recipient", court_recipient)
    ff.click("button.do-export")
    ok(wait_for(lambda: exists("#export-report"), "the export report", seconds=120),
       "the clerk's export: report shown")
    rep = text("#export-report").strip().splitlines()
    ok(rep[-1:] == ["VERIFIED: every record is the one sealed at ingest and is in the signed ingest log"],
       "Firefox shows lacre-verify's report of the package: %r" % rep[-1:])
    try:
        import json
        summ = json.loads(text("#export-summary").splitlines()[0])
    except Exception:
        summ = {}
    ok(summ.get("records", 0) > 0 and summ.get("included") == summ.get("records"),
       "the package's summary: %s records, %s included" % (summ.get("records"), summ.get("included")))
    b64 = ff.async_script("""
        const done = arguments[arguments.length - 1];
        const a = document.querySelector("#view a[download='package.age']");
        if (!a) { done(''); return; }
        fetch(a.href).then((r) => r.blob()).then((b) => {
          const fr = new FileReader();
          fr.onload = () => done(fr.result.split(',')[1]);
          fr.readAsDataURL(b);
        }, (e) => done(''));""")
    pkg = base64.b64decode(b64 or "")
    with open(package_out, "wb") as f:
        f.write(pkg)
    ok(pkg.startswith(b"age-encryption.org/v1\n"), "the package downloads in Firefox: %d bytes, age v1" % len(pkg))
    shot("10-export")
    ff.click("#logout")
    ok(wait_for(lambda: displayed("login"), "the login form"), "the clerk logged out")

    # the administrator adds a user: Firefox's WebCrypto makes the Ed25519
    # key pair, the keeper registers the public key, Firefox downloads the
    # key file (a Blob) into the profile's folder; that file logs in; the
    # administrator disables the user and it logs in no more
    ff.navigate(url)
    login(admin_key)
    ok(wait_for(lambda: displayed("app"), "the admin's app"),
       "administrator logged in: %s %s" % (text("#who-name"), text("#who-role")))
    nav("users", "user administration for the console test in Firefox")
    ok(wait_for(lambda: exists("#users"), "the users table"), "users shown")
    ff.send_keys("#ua-name", "nora")
    ff.clear("#ua-unit")
    ff.send_keys("#ua-unit", "UCO-1")
    role = ff.script("return document.getElementById('ua-role').value")
    ff.click("button.ua-add")
    ok(wait_for(lambda: text("#user-result").startswith("exit status ") and exists("#user-key-link"),
                "the keeper's answer and the key file link") and
       text("#user-result").startswith("exit status 0\n"),
       "user nora (%s, UCO-1) added through the keeper: %r" % (role, text("#user-result")[:60]))
    nora_key = os.path.join(ff.downloads, "nora.key")
    if exists("#user-key-link"):
        ff.click("#user-key-link")
    wait_for(lambda: os.path.exists(nora_key) and os.path.getsize(nora_key) > 0 and
             not [f for f in os.listdir(ff.downloads) if f.endswith(".part")], "the key file download", 30)
    kt = open(nora_key).read() if os.path.exists(nora_key) else ""
    # PRIVATE+KEY+NAME+keyid+base64(01 || seed) (the base64 may hold '+')
    kp = kt.rstrip("\n").split("+", 4)
    try:
        seed = base64.b64decode(kp[4], validate=True) if len(kp) == 5 else b""
    except ValueError:
        seed = b""
    ok(kt.endswith("\n") and kp[:3] == ["PRIVATE", "KEY", "nora"] and len(kp) == 5 and
       len(seed) == 33 and seed[0] == 1,
       "Firefox downloaded the key file made in the page, in the FORMATS 8.1 form: %d bytes, key id %s" %
       (len(kt), kp[3] if len(kp) > 3 else "?"))
    shot("10-user-added")
    ff.click("#logout")
    wait_for(lambda: displayed("login"), "the login form")
    ff.navigate(url)
    login(nora_key)
    ok(wait_for(lambda: displayed("app"), "nora's app") and text("#who-name") == "nora",
       "the key file made in Firefox logs in: %s %s" % (text("#who-name"), text("#who-role")))
    ff.click("#logout")
    wait_for(lambda: displayed("login"), "the login form")
    ff.navigate(url)
    login(admin_key)
    wait_for(lambda: displayed("app"), "the admin's app")
    nav("users", "user administration for the console test in Firefox")
    wait_for(lambda: exists("#users"), "the users table")
    marked = ff.script("""
        const r = Array.from(document.querySelectorAll('#users tr')).find((t) => t.innerText.startsWith('nora'));
        const b = r && r.querySelector('button.user-disable');
        if (!b) return false;
        b.id = 'ff-disable-nora';
        return true;""")
    ok(marked, "nora's row has a Disable button")
    if marked:
        ff.click("#ff-disable-nora")
    ok(wait_for(lambda: "user nora disabled" in text("#msg"), "the disable"),
       "nora disabled in the page: %r" % text("#msg"))
    ff.click("#logout")
    wait_for(lambda: displayed("login"), "the login form")
    ff.navigate(url)
    login(nora_key)
    ok(wait_for(lambda: "this user is disabled" in text("#login-msg"), "the refusal") and
       not displayed("app"), "the disabled user's key file logs in no more: %r" % text("#login-msg"))
    shot("11-disabled-refused")
    out = ff.outside
    print("     requests Firefox made for outside loopback, all dead-ended at the loopback sink: %d %s" %
          (sum(out.values()), sorted(out)[:3]))
except MarionetteError as e:
    ok(False, "marionette: %s" % e)
finally:
    ff.quit()

# what both browsers' processes connected or sent to, from strace
dest = {}
for t in traces:
    for k, n in destinations(t).items():
        dest[k] = dest.get(k, 0) + n
away = sorted(k for k in dest if not is_loopback(k[0]))
ok(dest and not away,
   "Firefox named only loopback addresses (strace): %d connects/sends to %s%s" %
   (sum(dest.values()), sorted({a for a, _ in dest}), ("; ELSEWHERE: %s" % away) if away else ""))
sys.exit(1 if fails else 0)
