/*
 * etsi_crypt.c - TS 102 232-1 EncryptionContainer decryption (Annex G, as
 * OpenLI implements it) and the byteCounter completeness tracker.  See
 * lacre/etsi_crypt.h for the rule and the error contract.
 *
 * Everything read from a plaintext goes through the checked buffer and
 * the BER reader like any other untrusted byte: a plaintext is only as
 * trustworthy as the ciphertext it came from.  Keys are wiped by
 * etsi_keyring_wipe(); the plaintext buffer is marked secret, so it is
 * wiped when it grows, is reset or freed.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include "lacre/ber.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_crypt.h"
#include "wire/etsi_int.h"

#define LIID_MAX 256              /* longest LIID the tracker keys on */

/* ---- keys ---- */

/* Empty ring (see etsi_crypt.h). */
void etsi_keyring_init(struct etsi_keyring *kr)
{
	memset(kr, 0, sizeof(*kr));
}

/* Add one key with its validity window. */
int etsi_keyring_add(struct etsi_keyring *kr, const uint8_t *key, size_t len,
		     int64_t from_us, int64_t to_us)
{
	struct etsi_hkey *k;

	if ((len != 24 && len != 32) || from_us >= to_us)
		return LACRE_E_INVALID;
	if (kr->n >= ETSI_KEYRING_MAX)
		return LACRE_E_TOO_LARGE;
	k = &kr->keys[kr->n++];
	memcpy(k->key, key, len);
	k->len = len;
	k->valid_from_us = from_us;
	k->valid_to_us = to_us;
	return LACRE_OK;
}

/* Wipe every key and empty the ring. */
void etsi_keyring_wipe(struct etsi_keyring *kr)
{
	OPENSSL_cleanse(kr, sizeof(*kr));
	kr->n = 0;
}

/* Value of one hex digit, or -1. */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A key file's hex text into key (see etsi_crypt.h). */
int etsi_key_from_hex(const char *text, size_t n, uint8_t key[ETSI_HKEY_MAX], size_t *len)
{
	size_t s = 0, e = n, out = 0;
	uint8_t tmp[ETSI_HKEY_MAX];

	while (s < e && (text[s] == ' ' || text[s] == '\t' || text[s] == '\r' || text[s] == '\n'))
		s++;
	while (e > s && (text[e - 1] == ' ' || text[e - 1] == '\t' || text[e - 1] == '\r' ||
			 text[e - 1] == '\n'))
		e--;
	if (e - s >= 2 && text[s] == '0' && (text[s + 1] == 'x' || text[s + 1] == 'X'))
		s += 2;
	if ((e - s) % 2 != 0 || (e - s) / 2 > sizeof(tmp))
		return LACRE_E_MALFORMED;
	for (size_t i = s; i < e; i += 2) {
		int hi = hexval(text[i]), lo = hexval(text[i + 1]);
		if (hi < 0 || lo < 0) {
			OPENSSL_cleanse(tmp, sizeof(tmp));
			return LACRE_E_MALFORMED;
		}
		tmp[out++] = (uint8_t)(hi << 4 | lo);
	}
	if (out != 24 && out != 32) {
		OPENSSL_cleanse(tmp, sizeof(tmp));
		return LACRE_E_MALFORMED;
	}
	memcpy(key, tmp, out);
	*len = out;
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return LACRE_OK;
}

/* ---- ciphers ---- */

/*
 * Blowfish lives in OpenSSL 3's legacy provider.  It is loaded once, on
 * first need, into a library context of its own, so that no other use of
 * OpenSSL in the process sees legacy algorithms; when the provider cannot
 * be loaded (not installed, or a confined process that may not read it)
 * Blowfish containers are simply LACRE_E_UNSUPPORTED.
 */
static CRYPTO_ONCE bf_once = CRYPTO_ONCE_STATIC_INIT;
static EVP_CIPHER *bf_cbc;

