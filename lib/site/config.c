/*
 * config.c - the site configuration: one table of typed keys drives the
 * strict parser of lacre.conf, the command-line overrides (--set
 * key=value), the writer of the documented file and the whole-config check
 * that `lacre ingest -n` prints (see lacre/site.h and docs/site.md).
 *
 * The file is untrusted input: it is read through the checked buffer, lines
 * are capped, and every value is validated by its type before it is stored.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lacre/age.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/note.h"
#include "lacre/site.h"
#include "lacre/warrant.h"

#define LINE_MAX_LEN 4096

enum ctype { T_STR, T_PATH, T_ADDR, T_BOOL, T_UINT, T_SIZE, T_DUR, T_RECIP, T_HEX32, T_HKEYS };

struct ckey {
	const char *name;
	enum ctype type;
	size_t off;       /* offset of the field in struct site_config */
	size_t size;      /* size of a string field */
	uint64_t min, max;/* range of a numeric field */
	const char *doc;  /* comment written above the key */
};

#define S(f) offsetof(struct site_config, f), sizeof(((struct site_config *)0)->f)
#define N(f) offsetof(struct site_config, f), 0

static const struct ckey keys[] = {
	{ "site.name", T_STR, S(name), 0, 0,
	  "Name of this site, shown in listings and used in ledger origins." },
	{ "ingest.hi2", T_ADDR, S(hi2), 0, 0,
	  "HI2 (IRI) listener, host:port ([v6]:port for IPv6)." },
	{ "ingest.hi3", T_ADDR, S(hi3), 0, 0,
	  "HI3 (content of communication) listener, host:port." },
	{ "ingest.workers", T_UINT, N(ingest_workers), 0, 256,
	  "Receiver event loops (threads) sharing the handover connections (0: one per online CPU)." },
	{ "ingest.user", T_STR, S(ingest_user), 0, 0,
	  "User the receiver (lacre-ingest) becomes once its listeners are bound, when started as root "
	  "and no --run-as is given (empty: it stays root, confined)." },
	{ "ingest.receiver", T_STR, S(ingest_receiver), 0, 0,
	  "Name of this receiver when a site has several (a-z 0-9 -, 1 to 32; --receiver wins): its "
	  "ingest log is lacre/<site.name>/ingest/<name> (empty: the site's unnamed receiver)." },
	{ "tls.enable", T_BOOL, N(tls_enable), 0, 1,
	  "Serve HI2/HI3 over TLS (yes/no)." },
	{ "tls.cert", T_PATH, S(tls_cert), 0, 0,
	  "PEM certificate chain of the listeners (with tls.enable = yes)." },
	{ "tls.key", T_PATH, S(tls_key), 0, 0,
	  "PEM private key of the listeners (keep it readable by ingest only)." },
	{ "tls.client_ca", T_PATH, S(tls_client_ca), 0, 0,
	  "PEM bundle of the CAs that issue the mediation devices' client certificates." },
	{ "tls.require_client_cert", T_BOOL, N(tls_require_client_cert), 0, 1,
	  "Refuse TLS clients without a certificate from tls.client_ca (yes/no)." },
	{ "backend", T_STR, S(backend), 0, 0,
	  "Storage backend: dir:PATH (embedded default) or s3:URL." },
	{ "s3.endpoint", T_STR, S(s3_endpoint), 0, 0,
	  "S3 service of an s3:// backend, http[s]://HOST[:PORT] (empty: S3_ENDPOINT or AWS_ENDPOINT_URL)." },
	{ "s3.region", T_STR, S(s3_region), 0, 0,
	  "S3 region for SigV4 (empty: S3_REGION, AWS_DEFAULT_REGION or us-east-1)." },
	{ "s3.credentials", T_PATH, S(s3_credentials), 0, 0,
	  "File (mode 0600) with the lines 'access_key = ...' and 'secret_key = ...' "
	  "(empty: S3_ACCESS_KEY/S3_SECRET_KEY or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)." },
	{ "s3.allow_remote", T_BOOL, N(s3_allow_remote), 0, 1,
	  "Allow an S3 endpoint beyond this machine's loopback (yes/no; no environment variable can)." },
	{ "s3.uploads", T_UINT, N(s3_uploads), 1, 16,
	  "Segments the receiver sends to an s3:// backend at once, each on its own connection (1 to 16)." },
	{ "spool.dir", T_PATH, S(spool_dir), 0, 0,
	  "Local spool where sealed segments wait for the backend." },
	{ "spool.direct_io", T_BOOL, N(spool_direct_io), 0, 1,
	  "Write segments to the spool with O_DIRECT in large requests, bypassing the page cache (yes/no; ignored where the file system refuses it, e.g. tmpfs)." },
	{ "spool.quota", T_SIZE, N(spool_quota), 0, UINT64_C(1) << 50,
	  "Most bytes the spool may hold (0: the file system's free space); when reached, ingest stops reading (TCP backpressure) until uploads free space." },
	{ "spool.reserve", T_SIZE, N(spool_reserve), UINT64_C(1) << 20, UINT64_C(1) << 40,
	  "Free bytes kept on the spool's file system: ingest pauses reading before it would use them." },
	{ "segment.max_bytes", T_SIZE, N(segment_max_bytes), 4096, UINT64_C(1) << 34,
	  "A segment is closed at this size (bytes; suffixes K, M, G = KiB, MiB, GiB)." },
	{ "segment.max_age", T_DUR, N(segment_max_age_ms), 1, 3600 * 1000,
	  "A segment is closed at this age: the crash-loss window (ms, s, min, h)." },
	{ "oversight.recipient", T_RECIP, S(oversight_recipient), 0, 0,
	  "age recipient of the oversight body: quarantined records are sealed to it." },
	{ "warrants.signer", T_HEX32, S(warrants_signer), 0, 0,
	  "Ed25519 public key (hex) that signs warrants.log; set by lacre init." },
	{ "witness.policy", T_PATH, S(witness_policy), 0, 0,
	  "tlog-policy file: witnesses that cosign checkpoints, and their quorum (empty: none)." },
	{ "ledger.signer", T_PATH, S(ledger_signer), 0, 0,
	  "Unix socket of lacre-signer, which holds the ingest log's key (empty: the receiver signs in-process, with a warning)." },
	{ "limits.max_connections", T_UINT, N(max_connections), 1, 1000000,
	  "Most concurrent handover connections." },
	{ "limits.max_pdu_bytes", T_SIZE, N(max_pdu_bytes), 1024, UINT64_C(1) << 30,
	  "Largest PS-PDU accepted (bytes; K, M, G suffixes)." },
	{ "limits.memory_budget", T_SIZE, N(memory_budget), UINT64_C(1) << 20, UINT64_C(1) << 40,
	  "Memory all handover connections' incomplete PDUs may take in all (bytes; K, M, G suffixes): "
	  "past it the receiver refuses the largest incomplete PDU first; at least twice limits.max_pdu_bytes." },
	{ "limits.idle_timeout", T_DUR, N(idle_timeout_ms), 1000, UINT64_C(86400000),
	  "A connection silent for this long is closed (ms, s, min, h)." },
	{ "master.scrypt_log2n", T_UINT, N(scrypt_log2n), 1, SITE_LOG2N_MAX,
	  "scrypt work factor (log2 N) used when master.age is sealed (lacre init refuses "
	  "less than 15 unless LACRE_SCRYPT_LOG2N is set, as tests do)." },
	{ "master.pkcs11_module", T_PATH, S(pkcs11_module), 0, 0,
	  "PKCS#11 module (absolute path of its .so) whose token unwraps the master key "
	  "(master.p11); empty: the passphrase opens master.age (docs/keeper.md)." },
	{ "master.pkcs11_token", T_STR, S(pkcs11_token), 0, 0,
	  "Label of the PKCS#11 token that holds the master key's wrapping key." },
	{ "master.pkcs11_key", T_STR, S(pkcs11_key), 0, 0,
	  "Label of the AES-256 key object in that token (never extractable) that wraps the master key." },
	{ "console.listen", T_ADDR, S(console_listen), 0, 0,
	  "Web console (lacre-console) HTTPS address, host:port; loopback unless a LAN address is needed." },
	{ "console.cert", T_PATH, S(console_cert), 0, 0,
	  "PEM certificate of the web console (empty: SITE/console/cert.pem, self-signed P-256 made at first start)." },
	{ "console.key", T_PATH, S(console_key), 0, 0,
	  "PEM private key of the web console's TLS (empty: SITE/console/key.pem; readable by lacre-console only)." },
	{ "console.web", T_PATH, S(console_web), 0, 0,
	  "Folder of the console's static files (web/ of the source tree; empty: /usr/share/lacre/web)." },
	{ "handover.key_dir", T_PATH, S(handover_key_dir), 0, 0,
	  "Folder of the handover decryption key files (mode 0700, the receiver's user only)." },
	{ "handover.keys", T_HKEYS, S(handover_keys), 0, 0,
	  "Handover decryption keys (EncryptionContainer): 'OPERATOR FILE [FROM [TO]]' entries separated by commas; FILE holds the key in hex, FROM/TO are UTC times (2026-01-01 or 2026-01-01T00:00:00Z, '-' open)." },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* The table entry for name, or NULL. */
static const struct ckey *find_key(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* Copy a string value into dst (capacity cap). */
static int copy_str(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);

	if (n >= cap)
		return LACRE_E_TOO_LARGE;
	memcpy(dst, v, n + 1);
	return LACRE_OK;
}

/* Parse the leading decimal digits of s into *v; *end points after them.
 * Fails on no digits or overflow. */
static int parse_digits(const char *s, uint64_t *v, const char **end)
{
	uint64_t x = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return LACRE_E_MALFORMED;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (x > (UINT64_MAX - d) / 10)
			return LACRE_E_RANGE;
		x = x * 10 + d;
	}
	*v = x;
	*end = p;
	return LACRE_OK;
}

