/*
 * age.c - age v1 (C2SP age v1.1.0) on OpenSSL 3: X25519 and scrypt
 * recipients, the header with its HMAC, and the ChaCha20-Poly1305 STREAM
 * payload in 64 KiB chunks (../shared/spec/tlog-formats.md §9).
 *
 * Writing: age_writer_new builds the header (one X25519 stanza per
 * recipient, fresh ephemeral secret each), appends it to the caller's
 * output buffer, then seals plaintext as it arrives.  A full chunk is only
 * sealed once more plaintext follows it, so the last chunk is always the
 * one flagged final and is never empty unless the whole payload is.
 *
 * Reading: age_reader_new parses the whole header under size caps, unwraps
 * the file key, checks the header MAC in constant time and only then looks
 * at the payload; age_reader_next opens one chunk at a time and releases its
 * plaintext only after its tag verified.  Truncation (no valid final chunk),
 * bytes after the final chunk and an empty final chunk after a full one are
 * errors.  Header base64 must be canonical (no padding, zero unused bits).
 *
 * The keyless fingerprint (DESIGN.md §4) is SHA-256 over the header bytes
 * (from "age-encryption.org/v1" through the line feed ending the MAC line)
 * followed by every chunk's 16-byte tag in order.
 *
 * Secrets (file keys, wrap keys, payload keys, shared secrets, ephemeral
 * secrets, plaintext buffers) are wiped with OPENSSL_cleanse; MACs are
 * compared with CRYPTO_memcmp.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "lacre/age.h"
#include "lacre/bech32.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/simd.h"

#define AGE_TAG_SIZE 16
#define AGE_ENC_CHUNK (AGE_CHUNK_SIZE + AGE_TAG_SIZE)
#define AGE_FILE_KEY_SIZE 16
#define AGE_NONCE_SIZE 16
#define AGE_ARGS_MAX 16
#define AGE_LINE_COLS 64

static const char age_version_line[] = "age-encryption.org/v1\n";
static const char age_x25519_label[] = "age-encryption.org/v1/X25519";
static const char age_scrypt_label[] = "age-encryption.org/v1/scrypt";
static const char age_hrp_identity[] = "age-secret-key-";
static const char age_hrp_recipient[] = "age";
static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* ---------------------------------------------------------------------- */
/* base64, standard alphabet, no padding, canonical only                  */

/* Value of a base64 character, or -1 (including for '='). */
static int b64_value(uint8_t c)
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

/* Encode n bytes without padding into out (room for (4n+2)/3 chars, no
 * NUL written); returns the number of characters. */
static size_t b64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0, i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
		out[o++] = b64_alphabet[(v >> 18) & 63];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = b64_alphabet[(v >> 6) & 63];
		out[o++] = b64_alphabet[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = b64_alphabet[(v >> 18) & 63];
		out[o++] = b64_alphabet[(v >> 12) & 63];
	} else if (n - i == 2) {
		uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8);
		out[o++] = b64_alphabet[(v >> 18) & 63];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = b64_alphabet[(v >> 6) & 63];
	}
	return o;
}

/* Check that s[0..n) is canonical unpadded base64 and give its decoded
 * length.  LACRE_E_MALFORMED otherwise. */
static int b64_check(const uint8_t *s, size_t n, size_t *dec_len)
{
	int last;
	for (size_t i = 0; i < n; i++)
		if (b64_value(s[i]) < 0)
			return LACRE_E_MALFORMED;
	if (n % 4 == 1)
		return LACRE_E_MALFORMED;
	if (n % 4 != 0) {
		last = b64_value(s[n - 1]);
		if ((n % 4 == 2 && (last & 0x0f)) || (n % 4 == 3 && (last & 0x03)))
			return LACRE_E_MALFORMED;
	}
	*dec_len = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
	return LACRE_OK;
}

/* Decode canonical base64 s[0..n) that must give exactly want bytes. */
static int b64_decode_exact(const uint8_t *s, size_t n, uint8_t *out, size_t want)
{
	size_t dl, o = 0;
	uint32_t acc = 0;
	int bits = 0, r;

	if ((r = b64_check(s, n, &dl)) != LACRE_OK)
		return r;
	if (dl != want)
		return LACRE_E_MALFORMED;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 6) | (uint32_t)b64_value(s[i]);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	OPENSSL_cleanse(&acc, sizeof(acc));
	return LACRE_OK;
}

/* ---------------------------------------------------------------------- */
/* primitives                                                              */

/* HKDF-SHA-256 (extract with salt, expand with info) to 32 bytes.  An empty
 * salt is passed as absent, which RFC 5869 defines as the same thing. */
static int age_hkdf(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
		    size_t salt_len, const char *info, uint8_t out[32])
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[5], *p = params;
	int r = LACRE_E_CRYPTO;

	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (!kdf || !(kctx = EVP_KDF_CTX_new(kdf)))
		goto out;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
	if (salt_len)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, 32, params) != 1)
		goto out;
	r = LACRE_OK;
out:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return r;
}

/* scrypt(N = 2^log2_n, r = 8, p = 1) of the passphrase with salt
 * "age-encryption.org/v1/scrypt" || salt16, 32 bytes out. */
static int age_scrypt(const char *pass, const uint8_t salt16[16], int log2_n,
		      uint8_t out[32])
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[7], *p = params;
	uint8_t salt[sizeof(age_scrypt_label) - 1 + 16];
	uint64_t n = (uint64_t)1 << log2_n, rr = 8, pp = 1;
	uint64_t maxmem = ((uint64_t)128 * 8 << log2_n) + (1u << 20) * 4;
	int r = LACRE_E_CRYPTO;

	memcpy(salt, age_scrypt_label, sizeof(age_scrypt_label) - 1);
	memcpy(salt + sizeof(age_scrypt_label) - 1, salt16, 16);
	kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
	if (!kdf || !(kctx = EVP_KDF_CTX_new(kdf)))
		goto out;
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)pass, strlen(pass));
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt, sizeof(salt));
	*p++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	*p++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_R, &rr);
	*p++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_P, &pp);
	*p++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, 32, params) != 1)
		goto out;
	r = LACRE_OK;
out:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return r;
}