/* Fetch BF-CBC from a private context with the legacy provider. */
static void bf_init(void)
{
	OSSL_LIB_CTX *ctx = OSSL_LIB_CTX_new();
	OSSL_PROVIDER *leg = NULL, *def = NULL;

	if (!ctx)
		return;
	if ((leg = OSSL_PROVIDER_load(ctx, "legacy")) != NULL &&
	    (def = OSSL_PROVIDER_load(ctx, "default")) != NULL &&
	    (bf_cbc = EVP_CIPHER_fetch(ctx, "BF-CBC", NULL)) != NULL)
		return;                   /* kept for the process's life */
	if (def)
		OSSL_PROVIDER_unload(def);
	if (leg)
		OSSL_PROVIDER_unload(leg);
	OSSL_LIB_CTX_free(ctx);
}

/* BF-CBC, or NULL when OpenSSL cannot give it here. */
static const EVP_CIPHER *bf_cipher(void)
{
	if (!CRYPTO_THREAD_run_once(&bf_once, bf_init))
		return NULL;
	return bf_cbc;
}

/* Key length of an encryptionType (see etsi_crypt.h). */
int etsi_cipher_key_len(int type)
{
	switch (type) {
	case 1: return -1;        /* none */
	case 3: return 24;        /* aES-192-CBC */
	case 4: return 32;        /* aES-256-CBC */
	case 5: return bf_cipher() ? 24 : 0;   /* blowfish-192-CBC */
	case 6: return bf_cipher() ? 32 : 0;   /* blowfish-256-CBC */
	case 7: return 24;        /* threedes-cbc (three-key 3DES) */
	default: return 0;        /* national option, unknown */
	}
}

/*
 * AES and 3DES from the default library context, fetched once: the
 * EVP_aes_192_cbc()-style getters make OpenSSL 3 fetch the implementation
 * again at every EVP_DecryptInit_ex, which cost more than the decryption
 * of a typical PDU (bench/decrypt.sh).
 */
static CRYPTO_ONCE std_once = CRYPTO_ONCE_STATIC_INIT;
static EVP_CIPHER *aes192_cbc, *aes256_cbc, *des3_cbc;

/* Fetch the standard ciphers (kept for the process's life). */
static void std_init(void)
{
	aes192_cbc = EVP_CIPHER_fetch(NULL, "AES-192-CBC", NULL);
	aes256_cbc = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
	des3_cbc = EVP_CIPHER_fetch(NULL, "DES-EDE3-CBC", NULL);
}

/* The EVP cipher of an encryptionType lacre decrypts (the getter's when
 * the fetch failed). */
static const EVP_CIPHER *cipher_of(int type)
{
	int once = CRYPTO_THREAD_run_once(&std_once, std_init);

	switch (type) {
	case 3: return once && aes192_cbc ? aes192_cbc : EVP_aes_192_cbc();
	case 4: return once && aes256_cbc ? aes256_cbc : EVP_aes_256_cbc();
	case 5: case 6: return bf_cipher();
	case 7: return once && des3_cbc ? des3_cbc : EVP_des_ede3_cbc();
	default: return NULL;
	}
}

/* Decrypt ct[0..n) (whole blocks) with key[0..klen) and iv into
 * out[0..n), no padding.  LACRE_OK or LACRE_E_CRYPTO. */
static int cbc_decrypt(const EVP_CIPHER *ciph, const uint8_t *key, size_t klen,
		       const uint8_t *iv, const uint8_t *ct, size_t n, uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l1 = 0, l2 = 0, r = LACRE_E_CRYPTO;

	if (!c)
		return LACRE_E_NOMEM;
	if (n > INT32_MAX || klen > INT32_MAX)
		goto done;
	/* the key length is set first when it is not the cipher's own:
	 * Blowfish takes 24 or 32 octets */
	if ((size_t)EVP_CIPHER_get_key_length(ciph) == klen) {
		if (EVP_DecryptInit_ex(c, ciph, NULL, key, iv) != 1)
			goto done;
	} else if (EVP_DecryptInit_ex(c, ciph, NULL, NULL, NULL) != 1 ||
		   EVP_CIPHER_CTX_set_key_length(c, (int)klen) != 1 ||
		   EVP_DecryptInit_ex(c, NULL, NULL, key, iv) != 1) {
		goto done;
	}
	if (EVP_CIPHER_CTX_set_padding(c, 0) != 1 ||
	    EVP_DecryptUpdate(c, out, &l1, ct, (int)n) != 1 ||
	    EVP_DecryptFinal_ex(c, out + l1, &l2) != 1 || (size_t)(l1 + l2) != n)
		goto done;
	r = LACRE_OK;
done:
	EVP_CIPHER_CTX_free(c);
	return r;
}

