/*
 * note.c - C2SP signed notes with Ed25519 keys (types 0x01 and 0x04).
 *
 * Reading order: base64, key names and UTF-8, key IDs, private keys
 * (signers), vkeys (verifiers), note parsing, verification, signing.
 *
 * All input here is untrusted (notes come from storage, witnesses, files):
 * lengths are checked before every access, the note is capped at 64 KiB and
 * 64 signature lines, and a signature whose (name, key ID) matches a
 * trusted key must verify or the whole note is rejected.  Depends on
 * libcrypto only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "lacre/err.h"
#include "lacre/merkle.h"
#include "lacre/note.h"

struct note_signer {
	char name[NOTE_NAME_MAX + 1];
	uint8_t type;
	uint32_t keyid;
	uint8_t seed[32];
	uint8_t pub[32];
	EVP_PKEY *pk;
};

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Padded standard base64 of p[0..len), appended to out. */
int note_b64_encode(const void *p, size_t len, struct lacre_dbuf *out)
{
	const uint8_t *s = p;
	char q[4];
	size_t i;
	uint32_t v;
	int rc;

	for (i = 0; i + 3 <= len; i += 3) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		q[0] = b64chars[v >> 18];
		q[1] = b64chars[(v >> 12) & 63];
		q[2] = b64chars[(v >> 6) & 63];
		q[3] = b64chars[v & 63];
		if ((rc = lacre_dbuf_add(out, q, 4)) != LACRE_OK)
			return rc;
	}
	if (len - i == 1) {
		v = (uint32_t)s[i] << 16;
		q[0] = b64chars[v >> 18];
		q[1] = b64chars[(v >> 12) & 63];
		q[2] = q[3] = '=';
		return lacre_dbuf_add(out, q, 4);
	}
	if (len - i == 2) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
		q[0] = b64chars[v >> 18];
		q[1] = b64chars[(v >> 12) & 63];
		q[2] = b64chars[(v >> 6) & 63];
		q[3] = '=';
		return lacre_dbuf_add(out, q, 4);
	}
	return LACRE_OK;
}

/* Value of one base64 character, or -1. */
static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict decoder: length a multiple of 4, '=' only as the last one or two
 * characters, unused bits zero (so every value has one encoding). */
int note_b64_decode(const char *s, size_t len, uint8_t *out, size_t cap,
		    size_t *outlen)
{
	size_t i, n = 0, pad = 0;
	uint32_t v;
	int a, b, c, d;

	if (len % 4 != 0)
		return LACRE_E_MALFORMED;
	if (len >= 1 && s[len - 1] == '=')
		pad++;
	if (len >= 2 && s[len - 2] == '=')
		pad++;
	if (len / 4 * 3 - pad > cap)
		return LACRE_E_TOO_LARGE;
	for (i = 0; i < len; i += 4) {
		int last = i + 4 == len;
		a = b64val((unsigned char)s[i]);
		b = b64val((unsigned char)s[i + 1]);
		c = last && pad == 2 ? 0 : b64val((unsigned char)s[i + 2]);
		d = last && pad >= 1 ? 0 : b64val((unsigned char)s[i + 3]);
		if (a < 0 || b < 0 || c < 0 || d < 0)
			return LACRE_E_MALFORMED;
		if (last && pad == 2 && (s[i + 2] != '=' || (b & 15)))
			return LACRE_E_MALFORMED;
		if (last && pad == 1 && (c & 3))
			return LACRE_E_MALFORMED;
		v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
		out[n++] = (uint8_t)(v >> 16);
		if (!(last && pad == 2))
			out[n++] = (uint8_t)(v >> 8);
		if (!(last && pad >= 1))
			out[n++] = (uint8_t)v;
	}
	*outlen = n;
	return LACRE_OK;
}

/* Decode one UTF-8 sequence at p[0..len): the code point and its length,
 * or 0 for an invalid sequence (overlong, surrogate, > U+10FFFF). */
