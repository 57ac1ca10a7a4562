#!/usr/bin/env python3
"""marionette.py - a small client of Firefox's built-in remote-control
server, Marionette, for the console's browser test in Firefox
(tests/e2e/console_firefox.sh, docs/console.md).  Python 3 standard
library only: Debian has firefox-esr but no geckodriver.

Why its own client: selenium's Firefox driver needs geckodriver, which
Debian does not ship; Marionette speaks a small protocol of its own
(written here from Mozilla's protocol description, not copied):

  - a TCP stream of packets `<decimal byte length>:<JSON text>`;
  - the server's first packet is {"applicationType": "gecko",
    "marionetteProtocol": 3};
  - a command is [0, id, "Name", {params}], its answer
    [1, id, error or null, result or null]; an error is an object with
    "error" (the WebDriver error code), "message" and "stacktrace".

The browser is started and stopped here, with a fresh temporary profile:
  - Marionette on a free loopback port: the pref marionette.port is 0 and
    Firefox writes the port it took to PROFILE/MarionetteActivePort (no
    race between choosing a port and binding it);
  - nothing but 127.0.0.1 is contacted: every proxy pref points at a sink
    this module listens on (127.0.0.1, an ephemeral port) that answers
    nothing and records what Firefox tried to reach (Firefox.outside);
    loopback itself is not proxied (network.proxy.allow_hijacking_localhost
    false); DNS-over-HTTPS, prefetching, updates, telemetry, safe
    browsing, remote settings, captive-portal and connectivity probes are
    off;
  - media may play without a user gesture (media.autoplay.default 0);
  - audio goes to ALSA's null device (media.cubeb.backend "alsa" and an
    .asoundrc in the temporary HOME): without a sound device (a container,
    CI) Firefox's audio element fails with MEDIA_ERR_DECODE
    "OnMediaSinkAudioError"; the null device takes the samples faster than
    real time, so a clip plays to its end in a fraction of its duration;
  - downloads go to a folder without asking;
  - with trace=FILE, Firefox runs under strace, which writes every
    connect/sendto/sendmsg/sendmmsg of all its processes to FILE, and
    destinations(FILE) lists the IP addresses they named: the proof that
    only loopback was contacted (the prefs above are the means);
  - a certificate given as trust_pem is imported into the profile's NSS
    database as a trusted root (certutil from libnss3-tools, trust "C,,"),
    so the console's self-signed certificate is trusted the proper way:
    the session keeps acceptInsecureCerts false, and any other certificate
    would still fail.
"""
import base64, collections, ipaddress, json, os, re, shutil, signal, socket, subprocess, tempfile, \
    threading, time

# the key of a web element reference in WebDriver's JSON
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


class MarionetteError(Exception):
    """An error answer of the server (code and message as it gave them),
    or a failure of the transport or of the browser's start."""

    def __init__(self, code, message):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message