/* What a candidate plaintext looks like. */
enum shape { SHAPE_BAD = 0, SHAPE_BAD_PADDING, SHAPE_OK };

/*
 * Check that plain[0..n) is EncryptedPayload { byteCounter [0] INTEGER,
 * payload [1] Payload } followed only by zero padding shorter than one
 * block; on SHAPE_OK set *counter and *payload (the [1] element).
 */
static enum shape check_plain(const uint8_t *plain, size_t n, size_t block,
			      uint64_t *counter, struct ber_tlv *payload)
{
	struct lacre_rbuf b, c;
	struct ber_tlv s, y, z;
	size_t pad;

	lacre_rbuf_init(&b, plain, n);
	if (ber_next(&b, &s, BER_MAX_DEPTH) != LACRE_OK || s.cls != BER_UNIVERSAL ||
	    s.tag != 16 || !s.constructed)
		return SHAPE_BAD;
	lacre_rbuf_init(&c, s.value, s.len);
	if (ber_next(&c, &y, BER_MAX_DEPTH - 1) != LACRE_OK || y.cls != BER_CONTEXT ||
	    y.tag != 0 || y.constructed || y.len < 1 || y.len > 9)
		return SHAPE_BAD;
	if (ber_get_uint(&y, counter) != LACRE_OK)
		return SHAPE_BAD;
	if (ber_next(&c, &z, BER_MAX_DEPTH - 1) != LACRE_OK || z.cls != BER_CONTEXT ||
	    z.tag != 1 || !z.constructed || lacre_rbuf_left(&c) != 0)
		return SHAPE_BAD;
	/* the SEQUENCE parsed: what follows must be the zero padding */
	pad = lacre_rbuf_left(&b);
	if (pad >= block)
		return SHAPE_BAD_PADDING;
	for (size_t i = n - pad; i < n; i++)
		if (plain[i] != 0)
			return SHAPE_BAD_PADDING;
	*payload = z;
	return SHAPE_OK;
}

/* Is at_us inside k's window (always, when at_us is INT64_MIN)? */
static int in_window(const struct etsi_hkey *k, int64_t at_us)
{
	return at_us == INT64_MIN || (at_us >= k->valid_from_us && at_us < k->valid_to_us);
}

/* Decrypt and decode an encrypted PDU's payload (see etsi_crypt.h). */
int etsi_decrypt(const struct etsi_keyring *kr, int64_t at_us, struct etsi_pdu *pdu,
		 struct lacre_dbuf *plain)
{
	const struct etsi_bytes *ct = &pdu->enc.payload;
	const EVP_CIPHER *ciph;
	uint8_t iv[16] = { 0 };
	size_t block, klen;
	int r = LACRE_E_INTERNAL, best = LACRE_E_NOT_FOUND, tried = 0;
	uint64_t counter = 0;
	struct ber_tlv inner;

