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
import json, os, sys, tempfile, time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

url, spki, shots, inv_key, wrong_key, aud_key, w_own, w_other, just = sys.argv[1:10]
clerk_key, admin_key, court_recipient, package_out, wav_out = sys.argv[10:15]
# one record (SEGMENT:INDEX) of w_own the clerk leaves out of a party copy
party_excl = sys.argv[15] if len(sys.argv) > 15 else ""
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
# the new user's key file, made in the page, is downloaded here
downloads = tempfile.mkdtemp(prefix="lacre-console-dl-")
opts.add_experimental_option("prefs", {"download.default_directory": downloads,
                                       "download.prompt_for_download": False})
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
d.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
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


def go(just=None):
    """Answer the justification form the view shows when it is opened
    (prefilled with the last one; just replaces it)."""
    wait.until(lambda _: len(d.find_elements(By.ID, "just-go")) == 1)
    if just is not None:
        f = d.find_element(By.ID, "justification")
        f.clear()
        f.send_keys(just)
    d.find_element(By.ID, "just-go").click()


def nav(view, just=None):
    d.find_element(By.ID, "nav-" + view).click()
    go(just)


def logout():
    d.find_element(By.ID, "logout").click()
    wait_msg(lambda: d.find_element(By.ID, "login").is_displayed(), "the login form")
    d.get(url)


def fill(fields):
    for k, v in fields.items():
        e = d.find_element(By.ID, k)
        e.clear()
        e.send_keys(v)


def press(css, pre):
    """Clears the answer in pre#pre, then clicks the button css."""
    d.execute_script("document.getElementById(arguments[0]).textContent = ''", pre)
    d.find_element(By.CSS_SELECTOR, css).click()


