#!/usr/bin/env python3
"""console_browser.py - the web console in a real headless Chromium
(tests/e2e/console.sh, docs/console.md).

Chromium accepts the console's self-signed certificate by its public-key
hash (--ignore-certificate-errors-spki-list, what lacre-console prints),
not by ignoring certificate errors.  The user's key is loaded through the
login page's file input, as a user would; WebCrypto signs everything.

Usage: console_browser.py URL SPKI SHOTS_DIR INV_KEY WRONG_KEY AUDITOR_KEY W_OWN W_OTHER JUST
                          CLERK_KEY ADMIN_KEY COURT_RECIPIENT PACKAGE_OUT WAV_OUT
Prints "ok ..." lines; exit 0 when every check passes, 1 otherwise.
"""
import os, sys, time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

url, spki, shots, inv_key, wrong_key, aud_key, w_own, w_other, just = sys.argv[1:10]
clerk_key, admin_key, court_recipient, package_out, wav_out = sys.argv[10:15]
fails = 0


def ok(cond, what):
    global fails
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        fails += 1


opts = webdriver.ChromeOptions()
opts.binary_location = "/usr/bin/chromium"
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
          "--ignore-certificate-errors-spki-list=" + spki,
          "--autoplay-policy=no-user-gesture-required", "--window-size=1280,900"):
    opts.add_argument(a)
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
wait = WebDriverWait(d, 60)


def shot(name):
    d.save_screenshot(os.path.join(shots, name + ".png"))


def text(id_):
    return d.find_element(By.ID, id_).text


def fetch_bytes(url_js):
    """The bytes at the URL the page expression url_js names, fetched by
    the page itself (with its session)."""
    import base64
    b64 = d.execute_async_script("""
        const done = arguments[0];
        fetch(%s).then((r) => r.blob()).then((b) => {
          const fr = new FileReader();
          fr.onload = () => done(fr.result.split(',')[1]);
          fr.readAsDataURL(b);
        }, (e) => done(''));""" % url_js)
    return base64.b64decode(b64 or "")


def login(keyfile):
    d.find_element(By.ID, "keyfile").send_keys(keyfile)
    d.find_element(By.ID, "login-button").click()


def wait_msg(pred, what):
    try:
        wait.until(lambda _: pred())
        return True
    except Exception:
        print("     (waited for %s; messages: %r, %r)" % (what, text("msg"), text("login-msg")))
        return False