	if (!pdu->encrypted || pdu->payload != ETSI_PAYLOAD_ENCRYPTED || pdu->decrypted)
		return LACRE_E_INVALID;
	if (pdu->enc.type == 1) {
		/* encryptionType none: the EncryptedPayload in clear */
		lacre_dbuf_reset(plain);
		lacre_dbuf_set_secret(plain);
		if (!ct->p || (r = lacre_dbuf_add(plain, ct->p, ct->len)) != LACRE_OK) {
			r = ct->p ? r : LACRE_E_MALFORMED;
			goto fail;
		}
		if (check_plain(plain->p, plain->len, plain->len + 1, &counter, &inner) != SHAPE_OK) {
			r = LACRE_E_MALFORMED;
			goto fail;
		}
		goto found;
	}
	ciph = cipher_of(pdu->enc.type);
	if (!ciph) {
		r = LACRE_E_UNSUPPORTED;
		goto fail;
	}
	klen = (size_t)etsi_cipher_key_len(pdu->enc.type);
	block = (size_t)EVP_CIPHER_get_block_size(ciph);
	if (!ct->p || ct->len == 0 || ct->len % block != 0 || !pdu->has_seq ||
	    block > sizeof(iv)) {
		r = LACRE_E_MALFORMED;
		goto fail;
	}
	/* IV: the 32-bit sequence number, big-endian, repeated over one block */
	for (size_t i = 0; i < block; i += 4) {
		iv[i] = (uint8_t)(pdu->seq >> 24);
		iv[i + 1] = (uint8_t)(pdu->seq >> 16);
		iv[i + 2] = (uint8_t)(pdu->seq >> 8);
		iv[i + 3] = (uint8_t)pdu->seq;
	}
	lacre_dbuf_reset(plain);
	lacre_dbuf_set_secret(plain);
	if ((r = lacre_dbuf_reserve(plain, ct->len)) != LACRE_OK)
		goto fail;
	/* pass 0: keys valid at at_us; pass 1: the others */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < kr->n; i++) {
			const struct etsi_hkey *k = &kr->keys[i];
			enum shape sh;

			if (k->len != klen || in_window(k, at_us) != (pass == 0))
				continue;
			tried++;
			if ((r = cbc_decrypt(ciph, k->key, k->len, iv, ct->p, ct->len, plain->p)) != LACRE_OK)
				goto fail;
			plain->len = ct->len;
			sh = check_plain(plain->p, plain->len, block, &counter, &inner);
			if (sh == SHAPE_OK) {
				if (pass == 1)
					pdu->flags |= ETSI_FLAG_KEY_OUTSIDE_WINDOW;
				goto found;
			}
			if (sh == SHAPE_BAD_PADDING)
				best = LACRE_E_MALFORMED;
			else if (best != LACRE_E_MALFORMED)
				best = LACRE_E_AUTH;
			lacre_dbuf_reset(plain);
		}
	}
	r = tried ? best : LACRE_E_NOT_FOUND;
	goto fail;
found:
	etsi_decode_inner_payload(pdu, plain->p, &inner);
	pdu->decrypted = 1;
	pdu->decrypt_err = 0;
	pdu->has_byte_counter = 1;
	pdu->byte_counter = counter;
	OPENSSL_cleanse(iv, sizeof(iv));
	return LACRE_OK;
fail:
	lacre_dbuf_reset(plain);
	pdu->decrypt_err = r;
	return r;
}

/* Rebuild the form an integrity hash covers (see etsi_crypt.h). */
int etsi_preencryption_form(const uint8_t *raw, size_t n, const struct etsi_pdu *pdu,
			    const struct lacre_dbuf *plain, uint8_t *out)
{
	const struct etsi_encryption *e = &pdu->enc;
	size_t ct_off, ty_off;

	if (!pdu->decrypted || !e->payload.p || !e->type_value.p || !plain ||
	    plain->len != e->payload.len)
		return LACRE_E_INVALID;
	if (e->payload.p < raw || e->type_value.p < raw)
		return LACRE_E_INVALID;
	ct_off = (size_t)(e->payload.p - raw);
	ty_off = (size_t)(e->type_value.p - raw);
	if (ct_off > n || n - ct_off < e->payload.len || ty_off >= n)
		return LACRE_E_INVALID;
	if (e->type_value.len != 1)
		return LACRE_E_UNSUPPORTED;
	memcpy(out, raw, n);
	out[ty_off] = 1;                       /* encryptionType none(1) */
	memcpy(out + ct_off, plain->p, plain->len);
	return LACRE_OK;
}

