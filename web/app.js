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
 *     justification it sent (the same rule as the CLI, lib/keeper/client.c);
 *     anything else is answered with an empty signature (refused).
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

  // Whether an 'S' payload is this user's access event for action with
  // justification just (what this page asked for).
  function ownAccessEvent(text, action, just) {
    const lines = text.split('\n');
    // values are percent-encoded in the event (FORMATS §8.3)
    return lines[0] === 'lacre-access-event/v1' && lines.includes('user ' + pct(me.user)) &&
      lines.includes('action ' + pct(action)) && lines.includes('justification ' + pct(just));
  }

  // Run one command through the keeper: {status, out, err, file}.
  async function run(args, action, just) {
    let r = await post('/api/run', await keeperRequest(args));
    while (r.state === 'sign') {
      const p = b64dec(r.payload);
      let sig = '';
      if (ownAccessEvent(dec.decode(p), action, just)) {
        sig = hex(await crypto.subtle.sign('Ed25519', key, p));
      }
      r = await post('/api/sign', 'id ' + r.id + '\nsig ' + sig + '\n');
    }
    if (r.state !== 'done') throw new Error(r.error || 'the console failed');
    r.outText = dec.decode(b64dec(r.out));
    return r;
  }

  function justification() {
    const j = $('justification').value.trim();
    if (!j) {
      $('justification').focus();
      throw new Error('state the justification first: it is logged before any content is shown');
    }
    return j;
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
    b.addEventListener('click', () => { fn().catch((e) => say(e.message, 'error')); });
    return b;
  }
  function failed(r) {
    say(r.err.trim() || ('the keeper answered exit status ' + r.status), 'error');
  }

  // ---- views ----

  async function viewWarrants() {
    const j = justification();
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
    (w) => [button('Calls', 'open-calls', () => viewCalls(w.id))], 'warrants'));
    say(ws.length + ' warrant(s) of ' + (me.unit || 'the site'), 'ok');
  }

  async function viewCalls(w) {
    const j = justification();
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

  async function viewCall(w, c) {
    const v = clearView();
    v.appendChild(el('h2', (c.type === 'voip' ? 'Call ' : 'Session ') + c.id));
    const media = el('div');
    media.id = 'media';
    v.appendChild(media);
    const rows = Object.keys(c).map((k) => ({ field: k, value: cell(c[k]) }));
    v.appendChild(table(rows, ['field', 'value'], null, 'call'));
    if (c.type === 'voip') {
      media.appendChild(button('Play audio', 'play-audio', async () => {
        const j = justification();
        say('asking the keeper for the audio...');
        const r = await run(['audio', c.id, '-o', 'call.wav', '--justification', j], 'audio', j);
        if (r.status !== 0 || !r.file) return failed(r);
        const a = el('audio');
        a.id = 'player';
        a.controls = true;
        a.preload = 'auto';
        a.src = '/api/file/' + r.file;
        media.appendChild(a);
        say('audio: left channel from the target, right channel to the target', 'ok');
      }));
    }
    media.appendChild(button('Download pcap', 'get-pcap', async () => {
      const j = justification();
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

  async function viewAccessLog() {
    const j = justification();
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

  async function viewQuarantine() {
    const j = justification();
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

  async function viewExport() {
    const v = clearView();
    v.appendChild(el('h2', 'Export for the court'));
    const f = el('form');
    const w = el('input');
    w.id = 'export-warrant';
    w.placeholder = 'warrant (W-...)';
    const rc = el('input');
    rc.id = 'export-recipient';
    rc.placeholder = "the court's age recipient (age1...)";
    f.appendChild(w);
    f.appendChild(rc);
    v.appendChild(f);
    const out = el('div');
    v.appendChild(button('Export', 'do-export', async () => {
      const j = justification();
      say('exporting (the keeper seals the package to the court)...');
      const r = await run(['export', '--warrant', w.value.trim(), '--recipient', rc.value.trim(),
        '-o', 'package.age', '--json', '--justification', j], 'export', j);
      if (r.status !== 0 || !r.file) return failed(r);
      while (out.firstChild) out.removeChild(out.firstChild);
      out.appendChild(el('h3', 'Package report'));
      const pre = el('pre', r.outText + r.err);
      pre.id = 'export-report';
      out.appendChild(pre);
      const a = el('a', 'package.age');
      a.href = '/api/file/' + r.file;
      a.download = 'package.age';
      out.appendChild(a);
      say('package ready', 'ok');
    }));
    v.appendChild(out);
  }

  async function viewUsers() {
    const r = await fetch('/api/users', { cache: 'no-store' });
    const j = await r.json();
    if (!r.ok) return say(j.error, 'error');
    const v = clearView();
    v.appendChild(el('h2', 'Users and roles'));
    v.appendChild(table(j, ['name', 'role', 'unit', 'disabled', 'added_by', 'key'], null, 'users'));
    say(j.length + ' user(s)', 'ok');
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
    accesslog: ['Access log', viewAccessLog, ['auditor', 'admin']],
    quarantine: ['Quarantine', viewQuarantine, ['clerk']],
    export: ['Export', viewExport, ['clerk']],
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
    say('Logged in as ' + me.user + '. State the justification, then choose a view.', 'ok');
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', () => { logout(); });
    $('just-form').addEventListener('submit', (e) => e.preventDefault());
    if (!window.isSecureContext || !crypto.subtle) {
      $('login-msg').textContent = 'This page needs a secure context (HTTPS) and WebCrypto.';
      $('login-msg').className = 'msg error';
    }
  });
})();