/* HMAC-SHA-256(key, msg) into out. */
static int age_hmac(const uint8_t key[32], const uint8_t *msg, size_t n, uint8_t out[32])
{
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *mctx = NULL;
	OSSL_PARAM params[2];
	size_t outl = 0;
	int r = LACRE_E_CRYPTO;

	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!mac || !(mctx = EVP_MAC_CTX_new(mac)))
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(mctx, key, 32, params) != 1 ||
	    EVP_MAC_update(mctx, msg, n) != 1 ||
	    EVP_MAC_final(mctx, out, &outl, 32) != 1 || outl != 32)
		goto out;
	r = LACRE_OK;
out:
	EVP_MAC_CTX_free(mctx);
	EVP_MAC_free(mac);
	return r;
}

/* X25519(scalar, point); point NULL means the base point (public key).
 * LACRE_E_MALFORMED when the result is all zeros (low-order point). */
static int age_x25519(const uint8_t scalar[32], const uint8_t *point, uint8_t out[32])
{
	EVP_PKEY *sk = NULL, *pk = NULL;
	EVP_PKEY_CTX *dctx = NULL;
	uint8_t res[32], zero[32] = { 0 };
	size_t len = 32;
	int r = LACRE_E_CRYPTO;

	sk = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, scalar, 32);
	if (!sk)
		goto out;
	if (!point) {
		if (EVP_PKEY_get_raw_public_key(sk, res, &len) != 1 || len != 32)
			goto out;
	} else {
		pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, point, 32);
		if (!pk || !(dctx = EVP_PKEY_CTX_new(sk, NULL)) ||
		    EVP_PKEY_derive_init(dctx) != 1 ||
		    EVP_PKEY_derive_set_peer(dctx, pk) != 1) 
			goto out;
		/* OpenSSL refuses an all-zero shared secret itself */
		if (EVP_PKEY_derive(dctx, res, &len) != 1 || len != 32) {
			r = LACRE_E_MALFORMED;
			goto out;
		}
	}
	if (CRYPTO_memcmp(res, zero, 32) == 0) {
		r = LACRE_E_MALFORMED;
		goto out;
	}
	memcpy(out, res, 32);
	r = LACRE_OK;
out:
	OPENSSL_cleanse(res, sizeof(res));
	EVP_PKEY_CTX_free(dctx);
	EVP_PKEY_free(pk);
	EVP_PKEY_free(sk);
	return r;
}

/* ChaCha20-Poly1305 with a zero nonce: wrap the 16-byte file key into a
 * 32-byte stanza body. */
static int age_wrap(const uint8_t key[32], const uint8_t fk[16], uint8_t body[32])
{
	static const uint8_t zero_nonce[12];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l = 0, l2 = 0, r = LACRE_E_CRYPTO;

	if (!c || EVP_EncryptInit_ex(c, EVP_chacha20_poly1305(), NULL, key, zero_nonce) != 1 ||
	    EVP_EncryptUpdate(c, body, &l, fk, 16) != 1 || l != 16 ||
	    EVP_EncryptFinal_ex(c, body + 16, &l2) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, body + 16) != 1)
		goto out;
	r = LACRE_OK;
out:
	EVP_CIPHER_CTX_free(c);
	return r;
}

/* Open a 32-byte stanza body with a zero nonce; fk is set only when the tag
 * verifies.  LACRE_E_AUTH when it does not (wrong key). */
static int age_unwrap(const uint8_t key[32], const uint8_t body[32], uint8_t fk[16])
{
	static const uint8_t zero_nonce[12];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t tag[16], tmp[16];
	int l = 0, l2 = 0, r = LACRE_E_CRYPTO;

	memcpy(tag, body + 16, 16);
	if (!c || EVP_DecryptInit_ex(c, EVP_chacha20_poly1305(), NULL, key, zero_nonce) != 1 ||
	    EVP_DecryptUpdate(c, tmp, &l, body, 16) != 1 || l != 16 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, tag) != 1)
		goto out;
	if (EVP_DecryptFinal_ex(c, tmp + 16 - 0, &l2) != 1) {
		r = LACRE_E_AUTH;
		goto out;
	}
	memcpy(fk, tmp, 16);
	r = LACRE_OK;
out:
	OPENSSL_cleanse(tmp, sizeof(tmp));
	EVP_CIPHER_CTX_free(c);
	return r;
}

/* Fill the 12-byte STREAM nonce: 11-byte big-endian counter, final flag. */
static void age_stream_nonce(uint8_t nonce[12], uint64_t counter, int final)
{
	memset(nonce, 0, 12);
	for (int i = 10; i >= 3; i--) {
		nonce[i] = (uint8_t)counter;
		counter >>= 8;
	}
	nonce[11] = final ? 1 : 0;
}

/* ---------------------------------------------------------------------- */
/* identities and recipients                                               */

int age_x25519_generate(struct age_x25519_identity *id)
{
	struct age_x25519_identity t;
	int r;

	if (!id)
		return LACRE_E_INVALID;
	if (RAND_priv_bytes(t.secret, 32) != 1) {
		r = LACRE_E_CRYPTO;
		goto out;
	}
	if ((r = age_x25519(t.secret, NULL, t.public_key)) != LACRE_OK)
		goto out;
	*id = t;
out:
	OPENSSL_cleanse(&t, sizeof(t));
	return r;
}

int age_x25519_derive_public(struct age_x25519_identity *id)
{
	uint8_t pub[32];
	int r;

	if (!id)
		return LACRE_E_INVALID;
	if ((r = age_x25519(id->secret, NULL, pub)) == LACRE_OK)
		memcpy(id->public_key, pub, 32);
	return r;
}

void age_identity_wipe(struct age_x25519_identity *id)
{
	if (id)
		OPENSSL_cleanse(id, sizeof(*id));
}

int age_identity_encode(const struct age_x25519_identity *id, char out[AGE_IDENTITY_MAX])
{
	char tmp[AGE_IDENTITY_MAX];
	int r;

	if (!id || !out)
		return LACRE_E_INVALID;
	r = bech32_encode(age_hrp_identity, id->secret, 32, tmp, sizeof(tmp));
	if (r == LACRE_OK) {
		for (size_t i = 0; tmp[i]; i++)
			if (tmp[i] >= 'a' && tmp[i] <= 'z')
				tmp[i] = (char)(tmp[i] - 'a' + 'A');
		memcpy(out, tmp, strlen(tmp) + 1);
	}
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return r;
}