/* ---- byteCounter tracker ----
 *
 * Mediators reorder PDUs before delivery (OpenLI sends most hash PDUs
 * before the last data PDUs they cover, though it encoded them after), so
 * the chain is checked as a chain of intervals [count, count + length),
 * not in arrival order: per LIID a frontier (the count up to which every
 * byte is accounted for) and a small set of intervals that arrived ahead
 * of it.  An interval that fills the frontier advances it (and absorbs
 * the held ones); one behind it overlaps bytes already counted (a
 * duplicate or a rewrite); held intervals left at the end, or too many of
 * them, are gaps: PDUs never received. */

#define BCTR_HELD_MAX 64          /* intervals held ahead of the frontier, per LIID */

struct bctr_ival {
	uint64_t from, len;
	int carried;              /* loaded from the state file: held since the previous run */
};

struct etsi_bctr_ent {
	uint8_t liid[LIID_MAX];
	size_t liid_len;
	int has_start;
	uint32_t start;           /* the sender's state start time (high half) */
	uint64_t frontier;        /* every count below it is accounted for */
	struct bctr_ival held[BCTR_HELD_MAX];
	size_t n_held;
	uint64_t mark_frontier;   /* frontier at the last durability mark */
	uint64_t dur_frontier;    /* frontier at the mark before: surely sealed below it */
};

/* A tracker of at most max_liids LIIDs (see etsi_crypt.h). */
void etsi_bctr_init(struct etsi_bctr *b, size_t max_liids)
{
	memset(b, 0, sizeof(*b));
	b->max = max_liids;
}

/* Free the tracker's table. */
void etsi_bctr_free(struct etsi_bctr *b)
{
	free(b->e);
	memset(b, 0, sizeof(*b));
}

/* The entry of liid; NULL when absent. */
static struct etsi_bctr_ent *bctr_find_only(const struct etsi_bctr *b, const struct etsi_bytes *liid)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->e[i].liid_len == liid->len &&
		    (liid->len == 0 || memcmp(b->e[i].liid, liid->p, liid->len) == 0))
			return &b->e[i];
	return NULL;
}

/* The entry of liid, created when absent; NULL when the table is full
 * (*err LACRE_OK) or on allocation failure (*err LACRE_E_NOMEM). */
static struct etsi_bctr_ent *bctr_find(struct etsi_bctr *b, const struct etsi_bytes *liid,
				       int *err)
{
	struct etsi_bctr_ent *e;

	*err = LACRE_OK;
	if ((e = bctr_find_only(b, liid)))
		return e;
	if (b->n >= b->max || liid->len > LIID_MAX)
		return NULL;
	if (b->n == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 16;
		struct etsi_bctr_ent *ne;
		if (nc > b->max)
			nc = b->max;
		ne = realloc(b->e, nc * sizeof(*ne));
		if (!ne) {
			*err = LACRE_E_NOMEM;
			return NULL;
		}
		b->e = ne;
		b->cap = nc;
	}
	e = &b->e[b->n++];
	memset(e, 0, sizeof(*e));
	if (liid->len)
		memcpy(e->liid, liid->p, liid->len);
	e->liid_len = liid->len;
	return e;
}

/* Advance the frontier over held intervals that now touch it. */
static void bctr_absorb(struct etsi_bctr_ent *e)
{
	int moved = 1;

	while (moved) {
		moved = 0;
		for (size_t i = 0; i < e->n_held; i++) {
			if (e->held[i].from != e->frontier)
				continue;
			e->frontier += e->held[i].len;
			e->held[i] = e->held[--e->n_held];
			moved = 1;
			break;
		}
	}
}

/* Index of the held interval with the lowest start (n_held > 0). */
static size_t bctr_lowest(const struct etsi_bctr_ent *e)
{
	size_t lo = 0;

	for (size_t i = 1; i < e->n_held; i++)
		if (e->held[i].from < e->held[lo].from)
			lo = i;
	return lo;
}