/* Multiply with overflow check. */
static int mul_u64(uint64_t a, uint64_t b, uint64_t *r)
{
	if (b != 0 && a > UINT64_MAX / b)
		return LACRE_E_RANGE;
	*r = a * b;
	return LACRE_OK;
}

/* Parse a size: digits with an optional K/KiB, M/MiB, G/GiB suffix. */
static int parse_size(const char *s, uint64_t *v)
{
	static const struct { const char *sfx; uint64_t mul; } u[] = {
		{ "", 1 }, { "K", 1024 }, { "KiB", 1024 }, { "M", 1024 * 1024 },
		{ "MiB", 1024 * 1024 }, { "G", UINT64_C(1) << 30 }, { "GiB", UINT64_C(1) << 30 },
	};
	const char *end;
	uint64_t x;

	if (parse_digits(s, &x, &end) != LACRE_OK)
		return LACRE_E_MALFORMED;
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		if (strcmp(end, u[i].sfx) == 0)
			return mul_u64(x, u[i].mul, v);
	return LACRE_E_MALFORMED;
}

/* Parse a duration into milliseconds: digits and a unit ms, s, min or h. */
static int parse_dur(const char *s, uint64_t *v)
{
	static const struct { const char *sfx; uint64_t mul; } u[] = {
		{ "ms", 1 }, { "s", 1000 }, { "min", 60000 }, { "h", 3600000 },
	};
	const char *end;
	uint64_t x;

	if (parse_digits(s, &x, &end) != LACRE_OK)
		return LACRE_E_MALFORMED;
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		if (strcmp(end, u[i].sfx) == 0)
			return mul_u64(x, u[i].mul, v);
	return LACRE_E_MALFORMED;
}

/* Split "host:port" / "[v6]:port"; host into h (cap hcap), port into *port. */
static int parse_addr(const char *s, char *h, size_t hcap, unsigned *port)
{
	const char *colon, *hs = s, *he, *end;
	uint64_t p;
	size_t hn;

	if (s[0] == '[') {
		he = strchr(s, ']');
		if (he == NULL || he[1] != ':')
			return LACRE_E_MALFORMED;
		hs = s + 1;
		colon = he + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return LACRE_E_MALFORMED;
		he = colon;
		if (memchr(s, ':', (size_t)(colon - s)) != NULL)
			return LACRE_E_MALFORMED; /* bare IPv6 needs brackets */
	}
	hn = (size_t)(he - hs);
	if (hn == 0 || hn >= hcap)
		return LACRE_E_MALFORMED;
	if (parse_digits(colon + 1, &p, &end) != LACRE_OK || *end != '\0' || p == 0 || p > 65535)
		return LACRE_E_MALFORMED;
	for (size_t i = 0; i < hn; i++)
		if (!isalnum((unsigned char)hs[i]) && strchr(".-_:%", hs[i]) == NULL)
			return LACRE_E_MALFORMED;
	memcpy(h, hs, hn);
	h[hn] = '\0';
	*port = (unsigned)p;
	return LACRE_OK;
}

