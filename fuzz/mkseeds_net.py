#!/usr/bin/env python3
"""fuzz/mkseeds_net.py - (re)create the seed corpora of the network-path
harnesses from real output of the tools in the tree: fuzz/corpus/framer,
integrity and rtp from streams that build/bin/lacre-mediator writes
(--output mode: the exact bytes it would send on HI2 and HI3), spool from
files that `lacre ingest --spool` writes while receiving the mediator over
loopback, and the hostile edge cases of s3xml (its real answers come from
fuzz/mkseeds_s3.sh).

framer/: byte 0 selects the PDU size limit, byte 1 seeds the chunking,
then a stream: a few PDUs of each length style (openli, minimal, long,
indefinite), a stream with a truncated tail, one with garbage between PDUs
and one with a PDU above the limit.
integrity/: byte 0 holds the flags of fuzz_integrity.c, then a stream with
data PDUs, hash PDUs and signature PDUs signed by the test keys of
fuzz/keys/ (Ed25519 and ECDSA P-256), plus keep-alives.
rtp/: IPMMCC frames, the bare RTP in them, SIP of IPMMIRI, OpenLI frames.
spool/: receiver spool files, one torn, one with a flipped byte.

Usage: make && fuzz/mkseeds_net.py (from anywhere)."""
import os, subprocess, sys, tempfile

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(top, 'tests', 'e2e'))
import mediator_lemf as L

med = os.path.join(top, 'build', 'bin', 'lacre-mediator')
keys = os.path.join(top, 'fuzz', 'keys')
cdir = os.path.join(top, 'fuzz', 'corpus')

def run(tmp, *args):
    """Run the mediator in --output mode; return (hi2 bytes, hi3 bytes)."""
    out = os.path.join(tmp, 'o')
    subprocess.run([med, '--output', out, '--seed', '7', '--targets', '1', '--calls', '1',
                    '--sessions', '1', '--call-seconds', '1', '--start-time', '2026-01-01T00:00:00Z'] + list(args), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return open(out + '.hi2', 'rb').read(), open(out + '.hi3', 'rb').read()

def pdus(b):
    """Cut a stream into its PDUs."""
    o, r = 0, []
    while o < len(b):
        e = L.elem_end(b, o)
        r.append(b[o:e])
        o = e
    return r

def write(sub, name, data):
    d = os.path.join(cdir, sub)
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, name), 'wb').write(data)

with tempfile.TemporaryDirectory() as tmp:
    # framer: limits index 0 = 16 MiB default, 3 = 200 bytes, 5 = 4096
    for style in ('openli', 'minimal', 'long', 'indefinite'):
        h2, h3 = run(tmp, '--pdus', '8', '--lengths', style)
        s2, s3 = b''.join(pdus(h2)[:4]), b''.join(pdus(h3)[:4])
        write('framer', 'hi2-%s' % style, bytes([0, 0x11]) + s2)
        write('framer', 'hi3-%s' % style, bytes([5, 0x5a]) + s3)
        write('framer', 'hi2-%s-tail' % style, bytes([0, 0x23]) + s2 + pdus(h2)[4][:9])
        write('framer', 'hi3-%s-small-limit' % style, bytes([3, 0x42]) + s3)
    h2, h3 = run(tmp, '--pdus', '6', '--timestamp', 'microsecond', '--binary-liid')
    p = pdus(h2)
    write('framer', 'hi2-garbage', bytes([0, 7]) + p[0] + b'\x00\x01garbage' + p[1])
    write('framer', 'hi3-usec', bytes([6, 99]) + b''.join(pdus(h3)[:3]))
    # integrity: hash every 3 data PDUs, sign every 2 hash PDUs
    for key, alg in (('ed25519', 'sha256'), ('p256', 'sha512'), ('ed25519', 'sha1'), ('p256', 'sha384')):
        h2, h3 = run(tmp, '--pdus', '14', '--integrity-hash', alg, '--integrity-every', '3',
                     '--sign-key', os.path.join(keys, 'integrity-%s.pem' % key), '--sign-every', '2')
        write('integrity', 'hi2-%s-%s' % (key, alg), bytes([0]) + h2)
        write('integrity', 'hi3-%s-%s' % (key, alg), bytes([2]) + h3)
        write('integrity', 'hi3-%s-%s-evict' % (key, alg), bytes([3]) + h3)
        if (key, alg) == ('ed25519', 'sha256'):
            # one byte of a data PDU changed after it was hashed
            t = bytearray(bytes([0]) + h2)
            i = t.find(b'SIP/2.0')
            t[i + 4] = ord('3')
            write('integrity', 'regress-tampered-data-pdu', bytes(t))
    h2, h3 = run(tmp, '--pdus', '10', '--integrity-hash', 'sha256', '--integrity-every', '2',
                 '--sign-key', os.path.join(keys, 'integrity-p256.pem'), '--sign-every', '1',
                 '--sign-style', 'contents', '--lengths', 'long')
    write('integrity', 'hi2-p256-contents-long', bytes([0]) + h2)
    h2, h3 = run(tmp, '--pdus', '10', '--integrity-hash', 'sha256', '--integrity-every', '4',
                 '--sign-key', os.path.join(keys, 'integrity-ed25519.pem'), '--sign-every', '1',
                 '--inject-gaps', '1', '--inject-resets', '1', '--binary-liid')
    write('integrity', 'hi2-ed25519-gaps-resets', bytes([0]) + h2)
    write('integrity', 'hi3-ed25519-gaps-resets', bytes([2]) + h3)