int age_identity_parse(const char *s, struct age_x25519_identity *id)
{
	struct age_x25519_identity t;
	char hrp[32];
	size_t n = 0;
	int r;

	if (!s || !id)
		return LACRE_E_INVALID;
	r = bech32_decode(s, hrp, sizeof(hrp), t.secret, sizeof(t.secret), &n);
	if (r == LACRE_E_TOO_LARGE)
		r = LACRE_E_MALFORMED;
	if (r != LACRE_OK)
		goto out;
	if (strcmp(hrp, age_hrp_identity) != 0 || n != 32) {
		r = LACRE_E_MALFORMED;
		goto out;
	}
	if ((r = age_x25519(t.secret, NULL, t.public_key)) != LACRE_OK)
		goto out;
	*id = t;
out:
	OPENSSL_cleanse(&t, sizeof(t));
	return r;
}

int age_recipient_encode(const uint8_t pub[32], char out[AGE_RECIPIENT_MAX])
{
	if (!pub || !out)
		return LACRE_E_INVALID;
	return bech32_encode(age_hrp_recipient, pub, 32, out, AGE_RECIPIENT_MAX);
}

int age_recipient_parse(const char *s, uint8_t pub[32])
{
	char hrp[8];
	uint8_t t[32];
	size_t n = 0;
	int r;

	if (!s || !pub)
		return LACRE_E_INVALID;
	r = bech32_decode(s, hrp, sizeof(hrp), t, sizeof(t), &n);
	if (r == LACRE_E_TOO_LARGE)
		return LACRE_E_MALFORMED;
	if (r != LACRE_OK)
		return r;
	if (strcmp(hrp, age_hrp_recipient) != 0 || n != 32)
		return LACRE_E_MALFORMED;
	memcpy(pub, t, 32);
	return LACRE_OK;
}

/* ---------------------------------------------------------------------- */
/* writer                                                                   */

struct age_writer {
	EVP_CIPHER_CTX *cctx;      /* keyed with the payload key once */
	EVP_MD_CTX *fp;            /* fingerprint: header, then tags */
	struct lacre_dbuf *out;    /* caller's; ciphertext is appended */
	uint64_t counter;          /* next chunk number */
	size_t buf_len;            /* plaintext bytes waiting in buf */
	int state;                 /* 0 open, 1 finished, -1 failed */
	uint8_t buf[AGE_CHUNK_SIZE]; /* plaintext of the open chunk (secret) */
};

/* Seal one chunk p[0..n) (n <= 64 KiB) and append ciphertext and tag to
 * w->out; feeds the tag into the fingerprint. */
static int age_seal_chunk(struct age_writer *w, const uint8_t *p, size_t n, int final)
{
	uint8_t nonce[12];
	uint8_t *dst;
	int l = 0, l2 = 0, r;

	if ((r = lacre_dbuf_reserve(w->out, n + AGE_TAG_SIZE)) != LACRE_OK)
		return r;
	dst = w->out->p + w->out->len;
	age_stream_nonce(nonce, w->counter, final);
	if (EVP_EncryptInit_ex(w->cctx, NULL, NULL, NULL, nonce) != 1)
		return LACRE_E_CRYPTO;
	if (n && (EVP_EncryptUpdate(w->cctx, dst, &l, p, (int)n) != 1 || (size_t)l != n))
		return LACRE_E_CRYPTO;
	if (EVP_EncryptFinal_ex(w->cctx, dst + n, &l2) != 1 ||
	    EVP_CIPHER_CTX_ctrl(w->cctx, EVP_CTRL_AEAD_GET_TAG, AGE_TAG_SIZE, dst + n) != 1)
		return LACRE_E_CRYPTO;
	if (EVP_DigestUpdate(w->fp, dst + n, AGE_TAG_SIZE) != 1)
		return LACRE_E_CRYPTO;
	w->out->len += n + AGE_TAG_SIZE;
	w->counter++;
	return LACRE_OK;
}

/* Append the MAC line to the header in hdr (which ends with the last
 * stanza), then hdr, nonce to out; key the payload cipher.  Shared tail of
 * both writer constructors. */