/* Parse yes/no, true/false, on/off, 1/0. */
static int parse_bool(const char *s, int *v)
{
	if (!strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "on") || !strcmp(s, "1"))
		*v = 1;
	else if (!strcmp(s, "no") || !strcmp(s, "false") || !strcmp(s, "off") || !strcmp(s, "0"))
		*v = 0;
	else
		return LACRE_E_MALFORMED;
	return LACRE_OK;
}

/* Only printable ASCII (and spaces) in a value. */
static int printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* A time bound of a handover key: "-" (open: dflt) or a UTC time. */
static int parse_bound(const char *s, int64_t dflt, int64_t *us)
{
	if (strcmp(s, "-") == 0) {
		*us = dflt;
		return LACRE_OK;
	}
	return warrant_time_parse(s, us);
}

/* Is the token a field of a handover key entry (printable, no space or comma)? */
static int hkey_token_ok(const char *t)
{
	for (; *t; t++)
		if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f || *t == ',')
			return 0;
	return 1;
}

/*
 * Parse handover.keys: "OPERATOR FILE [FROM [TO]]" entries separated by
 * commas (an empty value: no keys) into out[0..*n).  LACRE_E_CONFIG with
 * msg naming the entry and what is wrong with it.
 */
static int parse_hkeys(const char *value, struct site_hkey *out, size_t *n, char *msg,
		       size_t msglen)
{
	char buf[SITE_PATH_MAX], *save = NULL, *ent;
	size_t cnt = 0;

	if (strlen(value) >= sizeof(buf)) {
		lacre_msg(msg, msglen, "handover.keys: value longer than %zu bytes", sizeof(buf) - 1);
		return LACRE_E_CONFIG;
	}
	memcpy(buf, value, strlen(value) + 1);
	for (ent = strtok_r(buf, ",", &save); ent; ent = strtok_r(NULL, ",", &save)) {
		char *f[5], *s2 = NULL, *t;
		size_t nf = 0;
		struct site_hkey k;

		for (t = strtok_r(ent, " \t", &s2); t; t = strtok_r(NULL, " \t", &s2)) {
			if (nf == 5)
				break;
			f[nf++] = t;
		}
		if (nf == 0)
			continue;           /* an empty entry (a trailing comma) */
		if (cnt == SITE_HKEY_MAX) {
			lacre_msg(msg, msglen, "handover.keys: more than %d keys", SITE_HKEY_MAX);
			return LACRE_E_CONFIG;
		}
		if (nf < 2 || nf > 4) {
			lacre_msg(msg, msglen, "handover.keys: entry %zu: expected 'OPERATOR FILE [FROM [TO]]'",
				  cnt + 1);
			return LACRE_E_CONFIG;
		}
		memset(&k, 0, sizeof(k));
		if (!hkey_token_ok(f[0]) || strlen(f[0]) < 1 || strlen(f[0]) >= sizeof(k.operator_id)) {
			lacre_msg(msg, msglen, "handover.keys: entry %zu: operator '%s' is not 1 to 16 printable characters",
				  cnt + 1, f[0]);
			return LACRE_E_CONFIG;
		}
		if (!hkey_token_ok(f[1]) || strlen(f[1]) >= sizeof(k.file)) {
			lacre_msg(msg, msglen, "handover.keys: entry %zu: key file name '%s' is too long or has odd characters",
				  cnt + 1, f[1]);
			return LACRE_E_CONFIG;
		}
		memcpy(k.operator_id, f[0], strlen(f[0]) + 1);
		memcpy(k.file, f[1], strlen(f[1]) + 1);
		if (parse_bound(nf > 2 ? f[2] : "-", INT64_MIN, &k.valid_from_us) != LACRE_OK ||
		    parse_bound(nf > 3 ? f[3] : "-", INT64_MAX, &k.valid_to_us) != LACRE_OK) {
			lacre_msg(msg, msglen, "handover.keys: entry %zu: validity times must be UTC (2026-01-01 or 2026-01-01T00:00:00Z) or '-'",
				  cnt + 1);
			return LACRE_E_CONFIG;
		}
		if (k.valid_from_us >= k.valid_to_us) {
			lacre_msg(msg, msglen, "handover.keys: entry %zu: the validity window ends before it starts",
				  cnt + 1);
			return LACRE_E_CONFIG;
		}
		for (size_t i = 0; i < cnt; i++)
			if (!strcmp(out[i].operator_id, k.operator_id) && !strcmp(out[i].file, k.file)) {
				lacre_msg(msg, msglen, "handover.keys: entry %zu repeats operator %s with key file %s",
					  cnt + 1, k.operator_id, k.file);
				return LACRE_E_CONFIG;
			}
		out[cnt++] = k;
	}
	*n = cnt;
	return LACRE_OK;
}

/* The file of a handover key (see site.h). */
int site_hkey_path(const struct site_config *cfg, const struct site_hkey *k, char *out,
		   size_t outlen)
{
	int n;

	if (k->file[0] == '/')
		n = snprintf(out, outlen, "%s", k->file);
	else if (cfg->handover_key_dir[0] == '\0')
		return LACRE_E_CONFIG;
	else
		n = snprintf(out, outlen, "%s/%s", cfg->handover_key_dir, k->file);
	return n < 0 || (size_t)n >= outlen ? LACRE_E_TOO_LARGE : LACRE_OK;
}