def spool(tmp, name, ingest_args, med_args):
    """Receive the mediator's traffic with `lacre ingest --spool` over
    loopback; return the bytes of the spool file it wrote."""
    import glob, signal, time
    lacre = os.path.join(top, 'build', 'bin', 'lacre')
    sd, ready = os.path.join(tmp, 'spool-' + name), os.path.join(tmp, 'ready-' + name)
    ing = subprocess.Popen([lacre, 'ingest', '--hi2', '127.0.0.1:0', '--hi3', '127.0.0.1:0',
                            '--spool', sd, '--ready-file', ready, '--duration', '60', '--quiet']
                           + ingest_args, stderr=subprocess.DEVNULL)
    for _ in range(400):
        if os.path.exists(ready):
            break
        time.sleep(0.05)
    ports = dict(l.strip().split('=', 1) for l in open(ready) if '=' in l)
    subprocess.run([med, '--hi2', '127.0.0.1:' + ports['hi2'], '--hi3', '127.0.0.1:' + ports['hi3'],
                    '--seed', '7', '--targets', '1', '--calls', '1', '--sessions', '1',
                    '--call-seconds', '1'] + med_args, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ing.send_signal(signal.SIGTERM)
    ing.wait()
    files = sorted(glob.glob(os.path.join(sd, 'spool-*.lsp')))
    return open(files[0], 'rb').read()

# rtp/: the content of IPMMCC PDUs (IP/UDP/RTP frames), the bare RTP in
# them, and the SIP messages of IPMMIRI PDUs, as `lacre decode --content`
# gives them
import base64, json
lacre = os.path.join(top, 'build', 'bin', 'lacre')
with tempfile.TemporaryDirectory() as tmp:
    for args, tag in ((['--calls', '2', '--sessions', '0'], 'v4'), (['--calls', '1', '--sessions', '0', '--seed', '11'], 'v4b')):
        out = os.path.join(tmp, 'o')
        subprocess.run([med, '--output', out, '--targets', '1', '--call-seconds', '1', '--pdus', '40',
                        '--start-time', '2026-01-01T00:00:00Z'] + args, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seen = set()
        for hi in ('hi2', 'hi3'):
            r = subprocess.run([lacre, 'decode', '--content', out + '.' + hi], capture_output=True, text=True)
            for line in r.stdout.splitlines():
                j = json.loads(line)
                c = j.get('content_b64')
                if not c or j.get('content') not in ('ipmmcc', 'ipmmiri'):
                    continue
                b = base64.b64decode(c)
                key = (j['content'], j.get('rtp', {}).get('pt') if 'rtp' in j else b[:12])
                if key in seen:
                    continue
                seen.add(key)
                n = len(seen)
                if j['content'] == 'ipmmcc':
                    write('rtp', '%s-frame-%d' % (tag, n), b)
                    if b[:1] == b'\x45' and len(b) > 28:
                        write('rtp', '%s-rtp-%d' % (tag, n), b[28:])
                else:
                    write('rtp', '%s-sip-%d' % (tag, n), b)

# the OpenLI HI3 frames and the hand-built RTP frame and IPv6 frame of
# fuzz/corpus/etsi (fuzz/mkseeds.py)
for name in ('openli-hi3-100526', 'edge-ipmmcc-rtpframe', 'edge-ipmmcc-v6'):
    src = os.path.join(cdir, 'etsi', name)
    if not os.path.exists(src):
        continue
    r = subprocess.run([lacre, 'decode', '--content', src], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        c = json.loads(line).get('content_b64')
        if c:
            write('rtp', 'etsi-' + name, base64.b64decode(c))

# spool/: files written by the receiver itself
with tempfile.TemporaryDirectory() as tmp:
    b = spool(tmp, 'plain', [], ['--pdus', '6'])
    write('spool', 'plain', b)
    write('spool', 'plain-torn', b[:-5])
    write('spool', 'plain-flipped', b[:40] + bytes([b[40] ^ 1]) + b[41:])
    b = spool(tmp, 'integrity', ['--integrity-pubkey', os.path.join(keys, 'integrity-ed25519.pub')],
              ['--pdus', '8', '--integrity-hash', 'sha256', '--integrity-every', '3',
               '--sign-key', os.path.join(keys, 'integrity-ed25519.pem'), '--sign-every', '1',
               '--inject-gaps', '1'])
    write('spool', 'integrity-gaps', b)
    b = spool(tmp, 'keepalive', [], ['--pdus', '3', '--keepalive', '1', '--timestamp', 'microsecond',
                                     '--binary-liid'])
    write('spool', 'keepalive-binary-liid', b)
    write('spool', 'header-only', b[:24])
# keep-alives: the hand-built ones of fuzz/mkseeds.py (mkseeds.py makes them)
for name in ('edge-keepalive-usec', 'edge-keepalive-seq5', 'edge-keepalive-response'):
    src = os.path.join(cdir, 'etsi', name)
    if os.path.exists(src):
        write('integrity', name[5:], bytes([0]) + open(src, 'rb').read())
# s3xml/: the real answers come from fuzz/mkseeds_s3.sh (a running S3
# server); these are the hostile shapes a server or a man in the middle
# could send instead
s3 = '<?xml version="1.0" encoding="UTF-8"?>'
write('s3xml', 'edge-doctype-entities', (s3 + '<!DOCTYPE r [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
      '<Error><Code>&b;</Code></Error>').encode())
write('s3xml', 'edge-deep', (s3 + '<a>' * 10 + 'x' + '</a>' * 10).encode())
write('s3xml', 'edge-cdata-charref', (s3 + '<Error><Code><![CDATA[No]]>Such&#x4B;ey&#0;</Code></Error>').encode())
write('s3xml', 'edge-list-unsorted', (s3 + '<ListBucketResult><IsTruncated>true</IsTruncated>'
      '<NextContinuationToken>t</NextContinuationToken>'
      '<Contents><Key>lacre/site-1/b</Key><Size>1</Size></Contents>'
      '<Contents><Key>lacre/site-1/a</Key><Size>18446744073709551616</Size></Contents>'
      '<Contents><Key>other/a</Key><Size>1</Size></Contents></ListBucketResult>').encode())
write('s3xml', 'edge-utf16', '<?xml version="1.0" encoding="UTF-16"?><Error><Code>X</Code></Error>'.encode('utf-16'))
print('seeds written to', cdir)
