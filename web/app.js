/*
 * app.js - the lacre console's only script (docs/console.md).  No
 * framework, no external code.
 *
 * The user's key: the key file (PRIVATE+KEY+name+keyid+base64(0x01||seed),
 * FORMATS §8.1) is read here and imported into WebCrypto as a
 * NON-EXTRACTABLE Ed25519 key; the seed's bytes are then overwritten.  The
 * key lives in this page's memory only: a reload asks for the file again.
 *
 * What the key signs, and nothing else:
 *   - the console's login challenge (FORMATS §15), bound to this page's
 *     origin;
 *   - every keeper request, built here byte for byte (FORMATS §11);
 *   - an access-event request part the keeper sends back ('S'), only when
 *     it is this user's, for the action this page asked and with the
 *     justification it sent, or the one users.log / cases.log line its
 *     command writes, by=this user, naming the subject it asked (user add
 *     and disable, shred request and approve: the CLI's rule,
 *     lib/proto/client.c); anything else is answered with an empty
 *     signature (refused).
 *   - a new user's key pair is made here (user add) and leaves the page
 *     only as the key file the administrator downloads.
 * Every content view asks its justification when it is opened.
 * Everything shown comes from the keeper's JSON and is put in the page with
 * textContent: no markup from data, ever.
 */