class _Sink:
    """A listener on 127.0.0.1 that every proxy pref names: it records the
    first line of each request (e.g. "CONNECT host:443 HTTP/1.1") and
    closes the connection, so a request for anything but loopback goes
    nowhere."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.seen = collections.Counter()
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        """Accepts until close(): records each request line, answers nothing."""
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                c.settimeout(2)
                line = c.recv(512).split(b"\r\n", 1)[0]
                self.seen[line.decode("latin-1")] += 1
            except OSError:
                pass
            finally:
                c.close()

    def close(self):
        """Stops the listener."""
        self.stop = True
        self.thread.join(2)
        self.sock.close()


def _prefs(sink_port, downloads):
    """The profile's preferences (user.js): see the module's header."""
    p = {
        "marionette.port": 0,
        # nothing outside loopback: every protocol through the dead-end sink
        "network.proxy.type": 1,
        "network.proxy.http": "127.0.0.1", "network.proxy.http_port": sink_port,
        "network.proxy.ssl": "127.0.0.1", "network.proxy.ssl_port": sink_port,
        "network.proxy.socks": "127.0.0.1", "network.proxy.socks_port": sink_port,
        "network.proxy.socks_remote_dns": True,
        "network.proxy.no_proxies_on": "",
        "network.proxy.allow_hijacking_localhost": False,
        "network.trr.mode": 5,
        # no DNS query at all: every name resolves to loopback (without
        # this Firefox still asks the system resolver for the Remote
        # Settings host, though it would go through the proxy)
        "network.dns.forceResolve": "127.0.0.1",
        "network.dns.disablePrefetch": True,
        "network.predictor.enabled": False,
        "network.http.speculative-parallel-limit": 0,
        "network.captive-portal-service.enabled": False,
        "network.connectivity-service.enabled": False,
        "security.OCSP.enabled": 0,
        "security.remote_settings.crlite_filters.enabled": False,
        "messaging-system.rsexperimentloader.enabled": False,
        "nimbus.rollouts.enabled": False,
        "browser.topsites.contile.enabled": False,
        "browser.newtabpage.activity-stream.feeds.section.topstories": False,
        "browser.newtabpage.activity-stream.telemetry": False,
        "identity.fxaccounts.enabled": False,
        "browser.places.speculativeConnect.enabled": False,
        "browser.urlbar.speculativeConnect.enabled": False,
        # no updates, no telemetry, no studies, no safe-browsing lists
        "app.update.disabledForTesting": True,
        "app.update.auto": False,
        "app.normandy.enabled": False,
        "app.shield.optoutstudies.enabled": False,
        "extensions.update.enabled": False,
        "extensions.getAddons.cache.enabled": False,
        "extensions.systemAddon.update.enabled": False,
        "datareporting.healthreport.uploadEnabled": False,
        "datareporting.policy.dataSubmissionEnabled": False,
        "toolkit.telemetry.enabled": False,
        "toolkit.telemetry.unified": False,
        "toolkit.telemetry.server": "",
        "browser.ping-centre.telemetry": False,
        "browser.safebrowsing.malware.enabled": False,
        "browser.safebrowsing.phishing.enabled": False,
        "browser.safebrowsing.downloads.enabled": False,
        "browser.safebrowsing.provider.mozilla.updateURL": "",
        "media.gmp-manager.url": "",
        "media.gmp-gmpopenh264.enabled": False,
        "media.gmp-widevinecdm.enabled": False,
        "media.gmp-widevinecdm.allow-chromium-update": False,
        "media.gmp-manager.chromium-update-url": "",
        "media.gmp-provider.enabled": False,
        "media.eme.enabled": False,
        "geo.enabled": False,
        "dom.push.enabled": False,
        "browser.newtabpage.enabled": False,
        "browser.newtabpage.activity-stream.feeds.topsites": False,
        "browser.startup.page": 0,
        "browser.startup.homepage": "about:blank",
        "browser.startup.homepage_override.mstone": "ignore",
        "browser.aboutwelcome.enabled": False,
        "browser.shell.checkDefaultBrowser": False,
        "browser.tabs.warnOnClose": False,
        "datareporting.policy.firstRunURL": "",
        "browser.region.network.url": "",
        "browser.search.geoip.url": "",
        # media plays without a user gesture (the test cannot make one)
        "media.autoplay.default": 0,
        "media.autoplay.blocking_policy": 0,
        "media.cubeb.backend": "alsa",
        # downloads: to the folder, never a dialog
        "browser.download.folderList": 2,
        "browser.download.dir": downloads,
        "browser.download.useDownloadDir": True,
        "browser.download.always_ask_before_handling_new_types": False,
        "browser.download.manager.showWhenStarting": False,
        "browser.download.panel.shown": True,
    }
    return p


class Firefox:
    """Firefox (headless) with a fresh profile, driven over Marionette.

    Firefox(binary, trust_pem=None, timeout=60, log=None, trace=None)
      binary     the firefox-esr executable
      trust_pem  a PEM certificate to trust as a root in this profile
      trace      a file for strace's record of its network system calls
                 (see destinations())
      timeout    seconds for the start, each command's answer, scripts and
                 page loads
      log        a file that gets Firefox's stdout and stderr
    quit() stops the browser and removes the profile."""

    def __init__(self, binary, trust_pem=None, timeout=60, log=None, trace=None):
        self.timeout = timeout
        self.base = tempfile.mkdtemp(prefix="lacre-firefox-")
        self.profile = os.path.join(self.base, "profile")
        self.downloads = os.path.join(self.base, "downloads")
        home = os.path.join(self.base, "home")
        for d in (self.profile, self.downloads, home):
            os.mkdir(d, 0o700)
        # audio output without a sound device (see the header)
        with open(os.path.join(home, ".asoundrc"), "w") as f:
            f.write("pcm.!default { type null }\n")
        self.sink = _Sink()
        self.proc = None
        self.sock = None
        self.last_id = 0
        self.buf = b""
        try:
            with open(os.path.join(self.profile, "user.js"), "w") as f:
                for k, v in sorted(_prefs(self.sink.port, self.downloads).items()):
                    f.write("user_pref(%s, %s);\n" % (json.dumps(k), json.dumps(v)))
            if trust_pem:
                self._trust(trust_pem)
            env = dict(os.environ, HOME=home, MOZ_HEADLESS="1", XDG_CACHE_HOME=home,
                       XDG_CONFIG_HOME=home, MOZ_CRASHREPORTER_DISABLE="1")
            out = open(log, "ab") if log else subprocess.DEVNULL
            # a process group of its own: quit() can end its content
            # processes too, and only them
            argv = [binary, "--headless", "--marionette", "--no-remote", "--new-instance",
                    "--profile", self.profile, "about:blank"]
            if trace:
                argv = ["strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg,sendmmsg",
                        "-e", "signal=none", "-o", trace] + argv
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env, start_new_session=True)
            if log:
                out.close()
            self._connect()
            r = self.cmd("WebDriver:NewSession", {"capabilities": {
                "acceptInsecureCerts": False,
                "pageLoadStrategy": "normal",
                "unhandledPromptBehavior": "dismiss",
                "timeouts": {"implicit": 0, "pageLoad": timeout * 1000, "script": timeout * 1000}}})
            self.capabilities = r.get("capabilities", {})
        except BaseException:
            self.quit()
            raise

    def _trust(self, pem):
        """Imports pem into the profile's NSS database as a trusted root for
        TLS servers (what Firefox's certificate manager does when a user
        imports a CA and ticks 'trust this CA to identify websites')."""
        db = "sql:" + self.profile
        for argv in (["certutil", "-N", "-d", db, "--empty-password"],
                     ["certutil", "-A", "-d", db, "-n", "lacre-test-trust", "-t", "C,,", "-i", pem]):
            r = subprocess.run(argv, capture_output=True, text=True)
            if r.returncode != 0:
                raise MarionetteError("certutil", "%s: exit %d: %s" %
                                      (" ".join(argv[:2]), r.returncode, r.stderr.strip()))

    def _connect(self):
        """Waits for Firefox to write the port it listens on, connects and
        checks the server's hello."""
        portfile = os.path.join(self.profile, "MarionetteActivePort")
        end = time.monotonic() + self.timeout
        while True:
            if self.proc.poll() is not None:
                raise MarionetteError("start", "firefox exited with status %d before Marionette "
                                      "listened" % self.proc.returncode)
            port = None
            try:
                with open(portfile) as f:
                    port = int(f.read().strip())
            except (OSError, ValueError):
                pass
            if port:
                try:
                    self.sock = socket.create_connection(("127.0.0.1", port), timeout=self.timeout)
                    break
                except OSError:
                    pass
            if time.monotonic() > end:
                raise MarionetteError("start", "Marionette did not listen within %d s" % self.timeout)
            time.sleep(0.2)
        hello = self._recv()
        if not isinstance(hello, dict) or hello.get("applicationType") != "gecko" or \
                hello.get("marionetteProtocol") != 3:
            raise MarionetteError("protocol", "unexpected hello %r" % (hello,))

    def _recv(self):
        """One packet: `<length>:<JSON>`, length in bytes."""
        while b":" not in self.buf:
            if len(self.buf) > 10:
                raise MarionetteError("protocol", "bad length prefix %r" % self.buf[:16])
            self._fill()
        head, _, rest = self.buf.partition(b":")
        if not head.isdigit():
            raise MarionetteError("protocol", "bad length prefix %r" % head[:16])
        n = int(head)
        self.buf = rest
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return json.loads(body)

    def _fill(self):
        """Reads what the server sent into the buffer (the command's timeout)."""
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise MarionetteError("timeout", "no answer from Marionette within %d s" % self.timeout)
        if not chunk:
            raise MarionetteError("closed", "Marionette closed the connection")
        self.buf += chunk

    def cmd(self, name, params=None, timeout=None):
        """Sends command name and returns its result; an error answer raises
        MarionetteError with the server's code and message."""
        self.last_id += 1
        mid = self.last_id
        data = json.dumps([0, mid, name, params or {}]).encode()
        self.sock.settimeout(timeout or self.timeout)
        self.sock.sendall(str(len(data)).encode() + b":" + data)
        while True:
            m = self._recv()
            if isinstance(m, list) and len(m) == 4 and m[0] == 1 and m[1] == mid:
                break  # answers to other ids (none are pipelined here) are dropped
        if m[2]:
            e = m[2]
            raise MarionetteError(e.get("error", "error"), e.get("message") or "(no message)")
        return m[3]

    # --- the commands the tests use
    def navigate(self, url):
        """Loads url and waits for the page (an untrusted certificate:
        MarionetteError "insecure certificate")."""
        self.cmd("WebDriver:Navigate", {"url": url})

    def find(self, css):
        """The element css selects (no such element: MarionetteError)."""
        return self.cmd("WebDriver:FindElement", {"using": "css selector", "value": css})["value"][ELEMENT]

    def find_all(self, css):
        """The elements css selects, maybe none."""
        return [e[ELEMENT] for e in self.cmd("WebDriver:FindElements",
                                              {"using": "css selector", "value": css})]

    def click(self, css):
        """Clicks the element as a user would (scrolled into view; an
        element hidden or covered: MarionetteError)."""
        self.cmd("WebDriver:ElementClick", {"id": self.find(css)})

    def send_keys(self, css, text):
        """Types text into the element; for a file input, text is a path."""
        self.cmd("WebDriver:ElementSendKeys", {"id": self.find(css), "text": text})

    def clear(self, css):
        """Empties an input."""
        self.cmd("WebDriver:ElementClear", {"id": self.find(css)})

    def text(self, css):
        """The element's rendered text."""
        return self.cmd("WebDriver:GetElementText", {"id": self.find(css)})["value"]

    def script(self, js, *args):
        """Runs js (a function body) in the page; returns what it returns."""
        return self.cmd("WebDriver:ExecuteScript", {"script": js, "args": list(args)})["value"]

    def async_script(self, js, *args, timeout=None):
        """Runs js in the page; its last argument is the callback whose
        value is returned."""
        return self.cmd("WebDriver:ExecuteAsyncScript", {"script": js, "args": list(args)},
                        timeout=(timeout or self.timeout) + 5)["value"]

    def screenshot(self, path):
        """Saves the viewport as a PNG."""
        png = base64.b64decode(self.cmd("WebDriver:TakeScreenshot", {"full": False})["value"])
        with open(path, "wb") as f:
            f.write(png)

    def add_cookie(self, cookie):
        """Sets a cookie for the current page's origin (WebDriver's fields:
        name, value, path, secure, httpOnly, sameSite)."""
        self.cmd("WebDriver:AddCookie", {"cookie": cookie})

    def cookies(self):
        """The current page's cookies, HttpOnly ones too."""
        return self.cmd("WebDriver:GetCookies")

    @property
    def outside(self):
        """What Firefox asked the proxy sink for, {request line: count}:
        requests that would have left loopback (none reached anything)."""
        return dict(self.sink.seen)

    def quit(self):
        """Ends the session, asks Firefox to quit, waits for it (kills its
        process group after 20 s), removes the profile."""
        if self.sock:
            # Marionette:Quit needs the session; it ends it too
            try:
                self.cmd("Marionette:Quit", {"flags": ["eForceQuit"]}, timeout=10)
            except (MarionetteError, OSError):
                try:
                    self.cmd("WebDriver:DeleteSession", timeout=10)
                except (MarionetteError, OSError):
                    pass
            self.sock.close()
            self.sock = None
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.sink.close()
        shutil.rmtree(self.base, ignore_errors=True)


# an IPv4 or IPv6 socket address in strace's rendering of a system call
_SOCKADDR = re.compile(r'sa_family=AF_INET6?, sin6?_port=htons\((\d+)\),'
                       r'(?: sin6_flowinfo=[^,]*,)? (?:sin_addr=inet_addr\("([^"]+)"\)|'
                       r'inet_pton\(AF_INET6, "([^"]+)")')


def destinations(trace):
    """{(address, port): count} of every IPv4/IPv6 socket address a traced
    connect/sendto/sendmsg/sendmmsg named (a netlink route query carries an
    address in its payload, not as a socket address: not counted)."""
    seen = collections.Counter()
    with open(trace, errors="replace") as f:
        for line in f:
            for port, v4, v6 in _SOCKADDR.findall(line):
                seen[(v4 or v6, int(port))] += 1
    return dict(seen)


def is_loopback(address):
    """Whether address is in 127.0.0.0/8 or ::1 (or ::ffff:127.x.x.x)."""
    a = ipaddress.ip_address(address)
    if a.version == 6 and a.ipv4_mapped:
        a = a.ipv4_mapped
    return a.is_loopback