int site_config_set(struct site_config *cfg, const char *key, const char *value,
		    char *msg, size_t msglen)
{
	const struct ckey *k;
	char *base = (char *)cfg;
	uint64_t u = 0;
	int b = 0, r;
	char host[256];
	unsigned port;

	if (cfg == NULL || key == NULL || value == NULL)
		return LACRE_E_INVALID;
	if (strncmp(key, "operator.", 9) == 0) {
		/* the site's own names: lib/site/operator.c */
		if (!printable(value)) {
			lacre_msg(msg, msglen, "%s: value has control or non-ASCII characters", key);
			return LACRE_E_CONFIG;
		}
		return site_operator_set(cfg, key, value, msg, msglen);
	}
	if (strncmp(key, "receiver.", 9) == 0) {
		/* the site's receivers: lib/site/receiver.c */
		if (!printable(value)) {
			lacre_msg(msg, msglen, "%s: value has control or non-ASCII characters", key);
			return LACRE_E_CONFIG;
		}
		return site_receiver_set(cfg, key, value, msg, msglen);
	}
	k = find_key(key);
	if (k == NULL) {
		lacre_msg(msg, msglen, "unknown key '%s' (see docs/site.md for the keys)", key);
		return LACRE_E_CONFIG;
	}
	if (!printable(value)) {
		lacre_msg(msg, msglen, "%s: value has control or non-ASCII characters", key);
		return LACRE_E_CONFIG;
	}
	switch (k->type) {
	case T_STR:
	case T_PATH:
		r = copy_str(base + k->off, k->size, value);
		if (r != LACRE_OK) {
			lacre_msg(msg, msglen, "%s: value longer than %zu bytes", key, k->size - 1);
			return LACRE_E_CONFIG;
		}
		return LACRE_OK;
	case T_ADDR:
		if (parse_addr(value, host, sizeof(host), &port) != LACRE_OK) {
			lacre_msg(msg, msglen, "%s: '%s' is not host:port (port 1-65535)", key, value);
			return LACRE_E_CONFIG;
		}
		if (copy_str(base + k->off, k->size, value) != LACRE_OK) {
			lacre_msg(msg, msglen, "%s: value too long", key);
			return LACRE_E_CONFIG;
		}
		return LACRE_OK;
	case T_RECIP:
		if (value[0] != '\0' && strncmp(value, "age1", 4) != 0) {
			lacre_msg(msg, msglen, "%s: '%s' is not an age recipient (age1...)", key, value);
			return LACRE_E_CONFIG;
		}
		if (copy_str(base + k->off, k->size, value) != LACRE_OK) {
			lacre_msg(msg, msglen, "%s: value too long for an age recipient", key);
			return LACRE_E_CONFIG;
		}
		return LACRE_OK;
	case T_HKEYS: {
		struct site_hkey tmp[SITE_HKEY_MAX];
		size_t n = 0;

		if ((r = parse_hkeys(value, tmp, &n, msg, msglen)) != LACRE_OK)
			return r;
		if (copy_str(base + k->off, k->size, value) != LACRE_OK) {
			lacre_msg(msg, msglen, "%s: value too long", key);
			return LACRE_E_CONFIG;
		}
		memcpy(cfg->hkeys, tmp, n * sizeof(tmp[0]));
		cfg->n_hkeys = n;
		return LACRE_OK;
	}
	case T_HEX32:
		if (value[0] != '\0' && (strlen(value) != 64 || strspn(value, "0123456789abcdef") != 64)) {
			lacre_msg(msg, msglen, "%s: '%s' is not 64 lower-case hex digits", key, value);
			return LACRE_E_CONFIG;
		}
		return copy_str(base + k->off, k->size, value);
	case T_BOOL:
		if (parse_bool(value, &b) != LACRE_OK) {
			lacre_msg(msg, msglen, "%s: '%s' is not yes or no", key, value);
			return LACRE_E_CONFIG;
		}
		*(int *)(void *)(base + k->off) = b;
		return LACRE_OK;
	case T_UINT:
		r = LACRE_OK;
		{
			const char *end;
			if (parse_digits(value, &u, &end) != LACRE_OK || *end != '\0')
				r = LACRE_E_MALFORMED;
		}
		if (r != LACRE_OK) {
			lacre_msg(msg, msglen, "%s: '%s' is not a whole number", key, value);
			return LACRE_E_CONFIG;
		}
		break;
	case T_SIZE:
		if (parse_size(value, &u) != LACRE_OK) {
			lacre_msg(msg, msglen, "%s: '%s' is not a size (e.g. 64M, 1048576)", key, value);
			return LACRE_E_CONFIG;
		}
		break;
	case T_DUR:
		if (parse_dur(value, &u) != LACRE_OK) {
			lacre_msg(msg, msglen, "%s: '%s' is not a duration with a unit (e.g. 2s, 500ms)",
			    key, value);
			return LACRE_E_CONFIG;
		}
		break;
	}
	if (u < k->min || u > k->max) {
		lacre_msg(msg, msglen, "%s: %s is outside %" PRIu64 "..%" PRIu64 "%s", key, value,
		    k->min, k->max, k->type == T_DUR ? " ms" : "");
		return LACRE_E_CONFIG;
	}
	*(uint64_t *)(void *)(base + k->off) = u;
	return LACRE_OK;
}

int site_config_set_arg(struct site_config *cfg, const char *arg, char *msg, size_t msglen)
{
	const char *eq;
	char key[64];
	size_t n;

	if (arg == NULL)
		return LACRE_E_INVALID;
	eq = strchr(arg, '=');
	n = eq ? (size_t)(eq - arg) : 0;
	if (eq == NULL || n == 0 || n >= sizeof(key)) {
		lacre_msg(msg, msglen, "'%s' is not key=value", arg);
		return LACRE_E_CONFIG;
	}
	memcpy(key, arg, n);
	key[n] = '\0';
	return site_config_set(cfg, key, eq + 1, msg, msglen);
}

/* Format a size: with a binary suffix when exact. */
static void fmt_size(uint64_t v, char *out, size_t outlen)
{
	if (v != 0 && v % (UINT64_C(1) << 30) == 0)
		snprintf(out, outlen, "%" PRIu64 "G", v >> 30);
	else if (v != 0 && v % (1024 * 1024) == 0)
		snprintf(out, outlen, "%" PRIu64 "M", v >> 20);
	else if (v != 0 && v % 1024 == 0)
		snprintf(out, outlen, "%" PRIu64 "K", v >> 10);
	else
		snprintf(out, outlen, "%" PRIu64, v);
}