static int age_writer_start(struct age_writer *w, struct lacre_dbuf *hdr,
			    const uint8_t fk[16], const uint8_t nonce[16])
{
	uint8_t hkey[32], mac[32], pkey[32];
	char macb64[44];
	size_t before = w->out->len;
	int r;

	if ((r = lacre_dbuf_add_str(hdr, "---")) != LACRE_OK)
		goto out;
	if ((r = age_hkdf(fk, 16, NULL, 0, "header", hkey)) != LACRE_OK ||
	    (r = age_hmac(hkey, hdr->p, hdr->len, mac)) != LACRE_OK)
		goto out;
	b64_encode(mac, 32, macb64);
	macb64[43] = '\n';
	if ((r = lacre_dbuf_add_u8(hdr, ' ')) != LACRE_OK ||
	    (r = lacre_dbuf_add(hdr, macb64, 44)) != LACRE_OK)
		goto out;
	if ((r = age_hkdf(fk, 16, nonce, 16, "payload", pkey)) != LACRE_OK)
		goto out;
	r = LACRE_E_CRYPTO;
	if (EVP_EncryptInit_ex(w->cctx, EVP_chacha20_poly1305(), NULL, pkey, NULL) != 1 ||
	    EVP_DigestInit_ex(w->fp, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(w->fp, hdr->p, hdr->len) != 1)
		goto out;
	if ((r = lacre_dbuf_add(w->out, hdr->p, hdr->len)) != LACRE_OK ||
	    (r = lacre_dbuf_add(w->out, nonce, 16)) != LACRE_OK) {
		w->out->len = before;
		goto out;
	}
	r = LACRE_OK;
out:
	OPENSSL_cleanse(hkey, sizeof(hkey));
	OPENSSL_cleanse(pkey, sizeof(pkey));
	return r;
}

/* Allocate a writer with its contexts. */
static int age_writer_alloc(struct lacre_dbuf *out, struct age_writer **wp)
{
	struct age_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return LACRE_E_NOMEM;
	w->cctx = EVP_CIPHER_CTX_new();
	w->fp = EVP_MD_CTX_new();
	if (!w->cctx || !w->fp) {
		age_writer_free(w);
		return LACRE_E_NOMEM;
	}
	w->out = out;
	*wp = w;
	return LACRE_OK;
}

/* Build the X25519 stanzas into hdr, from the given ephemeral secrets. */
static int age_x25519_stanzas(struct lacre_dbuf *hdr, const uint8_t (*recipients)[32],
			      size_t n, const uint8_t (*eph)[32], const uint8_t fk[16])
{
	uint8_t share[32], shared[32], salt[64], wkey[32], body[32];
	char line[128];
	size_t o;
	int r = LACRE_OK;

	for (size_t i = 0; i < n; i++) {
		if ((r = age_x25519(eph[i], NULL, share)) != LACRE_OK)
			goto out;
		if ((r = age_x25519(eph[i], recipients[i], shared)) != LACRE_OK) {
			r = LACRE_E_INVALID; /* a low-order recipient key */
			goto out;
		}
		memcpy(salt, share, 32);
		memcpy(salt + 32, recipients[i], 32);
		if ((r = age_hkdf(shared, 32, salt, 64, age_x25519_label, wkey)) != LACRE_OK ||
		    (r = age_wrap(wkey, fk, body)) != LACRE_OK)
			goto out;
		memcpy(line, "-> X25519 ", 10);
		o = 10 + b64_encode(share, 32, line + 10);
		line[o++] = '\n';
		o += b64_encode(body, 32, line + o);
		line[o++] = '\n';
		if ((r = lacre_dbuf_add(hdr, line, o)) != LACRE_OK)
			goto out;
	}
out:
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(wkey, sizeof(wkey));
	return r;
}

int age_writer_new_fixed(const uint8_t (*recipients)[32], size_t n_recipients,
			 const uint8_t (*eph_secrets)[32], const uint8_t file_key[16],
			 const uint8_t nonce[16], struct lacre_dbuf *out,
			 struct age_writer **wp)
{
	struct age_writer *w = NULL;
	struct lacre_dbuf hdr;
	int r;

	if (!recipients || !eph_secrets || !file_key || !nonce || !out || !wp ||
	    n_recipients < 1 || n_recipients > AGE_STANZAS_MAX)
		return LACRE_E_INVALID;
	lacre_dbuf_init(&hdr, AGE_HEADER_MAX);
	if ((r = age_writer_alloc(out, &w)) != LACRE_OK)
		goto out;
	if ((r = lacre_dbuf_add_str(&hdr, age_version_line)) != LACRE_OK ||
	    (r = age_x25519_stanzas(&hdr, recipients, n_recipients, eph_secrets, file_key)) != LACRE_OK ||
	    (r = age_writer_start(w, &hdr, file_key, nonce)) != LACRE_OK)
		goto out;
	*wp = w;
	w = NULL;
out:
	lacre_dbuf_free(&hdr);
	age_writer_free(w);
	return r;
}

int age_writer_new(const uint8_t (*recipients)[32], size_t n_recipients,
		   struct lacre_dbuf *out, struct age_writer **w)
{
	uint8_t (*eph)[32] = NULL;
	uint8_t fk[16], nonce[16];
	int r;

	if (!recipients || !out || !w || n_recipients < 1 || n_recipients > AGE_STANZAS_MAX)
		return LACRE_E_INVALID;
	eph = calloc(n_recipients, 32);
	if (!eph)
		return LACRE_E_NOMEM;
	r = LACRE_E_CRYPTO;
	if (RAND_priv_bytes(&eph[0][0], (int)(n_recipients * 32)) != 1 ||
	    RAND_priv_bytes(fk, 16) != 1 || RAND_bytes(nonce, 16) != 1)
		goto out;
	r = age_writer_new_fixed(recipients, n_recipients, (const uint8_t (*)[32])eph,
				 fk, nonce, out, w);
out:
	OPENSSL_cleanse(eph, n_recipients * 32);
	free(eph);
	OPENSSL_cleanse(fk, sizeof(fk));
	return r;
}

int age_writer_new_scrypt(const char *passphrase, int log2_n,
			  struct lacre_dbuf *out, struct age_writer **wp)
{
	struct age_writer *w = NULL;
	struct lacre_dbuf hdr;
	uint8_t fk[16], nonce[16], salt[16], wkey[32], body[32];
	char line[160];
	size_t o;
	int r;

	if (!passphrase || !*passphrase || !out || !wp || log2_n < 1 || log2_n > 30)
		return LACRE_E_INVALID;
	lacre_dbuf_init(&hdr, AGE_HEADER_MAX);
	r = LACRE_E_CRYPTO;
	if (RAND_priv_bytes(fk, 16) != 1 || RAND_bytes(nonce, 16) != 1 ||
	    RAND_bytes(salt, 16) != 1)
		goto out;
	if ((r = age_writer_alloc(out, &w)) != LACRE_OK)
		goto out;
	if ((r = age_scrypt(passphrase, salt, log2_n, wkey)) != LACRE_OK ||
	    (r = age_wrap(wkey, fk, body)) != LACRE_OK)
		goto out;
	memcpy(line, "-> scrypt ", 10);
	o = 10 + b64_encode(salt, 16, line + 10);
	o += (size_t)snprintf(line + o, sizeof(line) - o, " %d\n", log2_n);
	o += b64_encode(body, 32, line + o);
	line[o++] = '\n';
	if ((r = lacre_dbuf_add_str(&hdr, age_version_line)) != LACRE_OK ||
	    (r = lacre_dbuf_add(&hdr, line, o)) != LACRE_OK ||
	    (r = age_writer_start(w, &hdr, fk, nonce)) != LACRE_OK)
		goto out;
	*wp = w;
	w = NULL;
out:
	OPENSSL_cleanse(fk, sizeof(fk));
	OPENSSL_cleanse(wkey, sizeof(wkey));
	lacre_dbuf_free(&hdr);
	age_writer_free(w);
	return r;
}

int age_writer_write(struct age_writer *w, const void *p, size_t n)
{
	const uint8_t *s = p;
	size_t k;
	int r;

	if (!w || (!p && n))
		return LACRE_E_INVALID;
	if (w->state != 0)
		return LACRE_E_STATE;
	while (n > 0) {
		if (w->buf_len == AGE_CHUNK_SIZE) {
			/* more plaintext follows, so this full chunk is not final */
			if ((r = age_seal_chunk(w, w->buf, AGE_CHUNK_SIZE, 0)) != LACRE_OK)
				goto fail;
			w->buf_len = 0;
		}
		if (w->buf_len == 0 && n > AGE_CHUNK_SIZE) {
			/* a whole non-final chunk straight from the caller */
			if ((r = age_seal_chunk(w, s, AGE_CHUNK_SIZE, 0)) != LACRE_OK)
				goto fail;
			s += AGE_CHUNK_SIZE;
			n -= AGE_CHUNK_SIZE;
			continue;
		}
		k = AGE_CHUNK_SIZE - w->buf_len;
		if (k > n)
			k = n;
		memcpy(w->buf + w->buf_len, s, k);
		w->buf_len += k;
		s += k;
		n -= k;
	}
	return LACRE_OK;
fail:
	w->state = -1;
	return r;
}

int age_writer_finish(struct age_writer *w, uint8_t fingerprint[32])
{
	uint8_t fp[32];
	unsigned int fl = 0;
	int r;

	if (!w)
		return LACRE_E_INVALID;
	if (w->state != 0)
		return LACRE_E_STATE;
	if ((r = age_seal_chunk(w, w->buf, w->buf_len, 1)) != LACRE_OK)
		goto fail;
	OPENSSL_cleanse(w->buf, w->buf_len);
	w->buf_len = 0;
	if (EVP_DigestFinal_ex(w->fp, fp, &fl) != 1 || fl != 32) {
		r = LACRE_E_CRYPTO;
		goto fail;
	}
	w->state = 1;
	if (fingerprint)
		memcpy(fingerprint, fp, 32);
	return LACRE_OK;
fail:
	w->state = -1;
	return r;
}

void age_writer_free(struct age_writer *w)
{
	if (!w)
		return;
	EVP_CIPHER_CTX_free(w->cctx);
	EVP_MD_CTX_free(w->fp);
	OPENSSL_cleanse(w, sizeof(*w));
	free(w);
}

/* ---------------------------------------------------------------------- */
/* header parser                                                            */

struct age_span {
	const uint8_t *p;
	size_t len;
};

struct age_stanza {
	size_t n_args;                   /* including the type (args[0]) */
	struct age_span args[AGE_ARGS_MAX];
	const uint8_t *body;             /* first body line */
	size_t body_lines;               /* number of body lines */
	size_t body_chars;               /* base64 characters over all lines */
	size_t body_bytes;               /* decoded length */
};

struct age_header {
	size_t len;                      /* header bytes through the MAC line's LF */
	size_t mac_msg_len;              /* bytes covered by the MAC (through "---") */
	uint8_t mac[32];
	size_t n;
	struct age_stanza st[AGE_STANZAS_MAX];
};

/* Next line of the header (without its LF) from b; LACRE_E_TRUNCATED when
 * no LF comes before the end of the input or the header cap. */
static int age_line(struct lacre_rbuf *b, struct age_span *line)
{
	size_t left = lacre_rbuf_left(b), cap;
	const uint8_t *p = lacre_rbuf_ptr(b), *nl;

	cap = AGE_HEADER_MAX - b->off;
	if (b->off >= AGE_HEADER_MAX)
		return LACRE_E_TOO_LARGE;
	nl = left ? memchr(p, '\n', left < cap ? left : cap) : NULL;
	if (!nl)
		return left < cap ? LACRE_E_TRUNCATED : LACRE_E_TOO_LARGE;
	line->p = p;
	line->len = (size_t)(nl - p);
	return lacre_rbuf_skip(b, line->len + 1);
}

/* Split an argument line (after "-> ") into arguments of visible ASCII
 * separated by single spaces. */
static int age_split_args(const uint8_t *p, size_t n, struct age_stanza *st)
{
	size_t start = 0;

	st->n_args = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || p[i] == ' ') {
			if (i == start)
				return LACRE_E_MALFORMED; /* empty argument */
			if (st->n_args == AGE_ARGS_MAX)
				return LACRE_E_TOO_LARGE;
			st->args[st->n_args].p = p + start;
			st->args[st->n_args].len = i - start;
			st->n_args++;
			start = i + 1;
		} else if (p[i] < 0x21 || p[i] > 0x7e) {
			return LACRE_E_MALFORMED;
		}
	}
	return LACRE_OK;
}