/* Account one PDU (see etsi_crypt.h). */
int etsi_bctr_account(struct etsi_bctr *b, const struct etsi_pdu *pdu, size_t pdu_len,
		      uint64_t *expected, uint64_t *got)
{
	struct etsi_bctr_ent *e;
	uint32_t start;
	uint64_t count;
	int err, v = ETSI_BCTR_OK;

	if (!pdu->liid.p || !pdu->has_byte_counter)
		return ETSI_BCTR_OK;
	b->gen++;
	e = bctr_find(b, &pdu->liid, &err);
	if (!e)
		return err != LACRE_OK ? err : ETSI_BCTR_UNTRACKED;
	start = (uint32_t)(pdu->byte_counter >> 32);
	count = pdu->byte_counter & 0xffffffffu;
	if (!e->has_start) {
		e->has_start = 1;
		e->start = start;
		v = ETSI_BCTR_FIRST;
	} else if (start != e->start) {
		/* a new sender state: a new chain, counted from 0 */
		*expected = e->frontier;
		*got = count;
		e->start = start;
		e->frontier = 0;
		e->n_held = 0;
		e->mark_frontier = e->dur_frontier = 0;  /* nothing of the new chain kept yet */
		v = ETSI_BCTR_RESTART;
	}
	if (count == e->frontier) {
		e->frontier += pdu_len;
		bctr_absorb(e);
	} else if (count < e->frontier) {
		/* bytes already accounted for: a duplicate or an overlap */
		if (v != ETSI_BCTR_RESTART) {
			*expected = e->frontier;
			*got = count;
			v = ETSI_BCTR_BREAK;
		}
	} else {
		/* ahead of the frontier: hold it until the gap fills */
		if (e->n_held == BCTR_HELD_MAX) {
			size_t lo = bctr_lowest(e);
			/* too much held: the gap before the lowest is declared */
			*expected = e->frontier;
			*got = e->held[lo].from;
			e->frontier = e->held[lo].from + e->held[lo].len;
			e->held[lo] = e->held[--e->n_held];
			bctr_absorb(e);
			v = ETSI_BCTR_BREAK;
		}
		if (count == e->frontier) {
			e->frontier += pdu_len;
		} else if (count > e->frontier) {
			e->held[e->n_held].from = count;
			e->held[e->n_held].len = pdu_len;
			e->held[e->n_held].carried = 0;
			e->n_held++;
		}
		bctr_absorb(e);
	}
	return v;
}

/* Report the gaps left in every chain (see etsi_crypt.h). */
size_t etsi_bctr_finish(struct etsi_bctr *b, etsi_bctr_gap_fn fn, void *arg)
{
	size_t gaps = 0;

	for (size_t i = 0; i < b->n; i++) {
		struct etsi_bctr_ent *e = &b->e[i];

		while (e->n_held > 0) {
			size_t lo = bctr_lowest(e);
			b->gen++;
			if (fn)
				fn(arg, e->liid, e->liid_len, e->frontier, e->held[lo].from);
			gaps++;
			e->frontier = e->held[lo].from + e->held[lo].len;
			e->held[lo] = e->held[--e->n_held];
			bctr_absorb(e);
		}
	}
	return gaps;
}

/* Order of held intervals by start (qsort). */
static int ival_cmp(const void *x, const void *y)
{
	const struct bctr_ival *a = x, *b = y;

	return a->from < b->from ? -1 : a->from > b->from;
}