/* Format a duration in ms with the largest exact unit. */
static void fmt_dur(uint64_t v, char *out, size_t outlen)
{
	if (v != 0 && v % 3600000 == 0)
		snprintf(out, outlen, "%" PRIu64 "h", v / 3600000);
	else if (v != 0 && v % 60000 == 0)
		snprintf(out, outlen, "%" PRIu64 "min", v / 60000);
	else if (v != 0 && v % 1000 == 0)
		snprintf(out, outlen, "%" PRIu64 "s", v / 1000);
	else
		snprintf(out, outlen, "%" PRIu64 "ms", v);
}

int site_config_get(const struct site_config *cfg, const char *key, char *out, size_t outlen)
{
	const struct ckey *k = find_key(key);
	const char *base = (const char *)cfg;
	char tmp[SITE_PATH_MAX];
	uint64_t u;

	if (k == NULL && key != NULL && strncmp(key, "operator.", 9) == 0)
		return site_operator_get(cfg, key, out, outlen);
	if (k == NULL && key != NULL && strncmp(key, "receiver.", 9) == 0)
		return site_receiver_get(cfg, key, out, outlen);
	if (k == NULL)
		return LACRE_E_NOT_FOUND;
	switch (k->type) {
	case T_STR:
	case T_PATH:
	case T_ADDR:
	case T_RECIP:
	case T_HEX32:
	case T_HKEYS:
		snprintf(tmp, sizeof(tmp), "%s", base + k->off);
		break;
	case T_BOOL:
		snprintf(tmp, sizeof(tmp), "%s", *(const int *)(const void *)(base + k->off) ? "yes" : "no");
		break;
	default:
		u = *(const uint64_t *)(const void *)(base + k->off);
		if (k->type == T_SIZE)
			fmt_size(u, tmp, sizeof(tmp));
		else if (k->type == T_DUR)
			fmt_dur(u, tmp, sizeof(tmp));
		else
			snprintf(tmp, sizeof(tmp), "%" PRIu64, u);
		break;
	}
	if (strlen(tmp) >= outlen)
		return LACRE_E_TOO_LARGE;
	memcpy(out, tmp, strlen(tmp) + 1);
	return LACRE_OK;
}

size_t site_config_nkeys(void)
{
	return NKEYS;
}

const char *site_config_key(size_t i)
{
	return i < NKEYS ? keys[i].name : NULL;
}

void site_config_defaults(struct site_config *cfg, const char *dir)
{
	const char *slash;
	size_t n;

	memset(cfg, 0, sizeof(*cfg));
	n = dir ? strlen(dir) : 0;
	while (n > 1 && dir[n - 1] == '/')
		n--;
	slash = n ? memrchr(dir, '/', n) : NULL;
	snprintf(cfg->name, sizeof(cfg->name), "%.*s",
		 (int)(slash ? n - (size_t)(slash + 1 - dir) : n), slash ? slash + 1 : (dir ? dir : ""));
	if (cfg->name[0] == '\0')
		snprintf(cfg->name, sizeof(cfg->name), "lacre");
	snprintf(cfg->hi2, sizeof(cfg->hi2), "127.0.0.1:5001");
	snprintf(cfg->hi3, sizeof(cfg->hi3), "127.0.0.1:5002");
	cfg->tls_enable = 0;
	cfg->tls_require_client_cert = 1;
	snprintf(cfg->backend, sizeof(cfg->backend), "dir:%.*s/%s", (int)n, dir ? dir : "",
		 SITE_OBJECTS);
	snprintf(cfg->spool_dir, sizeof(cfg->spool_dir), "%.*s/%s", (int)n, dir ? dir : "",
		 SITE_SPOOL);
	cfg->spool_direct_io = 1;
	cfg->s3_uploads = 4;   /* docs/storage.md "Several files at once" */
	cfg->spool_quota = 0;
	cfg->spool_reserve = UINT64_C(16) << 20;
	cfg->segment_max_bytes = UINT64_C(64) * 1024 * 1024;
	cfg->segment_max_age_ms = 500;   /* every record under a cosigned checkpoint within 1 s: docs/performance.md */
	cfg->max_connections = 10000;
	cfg->max_pdu_bytes = UINT64_C(16) * 1024 * 1024;
	cfg->memory_budget = UINT64_C(256) * 1024 * 1024;
	cfg->idle_timeout_ms = 300000;
	cfg->scrypt_log2n = SITE_LOG2N_DEFAULT;
	snprintf(cfg->console_listen, sizeof(cfg->console_listen), "127.0.0.1:8443");
}

/* Trim spaces and tabs at both ends of s[0..*n); returns the new start. */
static const char *trim(const char *s, size_t *n)
{
	while (*n > 0 && (s[0] == ' ' || s[0] == '\t')) {
		s++;
		(*n)--;
	}
	while (*n > 0 && (s[*n - 1] == ' ' || s[*n - 1] == '\t' || s[*n - 1] == '\r'))
		(*n)--;
	return s;
}