/* Parse the header at the start of in[0..n) into h (caller-allocated).
 * LACRE_E_MALFORMED when this is not an age v1 file, LACRE_E_TRUNCATED when
 * the input ends inside the header, LACRE_E_TOO_LARGE past the caps. */
static int age_parse_header(const uint8_t *in, size_t n, struct age_header *h)
{
	struct lacre_rbuf b;
	struct age_span line;
	const size_t vl = sizeof(age_version_line) - 1;
	int r;

	lacre_rbuf_init(&b, in, n);
	h->n = 0;
	if (n < vl)
		return n == 0 || memcmp(in, age_version_line, n) == 0 ?
		       LACRE_E_TRUNCATED : LACRE_E_MALFORMED;
	if (memcmp(in, age_version_line, vl) != 0)
		return LACRE_E_MALFORMED;
	lacre_rbuf_skip(&b, vl);
	for (;;) {
		size_t line_off = b.off;
		if ((r = age_line(&b, &line)) != LACRE_OK)
			return r;
		if (line.len >= 3 && memcmp(line.p, "---", 3) == 0) {
			if (h->n == 0 || line.len != 4 + 43 || line.p[3] != ' ')
				return LACRE_E_MALFORMED;
			if ((r = b64_decode_exact(line.p + 4, 43, h->mac, 32)) != LACRE_OK)
				return r;
			h->mac_msg_len = line_off + 3;
			h->len = b.off;
			return LACRE_OK;
		}
		if (line.len < 3 || memcmp(line.p, "-> ", 3) != 0)
			return LACRE_E_MALFORMED;
		if (h->n == AGE_STANZAS_MAX)
			return LACRE_E_TOO_LARGE;
		struct age_stanza *st = &h->st[h->n];
		if ((r = age_split_args(line.p + 3, line.len - 3, st)) != LACRE_OK)
			return r;
		st->body = lacre_rbuf_ptr(&b);
		st->body_lines = 0;
		st->body_chars = 0;
		for (;;) {
			if ((r = age_line(&b, &line)) != LACRE_OK)
				return r;
			if (line.len > AGE_LINE_COLS)
				return LACRE_E_MALFORMED;
			for (size_t i = 0; i < line.len; i++)
				if (b64_value(line.p[i]) < 0)
					return LACRE_E_MALFORMED;
			st->body_lines++;
			st->body_chars += line.len;
			if (line.len < AGE_LINE_COLS)
				break;
		}
		/* canonical: the length and the last character decide */
		if (st->body_chars % 4 == 1)
			return LACRE_E_MALFORMED;
		if (st->body_chars % 4) {
			size_t last_line_len = st->body_chars - (st->body_lines - 1) * AGE_LINE_COLS;
			const uint8_t *last = st->body + (st->body_lines - 1) * (AGE_LINE_COLS + 1)
					      + last_line_len - 1;
			size_t dl;
			if ((r = b64_check(last - (st->body_chars % 4 - 1),
					   st->body_chars % 4, &dl)) != LACRE_OK)
				return r;
		}
		st->body_bytes = st->body_chars / 4 * 3 + (st->body_chars % 4 ? st->body_chars % 4 - 1 : 0);
		h->n++;
	}
}