/* A clean stop whose chains are saved (see etsi_crypt.h). */
size_t etsi_bctr_stop(struct etsi_bctr *b, etsi_bctr_gap_fn fn, etsi_bctr_gap_fn open_fn, void *arg)
{
	size_t gaps = 0;

	for (size_t i = 0; i < b->n; i++) {
		struct etsi_bctr_ent *e = &b->e[i];
		struct bctr_ival sorted[BCTR_HELD_MAX];
		int any_carried = 0;
		uint64_t maxc = 0, f;

		for (size_t h = 0; h < e->n_held; h++)
			if (e->held[h].carried && (!any_carried || e->held[h].from > maxc)) {
				any_carried = 1;
				maxc = e->held[h].from;
			}
		/* declared: gaps open since the previous run, or behind more
		 * intervals than a mediator reorders */
		while (e->n_held > 0) {
			size_t lo = bctr_lowest(e);
			if (!(any_carried && e->held[lo].from <= maxc) && e->n_held <= ETSI_BCTR_REORDER_MAX)
				break;
			if (fn)
				fn(arg, e->liid, e->liid_len, e->frontier, e->held[lo].from);
			gaps++;
			b->gen++;
			e->frontier = e->held[lo].from + e->held[lo].len;
			e->held[lo] = e->held[--e->n_held];
			bctr_absorb(e);
		}
		/* the rest may still arrive after the restart: named, kept */
		memcpy(sorted, e->held, e->n_held * sizeof(sorted[0]));
		qsort(sorted, e->n_held, sizeof(sorted[0]), ival_cmp);
		f = e->frontier;
		for (size_t h = 0; h < e->n_held; h++) {
			if (sorted[h].from > f && open_fn)
				open_fn(arg, e->liid, e->liid_len, f, sorted[h].from);
			if (sorted[h].from + sorted[h].len > f)
				f = sorted[h].from + sorted[h].len;
		}
	}
	return gaps;
}

/* ---- byteCounter persistence (docs/FORMATS.md §12, section "BCTR") ----
 *
 * The chains outlive the receiver: saved with the stream state and loaded
 * at the next start, so that the first counter after a restart continues
 * its chain (a gap spanning the stop is then a gap, not a new FIRST).
 * Durability marks follow the sequence state's: dur_frontier is the
 * frontier of one mark before, below which every counted PDU was surely
 * sealed; after a crash the bytes between it and the chain's top are named
 * as possibly lost. */

#define BCTR_MAX_LEN 0x100000000ull   /* a count and a PDU length are below 2^32 */

/* The end of the highest bytes counted in c's chain: the frontier, or
 * beyond it the end of the highest interval held. */
static uint64_t bctr_top(const struct etsi_bctr_ent *c)
{
	uint64_t top = c->frontier;

	for (size_t h = 0; h < c->n_held; h++)
		if (c->held[h].from + c->held[h].len > top)
			top = c->held[h].from + c->held[h].len;
	return top;
}

/* Move the durability marks of every chain (see etsi_crypt.h). */
void etsi_bctr_mark(struct etsi_bctr *b)
{
	for (size_t i = 0; i < b->n; i++) {
		b->e[i].dur_frontier = b->e[i].mark_frontier;
		b->e[i].mark_frontier = b->e[i].frontier;
	}
}

/* Append every chain to out (see etsi_crypt.h). */
int etsi_bctr_save(const struct etsi_bctr *b, int all_kept, struct lacre_dbuf *out)
{
	int e = 0;

	e |= lacre_dbuf_add_u32be(out, (uint32_t)b->n);
	for (size_t i = 0; i < b->n; i++) {
		const struct etsi_bctr_ent *c = &b->e[i];
		uint64_t kept = all_kept ? bctr_top(c) : c->dur_frontier;

		if (kept > bctr_top(c))
			kept = bctr_top(c);
		e |= lacre_dbuf_add_u16be(out, (uint16_t)c->liid_len);
		e |= lacre_dbuf_add(out, c->liid, c->liid_len);
		e |= lacre_dbuf_add_u8(out, (uint8_t)(c->has_start ? 1 : 0));
		e |= lacre_dbuf_add_u32be(out, c->start);
		e |= lacre_dbuf_add_u64be(out, c->frontier);
		e |= lacre_dbuf_add_u64be(out, kept);
		e |= lacre_dbuf_add_u8(out, (uint8_t)c->n_held);
		for (size_t h = 0; h < c->n_held; h++) {
			e |= lacre_dbuf_add_u64be(out, c->held[h].from);
			e |= lacre_dbuf_add_u64be(out, c->held[h].len);
		}
	}
	return e ? LACRE_E_NOMEM : LACRE_OK;
}

/* Load chains saved by etsi_bctr_save into the empty tracker b (see
 * etsi_crypt.h): every field checked, all or nothing. */