int site_config_parse(struct site_config *cfg, const char *fname,
		      const uint8_t *text, size_t n, char *msg, size_t msglen)
{
	struct lacre_rbuf rb;
	unsigned char seen[NKEYS];
	struct { char name[SITE_OPERATOR_NAME_MAX]; unsigned bits; } opseen[SITE_OPERATOR_MAX];
	size_t n_opseen = 0;
	struct { char name[SITE_RECEIVER_NAME_MAX]; unsigned bits; } rcvseen[SITE_RECEIVER_MAX];
	size_t n_rcvseen = 0;
	char key[64], val[SITE_PATH_MAX], sub[SITE_MSG_MAX];
	size_t lineno = 0;

	if (cfg == NULL || (text == NULL && n != 0))
		return LACRE_E_INVALID;
	if (n > SITE_CONF_MAX) {
		lacre_msg(msg, msglen, "%s: larger than %d bytes", fname, SITE_CONF_MAX);
		return LACRE_E_TOO_LARGE;
	}
	memset(seen, 0, sizeof(seen));
	lacre_rbuf_init(&rb, text, n);
	while (lacre_rbuf_left(&rb) > 0) {
		const uint8_t *line, *nl;
		const char *l, *eq, *k, *v;
		size_t ln, kn, vn, left = lacre_rbuf_left(&rb);
		const struct ckey *ck;

		lineno++;
		nl = memchr(lacre_rbuf_ptr(&rb), '\n', left);
		ln = nl ? (size_t)(nl - lacre_rbuf_ptr(&rb)) : left;
		if (lacre_rbuf_take(&rb, ln, &line) != LACRE_OK ||
		    (nl && lacre_rbuf_skip(&rb, 1) != LACRE_OK))
			return LACRE_E_INTERNAL;
		if (ln > LINE_MAX_LEN) {
			lacre_msg(msg, msglen, "%s:%zu: line longer than %d bytes", fname, lineno, LINE_MAX_LEN);
			return LACRE_E_CONFIG;
		}
		if (memchr(line, '\0', ln) != NULL) {
			lacre_msg(msg, msglen, "%s:%zu: NUL byte in line", fname, lineno);
			return LACRE_E_CONFIG;
		}
		l = trim((const char *)line, &ln);
		if (ln == 0 || l[0] == '#')
			continue;
		eq = memchr(l, '=', ln);
		if (eq == NULL) {
			lacre_msg(msg, msglen, "%s:%zu: expected 'key = value'", fname, lineno);
			return LACRE_E_CONFIG;
		}
		kn = (size_t)(eq - l);
		k = trim(l, &kn);
		vn = ln - (size_t)(eq + 1 - l);
		v = trim(eq + 1, &vn);
		if (kn == 0 || kn >= sizeof(key)) {
			lacre_msg(msg, msglen, "%s:%zu: missing or overlong key before '='", fname, lineno);
			return LACRE_E_CONFIG;
		}
		if (vn >= sizeof(val)) {
			lacre_msg(msg, msglen, "%s:%zu: value too long", fname, lineno);
			return LACRE_E_CONFIG;
		}
		memcpy(key, k, kn);
		key[kn] = '\0';
		memcpy(val, v, vn);
		val[vn] = '\0';
		if (strncmp(key, "operator.", 9) == 0) {
			/* operator.NAME.ATTR: once per file, like every key */
			char oname[SITE_OPERATOR_NAME_MAX];
			unsigned bit = 0;
			size_t oi;

			if (site_config_set(cfg, key, val, sub, sizeof(sub)) != LACRE_OK) {
				lacre_msg(msg, msglen, "%s:%zu: %s", fname, lineno, sub);
				return LACRE_E_CONFIG;
			}
			if (site_operator_key_bit(key, oname, &bit) != LACRE_OK)
				return LACRE_E_INTERNAL;
			for (oi = 0; oi < n_opseen && strcmp(opseen[oi].name, oname) != 0; oi++)
				;
			if (oi == n_opseen) {
				if (n_opseen == SITE_OPERATOR_MAX)
					return LACRE_E_INTERNAL;  /* set refused the 17th */
				memcpy(opseen[oi].name, oname, sizeof(oname));
				opseen[oi].bits = 0;
				n_opseen++;
			}
			if (opseen[oi].bits & bit) {
				lacre_msg(msg, msglen, "%s:%zu: key '%s' set twice", fname, lineno, key);
				return LACRE_E_CONFIG;
			}
			opseen[oi].bits |= bit;
			continue;
		}
		if (strncmp(key, "receiver.", 9) == 0) {
			/* receiver.NAME.ATTR: once per file too */
			char rname[SITE_RECEIVER_NAME_MAX];
			unsigned bit = 0;
			size_t ri;

			if (site_config_set(cfg, key, val, sub, sizeof(sub)) != LACRE_OK) {
				lacre_msg(msg, msglen, "%s:%zu: %s", fname, lineno, sub);
				return LACRE_E_CONFIG;
			}
			if (site_receiver_key_bit(key, rname, &bit) != LACRE_OK)
				return LACRE_E_INTERNAL;
			for (ri = 0; ri < n_rcvseen && strcmp(rcvseen[ri].name, rname) != 0; ri++)
				;
			if (ri == n_rcvseen) {
				if (n_rcvseen == SITE_RECEIVER_MAX)
					return LACRE_E_INTERNAL;  /* set refused the 17th */
				memcpy(rcvseen[ri].name, rname, sizeof(rname));
				rcvseen[ri].bits = 0;
				n_rcvseen++;
			}
			if (rcvseen[ri].bits & bit) {
				lacre_msg(msg, msglen, "%s:%zu: key '%s' set twice", fname, lineno, key);
				return LACRE_E_CONFIG;
			}
			rcvseen[ri].bits |= bit;
			continue;
		}
		ck = find_key(key);
		if (ck == NULL) {
			lacre_msg(msg, msglen, "%s:%zu: unknown key '%s'", fname, lineno, key);
			return LACRE_E_CONFIG;
		}
		if (seen[ck - keys]) {
			lacre_msg(msg, msglen, "%s:%zu: key '%s' set twice", fname, lineno, key);
			return LACRE_E_CONFIG;
		}
		seen[ck - keys] = 1;
		if (site_config_set(cfg, key, val, sub, sizeof(sub)) != LACRE_OK) {
			lacre_msg(msg, msglen, "%s:%zu: %s", fname, lineno, sub);
			return LACRE_E_CONFIG;
		}
	}
	return LACRE_OK;
}

int site_config_load(struct site_config *cfg, const char *path, char *msg, size_t msglen)
{
	struct lacre_dbuf d;
	int r;

	r = site_read_file(path, SITE_CONF_MAX, &d);
	if (r != LACRE_OK) {
		lacre_msg(msg, msglen, "%s: %s", path, r == LACRE_E_NOT_FOUND ? "no such file" :
		    r == LACRE_E_TOO_LARGE ? "file too large" : strerror(errno));
		return r;
	}
	r = site_config_parse(cfg, path, d.p, d.len, msg, msglen);
	lacre_dbuf_free(&d);
	return r;
}

/* Whether path names an existing regular file. */
static int is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* witness.policy must name a readable C2SP tlog-policy file that parses
 * (lib/ledger/policy): a site that cannot reach its quorum must not start. */