try:
    d.get(url)
    ok(d.execute_script("return window.isSecureContext") is True, "the page is a secure context")
    ed = d.execute_async_script("""
        const done = arguments[0];
        crypto.subtle.generateKey({name: 'Ed25519'}, false, ['sign', 'verify'])
          .then(() => done('yes'), (e) => done('no: ' + e.message));""")
    ok(ed == "yes", "Chromium's WebCrypto has Ed25519: %s (%s)" % (ed, d.capabilities.get("browserVersion")))
    shot("01-login")

    # a wrong key file (well-formed, not the user's registered key) is refused
    login(wrong_key)
    ok(wait_msg(lambda: "login refused" in text("login-msg"), "the refusal") and
       not d.find_element(By.ID, "app").is_displayed(),
       "a wrong key file is refused: %r" % text("login-msg"))

    # the investigator logs in with their key file
    d.get(url)
    login(inv_key)
    ok(wait_msg(lambda: d.find_element(By.ID, "app").is_displayed(), "the app"),
       "investigator logged in: %s %s" % (text("who-name"), text("who-role")))
    shot("02-logged-in")
    # no justification: nothing is asked of the keeper
    d.find_element(By.ID, "nav-warrants").click()
    ok(wait_msg(lambda: "justification first" in text("msg"), "the justification demand"),
       "a view without a justification is not opened: %r" % text("msg"))
    d.find_element(By.ID, "justification").send_keys(just)
    d.find_element(By.ID, "nav-warrants").click()
    ok(wait_msg(lambda: len(d.find_elements(By.ID, "warrants")) == 1, "the warrant table"),
       "warrant list shown")
    wt = text("warrants") if d.find_elements(By.ID, "warrants") else ""
    ok(w_own in wt and w_other not in wt,
       "the own unit's warrant %s is listed, the other unit's %s is not" % (w_own, w_other))
    shot("03-warrants")
    # the other unit's warrant, asked by its id: the L8 answer, as for a missing one
    d.find_element(By.ID, "open-warrant").send_keys(w_other)
    d.find_element(By.CSS_SELECTOR, "button.open-warrant").click()
    l8 = "lacre: no warrant '%s' (see 'lacre warrant list')" % w_other
    ok(wait_msg(lambda: text("msg") == l8, "the L8 answer") and not d.find_elements(By.ID, "calls"),
       "the other unit's warrant by its id: %r" % text("msg"))
    shot("03b-other-unit")

    d.find_element(By.CSS_SELECTOR, "#warrants button.open-calls").click()
    ok(wait_msg(lambda: len(d.find_elements(By.ID, "calls")) == 1, "the calls table"), "calls shown")
    ct = text("calls") if d.find_elements(By.ID, "calls") else ""
    ok("voip" in ct and "target-call" in ct, "the timeline shows a voip call with its direction")
    shot("04-calls")
    rows = d.find_elements(By.CSS_SELECTOR, "#calls tr")
    voip = [r for r in rows if "voip" in r.text]
    voip[0].find_element(By.CSS_SELECTOR, "button.open-call").click()
    wait_msg(lambda: len(d.find_elements(By.CSS_SELECTOR, "button.play-audio")) == 1, "the call page")
    d.find_element(By.CSS_SELECTOR, "button.play-audio").click()
    ok(wait_msg(lambda: len(d.find_elements(By.ID, "player")) == 1, "the audio element"),
       "the audio element is on the call page")
    got = d.execute_async_script("""
        const done = arguments[0], p = document.getElementById('player');
        fetch(p.src).then((r) => r.arrayBuffer().then((b) => {
          const u = new Uint8Array(b);
          done([r.status, r.headers.get('content-type'), b.byteLength,
                String.fromCharCode(u[0], u[1], u[2], u[3], u[8], u[9], u[10], u[11])]);
        }), (e) => done(['error', e.message]));""")
    ok(got[0] == 200 and got[1] == "audio/wav" and got[3] == "RIFFWAVE" and got[2] > 44,
       "the audio element's source is a WAV: %s" % got)
    # the bytes the player got, for console.sh's tone check
    open(wav_out, "wb").write(fetch_bytes("document.getElementById('player').src"))
    try:
        WebDriverWait(d, 30).until(lambda _: d.execute_script(
            "const p = document.getElementById('player'); return p.readyState >= 1 && p.duration > 0"))
    except Exception:
        pass
    dur = d.execute_script("return document.getElementById('player').duration")
    ok(dur is not None and dur > 0, "the audio element decoded the WAV: duration %.3f s" % (dur or 0))
    state = d.execute_async_script("""
        const done = arguments[0], p = document.getElementById('player');
        p.addEventListener('playing', () => done('playing'), {once: true});
        p.play().catch((e) => done('play failed: ' + e.message));
        setTimeout(() => done('no playing event'), 20000);""")
    ok(state == "playing", "the audio element reaches 'playing': %s" % state)
    shot("05-call-audio")
    d.find_element(By.CSS_SELECTOR, "button.get-pcap").click()
    ok(wait_msg(lambda: len(d.find_elements(By.ID, "pcap-link")) == 1, "the pcap link"), "pcap ready")
    pg = d.execute_async_script("""
        const done = arguments[0], a = document.getElementById('pcap-link');
        fetch(a.href).then((r) => r.arrayBuffer().then((b) => {
          const u = new Uint8Array(b);
          done([r.status, b.byteLength, Array.from(u.slice(0, 4))]);
        }), (e) => done(['error', e.message]));""")
    ok(pg[0] == 200 and pg[2] == [0xd4, 0xc3, 0xb2, 0xa1] and pg[1] > 24,
       "the pcap download: %s" % pg)

    # logout: the page returns to the login form and the session gets nothing
    d.find_element(By.ID, "logout").click()
    ok(wait_msg(lambda: d.find_element(By.ID, "login").is_displayed(), "the login form"),
       "logged out: %r" % text("login-msg"))
    st = d.execute_async_script("""
        const done = arguments[0];
        fetch('/api/session').then((r) => done(r.status), (e) => done(e.message));""")
    ok(st == 401, "after logout /api/session answers %s (401 expected)" % st)
    ok(d.get_cookie("lacre_session") is None or d.get_cookie("lacre_session")["value"] == "",
       "the session cookie is cleared")

    # the auditor sees the investigator's accesses, each logged first
    d.get(url)
    login(aud_key)
    wait_msg(lambda: d.find_element(By.ID, "app").is_displayed(), "the auditor's app")
    d.find_element(By.ID, "justification").send_keys("oversight review of the console test")
    d.find_element(By.ID, "nav-accesslog").click()
    ok(wait_msg(lambda: len(d.find_elements(By.ID, "access-log")) == 1, "the access log"),
       "access log shown")
    ver = text("verification") if d.find_elements(By.ID, "verification") else ""
    ok(" 0 failed verification" in ver, "verification status: %r" % ver)
    rows = [r.text for r in d.find_elements(By.CSS_SELECTOR, "#access-log tr")]
    for action in ("warrant-list", "calls", "audio", "pcap"):
        ok(any(" inv " in " %s " % r and (" %s " % action) in " %s " % r and "allowed" in r and
               just in r for r in rows),
           "the access log shows inv's %s in the browser, allowed, with its justification" % action)
    d.find_element(By.ID, "filter-user").send_keys("inv")
    d.find_element(By.ID, "filter-decision").send_keys("allowed")
    frows = d.find_elements(By.CSS_SELECTOR, "#access-log tr")
    ok(1 < len(frows) < len(rows), "the filters narrow the log: %d of %d rows" % (len(frows) - 1, len(rows) - 1))
    shot("06-access-log")

    # the clerk exports for the court; the package (fetched through the
    # page) is written for lacre-verify, which console.sh runs
    d.find_element(By.ID, "logout").click()
    wait_msg(lambda: d.find_element(By.ID, "login").is_displayed(), "the login form")
    d.get(url)
    login(clerk_key)
    wait_msg(lambda: d.find_element(By.ID, "app").is_displayed(), "the clerk's app")
    d.find_element(By.ID, "justification").send_keys("delivery to the court, order ORD-LIID0001")
    d.find_element(By.ID, "nav-quarantine").click()
    ok(wait_msg(lambda: len(d.find_elements(By.ID, "quarantine")) == 1, "the quarantine table"),
       "the clerk's quarantine list: %r" % text("msg"))
    d.find_element(By.ID, "nav-export").click()
    d.find_element(By.ID, "export-warrant").send_keys(w_own)
    d.find_element(By.ID, "export-recipient").send_keys(court_recipient)
    d.find_element(By.CSS_SELECTOR, "button.do-export").click()
    ok(wait_msg(lambda: len(d.find_elements(By.ID, "export-report")) == 1, "the export report"),
       "the clerk's export: report shown")
    rep = text("export-report") if d.find_elements(By.ID, "export-report") else ""
    try:
        import json
        rj = json.loads(rep.splitlines()[0])
    except Exception:
        rj = {}
    ok(rj.get("records", 0) > 0 and rj.get("included") == rj.get("records"),
       "the package's report: %s records, %s included, %s excluded" %
       (rj.get("records"), rj.get("included"), rj.get("excluded")))
    pkg = fetch_bytes("document.querySelector('#view a[download=\\'package.age\\']').href")
    open(package_out, "wb").write(pkg)
    ok(pkg.startswith(b"age-encryption.org/v1\n"), "the package downloads: %d bytes, age v1" % len(pkg))
    shot("07-export")

    # the administrator sees users and roles
    d.find_element(By.ID, "logout").click()
    wait_msg(lambda: d.find_element(By.ID, "login").is_displayed(), "the login form")
    d.get(url)
    login(admin_key)
    wait_msg(lambda: d.find_element(By.ID, "app").is_displayed(), "the admin's app")
    d.find_element(By.ID, "nav-users").click()
    ok(wait_msg(lambda: len(d.find_elements(By.ID, "users")) == 1, "the users table"), "users shown")
    ut = text("users") if d.find_elements(By.ID, "users") else ""
    ok(all(x in ut for x in ("inv investigator UCO-1", "inv2 investigator UCO-2", "auditor auditor")),
       "users and roles listed")
    shot("08-users")
finally:
    d.quit()
sys.exit(1 if fails else 0)