static size_t utf8_next(const uint8_t *p, size_t len, uint32_t *cp)
{
	uint32_t c;
	size_t n, i;

	if (len == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		n = 2;
		c = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		c = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4;
		c = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Whether a code point is a Unicode space (White_Space property). */
static int is_uspace(uint32_t c)
{
	return c == ' ' || (c >= 0x09 && c <= 0x0d) || c == 0x85 || c == 0xa0 ||
	       c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 ||
	       c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

/* Key-name rules of §2.1 over p[0..len). */
static int name_valid(const uint8_t *p, size_t len)
{
	size_t i = 0, k;
	uint32_t c;

	if (len == 0 || len > NOTE_NAME_MAX)
		return 0;
	while (i < len) {
		if ((k = utf8_next(p + i, len - i, &c)) == 0)
			return 0;
		if (c == '+' || c < 0x20 || c == 0x7f || is_uspace(c))
			return 0;
		i += k;
	}
	return 1;
}

/* Public wrapper of name_valid for NUL-terminated names. */
int note_name_valid(const char *name)
{
	return name && name_valid((const uint8_t *)name, strlen(name));
}

/* First four bytes of SHA-256(name ‖ '\n' ‖ type ‖ pub), big endian. */
uint32_t note_keyid(const char *name, uint8_t type, const uint8_t pub[32])
{
	uint8_t buf[NOTE_NAME_MAX + 2 + 32], h[MERKLE_HASH_LEN];
	size_t n = strlen(name);

	if (n > NOTE_NAME_MAX)
		n = NOTE_NAME_MAX;
	memcpy(buf, name, n);
	buf[n] = '\n';
	buf[n + 1] = type;
	memcpy(buf + n + 2, pub, 32);
	merkle_sha256(buf, n + 2 + 32, h);
	return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

/* Build a signer from a seed; the seed is copied (and wiped on free). */
int note_signer_from_seed(const char *name, uint8_t type, const uint8_t seed[32],
			  struct note_signer **out)
{
	struct note_signer *s = NULL;
	size_t publen = 32;
	int rc = LACRE_E_INVALID;

	if (!note_name_valid(name) || (type != NOTE_TYPE_ED25519 && type != NOTE_TYPE_COSIG))
		goto out;
	rc = LACRE_E_NOMEM;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto out;
	memcpy(s->name, name, strlen(name) + 1);
	s->type = type;
	memcpy(s->seed, seed, 32);
	rc = LACRE_E_CRYPTO;
	s->pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, s->seed, 32);
	if (s->pk == NULL || EVP_PKEY_get_raw_public_key(s->pk, s->pub, &publen) != 1 ||
	    publen != 32)
		goto out;
	s->keyid = note_keyid(s->name, type, s->pub);
	*out = s;
	s = NULL;
	rc = LACRE_OK;
out:
	note_signer_free(s);
	return rc;
}

/* Fresh key from the CSPRNG. */
int note_signer_generate(const char *name, uint8_t type, struct note_signer **out)
{
	uint8_t seed[32];
	int rc;

	if (RAND_priv_bytes(seed, sizeof(seed)) != 1)
		return LACRE_E_CRYPTO;
	rc = note_signer_from_seed(name, type, seed, out);
	OPENSSL_cleanse(seed, sizeof(seed));
	return rc;
}

/* Free a signer, wiping the seed. */
void note_signer_free(struct note_signer *s)
{
	if (s == NULL)
		return;
	EVP_PKEY_free(s->pk);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

/* Name of a signer (the log origin or the witness name). */
const char *note_signer_name(const struct note_signer *s)
{
	return s->name;
}

/* The public half as a verifier. */
void note_signer_public(const struct note_signer *s, struct note_verifier *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->name, s->name, sizeof(out->name));
	out->keyid = s->keyid;
	out->type = s->type;
	memcpy(out->pub, s->pub, 32);
}

/* Split text[0..len) at its first n-1 '+' into n fields (the last, a
 * base64 string, may contain '+'); ignores trailing whitespace.  Returns 0
 * when there are fewer fields. */
static int split_plus(const char *text, size_t len, const char **f, size_t *fl, int n)
{
	size_t i, start = 0;
	int k = 0;

	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' ' ||
			   text[len - 1] == '\r' || text[len - 1] == '\t'))
		len--;
	for (i = 0; i < len && k < n - 1; i++) {
		if (text[i] == '+') {
			f[k] = text + start;
			fl[k] = i - start;
			k++;
			start = i + 1;
		}
	}
	if (k != n - 1)
		return 0;
	f[k] = text + start;
	fl[k] = len - start;
	return 1;
}

/* Parse 8 lower-case hex digits. */
static int parse_keyid(const char *s, size_t len, uint32_t *id)
{
	uint32_t v = 0;
	size_t i;

	if (len != 8)
		return 0;
	for (i = 0; i < 8; i++) {
		char c = s[i];
		if (c >= '0' && c <= '9')
			v = v << 4 | (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint32_t)(c - 'a' + 10);
		else
			return 0;
	}
	*id = v;
	return 1;
}

/* PRIVATE+KEY+name+keyid+base64(type ‖ seed). */
int note_signer_parse(const char *text, size_t len, struct note_signer **out)
{
	const char *f[5];
	size_t fl[5], n = 0;
	char name[NOTE_NAME_MAX + 1];
	uint8_t raw[40];
	uint32_t id;
	struct note_signer *s = NULL;
	int rc = LACRE_E_MALFORMED;

	if (len > NOTE_KEY_TEXT_MAX * 2 || !split_plus(text, len, f, fl, 5) ||
	    fl[0] != 7 || memcmp(f[0], "PRIVATE", 7) != 0 || fl[1] != 3 ||
	    memcmp(f[1], "KEY", 3) != 0 || fl[2] == 0 || fl[2] > NOTE_NAME_MAX ||
	    !parse_keyid(f[3], fl[3], &id))
		goto out;
	memcpy(name, f[2], fl[2]);
	name[fl[2]] = '\0';
	if (note_b64_decode(f[4], fl[4], raw, sizeof(raw), &n) != LACRE_OK || n != 33)
		goto out;
	if ((rc = note_signer_from_seed(name, raw[0], raw + 1, &s)) != LACRE_OK)
		goto out;
	rc = LACRE_E_MALFORMED;
	if (s->keyid != id)
		goto out;
	*out = s;
	s = NULL;
	rc = LACRE_OK;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	note_signer_free(s);
	return rc;
}

/* Read a private key file; refuse one others can read. */
int note_signer_load(const char *path, struct note_signer **out)
{
	char buf[NOTE_KEY_TEXT_MAX * 2];
	struct stat st;
	ssize_t n;
	int fd, rc = LACRE_E_IO;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? LACRE_E_NOT_FOUND : LACRE_E_IO;
	if (fstat(fd, &st) != 0)
		goto out;
	rc = LACRE_E_DENIED;
	if (st.st_mode & 077)
		goto out;
	rc = LACRE_E_IO;
	if ((n = read(fd, buf, sizeof(buf))) < 0)
		goto out;
	rc = LACRE_E_TOO_LARGE;
	if ((size_t)n == sizeof(buf))
		goto out;
	rc = note_signer_parse(buf, (size_t)n, out);
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	return rc;
}

/* The private-key text; out should be marked secret by the caller. */
int note_signer_format(const struct note_signer *s, struct lacre_dbuf *out)
{
	uint8_t raw[33];
	int rc;

	raw[0] = s->type;
	memcpy(raw + 1, s->seed, 32);
	if ((rc = lacre_dbuf_printf(out, "PRIVATE+KEY+%s+%08x+", s->name, s->keyid)) == LACRE_OK)
		rc = note_b64_encode(raw, sizeof(raw), out);
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

/* name+keyid+base64(type ‖ pub), checking the key ID. */
int note_verifier_parse(const char *text, size_t len, struct note_verifier *out)
{
	struct note_verifier v;
	const char *f[3];
	size_t fl[3], n = 0;
	uint8_t raw[40];

	memset(&v, 0, sizeof(v));
	if (len > NOTE_KEY_TEXT_MAX * 2 || !split_plus(text, len, f, fl, 3) ||
	    fl[0] == 0 || fl[0] > NOTE_NAME_MAX || !parse_keyid(f[1], fl[1], &v.keyid))
		return LACRE_E_MALFORMED;
	memcpy(v.name, f[0], fl[0]);
	if (!note_name_valid(v.name))
		return LACRE_E_MALFORMED;
	if (note_b64_decode(f[2], fl[2], raw, sizeof(raw), &n) != LACRE_OK || n != 33)
		return LACRE_E_MALFORMED;
	if (raw[0] != NOTE_TYPE_ED25519 && raw[0] != NOTE_TYPE_COSIG)
		return LACRE_E_UNSUPPORTED;
	v.type = raw[0];
	memcpy(v.pub, raw + 1, 32);
	if (note_keyid(v.name, v.type, v.pub) != v.keyid)
		return LACRE_E_MALFORMED;
	*out = v;
	return LACRE_OK;
}

/* The vkey text of a verifier. */
int note_verifier_format(const struct note_verifier *v, struct lacre_dbuf *out)
{
	uint8_t raw[33];
	int rc;

	raw[0] = v->type;
	memcpy(raw + 1, v->pub, 32);
	if ((rc = lacre_dbuf_printf(out, "%s+%08x+", v->name, v->keyid)) != LACRE_OK)
		return rc;
	return note_b64_encode(raw, sizeof(raw), out);
}

/* Free a parsed note. */
void note_free(struct note *n)
{
	if (n == NULL)
		return;
	free(n->buf);
	free(n);
}

/* Parse one signature line buf[off..end) (without its newline) into sig. */
static int parse_sig_line(const uint8_t *buf, size_t off, size_t end,
			  struct note_sig *sig)
{
	static const uint8_t dash[4] = { 0xe2, 0x80, 0x94, ' ' };
	uint8_t raw[4 + 4096];
	size_t i, sp, n = 0;

	if (end - off < 4 || memcmp(buf + off, dash, 4) != 0)
		return LACRE_E_MALFORMED;
	off += 4;
	for (sp = off; sp < end && buf[sp] != ' '; sp++)
		;
	if (sp == end || !name_valid(buf + off, sp - off))
		return LACRE_E_MALFORMED;
	memset(sig, 0, sizeof(*sig));
	memcpy(sig->name, buf + off, sp - off);
	for (i = sp + 1; i < end; i++)
		if (buf[i] == ' ')
			return LACRE_E_MALFORMED;
	if (note_b64_decode((const char *)buf + sp + 1, end - sp - 1, raw, sizeof(raw), &n) != LACRE_OK ||
	    n < 5)
		return LACRE_E_MALFORMED;
	sig->keyid = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 | (uint32_t)raw[2] << 8 | raw[3];
	sig->len = n - 4;
	memcpy(sig->sig, raw + 4, sig->len < sizeof(sig->sig) ? sig->len : sizeof(sig->sig));
	return LACRE_OK;
}

/* Parse a note (see note.h). */
int note_parse(const void *p, size_t len, struct note **out)
{
	const uint8_t *b = p;
	struct note *n = NULL;
	size_t i, k, sep, start;
	uint32_t c;
	int rc = LACRE_E_TOO_LARGE;

	if (len > NOTE_MAX_SIZE)
		goto out;
	rc = LACRE_E_MALFORMED;
	if (len < 2 || b[len - 1] != '\n')
		goto out;
	for (i = 0; i < len; i += k) {
		if ((k = utf8_next(b + i, len - i, &c)) == 0)
			goto out;
		if ((c < 0x20 && c != '\n') || c == 0x7f)
			goto out;
	}
	/* the last "\n\n": text is b[0..sep], signatures follow */
	for (sep = len - 1; sep > 0; sep--)
		if (b[sep - 1] == '\n' && b[sep] == '\n')
			break;
	if (sep == 0 || sep - 1 == 0 || sep + 1 >= len)
		goto out;
	rc = LACRE_E_NOMEM;
	if ((n = calloc(1, sizeof(*n))) == NULL || (n->buf = malloc(len)) == NULL)
		goto out;
	memcpy(n->buf, b, len);
	n->len = len;
	n->text_len = sep;
	for (start = sep + 1; start < len; start = i + 1) {
		for (i = start; b[i] != '\n'; i++)
			;
		rc = LACRE_E_TOO_LARGE;
		if (n->nsigs == NOTE_MAX_SIGS)
			goto out;
		if ((rc = parse_sig_line(b, start, i, &n->sigs[n->nsigs])) != LACRE_OK)
			goto out;
		n->sigs[n->nsigs].line_off = start;
		n->sigs[n->nsigs].line_len = i + 1 - start;
		n->nsigs++;
	}
	*out = n;
	n = NULL;
	rc = LACRE_OK;
out:
	note_free(n);
	return rc;
}

/* The message a key of the given type signs for text: the text itself
 * (0x01), or "cosignature/v1\ntime T\n" ‖ text (0x04).  msg is allocated. */
static int signed_message(uint8_t type, const void *text, size_t len, uint64_t ts,
			  struct lacre_dbuf *msg)
{
	int rc;

	if (type == NOTE_TYPE_COSIG &&
	    (rc = lacre_dbuf_printf(msg, "cosignature/v1\ntime %llu\n",
				    (unsigned long long)ts)) != LACRE_OK)
		return rc;
	return lacre_dbuf_add(msg, text, len);
}

/* Ed25519 verification of sig over msg with a raw public key. */
static int ed25519_verify(const uint8_t pub[32], const uint8_t *sig,
			  const uint8_t *msg, size_t len)
{
	EVP_PKEY *pk = NULL;
	EVP_MD_CTX *ctx = NULL;
	int rc = LACRE_E_CRYPTO;

	if ((pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32)) == NULL ||
	    (ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) != 1)
		goto out;
	rc = EVP_DigestVerify(ctx, sig, 64, msg, len) == 1 ? LACRE_OK : LACRE_E_AUTH;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return rc;
}

/* Verify the signatures of n against trusted keys (see note.h). */
int note_verify(const struct note *n, const struct note_verifier *v, size_t nv,
		uint64_t *verified, uint64_t *timestamps)
{
	struct lacre_dbuf msg;
	uint64_t ok = 0, ts = 0;
	size_t i, j;
	int rc = LACRE_E_INVALID;

	lacre_dbuf_init(&msg, NOTE_MAX_SIZE + 64);
	if (nv > 64)
		goto out;
	for (i = 0; i < n->nsigs; i++) {
		const struct note_sig *s = &n->sigs[i];
		for (j = 0; j < nv; j++)
			if (v[j].keyid == s->keyid && strcmp(v[j].name, s->name) == 0)
				break;
		if (j == nv)
			continue;
		rc = LACRE_E_AUTH;
		if (v[j].type == NOTE_TYPE_COSIG) {
			if (s->len != 72)
				goto out;
			ts = 0;
			for (size_t k = 0; k < 8; k++)
				ts = ts << 8 | s->sig[k];
			if (ts > (uint64_t)INT64_MAX)
				goto out;
		} else if (s->len != 64) {
			goto out;
		}
		lacre_dbuf_reset(&msg);
		if ((rc = signed_message(v[j].type, n->buf, n->text_len, ts, &msg)) != LACRE_OK)
			goto out;
		rc = ed25519_verify(v[j].pub, s->sig + (v[j].type == NOTE_TYPE_COSIG ? 8 : 0),
				    msg.p, msg.len);
		if (rc != LACRE_OK)
			goto out;
		ok |= (uint64_t)1 << j;
		if (timestamps && v[j].type == NOTE_TYPE_COSIG)
			timestamps[j] = ts;
	}
	rc = LACRE_E_AUTH;
	if (ok == 0)
		goto out;
	if (verified)
		*verified = ok;
	rc = LACRE_OK;
out:
	lacre_dbuf_free(&msg);
	return rc;
}

/* One signature line "— name base64(keyid ‖ [ts ‖] sig)\n". */
int note_sign_line(const struct note_signer *s, const void *text, size_t len,
		   uint64_t timestamp, struct lacre_dbuf *out)
{
	struct lacre_dbuf msg;
	EVP_MD_CTX *ctx = NULL;
	uint8_t raw[4 + 8 + 64];
	size_t off = 4, siglen = 64;
	int rc = LACRE_E_RANGE;

	lacre_dbuf_init(&msg, NOTE_MAX_SIZE + 64);
	if (timestamp > (uint64_t)INT64_MAX)
		goto out;
	if ((rc = signed_message(s->type, text, len, timestamp, &msg)) != LACRE_OK)
		goto out;
	raw[0] = (uint8_t)(s->keyid >> 24);
	raw[1] = (uint8_t)(s->keyid >> 16);
	raw[2] = (uint8_t)(s->keyid >> 8);
	raw[3] = (uint8_t)s->keyid;
	if (s->type == NOTE_TYPE_COSIG) {
		for (int i = 0; i < 8; i++)
			raw[4 + i] = (uint8_t)(timestamp >> (56 - 8 * i));
		off = 12;
	}
	rc = LACRE_E_CRYPTO;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, NULL, NULL, s->pk) != 1 ||
	    EVP_DigestSign(ctx, raw + off, &siglen, msg.p, msg.len) != 1 || siglen != 64)
		goto out;
	if ((rc = lacre_dbuf_printf(out, "\xe2\x80\x94 %s ", s->name)) != LACRE_OK ||
	    (rc = note_b64_encode(raw, off + 64, out)) != LACRE_OK ||
	    (rc = lacre_dbuf_add_u8(out, '\n')) != LACRE_OK)
		goto out;
	rc = LACRE_OK;
out:
	EVP_MD_CTX_free(ctx);
	lacre_dbuf_free(&msg);
	return rc;
}

/* A whole note: text (must end in '\n'), the empty line, one signature. */
int note_sign(const struct note_signer *s, const void *text, size_t len,
	      struct lacre_dbuf *out)
{
	int rc;

	if (len == 0 || ((const uint8_t *)text)[len - 1] != '\n')
		return LACRE_E_INVALID;
	if ((rc = lacre_dbuf_add(out, text, len)) != LACRE_OK ||
	    (rc = lacre_dbuf_add_u8(out, '\n')) != LACRE_OK)
		return rc;
	return note_sign_line(s, text, len, 0, out);
}