'use strict';
(function () {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const PKCS8_ED25519 = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70,
    0x04, 0x22, 0x04, 0x20];
  let key = null;       // the user's CryptoKey (non-extractable)
  let me = null;        // {user, role, unit, csrf}

  const $ = (id) => document.getElementById(id);

  function hex(buf) {
    return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
  }
  function b64dec(s) {
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  // FORMATS §4.5 percent-encoding: [A-Za-z0-9-._~:/@+] as they are.
  function pct(s) {
    let o = '';
    for (const b of enc.encode(s)) {
      const c = String.fromCharCode(b);
      if (/[A-Za-z0-9\-._~:/@+]/.test(c)) o += c;
      else o += '%' + b.toString(16).toUpperCase().padStart(2, '0');
    }
    return o;
  }
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function say(text, kind) {
    const m = $('msg');
    m.textContent = text || '';
    m.className = 'msg ' + (kind || '');
  }
  function clearView() {
    dropKeyUrl();
    const v = $('view');
    while (v.firstChild) v.removeChild(v.firstChild);
    return v;
  }

  // ---- login ----

  async function loadKey(text) {
    // the base64 key may itself hold '+': it is everything after the 4th
    const parts = text.trim().split('+');
    if (parts.length < 5) throw new Error('this is not a lacre user key file (PRIVATE+KEY+name+id+key)');
    parts.splice(4, parts.length - 4, parts.slice(4).join('+'));
    if (parts[0] !== 'PRIVATE' || parts[1] !== 'KEY' ||
        !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(parts[2])) {
      throw new Error('this is not a lacre user key file (PRIVATE+KEY+name+id+key)');
    }
    const raw = b64dec(parts[4]);
    if (raw.length !== 33 || raw[0] !== 1) throw new Error('this key file holds no Ed25519 key');
    const p8 = new Uint8Array(PKCS8_ED25519.length + 32);
    p8.set(PKCS8_ED25519, 0);
    p8.set(raw.subarray(1), PKCS8_ED25519.length);
    try {
      const k = await crypto.subtle.importKey('pkcs8', p8, { name: 'Ed25519' }, false, ['sign']);
      return { name: parts[2], key: k };
    } finally {
      raw.fill(0);
      p8.fill(0);
    }
  }

  async function login(ev) {
    ev.preventDefault();
    const m = $('login-msg');
    m.textContent = '';
    m.className = 'msg';
    try {
      const f = $('keyfile').files[0];
      if (!f) throw new Error('choose your key file first');
      if (f.size > 4096) throw new Error('this is not a lacre user key file (too large)');
      const k = await loadKey(await f.text());
      const cr = await fetch('/api/challenge', { cache: 'no-store' });
      const ch = (await cr.json()).challenge;
      const signed = 'lacre-console-login/v1\nuser ' + k.name + '\norigin ' + location.origin +
        '\nchallenge ' + ch + '\n';
      const sig = await crypto.subtle.sign('Ed25519', k.key, enc.encode(signed));
      const body = 'user ' + k.name + '\norigin ' + location.origin + '\nchallenge ' + ch +
        '\nsig ' + hex(sig) + '\n';
      const r = await fetch('/api/login', { method: 'POST', body: body,
        headers: { 'Content-Type': 'text/plain' } });
      const j = await r.json();
      if (!r.ok) throw new Error(j.error || 'login refused');
      key = k.key;
      me = j;
      $('keyfile').value = '';
      showApp();
    } catch (e) {
      m.textContent = e.message;
      m.className = 'msg error';
    }
  }

  async function logout() {
    try { await post('/api/logout', ''); } catch (e) { /* the session is gone anyway */ }
    key = null;
    me = null;
    lastJust = '';
    $('app').hidden = true;
    $('who').hidden = true;
    $('login').hidden = false;
    clearView();
    $('login-msg').textContent = 'Logged out.';
    $('login-msg').className = 'msg ok';
  }

  // ---- the keeper through the console ----

  async function post(path, body) {
    const r = await fetch(path, { method: 'POST', body: body,
      headers: { 'Content-Type': 'text/plain', 'X-CSRF-Token': me ? me.csrf : '' } });
    if (r.status === 401) {
      key = null;
      me = null;
      lastJust = '';
      $('app').hidden = true;
      $('who').hidden = true;
      $('login').hidden = false;
      $('login-msg').textContent = 'The session ended: log in again.';
      $('login-msg').className = 'msg error';
      throw new Error('not logged in');
    }
    return r.json();
  }

  // FORMATS §11: the canonical request, signed with the user's key.
  async function keeperRequest(args) {
    const nonce = crypto.getRandomValues(new Uint8Array(16));
    let t = 'lacre-keeper-request/v1\nuser ' + me.user + '\ntime ' + String(Date.now() * 1000) +
      '\nnonce ' + hex(nonce) + '\n';
    for (const a of args) t += 'arg ' + pct(a) + '\n';
    const sig = await crypto.subtle.sign('Ed25519', key, enc.encode(t));
    return t + 'sig ' + hex(sig) + '\n';
  }

  // Whether an 'S' payload is this user's access event for one of the
  // actions (a name or a list) with justification just (what this page asked
  // for).
  function ownAccessEvent(text, action, just) {
    const lines = text.split('\n');
    const acts = Array.isArray(action) ? action : [action];
    // values are percent-encoded in the event (FORMATS §8.3)
    return lines[0] === 'lacre-access-event/v1' && lines.includes('user ' + pct(me.user)) &&
      acts.some((a) => lines.includes('action ' + pct(a))) &&
      lines.includes('justification ' + pct(just));
  }

  // Whether an 'S' payload is the signed part of the one users.log or
  // cases.log line the command writes (FORMATS §8.2, docs/keeper.md, the
  // rule of lib/proto/client.c): "<magic> <seq> <type> by=<me> ...", ending
  // with its hash= token, carrying " <field>=<value> " (and for user add
  // " key=<the public key this page made> ").
  function ownRegistryLine(text, reg) {
    if (!reg || text.length > 16384 || /[\x00-\x1f\x7f]/.test(text)) return false;
    const m = new RegExp('^' + reg.magic + ' [0-9]+ ').exec(text);
    if (!m) return false;
    if (!text.startsWith(' ' + reg.type + ' by=' + me.user + ' ', m[0].length - 1)) return false;
    if (!/ hash=[0-9a-f]{64}$/.test(text)) return false;
    if (!text.includes(' ' + reg.field + '=' + pct(reg.value) + ' ')) return false;
    return !reg.pubkey || text.includes(' key=' + reg.pubkey + ' ');
  }

  // Run one command through the keeper: {status, out, err, file}.  reg
  // (optional) names the registry line the command writes.
  async function run(args, action, just, reg) {
    let r = await post('/api/run', await keeperRequest(args));
    while (r.state === 'sign') {
      const p = b64dec(r.payload);
      const t = dec.decode(p);
      let sig = '';
      if (ownAccessEvent(t, action, just) || ownRegistryLine(t, reg)) {
        sig = hex(await crypto.subtle.sign('Ed25519', key, p));
      }
      r = await post('/api/sign', 'id ' + r.id + '\nsig ' + sig + '\n');
    }
    if (r.state === 'stream') Object.assign(r, { state: 'done', status: 0, out: '', err: '' }); // a streamed WAV: its transfer is cut short if the command fails; /api/file/ID/done has the end (docs/console.md)
    if (r.state !== 'done') throw new Error(r.error || 'the console failed');
    r.outText = dec.decode(b64dec(r.out));
    return r;
  }

  // Every content view asks its justification when it is opened: a small
  // form in the view (prefilled with the last one given in this session);
  // nothing is asked of the keeper before it is stated.  fn(j) opens the
  // view.
  let lastJust = '';
  function askJustification(title, fn) {
    const v = clearView();
    v.appendChild(el('h2', title));
    const f = el('form');
    f.id = 'just-form';
    const l = el('label', 'Justification for this view (logged with every access before any content is shown)');
    l.htmlFor = 'justification';
    const i = el('input');
    i.id = 'justification';
    i.type = 'text';
    i.maxLength = 500;
    i.value = lastJust;
    i.placeholder = 'e.g. Diligencias 12/2026: review of the intercepted calls';
    const b = el('button', 'Open');
    b.id = 'just-go';
    b.type = 'submit';
    f.appendChild(l);
    f.appendChild(i);
    f.appendChild(b);
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      const j = i.value.trim();
      if (!j) {
        i.focus();
        say('state the justification first: it is logged before any content is shown', 'error');
        return;
      }
      lastJust = j;
      Promise.resolve().then(() => fn(j)).catch((err) => say(err.message, 'error'));
    });
    v.appendChild(f);
    say('State the justification for this view, then open it.');
    i.focus();
  }

  function jsonLines(text) {
    return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  }
  function cell(v) {
    if (v === null || v === undefined) return '';
    if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : x)).join(', ');
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  }
  // A table of rows (objects) with the columns cols that occur; actions(row)
  // may return elements for a last cell.
  function table(rows, cols, actions, id) {
    const present = cols.filter((c) => rows.some((r) => r[c] !== undefined));
    const t = el('table');
    if (id) t.id = id;
    const hr = el('tr');
    for (const c of present) hr.appendChild(el('th', c));
    if (actions) hr.appendChild(el('th', ''));
    t.appendChild(hr);
    for (const r of rows) {
      const tr = el('tr');
      for (const c of present) tr.appendChild(el('td', cell(r[c])));
      if (actions) {
        const td = el('td');
        for (const a of actions(r)) td.appendChild(a);
        tr.appendChild(td);
      }
      t.appendChild(tr);
    }
    return t;
  }
  function button(text, cls, fn) {
    const b = el('button', text, cls);
    b.type = 'button';
    b.addEventListener('click', () => {
      Promise.resolve().then(fn).catch((e) => say(e.message, 'error'));
    });
    return b;
  }
  function failed(r) {
    say(r.err.trim() || ('the keeper answered exit status ' + r.status), 'error');
  }

  // ---- views ----

  function viewWarrants() {
    askJustification('Warrants', showWarrants);
  }

  async function showWarrants(j) {
    say('asking the keeper...');
    const r = await run(['warrant', 'list', '--json', '--justification', j], 'warrant-list', j);
    if (r.status !== 0) return failed(r);
    const ws = JSON.parse(r.outText || '[]');
    const v = clearView();
    v.appendChild(el('h2', 'Warrants'));
    // a warrant named by its id (a case file gives it): the keeper decides;
    // another unit's is answered exactly as a missing one (L8)
    const f = el('form');
    const wi = el('input');
    wi.id = 'open-warrant';
    wi.placeholder = 'warrant id (W-...)';
    f.appendChild(wi);
    f.appendChild(button('Open calls', 'open-warrant', () => viewCalls(wi.value.trim())));
    v.appendChild(f);
    v.appendChild(table(ws, ['id', 'status', 'case', 'unit', 'court', 'categories', 'liids',
      'targets', 'valid_from', 'valid_to', 'from', 'to'],
    (w) => [button('Calls', 'open-calls', () => viewCalls(w.id)),
      button('Locations', 'open-locations', () => viewLocations(w.id))], 'warrants'));
    say(ws.length + ' warrant(s) of ' + (me.unit || 'the site'), 'ok');
  }

  function viewCalls(w) {
    askJustification('Calls and sessions of ' + w, (j) => showCalls(w, j));
  }

  async function showCalls(w, j) {
    say('asking the keeper...');
    const r = await run(['calls', '--warrant', w, '--json', '--justification', j], 'calls', j);
    if (r.status !== 0) return failed(r);
    const calls = jsonLines(r.outText);
    const v = clearView();
    v.appendChild(el('h2', 'Calls and sessions of ' + w));
    v.appendChild(table(calls, ['id', 'type', 'start', 'duration_ms', 'from', 'to', 'direction',
      'codec', 'target_ip', 'complete', 'problems'],
    (c) => [button('Open', 'open-call', () => viewCall(w, c))], 'calls'));
    say(calls.length + ' call(s) and session(s)', 'ok');
  }

  // ---- locations (docs/cmd-locations.md): what the IRIs say, nothing more ----

  const LOC_COLS = ['time', 'liid', 'cin', 'seq', 'iri_type', 'event', 'kind', 'place', 'mcc', 'mnc',
    'tac', 'lac', 'rac', 'eci', 'ci', 'sac', 'latitude', 'longitude', 'text', 'problem'];
  function locationsNote() {
    return el('p', 'What the records say: a cell is named by the operator\'s identifiers ' +
      '(MCC-MNC, then the area code and cell id in hex). lacre has no cell-tower database: it ' +
      'places no cell on a map, and shows coordinates only when the record itself holds them.',
    'muted');
  }
  // A warrant's (or one CIN's) location rows through the keeper: the calls
  // gate (action 'calls', this justification, logged before the answer).
  async function fetchLocations(w, cin, j) {
    const args = ['locations', '--warrant', w, '--json', '--justification', j];
    if (cin !== undefined && cin !== null) args.splice(3, 0, '--cin', String(cin));
    return run(args, 'calls', j);
  }

  function viewLocations(w) {
    askJustification('Locations of ' + w, (j) => showLocations(w, j));
  }

  async function showLocations(w, j) {
    say('asking the keeper...');
    const r = await fetchLocations(w, null, j);
    if (r.status !== 0) return failed(r);
    const rows = jsonLines(r.outText);
    const v = clearView();
    v.appendChild(el('h2', 'Locations of ' + w));
    v.appendChild(locationsNote());
    v.appendChild(table(rows, LOC_COLS, null, 'locations'));
    say(rows.length + ' location(s), in time order', 'ok');
  }

  // The call or session page's location events (of each of its CINs: a
  // call may span several) beside its IRI events (a mobile session's
  // events), merged in time order.
  async function showCallLocations(w, c, j, holder) {
    const rows = [];
    for (const cin of (Array.isArray(c.cins) && c.cins.length ? c.cins : [c.cin])) {
      const r = await fetchLocations(w, cin, j);
      if (r.status !== 0) return failed(r);
      rows.push(...jsonLines(r.outText));
    }
    const seen = new Set(rows.map((x) => x.time));
    for (const e of (c.events || [])) {
      if (!seen.has(e.time)) rows.push({ time: e.time, iri_type: e.iri_type, event: e.event, kind: '(none)' });
    }
    for (const x of rows) {
      const e = (c.events || []).find((ev) => ev.time === x.time);
      if (e && x.event === undefined) x.event = e.event;
    }
    rows.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
    holder.appendChild(el('h3', 'Location events'));
    if (!rows.length) {
      holder.appendChild(el('p', 'None: no IRI of this ' + (c.type === 'voip' ? 'call' : 'session') +
        ' carries a location.', 'muted'));
      return 0;
    }
    holder.appendChild(locationsNote());
    holder.appendChild(table(rows, LOC_COLS, null, 'call-locations'));
    return rows.length;
  }

  function viewCall(w, c) {
    askJustification((c.type === 'voip' ? 'Call ' : 'Session ') + c.id, (j) => showCall(w, c, j));
  }

  // The level of a WAV (16-bit PCM, FORMATS: left from the target, right
  // to the target) drawn on a canvas, decoded here from the bytes the
  // console served: per pixel column the peak of each channel, the left
  // channel above the middle line and the right below.  A gap is silence
  // in the WAV, so it is drawn flat.
  function drawLevel(buf, canvas) {
    const dv = new DataView(buf);
    const tag = (o) => String.fromCharCode(dv.getUint8(o), dv.getUint8(o + 1), dv.getUint8(o + 2), dv.getUint8(o + 3));
    if (buf.byteLength < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new Error('the audio is not a WAV file');
    let ch = 0, bits = 0, data = -1, dlen = 0;
    for (let o = 12; o + 8 <= buf.byteLength;) {
      const id = tag(o), n = dv.getUint32(o + 4, true);
      if (id === 'fmt ' && n >= 16 && o + 24 <= buf.byteLength) {
        ch = dv.getUint16(o + 10, true);
        bits = dv.getUint16(o + 22, true);
      } else if (id === 'data') {
        data = o + 8;
        dlen = Math.min(n, buf.byteLength - data);
        break;
      }
      o += 8 + n + (n & 1);
    }
    if (data < 0 || bits !== 16 || ch < 1 || ch > 2) throw new Error('the audio is not 16-bit PCM WAV');
    const frames = Math.floor(dlen / (2 * ch));
    const g = canvas.getContext('2d');
    const W = canvas.width, H = canvas.height, half = H / 2;
    g.fillStyle = '#ffffff';
    g.fillRect(0, 0, W, H);
    g.fillStyle = '#999999';
    g.fillRect(0, Math.floor(half), W, 1);
    for (let x = 0; x < W && frames > 0; x++) {
      const a = Math.floor(x * frames / W), z = Math.max(a + 1, Math.floor((x + 1) * frames / W));
      let pl = 0, pr = 0;
      for (let f = a; f < z && f < frames; f++) {
        const o = data + f * 2 * ch;
        pl = Math.max(pl, Math.abs(dv.getInt16(o, true)));
        if (ch === 2) pr = Math.max(pr, Math.abs(dv.getInt16(o + 2, true)));
      }
      const hl = Math.round(pl / 32768 * (half - 2)), hr = Math.round(pr / 32768 * (half - 2));
      g.fillStyle = '#5a1a1a';
      if (hl) g.fillRect(x, Math.floor(half) - hl, 1, hl);
      g.fillStyle = '#1a3a5a';
      if (hr) g.fillRect(x, Math.floor(half) + 1, 1, hr);
    }
    return frames;
  }

  function showCall(w, c, j) {
    const v = clearView();
    v.appendChild(el('h2', (c.type === 'voip' ? 'Call ' : 'Session ') + c.id));
    const media = el('div');
    media.id = 'media';
    v.appendChild(media);
    const rows = Object.keys(c).map((k) => ({ field: k, value: cell(c[k]) }));
    v.appendChild(table(rows, ['field', 'value'], null, 'call'));
    const locs = el('div');
    locs.id = 'call-locations-view';
    v.appendChild(locs);
    showCallLocations(w, c, j, locs).catch((err) => say(err.message, 'error'));
    if (c.type === 'voip') {
      media.appendChild(button('Play audio', 'play-audio', async () => {
        say('asking the keeper for the audio...');
        const r = await run(['audio', c.id, '-o', 'call.wav', '--justification', j], 'audio', j);
        if (r.status !== 0 || !r.file) return failed(r);
        const a = el('audio');
        a.id = 'player';
        a.controls = true;
        a.preload = 'auto';
        a.src = '/api/file/' + r.file;
        media.appendChild(a);
        const cv = el('canvas');
        cv.id = 'level';
        cv.width = 640;
        cv.height = 80;
        media.appendChild(cv);
        media.appendChild(el('p', 'level: upper half from the target (left), lower half to the target (right); gaps are silence', 'muted'));
        const fr = await fetch(a.src, { cache: 'no-store' });
        if (!fr.ok) return say('the audio could not be fetched for its level display', 'error');
        const buf = await fr.arrayBuffer();
        try {
          drawLevel(buf, cv);
        } finally {
          new Uint8Array(buf).fill(0);
        }
        say('audio: left channel from the target, right channel to the target', 'ok');
      }));
    }
    media.appendChild(button('Download pcap', 'get-pcap', async () => {
      say('asking the keeper for the packets...');
      const r = await run(['pcap', '--warrant', w, '--cin', String(c.cin), '-o', 'content.pcap',
        '--justification', j], 'pcap', j);
      if (r.status !== 0 || !r.file) return failed(r);
      const a = el('a', 'content.pcap');
      a.id = 'pcap-link';
      a.href = '/api/file/' + r.file;
      a.download = 'content.pcap';
      media.appendChild(a);
      say('pcap ready', 'ok');
    }));
    say('');
  }

  function viewAccessLog() {
    askJustification('Access log', showAccessLog);
  }

  async function showAccessLog(j) {
    say('asking the keeper...');
    const r = await run(['access-log', '--json', '--justification', j], 'access-log', j);
    if (r.status !== 0 && r.status !== 3) return failed(r);
    const evs = jsonLines(r.outText);
    const v = clearView();
    v.appendChild(el('h2', 'Access log'));
    const status = el('p', r.err.trim() || 'verified', r.status === 0 ? 'ok' : 'error');
    status.id = 'verification';
    v.appendChild(status);
    const f = el('form');
    const inputs = {};
    for (const k of ['user', 'warrant', 'decision']) {
      const i = el('input');
      i.placeholder = k;
      i.id = 'filter-' + k;
      inputs[k] = i;
      f.appendChild(i);
    }
    v.appendChild(f);
    const holder = el('div');
    v.appendChild(holder);
    const cols = ['index', 'time', 'user', 'role', 'action', 'warrant', 'what', 'justification',
      'decision', 'reason', 'request_signed', 'in_published_checkpoint'];
    function draw() {
      while (holder.firstChild) holder.removeChild(holder.firstChild);
      const rows = evs.filter((e) => Object.keys(inputs).every((k) =>
        !inputs[k].value || String(e[k] || '').includes(inputs[k].value)));
      holder.appendChild(table(rows, cols, null, 'access-log'));
    }
    for (const k of Object.keys(inputs)) inputs[k].addEventListener('input', draw);
    draw();
    say(evs.length + ' event(s)', r.status === 0 ? 'ok' : 'error');
  }

  function viewQuarantine() {
    askJustification('Quarantine', showQuarantine);
  }

  async function showQuarantine(j) {
    say('asking the keeper...');
    const r = await run(['quarantine', '--json', '--justification', j], 'quarantine', j);
    if (r.status !== 0) return failed(r);
    const rows = jsonLines(r.outText);
    const v = clearView();
    v.appendChild(el('h2', 'Quarantine'));
    v.appendChild(table(rows, ['liid', 'reason', 'received', 'time', 'cin', 'seq', 'type',
      'iri_type', 'payload', 'direction'], null, 'quarantine'));
    say(rows.length + ' quarantined record(s)', 'ok');
  }

  // A form of labelled inputs: fields [[id, label, placeholder]]; returns
  // {form, value(id)}.
  function fieldsForm(fields) {
    const f = el('form', null, 'fields');
    const inputs = {};
    for (const [id, label, ph] of fields) {
      const l = el('label', label);
      const i = el('input');
      i.id = id;
      i.placeholder = ph || '';
      l.htmlFor = id;
      inputs[id] = i;
      const d = el('div');
      d.appendChild(l);
      d.appendChild(i);
      f.appendChild(d);
    }
    return { form: f, value: (id) => inputs[id].value.trim() };
  }
  // The keeper's answer of an administrative command in the pre#id: its
  // exit status, stdout and the stderr lines (the legal checks' messages).
  function showResult(pre, r) {
    pre.textContent = 'exit status ' + r.status + '\n' + r.outText + r.err;
    pre.className = r.status === 0 ? 'ok' : 'error';
  }
  function words(s) {
    return s.split(/[\s,]+/).filter((x) => x);
  }

  function viewExport() {
    askJustification('Export for the court', showExport);
  }

  // The export form: warrant, the court's recipient and, for a party copy
  // (LECrim 588 ter i, docs/cmd-export.md), the records or time ranges left
  // out, one per line: SEGMENT:INDEX (as `lacre records --json` gives them)
  // or T1/T2.  After the export the page shows the package's summary and
  // the self-check report: lacre-verify's own checks, run by the keeper on
  // the package before it was sealed, ending VERIFIED (or the export fails
  // and nothing is written).
  function showExport(j) {
    const v = clearView();
    v.appendChild(el('h2', 'Export for the court'));
    const f = el('form');
    const w = el('input');
    w.id = 'export-warrant';
    w.placeholder = 'warrant (W-...)';
    const rc = el('input');
    rc.id = 'export-recipient';
    rc.placeholder = "the court's age recipient (age1...)";
    const xl = el('label', 'Party copy: leave out (one a line: SEGMENT:INDEX of a record, or T1/T2 in UTC); ' +
      'empty for the full package');
    xl.htmlFor = 'export-exclude';
    const xs = el('textarea');
    xs.id = 'export-exclude';
    xs.rows = 3;
    xs.placeholder = 'seg/0123...:4\n2026-01-01T10:00:00Z/2026-01-01T10:05:00Z';
    f.appendChild(w);
    f.appendChild(rc);
    f.appendChild(xl);
    f.appendChild(xs);
    v.appendChild(f);
    const out = el('div');
    v.appendChild(button('Export', 'do-export', async () => {
      const args = ['export', '--warrant', w.value.trim(), '--recipient', rc.value.trim(),
        '-o', 'package.age', '--json', '--justification', j];
      const excl = xs.value.split('\n').map((x) => x.trim()).filter((x) => x);
      for (const x of excl) {
        // a range has a '/' between two times; a record SEGMENT:INDEX ends in :N
        args.push(/^[^/]+Z\/[^/]+Z$/.test(x) ? '--exclude-range' : '--exclude-record', x);
      }
      say(excl.length ? 'exporting a party copy (' + excl.length + ' exclusion(s); the keeper checks and seals it)...'
        : 'exporting (the keeper checks the package and seals it to the court)...');
      const r = await run(args, 'export', j);
      if (r.status !== 0 || !r.file) return failed(r);
      let sum = {};
      try {
        sum = JSON.parse(r.outText.split('\n')[0]);
      } catch (e) {
        sum = {};
      }
      const sc = sum.self_check || {};
      while (out.firstChild) out.removeChild(out.firstChild);
      out.appendChild(el('h3', 'Package'));
      const s = el('pre', r.outText.split('\n')[0] + '\n' + r.err);
      s.id = 'export-summary';
      out.appendChild(s);
      out.appendChild(el('h3', "Verification report (lacre-verify's checks, before sealing)"));
      const pre = el('pre', sc.report || 'no self-check report in the keeper\'s answer');
      pre.id = 'export-report';
      pre.className = sc.verified === true ? 'ok' : 'error';
      out.appendChild(pre);
      const a = el('a', 'package.age');
      a.href = '/api/file/' + r.file;
      a.download = 'package.age';
      out.appendChild(a);
      say(sc.verified === true ? 'package ready: VERIFIED' : 'package written, but no VERIFIED report',
        sc.verified === true ? 'ok' : 'error');
    }));
    v.appendChild(out);
  }

  // Warrants: add, extend, confirm, cease (docs/cmd-warrant.md) through
  // the keeper; the keeper's legal checks answer on stderr, shown as they
  // are.
  function viewWarrantAdmin() {
    askJustification('Manage warrants', showWarrantAdmin);
  }

  function showWarrantAdmin(j) {
    const v = clearView();
    v.appendChild(el('h2', 'Manage warrants'));
    v.appendChild(el('h3', 'Add a warrant'));
    const add = fieldsForm([
      ['wa-case', 'case', 'CASE-1'], ['wa-unit', 'unit', 'UCO-1'], ['wa-court', 'court', 'JI-5-Madrid'],
      ['wa-order', 'court order', 'ORD-1'], ['wa-order-date', 'order date', 'YYYY-MM-DD'],
      ['wa-from', 'from (optional: the order date)', 'YYYY-MM-DD'], ['wa-to', 'to', 'YYYY-MM-DD'],
      ['wa-categories', 'categories', 'content,iri,location'],
      ['wa-targets', 'targets (space or comma separated)', ''],
      ['wa-liids', 'LIIDs (space or comma separated)', ''],
      ['wa-operators', 'operators (optional)', '']]);
    v.appendChild(add.form);
    const pre = el('pre');
    pre.id = 'warrant-result';
    v.appendChild(button('Add warrant', 'wa-add', async () => {
      const x = add.value;
      const args = ['warrant', 'add', '--case', x('wa-case'), '--unit', x('wa-unit'),
        '--court', x('wa-court'), '--order', x('wa-order'), '--order-date', x('wa-order-date')];
      if (x('wa-from')) args.push('--from', x('wa-from'));
      args.push('--to', x('wa-to'), '--categories', x('wa-categories'));
      for (const t of words(x('wa-targets'))) args.push('--target', t);
      for (const l of words(x('wa-liids'))) args.push('--liid', l);
      for (const o of words(x('wa-operators'))) args.push('--operator', o);
      args.push('--json', '--justification', j);
      say('asking the keeper...');
      const r = await run(args, 'warrant-add', j);
      showResult(pre, r);
      if (r.status !== 0) return failed(r);
      say('warrant ' + JSON.parse(r.outText).id + ' added', 'ok');
    }));
    v.appendChild(el('h3', 'Extend, confirm or cease a warrant'));
    const ch = fieldsForm([
      ['wc-warrant', 'warrant', 'W-...'], ['wc-order', 'court order', 'ORD-2'],
      ['wc-order-date', 'order date', 'YYYY-MM-DD'], ['wc-from', 'from (extend, optional)', 'YYYY-MM-DD'],
      ['wc-to', 'to (extend)', 'YYYY-MM-DD'], ['wc-at', 'at (cease, optional: now)', 'YYYY-MM-DDTHH:MM:SSZ']]);
    v.appendChild(ch.form);
    for (const verb of ['extend', 'confirm', 'cease']) {
      v.appendChild(button(verb[0].toUpperCase() + verb.slice(1), 'wc-' + verb, async () => {
        const x = ch.value;
        const args = ['warrant', verb, x('wc-warrant'), '--order', x('wc-order'),
          '--order-date', x('wc-order-date')];
        if (verb === 'extend') {
          if (x('wc-from')) args.push('--from', x('wc-from'));
          args.push('--to', x('wc-to'));
        }
        if (verb === 'cease' && x('wc-at')) args.push('--at', x('wc-at'));
        args.push('--justification', j);
        say('asking the keeper...');
        const r = await run(args, 'warrant-change', j);
        showResult(pre, r);
        if (r.status !== 0) return failed(r);
        say('warrant ' + x('wc-warrant') + ': ' + verb + ' recorded', 'ok');
      }));
    }
    v.appendChild(pre);
    say('');
  }

  // Users and roles (users.log, public) with add and disable through the
  // keeper.  A new user's key pair is made here (WebCrypto Ed25519): the
  // keeper gets only the public key; the key file (FORMATS §8.1) is offered
  // for download once the keeper has registered the user, and the page
  // keeps no copy (the Blob's URL is revoked when the view changes).
  let keyUrl = null;
  function dropKeyUrl() {
    if (keyUrl) URL.revokeObjectURL(keyUrl);
    keyUrl = null;
  }

  function viewUsers() {
    askJustification('Users and roles', showUsers);
  }

  async function newKeyFile(name) {
    const kp = await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
    const pub = new Uint8Array(await crypto.subtle.exportKey('raw', kp.publicKey));
    const p8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', kp.privateKey));
    const raw = new Uint8Array(33);
    raw[0] = 1;
    raw.set(p8.subarray(p8.length - 32), 1);
    const idIn = new Uint8Array([...enc.encode(name), 0x0a, 0x01, ...pub]);
    const keyid = hex((await crypto.subtle.digest('SHA-256', idIn)).slice(0, 4));
    let b = '';
    for (const x of raw) b += String.fromCharCode(x);
    const text = 'PRIVATE+KEY+' + name + '+' + keyid + '+' + btoa(b) + '\n';
    raw.fill(0);
    p8.fill(0);
    b = '';
    return { pub: hex(pub), text };
  }

  async function showUsers(j) {
    const r = await fetch('/api/users', { cache: 'no-store' });
    const us = await r.json();
    if (!r.ok) return say(us.error, 'error');
    const v = clearView();
    v.appendChild(el('h2', 'Users and roles'));
    const pre = el('pre');
    pre.id = 'user-result';
    v.appendChild(table(us, ['name', 'role', 'unit', 'disabled', 'added_by', 'key'],
      (u) => (u.disabled ? [] : [button('Disable', 'user-disable', async () => {
        say('asking the keeper...');
        const x = await run(['user', 'disable', u.name, '--justification', j], 'user-admin', j,
          { magic: 'lacre-user-v1', type: 'disable', field: 'name', value: u.name });
        showResult(pre, x);
        if (x.status !== 0) return failed(x);
        await showUsers(j);
        say('user ' + u.name + ' disabled', 'ok');
      })]), 'users'));
    v.appendChild(el('h3', 'Add a user'));
    const f = fieldsForm([['ua-name', 'name', 'e.g. nora'], ['ua-unit', 'unit (investigator, supervisor)', 'UCO-1']]);
    const sel = el('select');
    sel.id = 'ua-role';
    for (const ro of ['investigator', 'supervisor', 'clerk', 'auditor', 'admin']) sel.appendChild(el('option', ro));
    f.form.insertBefore(sel, f.form.children[1]);
    v.appendChild(f.form);
    const dl = el('div');
    dl.id = 'user-key';
    v.appendChild(button('Add user', 'ua-add', async () => {
      const name = f.value('ua-name');
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name) || name === 'site') {
        return say('a user name is 1-63 of A-Z a-z 0-9 . _ - (not "site")', 'error');
      }
      dropKeyUrl();
      const k = await newKeyFile(name);
      const args = ['user', 'add', name, '--role', sel.value];
      if (f.value('ua-unit')) args.push('--unit', f.value('ua-unit'));
      args.push('--public-key', k.pub, '--justification', j);
      say('asking the keeper...');
      const x = await run(args, 'user-admin', j,
        { magic: 'lacre-user-v1', type: 'add', field: 'name', value: name, pubkey: k.pub });
      showResult(pre, x);
      if (x.status !== 0) {
        k.text = '';
        return failed(x);
      }
      keyUrl = URL.createObjectURL(new Blob([k.text], { type: 'application/octet-stream' }));
      k.text = '';
      while (dl.firstChild) dl.removeChild(dl.firstChild);
      dl.appendChild(el('p', 'User ' + name + ' added. Download the key file now and give it to ' +
        name + ' only: this page keeps no copy.'));
      const a = el('a', name + '.key');
      a.id = 'user-key-link';
      a.href = keyUrl;
      a.download = name + '.key';
      dl.appendChild(a);
      say('user ' + name + ' added', 'ok');
    }));
    v.appendChild(dl);
    v.appendChild(pre);
    say(us.length + ' user(s)', 'ok');
  }

  // Shred workflow (docs/cmd-shred.md): the pending and past requests, a
  // request (warrant, court order) and the four-eyes approval by another
  // person; the keeper's answer (a refusal of the same person) is shown.
  function viewShred() {
    askJustification('Shred requests', showShred);
  }

  async function showShred(j) {
    say('asking the keeper...');
    const l = await run(['shred', 'list', '--justification', j], 'retention', j);
    if (l.status !== 0) return failed(l);
    const v = clearView();
    v.appendChild(el('h2', 'Shred requests'));
    const list = el('pre', l.outText.trim() || 'no shred request');
    list.id = 'shred-list';
    v.appendChild(list);
    const pre = el('pre');
    pre.id = 'shred-result';
    v.appendChild(el('h3', 'Request a shred (the measure must have ended)'));
    const rq = fieldsForm([['sr-warrant', 'warrant', 'W-...'], ['sr-order', 'court order', 'ORD-...'],
      ['sr-order-date', 'order date', 'YYYY-MM-DD']]);
    v.appendChild(rq.form);
    v.appendChild(button('Request', 'sr-request', async () => {
      const w = rq.value('sr-warrant');
      say('asking the keeper...');
      const r = await run(['shred', 'request', '--warrant', w, '--order', rq.value('sr-order'),
        '--order-date', rq.value('sr-order-date'), '--justification', j], 'shred', j,
      { magic: 'lacre-case-v1', type: 'shred-request', field: 'warrant', value: w });
      showResult(pre, r);
      if (r.status !== 0) return failed(r);
      say('shred of ' + w + ' requested: ' + r.outText.trim() + '; another person must approve it', 'ok');
    }));
    v.appendChild(el('h3', 'Approve a request (four eyes: not the requester; one of the two a clerk)'));
    const ap = fieldsForm([['sa-id', 'request', 'S-000001']]);
    v.appendChild(ap.form);
    v.appendChild(button('Approve and shred', 'sa-approve', async () => {
      const id = ap.value('sa-id');
      say('asking the keeper...');
      const r = await run(['shred', 'approve', id, '--justification', j], 'shred', j,
        { magic: 'lacre-case-v1', type: 'shred-approve', field: 'id', value: id });
      showResult(pre, r);
      if (r.status !== 0) return failed(r);
      say('request ' + id + ' approved: the warrant\'s key is destroyed', 'ok');
    }));
    v.appendChild(pre);
    say('');
  }

  // Retention (docs/cmd-retention.md): cases whose data outlived its legal
  // basis.
  function viewRetention() {
    askJustification('Retention', showRetention);
  }

  async function showRetention(j) {
    say('asking the keeper...');
    const r = await run(['retention', 'list', '--all', '--json', '--justification', j], 'retention', j);
    if (r.status !== 0) return failed(r);
    let rows;
    try {
      const t = r.outText.trim();
      rows = t.startsWith('[') ? JSON.parse(t) : jsonLines(t);
    } catch (e) {
      rows = [];
    }
    const v = clearView();
    v.appendChild(el('h2', 'Retention'));
    const cols = [];
    for (const x of rows) for (const k of Object.keys(x)) if (!cols.includes(k)) cols.push(k);
    v.appendChild(table(rows, cols, null, 'retention'));
    const p = el('p', r.err.trim(), 'muted');
    p.id = 'retention-status';
    v.appendChild(p);
    say(rows.length + ' warrant(s) listed', 'ok');
  }

  // the operations view: the receiver's live figures (keyless, public
  // counts) and the ingest log's checkpoint with its witnesses
  async function viewHealth() {
    const r = await fetch('/api/health', { cache: 'no-store' });
    const j = await r.json();
    if (!r.ok) return say(j.error, 'error');
    const v = clearView();
    v.appendChild(el('h2', 'Operations'));
    const alerts = [];
    if (j.status) {
      const m = j.status.metrics;
      const g = (k) => (m[k] === undefined ? 0 : m[k]);
      const rec = el('p', j.status.running
        ? 'Receiver running (status ' + j.status.age_s.toFixed(1) + ' s old)'
        : 'Receiver NOT RUNNING (last status ' + Math.round(j.status.age_s) + ' s ago)');
      rec.id = 'health-receiver';
      v.appendChild(rec);
      if (!j.status.running) alerts.push('the receiver is not running: nothing is being received');
      const rows = [
        ['connections open', g('lacre_ingest_connections_open')],
        ['PDUs received', g('lacre_ingest_pdus_total')],
        ['records sealed', g('lacre_seal_records_total')],
        ['quarantined', g('lacre_seal_routed_total{route="quarantine"}')],
        ['streams followed', g('lacre_ingest_streams')],
        ['gaps (numbers missing)', g('lacre_ingest_stream_gaps_total') + ' (' + g('lacre_ingest_stream_missing_total') + ')'],
        ['hashes verified / mismatch / missing', g('lacre_ingest_integrity_total{check="hash",verdict="verified"}') + ' / ' +
          g('lacre_ingest_integrity_total{check="hash",verdict="mismatch"}') + ' / ' + g('lacre_ingest_integrity_total{check="hash",verdict="missing"}')],
        ['signatures verified / bad', g('lacre_ingest_integrity_total{check="signature",verdict="verified"}') + ' / ' +
          g('lacre_ingest_integrity_total{check="signature",verdict="bad"}')],
        ['segments waiting for a checkpoint / the backend', g('lacre_spool_unsigned_segments') + ' / ' + g('lacre_spool_upload_files')],
        ['backend', g('lacre_backend_up') ? 'up' : 'DOWN'],
        ['spool', g('lacre_spool_full') ? 'FULL' : 'has room'],
        ['ingest log entries (signed)', g('lacre_ledger_size') + ' (' + g('lacre_ledger_signed_size') + ')'],
      ].map(([what, value]) => ({ what, value }));
      v.appendChild(table(rows, ['what', 'value'], null, 'health'));
      if (m['lacre_backend_up'] === 0) alerts.push('backend down: sealed segments wait in the spool');
      if (g('lacre_spool_full')) alerts.push('spool full: records are held, mediators slowed');
      if (g('lacre_ingest_integrity_total{check="hash",verdict="mismatch"}') + g('lacre_ingest_integrity_total{check="hash",verdict="missing"}') +
        g('lacre_ingest_integrity_total{check="signature",verdict="bad"}')) alerts.push('integrity alerts: see the quarantine events');
    } else {
      v.appendChild(el('p', 'Receiver: ' + j.status_error));
    }
    v.appendChild(el('h3', 'Ingest log and witnesses'));
    if (j.checkpoint) {
      const cp = el('p', j.checkpoint.origin + ': signed checkpoint of size ' + j.checkpoint.size + ', ' +
        j.checkpoint.cosignatures.length + ' cosignature(s)');
      cp.id = 'health-checkpoint';
      v.appendChild(cp);
      const now = Date.now() / 1000;
      v.appendChild(table(j.checkpoint.cosignatures.map((c) => ({
        witness: c.name, cosigned: c.time ? Math.round(now - c.time) + ' s ago' : '' })),
      ['witness', 'cosigned'], null, 'witnesses'));
    } else {
      v.appendChild(el('p', j.checkpoint_error));
    }
    for (const a of alerts) v.appendChild(el('p', 'ALERT ' + a, 'msg error'));
    say(alerts.length ? alerts.length + ' alert(s)' : 'no alert', alerts.length ? 'error' : 'ok');
  }

  const VIEWS = {
    warrants: ['Warrants', viewWarrants, ['investigator', 'supervisor', 'clerk', 'admin']],
    warrantadmin: ['Manage warrants', viewWarrantAdmin, ['clerk', 'admin']],
    accesslog: ['Access log', viewAccessLog, ['auditor', 'admin']],
    quarantine: ['Quarantine', viewQuarantine, ['clerk']],
    export: ['Export', viewExport, ['clerk']],
    shred: ['Shred requests', viewShred, ['clerk', 'supervisor', 'admin']],
    retention: ['Retention', viewRetention, ['clerk', 'supervisor', 'admin']],
    users: ['Users', viewUsers, ['admin']],
    health: ['Operations', viewHealth, ['admin', 'auditor']],
  };

  function showApp() {
    $('login').hidden = true;
    $('app').hidden = false;
    $('who').hidden = false;
    $('who-name').textContent = me.user;
    $('who-role').textContent = me.role + (me.unit ? ' · ' + me.unit : '');
    const nav = $('nav');
    while (nav.firstChild) nav.removeChild(nav.firstChild);
    for (const k of Object.keys(VIEWS)) {
      if (!VIEWS[k][2].includes(me.role)) continue;
      const b = button(VIEWS[k][0], 'nav', VIEWS[k][1]);
      b.id = 'nav-' + k;
      nav.appendChild(b);
    }
    clearView();
    say('Logged in as ' + me.user + '. Choose a view: each content view asks its justification first.', 'ok');
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', () => { logout(); });
    if (!window.isSecureContext || !crypto.subtle) {
      $('login-msg').textContent = 'This page needs a secure context (HTTPS) and WebCrypto.';
      $('login-msg').className = 'msg error';
    }
  });
})();