int etsi_bctr_load(struct etsi_bctr *b, struct lacre_rbuf *in, char *why, size_t wn)
{
	uint32_t n;
	int r = LACRE_E_CORRUPT;

	if (b->n != 0)
		return LACRE_E_INVALID;
	if (lacre_rbuf_u32be(in, &n) != LACRE_OK) {
		snprintf(why, wn, "the byteCounter section is cut short");
		return LACRE_E_CORRUPT;
	}
	if (n > b->max) {
		snprintf(why, wn, "the byteCounter section holds %" PRIu32 " LIIDs, more than %zu", n, b->max);
		return LACRE_E_CORRUPT;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct etsi_bctr_ent *c;
		struct etsi_bytes id;
		uint16_t ll;
		uint8_t flags, nh;
		uint64_t kept;
		int err;

		if (lacre_rbuf_u16be(in, &ll) != LACRE_OK || lacre_rbuf_take(in, ll, &id.p) != LACRE_OK) {
			snprintf(why, wn, "a byteCounter entry is cut short");
			goto fail;
		}
		id.len = ll;
		if (ll > LIID_MAX) {
			snprintf(why, wn, "a byteCounter entry has an LIID longer than %d octets", LIID_MAX);
			goto fail;
		}
		if (bctr_find_only(b, &id)) {
			snprintf(why, wn, "an LIID appears twice in a byteCounter section");
			goto fail;
		}
		if (!(c = bctr_find(b, &id, &err))) {
			r = err != LACRE_OK ? err : LACRE_E_CORRUPT;
			snprintf(why, wn, "the byteCounter table is full");
			goto fail;
		}
		if (lacre_rbuf_u8(in, &flags) || lacre_rbuf_u32be(in, &c->start) ||
		    lacre_rbuf_u64be(in, &c->frontier) || lacre_rbuf_u64be(in, &kept) || lacre_rbuf_u8(in, &nh)) {
			snprintf(why, wn, "a byteCounter entry is cut short");
			goto fail;
		}
		if (flags > 1 || c->frontier > 2 * BCTR_MAX_LEN || nh > BCTR_HELD_MAX ||
		    (!(flags & 1) && (c->frontier || nh))) {
			snprintf(why, wn, "a byteCounter entry has an impossible value");
			goto fail;
		}
		c->has_start = flags & 1;
		c->dur_frontier = c->mark_frontier = kept;
		for (size_t h = 0; h < nh; h++) {
			struct bctr_ival *v = &c->held[h];
			if (lacre_rbuf_u64be(in, &v->from) || lacre_rbuf_u64be(in, &v->len)) {
				snprintf(why, wn, "a byteCounter interval is cut short");
				goto fail;
			}
			if (v->from <= c->frontier || v->from >= BCTR_MAX_LEN || v->len == 0 ||
			    v->len > BCTR_MAX_LEN) {
				snprintf(why, wn, "a byteCounter interval lies at or behind its chain's frontier");
				goto fail;
			}
			v->carried = 1;
			for (size_t k = 0; k < h; k++)
				if (c->held[k].from == v->from) {
					snprintf(why, wn, "a byteCounter interval appears twice");
					goto fail;
				}
		}
		c->n_held = nh;
		b->gen++;
		if (kept > bctr_top(c)) {
			snprintf(why, wn, "a byteCounter entry has an impossible value");
			goto fail;
		}
	}
	return LACRE_OK;
fail:
	etsi_bctr_free(b);
	return r;
}

/* Name what a crash may have lost of each chain, then start this run's
 * marks at the loaded frontiers (see etsi_crypt.h). */
size_t etsi_bctr_unkept(struct etsi_bctr *b, etsi_bctr_gap_fn fn, void *arg)
{
	size_t n = 0;

	for (size_t i = 0; i < b->n; i++) {
		struct etsi_bctr_ent *c = &b->e[i];
		uint64_t top = bctr_top(c);

		if (c->dur_frontier < top) {
			if (fn)
				fn(arg, c->liid, c->liid_len, c->dur_frontier, top);
			n++;
		}
		c->dur_frontier = c->mark_frontier = c->frontier;
	}
	b->gen++;
	return n;
}