static int config_check_policy(const char *path, char *msg, size_t msglen)
{
	struct policy *p = NULL;
	size_t bad = 0;
	int r = policy_load_file(path, &p, &bad);

	free(p);
	if (r == LACRE_E_CONFIG) {
		lacre_msg(msg, msglen, "witness.policy: %s:%zu: not a valid tlog-policy line", path, bad);
		return LACRE_E_CONFIG;
	}
	if (r != LACRE_OK) {
		lacre_msg(msg, msglen, "witness.policy: cannot read %s: %s", path, lacre_strerror(r));
		return LACRE_E_CONFIG;
	}
	return LACRE_OK;
}

/* A PKCS#11 label as lacre accepts it: 1 byte or more of printable ASCII,
 * no space at either end (token labels are space-padded on the token). */
static int label_ok(const char *l)
{
	size_t n = strlen(l);

	if (n == 0 || l[0] == ' ' || l[n - 1] == ' ')
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)l[i] < 0x20 || (unsigned char)l[i] > 0x7e)
			return 0;
	return 1;
}

int site_config_check_master(const struct site_config *cfg, char *msg, size_t msglen)
{
	if (cfg->pkcs11_module[0] == '\0') {
		if (cfg->pkcs11_token[0] != '\0' || cfg->pkcs11_key[0] != '\0') {
			lacre_msg(msg, msglen, "master.pkcs11_token and master.pkcs11_key need "
				  "master.pkcs11_module: set it, or empty them for a passphrase site");
			return LACRE_E_CONFIG;
		}
		return LACRE_OK;
	}
	if (cfg->pkcs11_module[0] != '/') {
		lacre_msg(msg, msglen, "master.pkcs11_module: needs an absolute path, got '%s'",
			  cfg->pkcs11_module);
		return LACRE_E_CONFIG;
	}
	if (!label_ok(cfg->pkcs11_token)) {
		lacre_msg(msg, msglen, "master.pkcs11_token: '%s' is not a token label (1 to 32 "
			  "printable characters, no space at either end)", cfg->pkcs11_token);
		return LACRE_E_CONFIG;
	}
	if (!label_ok(cfg->pkcs11_key)) {
		lacre_msg(msg, msglen, "master.pkcs11_key: '%s' is not a key label (1 to 64 "
			  "printable characters, no space at either end)", cfg->pkcs11_key);
		return LACRE_E_CONFIG;
	}
	return LACRE_OK;
}

/* A system user name as ingest.user accepts it: what getpwnam finds on
 * Debian (useradd's default rule) and nothing a shell or a path could
 * misread: letters, digits, '_', '-', '.', not starting with '-' or '.'. */