def result(id_, status):
    """Waits for the keeper's answer in pre#id_; whether it has exit status."""
    ok_ = wait_msg(lambda: text(id_).startswith("exit status "), "the answer in " + id_)
    return ok_ and text(id_).startswith("exit status %d\n" % status)


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
    nav("warrants")
    ok(wait_msg(lambda: "justification first" in text("msg"), "the justification demand") and
       not d.find_elements(By.ID, "warrants"),
       "a view without a justification is not opened: %r" % text("msg"))
    go(just)
    ok(wait_msg(lambda: len(d.find_elements(By.ID, "warrants")) == 1, "the warrant table"),
       "warrant list shown")
    wt = text("warrants") if d.find_elements(By.ID, "warrants") else ""
    ok(w_own in wt and w_other not in wt,
       "the own unit's warrant %s is listed, the other unit's %s is not" % (w_own, w_other))
    shot("03-warrants")
    # the other unit's warrant, asked by its id: the L8 answer, as for a missing one
    d.find_element(By.ID, "open-warrant").send_keys(w_other)
    d.find_element(By.CSS_SELECTOR, "button.open-warrant").click()
    go()
    l8 = "lacre: no warrant '%s' (see 'lacre warrant list')" % w_other
    ok(wait_msg(lambda: text("msg") == l8, "the L8 answer") and not d.find_elements(By.ID, "calls"),
       "the other unit's warrant by its id: %r" % text("msg"))
    shot("03b-other-unit")

    # every content view asks its justification when it is opened: the
    # form is prefilled with the last one
    nav("warrants")
    wait_msg(lambda: len(d.find_elements(By.ID, "warrants")) == 1, "the warrant table")
    d.find_element(By.CSS_SELECTOR, "#warrants button.open-calls").click()
    wait.until(lambda _: len(d.find_elements(By.ID, "just-go")) == 1)
    ok(d.find_element(By.ID, "justification").get_attribute("value") == just and
       not d.find_elements(By.ID, "calls"),
       "the calls view asks its justification first (prefilled with the last one)")
    go()
    ok(wait_msg(lambda: len(d.find_elements(By.ID, "calls")) == 1, "the calls table"), "calls shown")
    ct = text("calls") if d.find_elements(By.ID, "calls") else ""
    ok("voip" in ct and "target-call" in ct, "the timeline shows a voip call with its direction")
    shot("04-calls")
    rows = d.find_elements(By.CSS_SELECTOR, "#calls tr")
    voip = [r for r in rows if "voip" in r.text]
    voip[0].find_element(By.CSS_SELECTOR, "button.open-call").click()
    go()
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
    # the level display: the page decoded the WAV's PCM onto a canvas
    ok(wait_msg(lambda: "audio: left channel" in text("msg"), "the level display"),
       "the level display is drawn: %r" % text("msg"))
    px = d.execute_script("""
        const c = document.getElementById('level');
        if (!c) return null;
        const g = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let up = 0, down = 0;
        for (let i = 0; i < g.length; i += 4) {
          const r = g[i], gr = g[i + 1], b = g[i + 2];
          if (r === gr && gr === b) continue;          // background, middle line
          if ((i / 4) < c.width * c.height / 2) up++; else down++;
        }
        return [up, down, c.width, c.height];""")
    ok(px is not None and px[0] > 100 and px[1] > 100,
       "the level canvas has waveform pixels for both channels: %s" % px)
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

    # the Locations view of the warrant: what the session's IPIRIs say, in
    # time order (console.sh compares the rows with lacre locations)
    nav("warrants")
    wait_msg(lambda: len(d.find_elements(By.ID, "warrants")) == 1, "the warrant table")
    d.find_element(By.CSS_SELECTOR, "#warrants button.open-locations").click()
    wait.until(lambda _: len(d.find_elements(By.ID, "just-go")) == 1)
    ok(not d.find_elements(By.ID, "locations"), "the Locations view asks its justification first")
    go()
    ok(wait_msg(lambda: len(d.find_elements(By.ID, "locations")) == 1, "the locations table"),
       "Locations view shown")
    hdr = [c.text for c in d.find_elements(By.CSS_SELECTOR, "#locations tr th")]
    rows = [[c.text for c in r.find_elements(By.TAG_NAME, "td")]
            for r in d.find_elements(By.CSS_SELECTOR, "#locations tr")[1:]]
    page = [[r[hdr.index(k)] for k in ("time", "iri_type", "kind", "place")] for r in rows] \
        if all(k in hdr for k in ("time", "iri_type", "kind", "place")) else []
    json.dump(page, open(os.path.join(shots, "locations.json"), "w"))
    ok(len(rows) > 0 and any("ecgi" in r for r in rows) and
       "no cell-tower database" in d.find_element(By.ID, "view").text,
       "the Locations view lists %d rows with cells, and says lacre has no cell-tower database" % len(rows))
    shot("05b-locations")
    # the session's page: its location events beside its IRI events
    nav("warrants")
    wait_msg(lambda: len(d.find_elements(By.ID, "warrants")) == 1, "the warrant table")
    d.find_element(By.CSS_SELECTOR, "#warrants button.open-calls").click()
    go()
    wait_msg(lambda: len(d.find_elements(By.ID, "calls")) == 1, "the calls table")
    srow = [r for r in d.find_elements(By.CSS_SELECTOR, "#calls tr") if "session" in r.text]
    ok(len(srow) == 1, "the calls table has the session")
    if srow:
        srow[0].find_element(By.CSS_SELECTOR, "button.open-call").click()
        go()
        ok(wait_msg(lambda: len(d.find_elements(By.ID, "call-locations")) == 1, "the session's locations"),
           "the session page shows its location events")
        st = [r.text for r in d.find_elements(By.CSS_SELECTOR, "#call-locations tr")[1:]]
        ok(len(st) == len(rows) and all("214-01-" in r for r in st),
           "the session page lists the %d location events of its CIN in time order" % len(st))
        d.execute_script("document.getElementById('call-locations-view').scrollIntoView()")
        shot("05c-session-locations")

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
    nav("accesslog", "oversight review of the console test")
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
    nav("quarantine", "delivery to the court, order ORD-LIID0001")
    ok(wait_msg(lambda: len(d.find_elements(By.ID, "quarantine")) == 1, "the quarantine table"),
       "the clerk's quarantine list: %r" % text("msg"))
    nav("export")
    d.find_element(By.ID, "export-warrant").send_keys(w_own)
    d.find_element(By.ID, "export-recipient").send_keys(court_recipient)
    d.find_element(By.CSS_SELECTOR, "button.do-export").click()
    ok(wait_msg(lambda: len(d.find_elements(By.ID, "export-report")) == 1, "the export report"),
       "the clerk's export: report shown")
    summ = text("export-summary") if d.find_elements(By.ID, "export-summary") else ""
    rep = text("export-report") if d.find_elements(By.ID, "export-report") else ""
    try:
        import json
        rj = json.loads(summ.splitlines()[0])
    except Exception:
        rj = {}
    ok(rj.get("records", 0) > 0 and rj.get("included") == rj.get("records"),
       "the package's summary: %s records, %s included, %s excluded" %
       (rj.get("records"), rj.get("included"), rj.get("excluded")))
    ok(rep.strip().splitlines()[-1:] == ["VERIFIED: every record is the one sealed at ingest and is in the signed ingest log"]
       and "log key trusted (the site's ingest log key)" in rep,
       "the page shows lacre-verify's report of the package: %r" % rep.strip().splitlines()[-1:])
    pkg = fetch_bytes("document.querySelector('#view a[download=\\'package.age\\']').href")
    open(package_out, "wb").write(pkg)
    ok(pkg.startswith(b"age-encryption.org/v1\n"), "the package downloads: %d bytes, age v1" % len(pkg))

    # a party copy: one record left out; the page shows the self-check's
    # VERIFIED report listing the exclusion
    ok(party_excl != "", "console.sh names a record to leave out of the party copy")
    d.find_element(By.ID, "export-exclude").send_keys(party_excl)
    old = d.find_element(By.ID, "export-report")
    d.find_element(By.CSS_SELECTOR, "button.do-export").click()
    def party_shown():
        try:
            return old.text is None
        except Exception:
            return len(d.find_elements(By.ID, "export-report")) == 1
    ok(wait_msg(party_shown, "the party copy's report"), "the clerk's party copy: report shown")
    summ = text("export-summary") if d.find_elements(By.ID, "export-summary") else ""
    prep = text("export-report") if d.find_elements(By.ID, "export-report") else ""
    try:
        pj = json.loads(summ.splitlines()[0])
    except Exception:
        pj = {}
    ok(pj.get("excluded") == 1 and pj.get("included") == pj.get("records", 0) - 1,
       "the party copy's summary: %s records, %s included, %s excluded" %
       (pj.get("records"), pj.get("included"), pj.get("excluded")))
    plines = prep.strip().splitlines()
    ok(plines[-1:] == ["VERIFIED: every record is the one sealed at ingest and is in the signed ingest log"]
       and any(l.startswith("excluded (party copy") for l in plines)
       and any(("(%s)" % party_excl) in l and "excluded by record" in l for l in plines),
       "the page shows the party copy's VERIFIED report, %s listed as excluded: %r" % (party_excl, plines[-1:]))
    shot("07-export")

    # the administrator sees users and roles, and adds a user: the page
    # makes the key pair, the keeper registers the public key, the key file
    # is downloaded
    logout()
    login(admin_key)
    wait_msg(lambda: d.find_element(By.ID, "app").is_displayed(), "the admin's app")
    nav("users", "user administration for the console test")
    ok(wait_msg(lambda: len(d.find_elements(By.ID, "users")) == 1, "the users table"), "users shown")
    ut = text("users") if d.find_elements(By.ID, "users") else ""
    ok(all(x in ut for x in ("inv investigator UCO-1", "inv2 investigator UCO-2", "auditor auditor")),
       "users and roles listed")
    shot("08-users")
    fill({"ua-name": "nora", "ua-unit": "UCO-1"})
    d.find_element(By.ID, "ua-role").send_keys("investigator")
    press("button.ua-add", "user-result")
    ok(result("user-result", 0) and
       wait_msg(lambda: len(d.find_elements(By.ID, "user-key-link")) == 1, "the key file link"),
       "user nora added through the keeper: %r" % text("user-result"))
    nora_key = os.path.join(downloads, "nora.key")
    if d.find_elements(By.ID, "user-key-link"):
        d.find_element(By.ID, "user-key-link").click()
    try:
        WebDriverWait(d, 20).until(lambda _: os.path.exists(nora_key) and os.path.getsize(nora_key) > 0)
    except Exception:
        pass
    kt = open(nora_key).read() if os.path.exists(nora_key) else ""
    ok(kt.startswith("PRIVATE+KEY+nora+") and kt.endswith("\n") and len(kt.split("+")) >= 5,
       "the key file downloads in the FORMATS 8.1 form: %d bytes" % len(kt))
    shot("09-user-added")

    # warrants: add one, cease it, and a second cease is refused with the
    # keeper's legal check on the page
    nav("warrantadmin")
    wait_msg(lambda: len(d.find_elements(By.ID, "wa-case")) == 1, "the warrant forms")
    fill({"wa-case": "CASE-3", "wa-unit": "UCO-1", "wa-court": "JI-5-Madrid", "wa-order": "ORD-3",
          "wa-order-date": "2026-11-01", "wa-to": "2027-01-31", "wa-categories": "iri",
          "wa-targets": "t3", "wa-liids": "LIID0042"})
    press("button.wa-add", "warrant-result")
    ok(result("warrant-result", 0), "warrant added in the page: %r" % text("warrant-result"))
    try:
        import json
        w3 = json.loads(text("warrant-result").splitlines()[1])["id"]
    except Exception:
        w3 = ""
    ok(w3.startswith("W-"), "the new warrant's id: %r" % w3)
    fill({"wc-warrant": w3, "wc-order": "ORD-3-CEASE", "wc-order-date": "2026-12-01"})
    press("button.wc-cease", "warrant-result")
    ok(result("warrant-result", 0), "warrant %s ceased in the page: %r" % (w3, text("warrant-result")))
    press("button.wc-cease", "warrant-result")
    wr = text("warrant-result") if result("warrant-result", 1) else text("warrant-result")
    ok(wr.startswith("exit status 1\n") and "lacre:" in wr and text("msg").startswith("lacre:"),
       "a second cease is refused with the keeper's message: %r" % wr)
    shot("10-warrants-admin")

    # the new user's key file logs in
    logout()
    login(nora_key)
    ok(wait_msg(lambda: d.find_element(By.ID, "app").is_displayed(), "nora's app") and
       text("who-name") == "nora",
       "the key file made in the page logs in: %s %s" % (text("who-name"), text("who-role")))

    # the clerk requests the shred of the ceased warrant and cannot approve it
    # too (four eyes); the retention list
    logout()
    login(clerk_key)
    wait_msg(lambda: d.find_element(By.ID, "app").is_displayed(), "the clerk's app")
    nav("shred", "court order to destroy the data of CASE-3")
    ok(wait_msg(lambda: len(d.find_elements(By.ID, "sr-warrant")) == 1, "the shred view"),
       "the clerk's shred view: %r" % text("msg"))
    fill({"sr-warrant": w3, "sr-order": "ORD-3-SHRED", "sr-order-date": "2026-12-05"})
    press("button.sr-request", "shred-result")
    ok(result("shred-result", 0), "the clerk's shred request: %r" % text("shred-result"))
    import re
    m = re.search(r"S-[0-9]{6}", text("shred-result"))
    sid = m.group(0) if m else ""
    ok(sid.startswith("S-"), "the request's id: %r" % sid)
    fill({"sa-id": sid})
    press("button.sa-approve", "shred-result")
    sr = text("shred-result") if result("shred-result", 1) else text("shred-result")
    ok(sr.startswith("exit status 1\n") and "(four eyes)" in sr,
       "the requester's own approval is refused (four eyes): %r" % sr)
    shot("11-shred-request")
    nav("retention")
    ok(wait_msg(lambda: len(d.find_elements(By.ID, "retention")) == 1, "the retention table"),
       "the retention list: %r / %r" % (text("msg"), text("retention-status") if d.find_elements(By.ID, "retention-status") else ""))
    rt = text("retention") if d.find_elements(By.ID, "retention") else ""
    ok(w_own in rt, "the retention list (--all) shows %s" % w_own)
    shot("12-retention")

    # an administrator approves: the key is destroyed
    logout()
    login(admin_key)
    wait_msg(lambda: d.find_element(By.ID, "app").is_displayed(), "the admin's app")
    nav("shred", "second person's approval of the CASE-3 shred")
    ok(wait_msg(lambda: sid in text("shred-list"), "the pending request"),
       "the pending request is listed: %r" % text("shred-list"))
    fill({"sa-id": sid})
    press("button.sa-approve", "shred-result")
    ok(result("shred-result", 0), "the administrator's approval: %r" % text("shred-result"))
    nav("shred")
    ok(wait_msg(lambda: "EXECUTED" in text("shred-list"), "the executed request"),
       "the request is executed: %r" % text("shred-list"))
    shot("13-shred-approved")

    # the administrator disables nora in the page: her key logs in no more
    nav("users")
    wait_msg(lambda: len(d.find_elements(By.ID, "users")) == 1, "the users table")
    nrow = [r for r in d.find_elements(By.CSS_SELECTOR, "#users tr") if r.text.startswith("nora ")]
    ok(len(nrow) == 1 and nrow[0].find_elements(By.CSS_SELECTOR, "button.user-disable"),
       "nora's row has a Disable button")
    if nrow:
        d.execute_script("document.getElementById('user-result').textContent = ''")
        nrow[0].find_element(By.CSS_SELECTOR, "button.user-disable").click()
    ok(wait_msg(lambda: "user nora disabled" in text("msg"), "the disable"),
       "nora disabled in the page: %r" % text("msg"))
    logout()
    login(nora_key)
    ok(wait_msg(lambda: "this user is disabled" in text("login-msg"), "the refusal") and
       not d.find_element(By.ID, "app").is_displayed(),
       "the disabled user's key file logs in no more: %r" % text("login-msg"))
finally:
    d.quit()
sys.exit(1 if fails else 0)