/* Does span s equal the NUL-terminated word w. */
static int age_span_is(const struct age_span *s, const char *w)
{
	size_t l = strlen(w);
	return s->len == l && memcmp(s->p, w, l) == 0;
}

/* Try to unwrap an X25519 stanza with identity id.  LACRE_E_AUTH when the
 * stanza is not for this identity; LACRE_E_MALFORMED for a bad stanza. */
static int age_try_x25519(const struct age_stanza *st, const struct age_x25519_identity *id,
			  uint8_t fk[16])
{
	uint8_t share[32], shared[32], salt[64], wkey[32], body[32];
	int r;

	if (st->n_args != 2)
		return LACRE_E_MALFORMED;
	if ((r = b64_decode_exact(st->args[1].p, st->args[1].len, share, 32)) != LACRE_OK)
		return r;
	/* body length first: no decryption of odd-sized bodies */
	if (st->body_bytes != 32 || st->body_lines != 1)
		return LACRE_E_MALFORMED;
	if ((r = b64_decode_exact(st->body, st->body_chars, body, 32)) != LACRE_OK)
		return r;
	if ((r = age_x25519(id->secret, share, shared)) != LACRE_OK)
		goto out;
	memcpy(salt, share, 32);
	memcpy(salt + 32, id->public_key, 32);
	if ((r = age_hkdf(shared, 32, salt, 64, age_x25519_label, wkey)) != LACRE_OK)
		goto out;
	r = age_unwrap(wkey, body, fk);
out:
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(wkey, sizeof(wkey));
	return r;
}

/* Parse the work factor: ^[1-9][0-9]*$, at most max. */
static int age_parse_log2n(const struct age_span *s, int max, int *out)
{
	int v = 0;
	if (s->len < 1 || s->p[0] < '1' || s->p[0] > '9')
		return LACRE_E_MALFORMED;
	for (size_t i = 0; i < s->len; i++) {
		if (s->p[i] < '0' || s->p[i] > '9')
			return LACRE_E_MALFORMED;
		if (v > 100)
			return LACRE_E_TOO_LARGE;
		v = v * 10 + (s->p[i] - '0');
	}
	if (v > max)
		return LACRE_E_TOO_LARGE;
	*out = v;
	return LACRE_OK;
}

/* Unwrap the only (scrypt) stanza with the passphrase.  LACRE_E_PASSPHRASE
 * when the passphrase is wrong. */
static int age_try_scrypt(const struct age_stanza *st, const char *pass, int max_log2_n,
			  uint8_t fk[16])
{
	uint8_t salt[16], wkey[32], body[32];
	int log2_n = 0, r;

	if (st->n_args != 3)
		return LACRE_E_MALFORMED;
	if ((r = b64_decode_exact(st->args[1].p, st->args[1].len, salt, 16)) != LACRE_OK ||
	    (r = age_parse_log2n(&st->args[2], max_log2_n, &log2_n)) != LACRE_OK)
		return r;
	if (st->body_bytes != 32 || st->body_lines != 1)
		return LACRE_E_MALFORMED;
	if ((r = b64_decode_exact(st->body, st->body_chars, body, 32)) != LACRE_OK)
		return r;
	if ((r = age_scrypt(pass, salt, log2_n, wkey)) != LACRE_OK)
		goto out;
	r = age_unwrap(wkey, body, fk);
	if (r == LACRE_E_AUTH)
		r = LACRE_E_PASSPHRASE;
out:
	OPENSSL_cleanse(wkey, sizeof(wkey));
	return r;
}

/* ---------------------------------------------------------------------- */
/* reader                                                                   */

struct age_reader {
	EVP_CIPHER_CTX *cctx;      /* keyed with the payload key */
	EVP_MD_CTX *fp;            /* fingerprint */
	struct lacre_rbuf in;      /* the chunks (after the nonce) */
	uint64_t counter;
	int state;                 /* 0 reading, 1 final chunk seen, -1 failed */
	size_t header_len;
	uint8_t fingerprint[32];
};

/* Open one sealed chunk c[0..n) (16 <= n <= 64 KiB + 16) with the given
 * final flag into out (appended).  On a tag failure out is unchanged (the
 * scratch plaintext is wiped) and LACRE_E_AUTH is returned. */
static int age_open_chunk(struct age_reader *rd, const uint8_t *c, size_t n, int final,
			  struct lacre_dbuf *out)
{
	uint8_t nonce[12], tag[16];
	size_t pn = n - AGE_TAG_SIZE;
	uint8_t *dst;
	int l = 0, l2 = 0, r;

	if ((r = lacre_dbuf_reserve(out, pn)) != LACRE_OK)
		return r;
	dst = out->p + out->len;
	memcpy(tag, c + pn, AGE_TAG_SIZE);
	age_stream_nonce(nonce, rd->counter, final);
	if (EVP_DecryptInit_ex(rd->cctx, NULL, NULL, NULL, nonce) != 1)
		return LACRE_E_CRYPTO;
	if (pn && (EVP_DecryptUpdate(rd->cctx, dst, &l, c, (int)pn) != 1 || (size_t)l != pn)) {
		r = LACRE_E_CRYPTO;
		goto fail;
	}
	if (EVP_CIPHER_CTX_ctrl(rd->cctx, EVP_CTRL_AEAD_SET_TAG, AGE_TAG_SIZE, tag) != 1) {
		r = LACRE_E_CRYPTO;
		goto fail;
	}
	if (EVP_DecryptFinal_ex(rd->cctx, dst + pn, &l2) != 1) {
		r = LACRE_E_AUTH;
		goto fail;
	}
	lacre_simd_settle();   /* before the readers' commitment SHA-256 (simd.h) */
	out->len += pn;
	return LACRE_OK;
fail:
	OPENSSL_cleanse(dst, pn);
	return r;
}