static int user_name_ok(const char *u)
{
	size_t n = strlen(u);

	if (n == 0 || n > 32 || u[0] == '-' || u[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((u[i] >= 'a' && u[i] <= 'z') || (u[i] >= 'A' && u[i] <= 'Z') ||
		      (u[i] >= '0' && u[i] <= '9') || u[i] == '_' || u[i] == '-' || u[i] == '.'))
			return 0;
	return 1;
}

int site_config_check(const struct site_config *cfg, char *msg, size_t msglen)
{
	char h2[256], h3[256];
	unsigned p2, p3;
	uint8_t pub[32];
	int r;

	if (cfg == NULL)
		return LACRE_E_INVALID;
	if (parse_addr(cfg->hi2, h2, sizeof(h2), &p2) != LACRE_OK) {
		lacre_msg(msg, msglen, "ingest.hi2: '%s' is not host:port", cfg->hi2);
		return LACRE_E_CONFIG;
	}
	if (parse_addr(cfg->hi3, h3, sizeof(h3), &p3) != LACRE_OK) {
		lacre_msg(msg, msglen, "ingest.hi3: '%s' is not host:port", cfg->hi3);
		return LACRE_E_CONFIG;
	}
	if (p2 == p3 && strcmp(h2, h3) == 0) {
		lacre_msg(msg, msglen, "ingest.hi2 and ingest.hi3 are the same address %s; give each its own port",
		    cfg->hi2);
		return LACRE_E_CONFIG;
	}
	if (cfg->ingest_user[0] != '\0' && !user_name_ok(cfg->ingest_user)) {
		lacre_msg(msg, msglen, "ingest.user: '%s' is not a user name (1 to 32 letters, digits, "
			  "'_', '-' or '.', not starting with '-' or '.')", cfg->ingest_user);
		return LACRE_E_CONFIG;
	}
	if (cfg->tls_enable) {
		if (!is_file(cfg->tls_cert)) {
			lacre_msg(msg, msglen, "tls.cert: '%s' is not a readable file", cfg->tls_cert);
			return LACRE_E_CONFIG;
		}
		if (!is_file(cfg->tls_key)) {
			lacre_msg(msg, msglen, "tls.key: '%s' is not a readable file", cfg->tls_key);
			return LACRE_E_CONFIG;
		}
		/* a client certificate is checked by tls.client_ca or by an
		 * operator's own fingerprint or CA */
		int op_certs = 0;
		for (size_t i = 0; i < cfg->n_operators; i++)
			if (cfg->operators[i].set & (SITE_OP_CERT | SITE_OP_CA))
				op_certs = 1;
		if (cfg->tls_client_ca[0] != '\0' && cfg->n_operators) {
			lacre_msg(msg, msglen, "tls.client_ca: not used once operators are configured: give "
			    "each operator its own CA (operator.NAME.ca and .subject) and empty tls.client_ca");
			return LACRE_E_CONFIG;
		}
		if (cfg->tls_client_ca[0] != '\0' && !is_file(cfg->tls_client_ca)) {
			lacre_msg(msg, msglen, "tls.client_ca: '%s' is not a readable file", cfg->tls_client_ca);
			return LACRE_E_CONFIG;
		}
		if (cfg->tls_require_client_cert && cfg->tls_client_ca[0] == '\0' && !op_certs) {
			lacre_msg(msg, msglen, "tls.client_ca: not set, and no operator has a certificate "
			    "(operator.NAME.cert_sha256 or .ca); set one, or tls.require_client_cert = no");
			return LACRE_E_CONFIG;
		}
	}
	if (strncmp(cfg->backend, "dir:", 4) == 0) {
		if (cfg->backend[4] != '/') {
			lacre_msg(msg, msglen, "backend: dir: needs an absolute path, got '%s'", cfg->backend);
			return LACRE_E_CONFIG;
		}
	} else if (strncmp(cfg->backend, "faulty:", 7) == 0) {
		/* the lying test wrapper (docs/storage.md): never in production */
		const char *t = getenv("LACRE_TEST_BACKENDS");
		if (!t || strcmp(t, "1") != 0) {
			lacre_msg(msg, msglen, "backend: '%s' is a test backend: use dir:PATH or "
				  "s3:URL (tests set LACRE_TEST_BACKENDS=1)", cfg->backend);
			return LACRE_E_CONFIG;
		}
	} else if (strncmp(cfg->backend, "s3://", 5) != 0 || cfg->backend[5] == '\0') {
		lacre_msg(msg, msglen, "backend: '%s' is neither dir:PATH nor s3://BUCKET[/PREFIX]", cfg->backend);
		return LACRE_E_CONFIG;
	}
	if (cfg->s3_endpoint[0] != '\0' && strncmp(cfg->s3_endpoint, "http://", 7) != 0 &&
	    strncmp(cfg->s3_endpoint, "https://", 8) != 0) {
		lacre_msg(msg, msglen, "s3.endpoint: wants http[s]://HOST[:PORT], got '%s'", cfg->s3_endpoint);
		return LACRE_E_CONFIG;
	}
	if (cfg->s3_credentials[0] != '\0' && cfg->s3_credentials[0] != '/') {
		lacre_msg(msg, msglen, "s3.credentials: needs an absolute path, got '%s'", cfg->s3_credentials);
		return LACRE_E_CONFIG;
	}
	if (cfg->spool_dir[0] != '/') {
		lacre_msg(msg, msglen, "spool.dir: needs an absolute path, got '%s'", cfg->spool_dir);
		return LACRE_E_CONFIG;
	}
	if (cfg->oversight_recipient[0] == '\0') {
		lacre_msg(msg, msglen, "oversight.recipient: not set; quarantined records need a recipient");
		return LACRE_E_CONFIG;
	}
	if (age_recipient_parse(cfg->oversight_recipient, pub) != LACRE_OK) {
		lacre_msg(msg, msglen, "oversight.recipient: '%s' is not a valid age recipient",
		    cfg->oversight_recipient);
		return LACRE_E_CONFIG;
	}
	if (cfg->warrants_signer[0] == '\0') {
		lacre_msg(msg, msglen, "warrants.signer: not set; the warrant log cannot be verified");
		return LACRE_E_CONFIG;
	}
	if (cfg->witness_policy[0] != '\0' &&
	    config_check_policy(cfg->witness_policy, msg, msglen) != LACRE_OK)
		return LACRE_E_CONFIG;
	if (cfg->ledger_signer[0] != '\0' &&
	    (cfg->ledger_signer[0] != '/' || strlen(cfg->ledger_signer) > 107)) {
		lacre_msg(msg, msglen, "ledger.signer: needs the absolute path of lacre-signer's socket "
			  "(at most 107 bytes), got '%s'", cfg->ledger_signer);
		return LACRE_E_CONFIG;
	}
	if (cfg->handover_key_dir[0] != '\0' && cfg->handover_key_dir[0] != '/') {
		lacre_msg(msg, msglen, "handover.key_dir: needs an absolute path, got '%s'",
			  cfg->handover_key_dir);
		return LACRE_E_CONFIG;
	}
	for (size_t i = 0; i < cfg->n_hkeys; i++) {
		char path[SITE_PATH_MAX + SITE_HKEY_FILE_MAX];
		struct stat st;

		if (site_hkey_path(cfg, &cfg->hkeys[i], path, sizeof(path)) != LACRE_OK) {
			lacre_msg(msg, msglen, "handover.keys: key file '%s' of operator %s is relative: set handover.key_dir or give an absolute path",
				  cfg->hkeys[i].file, cfg->hkeys[i].operator_id);
			return LACRE_E_CONFIG;
		}
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			lacre_msg(msg, msglen, "handover.keys: key file '%s' of operator %s is not a readable file",
				  path, cfg->hkeys[i].operator_id);
			return LACRE_E_CONFIG;
		}
		if ((st.st_mode & 077) != 0) {
			lacre_msg(msg, msglen, "handover.keys: key file '%s' is readable by group or others; chmod 600 it (a handover key is the receiver's secret)",
				  path);
			return LACRE_E_CONFIG;
		}
	}
	if (site_config_check_master(cfg, msg, msglen) != LACRE_OK)
		return LACRE_E_CONFIG;
	if (cfg->max_pdu_bytes > cfg->segment_max_bytes) {
		lacre_msg(msg, msglen, "limits.max_pdu_bytes: must not exceed segment.max_bytes");
		return LACRE_E_CONFIG;
	}
	if (cfg->memory_budget / 2 < cfg->max_pdu_bytes) {
		lacre_msg(msg, msglen, "limits.memory_budget: must be at least twice limits.max_pdu_bytes, "
			  "or one largest PDU could never be received beside others; raise it");
		return LACRE_E_CONFIG;
	}
	if ((r = site_operator_check(cfg, msg, msglen)) != LACRE_OK)
		return r;
	return site_receiver_check(cfg, msg, msglen);
}

int site_config_write(const struct site_config *cfg, struct lacre_dbuf *out)
{
	char v[SITE_PATH_MAX];
	int r;

	r = lacre_dbuf_add_str(out,
		"# lacre site configuration (docs/site.md describes every key).\n"
		"# One 'key = value' per line; lines starting with '#' are comments.\n"
		"# Every key can be overridden on the command line: --set key=value.\n"
		"# This file holds no secret: the master key is in master.age (or in\n"
		"# master.p11, wrapped by a PKCS#11 token), the private keys in keystore/.\n");
	for (size_t i = 0; r == LACRE_OK && i < NKEYS; i++) {
		r = site_config_get(cfg, keys[i].name, v, sizeof(v));
		if (r == LACRE_OK)
			r = lacre_dbuf_printf(out, "\n# %s\n%s =%s%s\n", keys[i].doc, keys[i].name,
					      v[0] ? " " : "", v);
	}
	if (r == LACRE_OK)
		r = site_operator_write(cfg, out);
	if (r == LACRE_OK)
		r = site_receiver_write(cfg, out);
	return r;
}