/* Shared constructor: parse, unwrap with id or pass, check the MAC, key the
 * payload.  See age.h for the error codes. */
static int age_reader_open(const uint8_t *in, size_t n, const struct age_x25519_identity *id,
			   const char *pass, int max_log2_n, struct age_reader **rp)
{
	struct age_header *h = NULL;
	struct age_reader *rd = NULL;
	uint8_t fk[16], hkey[32], mac[32], pkey[32];
	const uint8_t *nonce;
	int r, have_key = 0, have_scrypt = 0;

	if (!in && n)
		return LACRE_E_INVALID;
	h = malloc(sizeof(*h));
	rd = calloc(1, sizeof(*rd));
	if (!h || !rd) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	if ((r = age_parse_header(in, n, h)) != LACRE_OK)
		goto out;
	for (size_t i = 0; i < h->n; i++)
		if (age_span_is(&h->st[i].args[0], "scrypt"))
			have_scrypt = 1;
	if (have_scrypt && h->n != 1) {
		r = LACRE_E_MALFORMED; /* scrypt must be the only stanza */
		goto out;
	}
	r = LACRE_E_AUTH;
	if (pass) {
		if (have_scrypt)
			r = age_try_scrypt(&h->st[0], pass, max_log2_n, fk);
		if (r != LACRE_OK)
			goto out;
		have_key = 1;
	} else {
		for (size_t i = 0; i < h->n && !have_key; i++) {
			if (!age_span_is(&h->st[i].args[0], "X25519"))
				continue; /* not ours to understand */
			r = age_try_x25519(&h->st[i], id, fk);
			if (r == LACRE_OK)
				have_key = 1;
			else if (r != LACRE_E_AUTH)
				goto out;
		}
		if (!have_key) {
			r = LACRE_E_AUTH;
			goto out;
		}
	}
	if ((r = age_hkdf(fk, 16, NULL, 0, "header", hkey)) != LACRE_OK ||
	    (r = age_hmac(hkey, in, h->mac_msg_len, mac)) != LACRE_OK)
		goto out;
	if (CRYPTO_memcmp(mac, h->mac, 32) != 0) {
		r = LACRE_E_CORRUPT;
		goto out;
	}
	lacre_rbuf_init(&rd->in, in, n);
	lacre_rbuf_skip(&rd->in, h->len);
	if (lacre_rbuf_take(&rd->in, AGE_NONCE_SIZE, &nonce) != LACRE_OK) {
		r = LACRE_E_TRUNCATED;
		goto out;
	}
	if ((r = age_hkdf(fk, 16, nonce, AGE_NONCE_SIZE, "payload", pkey)) != LACRE_OK)
		goto out;
	r = LACRE_E_NOMEM;
	if (!(rd->cctx = EVP_CIPHER_CTX_new()) || !(rd->fp = EVP_MD_CTX_new()))
		goto out;
	r = LACRE_E_CRYPTO;
	if (EVP_DecryptInit_ex(rd->cctx, EVP_chacha20_poly1305(), NULL, pkey, NULL) != 1 ||
	    EVP_DigestInit_ex(rd->fp, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(rd->fp, in, h->len) != 1)
		goto out;
	rd->header_len = h->len;
	*rp = rd;
	rd = NULL;
	r = LACRE_OK;
out:
	OPENSSL_cleanse(fk, sizeof(fk));
	OPENSSL_cleanse(hkey, sizeof(hkey));
	OPENSSL_cleanse(pkey, sizeof(pkey));
	free(h);
	age_reader_free(rd);
	return r;
}

int age_reader_new(const uint8_t *in, size_t n, const struct age_x25519_identity *id,
		   struct age_reader **r)
{
	if (!id || !r)
		return LACRE_E_INVALID;
	return age_reader_open(in, n, id, NULL, 0, r);
}

int age_reader_new_scrypt(const uint8_t *in, size_t n, const char *passphrase,
			  int max_log2_n, struct age_reader **r)
{
	if (!passphrase || !r)
		return LACRE_E_INVALID;
	if (max_log2_n <= 0)
		max_log2_n = AGE_SCRYPT_LOG2N_MAX;
	if (max_log2_n > 30)
		return LACRE_E_INVALID;
	return age_reader_open(in, n, NULL, passphrase, max_log2_n, r);
}

/* Record a tag into the fingerprint and finish it after the final chunk. */
static int age_reader_account(struct age_reader *rd, const uint8_t *tag, int final)
{
	unsigned int fl = 0;
	if (EVP_DigestUpdate(rd->fp, tag, AGE_TAG_SIZE) != 1)
		return LACRE_E_CRYPTO;
	rd->counter++;
	if (final) {
		if (EVP_DigestFinal_ex(rd->fp, rd->fingerprint, &fl) != 1 || fl != 32)
			return LACRE_E_CRYPTO;
		rd->state = 1;
	}
	return LACRE_OK;
}

int age_reader_next(struct age_reader *rd, struct lacre_dbuf *out, int *final)
{
	size_t left, sz, before;
	const uint8_t *c;
	int r;

	if (!rd || !out || !final)
		return LACRE_E_INVALID;
	if (rd->state == 1) {
		*final = 1;
		return LACRE_OK;
	}
	if (rd->state != 0)
		return LACRE_E_STATE;
	before = out->len;
	left = lacre_rbuf_left(&rd->in);
	sz = left < AGE_ENC_CHUNK ? left : AGE_ENC_CHUNK;
	if (sz < AGE_TAG_SIZE) {
		r = LACRE_E_TRUNCATED; /* no room for even an empty final chunk */
		goto fail;
	}
	c = lacre_rbuf_ptr(&rd->in);
	if (sz < AGE_ENC_CHUNK) {
		/* short: it can only be the final chunk */
		if (sz == AGE_TAG_SIZE && rd->counter > 0) {
			r = LACRE_E_MALFORMED; /* empty final chunk after a full one */
			goto fail;
		}
		r = age_open_chunk(rd, c, sz, 1, out);
		if (r == LACRE_E_AUTH)
			r = LACRE_E_CORRUPT;
		if (r != LACRE_OK)
			goto fail;
		if ((r = age_reader_account(rd, c + sz - AGE_TAG_SIZE, 1)) != LACRE_OK)
			goto fail;
	} else if (left == sz) {
		/* a full chunk at the end: must be final */
		r = age_open_chunk(rd, c, sz, 1, out);
		if (r == LACRE_E_AUTH) {
			struct lacre_dbuf scratch;
			lacre_dbuf_init(&scratch, AGE_CHUNK_SIZE + 1);
			lacre_dbuf_set_secret(&scratch);
			r = age_open_chunk(rd, c, sz, 0, &scratch);
			lacre_dbuf_free(&scratch);
			r = r == LACRE_OK ? LACRE_E_TRUNCATED : r == LACRE_E_AUTH ? LACRE_E_CORRUPT : r;
		}
		if (r != LACRE_OK)
			goto fail;
		if ((r = age_reader_account(rd, c + sz - AGE_TAG_SIZE, 1)) != LACRE_OK)
			goto fail;
	} else {
		/* a full chunk with more after it: must be non-final */
		r = age_open_chunk(rd, c, sz, 0, out);
		if (r == LACRE_E_AUTH) {
			struct lacre_dbuf scratch;
			lacre_dbuf_init(&scratch, AGE_CHUNK_SIZE + 1);
			lacre_dbuf_set_secret(&scratch);
			r = age_open_chunk(rd, c, sz, 1, &scratch);
			lacre_dbuf_free(&scratch);
			r = r == LACRE_OK ? LACRE_E_TRAILING : r == LACRE_E_AUTH ? LACRE_E_CORRUPT : r;
		}
		if (r != LACRE_OK)
			goto fail;
		if ((r = age_reader_account(rd, c + sz - AGE_TAG_SIZE, 0)) != LACRE_OK)
			goto fail;
	}
	lacre_rbuf_skip(&rd->in, sz);
	if (rd->state == 1 && lacre_rbuf_left(&rd->in) != 0) {
		r = LACRE_E_TRAILING;
		goto fail;
	}
	*final = rd->state == 1;
	return LACRE_OK;
fail:
	if (out->len > before) {
		OPENSSL_cleanse(out->p + before, out->len - before);
		out->len = before;
	}
	if (r != LACRE_E_TOO_LARGE && r != LACRE_E_NOMEM)
		rd->state = -1;
	return r;
}

int age_reader_fingerprint(const struct age_reader *rd, uint8_t fingerprint[32])
{
	if (!rd || !fingerprint)
		return LACRE_E_INVALID;
	if (rd->state != 1)
		return LACRE_E_STATE;
	memcpy(fingerprint, rd->fingerprint, 32);
	return LACRE_OK;
}

size_t age_reader_header_len(const struct age_reader *rd)
{
	return rd ? rd->header_len : 0;
}

void age_reader_free(struct age_reader *rd)
{
	if (!rd)
		return;
	EVP_CIPHER_CTX_free(rd->cctx);
	EVP_MD_CTX_free(rd->fp);
	OPENSSL_cleanse(rd, sizeof(*rd));
	free(rd);
}

/* Decrypt everything from rd into out; on failure out is restored. */
static int age_read_all(struct age_reader *rd, struct lacre_dbuf *out)
{
	size_t before = out->len;
	int final = 0, r = LACRE_OK;

	while (!final)
		if ((r = age_reader_next(rd, out, &final)) != LACRE_OK)
			break;
	if (r != LACRE_OK && out->len > before) {
		OPENSSL_cleanse(out->p + before, out->len - before);
		out->len = before;
	}
	return r;
}

int age_decrypt(const uint8_t *in, size_t n, const struct age_x25519_identity *id,
		struct lacre_dbuf *out)
{
	struct age_reader *rd = NULL;
	int r;

	if (!out)
		return LACRE_E_INVALID;
	if ((r = age_reader_new(in, n, id, &rd)) == LACRE_OK)
		r = age_read_all(rd, out);
	age_reader_free(rd);
	return r == LACRE_E_CORRUPT ? LACRE_E_AUTH : r;
}

int age_decrypt_scrypt(const uint8_t *in, size_t n, const char *passphrase,
		       int max_log2_n, struct lacre_dbuf *out)
{
	struct age_reader *rd = NULL;
	int r;

	if (!out)
		return LACRE_E_INVALID;
	if ((r = age_reader_new_scrypt(in, n, passphrase, max_log2_n, &rd)) == LACRE_OK)
		r = age_read_all(rd, out);
	age_reader_free(rd);
	return r == LACRE_E_CORRUPT ? LACRE_E_AUTH : r;
}

int age_fingerprint(const uint8_t *in, size_t n, uint8_t fingerprint[32])
{
	struct age_header *h = NULL;
	EVP_MD_CTX *md = NULL;
	size_t left, chunks, last;
	uint8_t fp[32];
	unsigned int fl = 0;
	int r;

	if ((!in && n) || !fingerprint)
		return LACRE_E_INVALID;
	if (!(h = malloc(sizeof(*h))) || !(md = EVP_MD_CTX_new())) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	if ((r = age_parse_header(in, n, h)) != LACRE_OK)
		goto out;
	if (n - h->len < AGE_NONCE_SIZE + AGE_TAG_SIZE) {
		r = LACRE_E_TRUNCATED;
		goto out;
	}
	left = n - h->len - AGE_NONCE_SIZE;
	chunks = (left + AGE_ENC_CHUNK - 1) / AGE_ENC_CHUNK;
	last = left - (chunks - 1) * AGE_ENC_CHUNK;
	if (last < AGE_TAG_SIZE) {
		r = LACRE_E_TRUNCATED;
		goto out;
	}
	if (last == AGE_TAG_SIZE && chunks > 1) {
		r = LACRE_E_MALFORMED;
		goto out;
	}
	r = LACRE_E_CRYPTO;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, in, h->len) != 1)
		goto out;
	for (size_t i = 0; i < chunks; i++) {
		size_t end = h->len + AGE_NONCE_SIZE + (i + 1 < chunks ?
			(i + 1) * AGE_ENC_CHUNK : left);
		if (EVP_DigestUpdate(md, in + end - AGE_TAG_SIZE, AGE_TAG_SIZE) != 1)
			goto out;
	}
	if (EVP_DigestFinal_ex(md, fp, &fl) != 1 || fl != 32)
		goto out;
	memcpy(fingerprint, fp, 32);
	r = LACRE_OK;
out:
	EVP_MD_CTX_free(md);
	free(h);
	return r;
}
