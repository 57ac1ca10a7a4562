/*
 * test_age.c - age v1: Bech32, identities, the known-answer vector of
 * tlog-formats.md §9.7, round trips, and every rejection the decoder owes
 * (wrong key, altered header or payload, truncation, trailing bytes,
 * non-canonical base64, empty final chunk, scrypt rules).  Some cases build
 * files by hand from the fixed file key, so the MAC and chunk sealing here
 * are an independent re-implementation with OpenSSL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "harness.h"
#include "lacre/age.h"
#include "lacre/bech32.h"
#include "lacre/buf.h"
#include "lacre/err.h"

static const char kat_identity[] =
	"AGE-SECRET-KEY-1ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYGSUZRZYL";
static const char kat_recipient[] =
	"age10d8fpxa70llyf3r95gsqxltq3m34397nrmuh9urlwjyjev8h8ufsj7lk9j";
static const char kat_header[] =
	"age-encryption.org/v1\n"
	"-> X25519 D6poTtKIZ7l/Smot7l34zpdOdrcBjj8iocTPJnhXDyA\n"
	"2LId3GQ0YtbQ4+slEoWz7xD6tvQet84wp3CRK+Lq+WU\n"
	"--- pFP/slvSI6adTG9gbIMUkMteHLo8g+jxduOT//W6sLU\n";
static const char kat_payload_hex[] =
	"44444444444444444444444444444444"
	"d1d97190dfb9a43b424dac63840492996b3e4241956868603bc78aa85a32"
	"56101581fe0f1352";
static const char kat_plain[] = "lacre age test vector\n";

/* Hex to bytes; returns the byte count. */
static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = strlen(h) / 2;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	return n;
}

/* The KAT identity (secret 32 x 0x11). */
static void kat_id(struct age_x25519_identity *id)
{
	memset(id->secret, 0x11, 32);
	age_x25519_derive_public(id);
}

/* Encrypt pt[0..n) with the fixed KAT inputs into out (initialised here). */
static int kat_encrypt(const uint8_t *pt, size_t n, struct lacre_dbuf *out, uint8_t fp[32])
{
	struct age_x25519_identity id;
	uint8_t eph[1][32], fk[16], nonce[16];
	struct age_writer *w = NULL;
	int r;

	kat_id(&id);
	memset(eph, 0x22, sizeof(eph));
	memset(fk, 0x33, sizeof(fk));
	memset(nonce, 0x44, sizeof(nonce));
	lacre_dbuf_init(out, 1 << 24);
	r = age_writer_new_fixed((const uint8_t (*)[32])&id.public_key, 1,
				 (const uint8_t (*)[32])eph, fk, nonce, out, &w);
	if (r == 0)
		r = age_writer_write(w, pt, n);
	if (r == 0)
		r = age_writer_finish(w, fp);
	age_writer_free(w);
	return r;
}

static void test_bech32_bip173(void)
{
	static const char *valid[] = {
		"A12UEL5L", "a12uel5l",
		"an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
		"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
		"11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
		"split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
	};
	static const char *invalid[] = {
		"\x20" "1nwldj5", "\x7f" "1axkwrx", "pzry9x0s0muk", "1pzry9x0s0muk",
		"x1b4n0q5v", "li1dgmt3", "de1lg7wt\xff", "A1G7SGD8", "10a06t8", "1qzzfhee",
		"a12UEL5L", "a12uel5m",
	};
	char hrp[100], s[200];
	uint8_t data[100];
	size_t n;

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		CHECK_OK(bech32_decode(valid[i], hrp, sizeof(hrp), data, sizeof(data), &n));
	}
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		CHECK(bech32_decode(invalid[i], hrp, sizeof(hrp), data, sizeof(data), &n) != 0);
	/* round trip with arbitrary lengths */
	for (size_t len = 0; len < 60; len++) {
		uint8_t in[60], back[60];
		for (size_t i = 0; i < len; i++)
			in[i] = (uint8_t)(i * 37 + len);
		CHECK_OK(bech32_encode("test", in, len, s, sizeof(s)));
		CHECK_OK(bech32_decode(s, hrp, sizeof(hrp), back, sizeof(back), &n));
		CHECK_STR(hrp, "test");
		CHECK_EQ_INT(n, len);
		CHECK(len == 0 || memcmp(in, back, len) == 0);
	}
	CHECK_EQ_INT(bech32_encode("Test", data, 1, s, sizeof(s)), LACRE_E_INVALID);
	CHECK_EQ_INT(bech32_encode("test", data, 32, s, 20), LACRE_E_TOO_LARGE);
}

static void test_identity_kat(void)
{
	struct age_x25519_identity id, id2;
	char s[AGE_IDENTITY_MAX], rcp[AGE_RECIPIENT_MAX];
	uint8_t pub[32];
	char lower[AGE_IDENTITY_MAX];

	kat_id(&id);
	CHECK_OK(age_identity_encode(&id, s));
	CHECK_STR(s, kat_identity);
	CHECK_OK(age_recipient_encode(id.public_key, rcp));
	CHECK_STR(rcp, kat_recipient);
	CHECK_OK(age_identity_parse(kat_identity, &id2));
	CHECK_MEM(id2.secret, id.secret, 32);
	CHECK_MEM(id2.public_key, id.public_key, 32);
	for (size_t i = 0; i <= strlen(kat_identity); i++)
		lower[i] = (char)(kat_identity[i] >= 'A' && kat_identity[i] <= 'Z' ?
				  kat_identity[i] - 'A' + 'a' : kat_identity[i]);
	CHECK_OK(age_identity_parse(lower, &id2));
	CHECK_OK(age_recipient_parse(kat_recipient, pub));
	CHECK_MEM(pub, id.public_key, 32);
	/* a recipient is not an identity and vice versa; checksum errors */
	CHECK_EQ_INT(age_identity_parse(kat_recipient, &id2), LACRE_E_MALFORMED);
	CHECK_EQ_INT(age_recipient_parse(kat_identity, pub), LACRE_E_MALFORMED);
	strcpy(s, kat_recipient);
	s[10] = s[10] == 'q' ? 'p' : 'q';
	CHECK_EQ_INT(age_recipient_parse(s, pub), LACRE_E_MALFORMED);
	strcpy(s, kat_identity);
	s[20] = 'z';
	CHECK_EQ_INT(age_identity_parse(s, &id2), LACRE_E_MALFORMED);
	/* generated identities differ and re-encode */
	CHECK_OK(age_x25519_generate(&id));
	CHECK_OK(age_x25519_generate(&id2));
	CHECK(memcmp(id.secret, id2.secret, 32) != 0);
	CHECK_OK(age_identity_encode(&id, s));
	CHECK_OK(age_identity_parse(s, &id2));
	CHECK_MEM(id.public_key, id2.public_key, 32);
	age_identity_wipe(&id);
	CHECK(id.secret[0] == 0 && id.secret[31] == 0);
}

static void test_file_kat(void)
{
	struct lacre_dbuf f, pt;
	uint8_t payload[64], fp[32], fp2[32];
	size_t pl = unhex(kat_payload_hex, payload);
	struct age_x25519_identity id;
	static uint8_t big[65537];

	CHECK_OK(kat_encrypt((const uint8_t *)kat_plain, strlen(kat_plain), &f, fp));
	CHECK_EQ_INT(f.len, 222);
	CHECK_EQ_INT(strlen(kat_header), 168);
	CHECK_MEM(f.p, kat_header, 168);
	CHECK_EQ_INT(pl, 54);
	CHECK_MEM(f.p + 168, payload, 54);
	CHECK_OK(age_fingerprint(f.p, f.len, fp2));
	CHECK_MEM(fp, fp2, 32);
	kat_id(&id);
	lacre_dbuf_init(&pt, 1 << 20);
	CHECK_OK(age_decrypt(f.p, f.len, &id, &pt));
	CHECK_EQ_INT(pt.len, strlen(kat_plain));
	CHECK_MEM(pt.p, kat_plain, pt.len);
	lacre_dbuf_free(&pt);
	lacre_dbuf_free(&f);

	CHECK_OK(kat_encrypt(NULL, 0, &f, fp));
	CHECK_EQ_INT(f.len, 200);
	CHECK_EQ_INT(AGE_X25519_FILE_SIZE(1, 0), 200);
	lacre_dbuf_free(&f);
	CHECK_OK(kat_encrypt(big, 65536, &f, fp));
	CHECK_EQ_INT(f.len, 65736);
	CHECK_EQ_INT(AGE_X25519_FILE_SIZE(1, 65536), 65736);
	lacre_dbuf_free(&f);
	CHECK_OK(kat_encrypt(big, 65537, &f, fp));
	CHECK_EQ_INT(f.len, 65753);
	CHECK_EQ_INT(AGE_X25519_FILE_SIZE(1, 65537), 65753);
	lacre_dbuf_free(&f);
}

/* Round trip n bytes to three recipients with writes of size step,
 * draining the output buffer into a file image between writes. */
static void roundtrip(size_t n, size_t step)
{
	struct age_x25519_identity ids[3], other;
	uint8_t rcp[3][32], fp[32], fp2[32], *pt = malloc(n + 1);
	struct lacre_dbuf out, file, back;
	struct age_writer *w = NULL;
	struct age_reader *rd = NULL;
	int final = 0;

	CHECK(pt != NULL);
	for (size_t i = 0; i < n; i++)
		pt[i] = (uint8_t)(i * 131 + (i >> 8));
	for (int i = 0; i < 3; i++) {
		CHECK_OK(age_x25519_generate(&ids[i]));
		memcpy(rcp[i], ids[i].public_key, 32);
	}
	CHECK_OK(age_x25519_generate(&other));
	lacre_dbuf_init(&out, 1 << 20);
	lacre_dbuf_init(&file, 1 << 26);
	CHECK_OK(age_writer_new((const uint8_t (*)[32])rcp, 3, &out, &w));
	for (size_t o = 0; o < n; o += step) {
		size_t k = n - o < step ? n - o : step;
		CHECK_OK(age_writer_write(w, pt + o, k));
		CHECK_OK(lacre_dbuf_add(&file, out.p, out.len));
		lacre_dbuf_reset(&out);
	}
	CHECK_OK(age_writer_finish(w, fp));
	CHECK_EQ_INT(age_writer_write(w, pt, 1), LACRE_E_STATE);
	age_writer_free(w);
	CHECK_OK(lacre_dbuf_add(&file, out.p, out.len));
	CHECK_EQ_INT(file.len, AGE_X25519_FILE_SIZE(3, n));
	CHECK_OK(age_fingerprint(file.p, file.len, fp2));
	CHECK_MEM(fp, fp2, 32);
	for (int i = 0; i < 3; i++) {
		lacre_dbuf_init(&back, n + 1);
		CHECK_OK(age_decrypt(file.p, file.len, &ids[i], &back));
		CHECK_EQ_INT(back.len, n);
		CHECK(n == 0 || memcmp(back.p, pt, n) == 0);
		lacre_dbuf_free(&back);
	}
	/* the reader gives the same fingerprint */
	lacre_dbuf_init(&back, n + 1);
	CHECK_OK(age_reader_new(file.p, file.len, &ids[1], &rd));
	while (!final)
		CHECK_OK(age_reader_next(rd, &back, &final));
	CHECK_OK(age_reader_fingerprint(rd, fp2));
	CHECK_MEM(fp, fp2, 32);
	age_reader_free(rd);
	lacre_dbuf_free(&back);
	/* wrong identity; output capped below the plaintext size */
	lacre_dbuf_init(&back, n + 1);
	CHECK_EQ_INT(age_decrypt(file.p, file.len, &other, &back), LACRE_E_AUTH);
	CHECK_EQ_INT(back.len, 0);
	lacre_dbuf_free(&back);
	if (n > 0) {
		lacre_dbuf_init(&back, n);  /* cap n holds n - 1 bytes */
		CHECK_EQ_INT(age_decrypt(file.p, file.len, &ids[0], &back), LACRE_E_TOO_LARGE);
		CHECK_EQ_INT(back.len, 0);
		lacre_dbuf_free(&back);
	}
	lacre_dbuf_free(&out);
	lacre_dbuf_free(&file);
	free(pt);
}

static void test_roundtrip_sizes(void)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 65535, 65536, 65537,
					131072, 131073, 200000 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		roundtrip(sizes[i], sizes[i] ? sizes[i] : 1);
		if (t_failed_now)
			return;
		roundtrip(sizes[i], 1000);
		if (t_failed_now)
			return;
		roundtrip(sizes[i], 70000);
		if (t_failed_now)
			return;
	}
}

/* Make a 3-chunk file (200000 bytes) for the damage tests. */
static void damage_file(struct lacre_dbuf *f, struct age_x25519_identity *id, size_t n)
{
	uint8_t *pt = calloc(1, n + 1);
	struct age_writer *w = NULL;

	age_x25519_generate(id);
	lacre_dbuf_init(f, 1 << 22);
	age_writer_new((const uint8_t (*)[32])&id->public_key, 1, f, &w);
	age_writer_write(w, pt, n);
	age_writer_finish(w, NULL);
	age_writer_free(w);
	free(pt);
}

/* age_reader over f: the error of the first failing step (or OK). */
static int read_err(const uint8_t *p, size_t n, const struct age_x25519_identity *id)
{
	struct age_reader *rd = NULL;
	struct lacre_dbuf out;
	int final = 0, r;

	lacre_dbuf_init(&out, 1 << 22);
	r = age_reader_new(p, n, id, &rd);
	while (r == 0 && !final)
		r = age_reader_next(rd, &out, &final);
	age_reader_free(rd);
	lacre_dbuf_free(&out);
	return r;
}

static void test_damage(void)
{
	struct age_x25519_identity id;
	struct lacre_dbuf f, g;
	const size_t hl = 22 + 98 + 48, n = 200000, enc = 65552;
	size_t total;
	uint8_t fp[32];

	damage_file(&f, &id, n);
	total = f.len;
	CHECK_EQ_INT(total, AGE_X25519_FILE_SIZE(1, n));
	CHECK_OK(read_err(f.p, f.len, &id));
	/* truncation at chunk boundaries and inside chunks */
	CHECK_EQ_INT(read_err(f.p, hl + 16 + enc, &id), LACRE_E_TRUNCATED);
	CHECK_EQ_INT(read_err(f.p, hl + 16 + 2 * enc, &id), LACRE_E_TRUNCATED);
	CHECK_EQ_INT(read_err(f.p, hl + 16, &id), LACRE_E_TRUNCATED);
	CHECK_EQ_INT(read_err(f.p, hl + 10, &id), LACRE_E_TRUNCATED);
	CHECK_EQ_INT(read_err(f.p, hl + 16 + 2 * enc + 10, &id), LACRE_E_TRUNCATED);
	CHECK_EQ_INT(read_err(f.p, total - 1, &id), LACRE_E_CORRUPT);
	CHECK_EQ_INT(read_err(f.p, hl + 16 + enc + 100, &id), LACRE_E_CORRUPT);
	CHECK_EQ_INT(read_err(f.p, 100, &id), LACRE_E_TRUNCATED);
	CHECK_EQ_INT(read_err(f.p, 10, &id), LACRE_E_TRUNCATED);
	CHECK_EQ_INT(read_err(f.p, 0, &id), LACRE_E_TRUNCATED);
	CHECK_EQ_INT(age_fingerprint(f.p, hl + 10, fp), LACRE_E_TRUNCATED);
	CHECK_EQ_INT(age_fingerprint(f.p, 100, fp), LACRE_E_TRUNCATED);
	/* the public decrypt maps a truncation the same way */
	lacre_dbuf_init(&g, 1 << 22);
	CHECK_EQ_INT(age_decrypt(f.p, hl + 16 + enc, &id, &g), LACRE_E_TRUNCATED);
	CHECK_EQ_INT(g.len, 0);
	/* a byte appended to a short final chunk makes it a different chunk
	 * (tag failure); bytes after a full final chunk are LACRE_E_TRAILING,
	 * tested in test_hand_built */
	CHECK_OK(lacre_dbuf_add(&g, f.p, f.len));
	CHECK_OK(lacre_dbuf_add_u8(&g, 0));
	CHECK_EQ_INT(read_err(g.p, g.len, &id), LACRE_E_CORRUPT);
	lacre_dbuf_reset(&g);
	/* a flipped payload byte in each chunk, the nonce, a tag */
	{
		size_t at[] = { hl + 3, hl + 16 + 5, hl + 16 + enc + 7, total - 20, total - 1 };
		for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
			lacre_dbuf_reset(&g);
			CHECK_OK(lacre_dbuf_add(&g, f.p, f.len));
			g.p[at[i]] ^= 0x01;
			CHECK_EQ_INT(read_err(g.p, g.len, &id), LACRE_E_CORRUPT);
			struct lacre_dbuf o;
			lacre_dbuf_init(&o, 1 << 22);
			CHECK_EQ_INT(age_decrypt(g.p, g.len, &id, &o), LACRE_E_AUTH);
			CHECK_EQ_INT(o.len, 0);
			lacre_dbuf_free(&o);
		}
	}
	/* a flipped MAC character: header altered */
	lacre_dbuf_reset(&g);
	CHECK_OK(lacre_dbuf_add(&g, f.p, f.len));
	g.p[hl - 10] = g.p[hl - 10] == 'A' ? 'B' : 'A';
	CHECK_EQ_INT(read_err(g.p, g.len, &id), LACRE_E_CORRUPT);
	/* the version line */
	lacre_dbuf_reset(&g);
	CHECK_OK(lacre_dbuf_add(&g, f.p, f.len));
	g.p[20] = '2';
	CHECK_EQ_INT(read_err(g.p, g.len, &id), LACRE_E_MALFORMED);
	CHECK_EQ_INT(read_err((const uint8_t *)"hello world\n", 12, &id), LACRE_E_MALFORMED);
	lacre_dbuf_free(&g);
	lacre_dbuf_free(&f);
}

/* ---- hand-built files with the fixed file key ---- */

static void hkdf32(const uint8_t *ikm, size_t il, const uint8_t *salt, size_t sl,
		   const char *info, uint8_t out[32])
{
	EVP_KDF *k = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *c = EVP_KDF_CTX_new(k);
	OSSL_PARAM p[5], *q = p;
	*q++ = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
	*q++ = OSSL_PARAM_construct_octet_string("key", (void *)ikm, il);
	if (sl)
		*q++ = OSSL_PARAM_construct_octet_string("salt", (void *)salt, sl);
	*q++ = OSSL_PARAM_construct_octet_string("info", (void *)info, strlen(info));
	*q = OSSL_PARAM_construct_end();
	EVP_KDF_derive(c, out, 32, p);
	EVP_KDF_CTX_free(c);
	EVP_KDF_free(k);
}

/* Append hdr_text (ending with the last stanza) + its MAC line under the
 * 0x33 file key to f. */
static void add_header(struct lacre_dbuf *f, const char *hdr_text)
{
	uint8_t fk[16], hk[32], mac[32];
	unsigned ml = 0;
	unsigned char b64[64];
	struct lacre_dbuf m;

	memset(fk, 0x33, 16);
	hkdf32(fk, 16, NULL, 0, "header", hk);
	lacre_dbuf_init(&m, 1 << 16);
	lacre_dbuf_add_str(&m, hdr_text);
	lacre_dbuf_add_str(&m, "---");
	EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, hk, 32, m.p, m.len, mac, 32, NULL);
	(void)ml;
	EVP_EncodeBlock(b64, mac, 32);
	b64[43] = 0; /* drop the '=' */
	lacre_dbuf_add(f, m.p, m.len);
	lacre_dbuf_printf(f, " %s\n", b64);
	lacre_dbuf_free(&m);
}

/* Seal chunk i of p[0..n) with the 0x33 file key and 0x44 nonce. */
static void add_chunk(struct lacre_dbuf *f, const uint8_t *p, size_t n, uint64_t i, int final)
{
	uint8_t fk[16], nonce16[16], pk[32], nonce[12] = { 0 }, tag[16];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l = 0;

	memset(fk, 0x33, 16);
	memset(nonce16, 0x44, 16);
	hkdf32(fk, 16, nonce16, 16, "payload", pk);
	for (int k = 10; k >= 3; k--) {
		nonce[k] = (uint8_t)i;
		i >>= 8;
	}
	nonce[11] = (uint8_t)final;
	lacre_dbuf_reserve(f, n + 16);
	EVP_EncryptInit_ex(c, EVP_chacha20_poly1305(), NULL, pk, nonce);
	if (n)
		EVP_EncryptUpdate(c, f->p + f->len, &l, p, (int)n);
	EVP_EncryptFinal_ex(c, tag, &l);
	EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, tag);
	f->len += n;
	lacre_dbuf_add(f, tag, 16);
	EVP_CIPHER_CTX_free(c);
}

static const char kat_stanza[] =
	"-> X25519 D6poTtKIZ7l/Smot7l34zpdOdrcBjj8iocTPJnhXDyA\n"
	"2LId3GQ0YtbQ4+slEoWz7xD6tvQet84wp3CRK+Lq+WU\n";

/* Build version line + extra + KAT stanza + extra2, MAC, nonce and the
 * given chunks pattern; return the reader error with the KAT identity. */
static int hand_file(const char *before, const char *after, int pattern)
{
	struct age_x25519_identity id;
	struct lacre_dbuf f, t;
	static uint8_t big[65536];
	uint8_t nonce16[16];
	int r;

	kat_id(&id);
	memset(nonce16, 0x44, 16);
	lacre_dbuf_init(&f, 1 << 20);
	lacre_dbuf_init(&t, 1 << 16);
	lacre_dbuf_add_str(&t, "age-encryption.org/v1\n");
	lacre_dbuf_add_str(&t, before);
	lacre_dbuf_add_str(&t, kat_stanza);
	lacre_dbuf_add_str(&t, after);
	lacre_dbuf_add_u8(&t, 0);
	add_header(&f, (const char *)t.p);
	lacre_dbuf_add(&f, nonce16, 16);
	switch (pattern) {
	case 0: /* one small final chunk */
		add_chunk(&f, (const uint8_t *)"hi", 2, 0, 1);
		break;
	case 1: /* full non-final, then empty final: age rejects */
		add_chunk(&f, big, 65536, 0, 0);
		add_chunk(&f, NULL, 0, 1, 1);
		break;
	case 2: /* full chunk flagged non-final at end of input */
		add_chunk(&f, big, 65536, 0, 0);
		break;
	case 3: /* full final chunk followed by another chunk */
		add_chunk(&f, big, 65536, 0, 1);
		add_chunk(&f, (const uint8_t *)"x", 1, 1, 1);
		break;
	case 4: /* small non-final chunk at the end */
		add_chunk(&f, (const uint8_t *)"hi", 2, 0, 0);
		break;
	case 5: /* full final, then full non-final: final is not last */
		add_chunk(&f, big, 65536, 0, 1);
		add_chunk(&f, big, 65536, 1, 0);
		add_chunk(&f, big, 10, 2, 1);
		break;
	}
	r = read_err(f.p, f.len, &id);
	lacre_dbuf_free(&f);
	lacre_dbuf_free(&t);
	return r;
}

static void test_hand_built(void)
{
	/* the builder itself reproduces a valid file */
	CHECK_OK(hand_file("", "", 0));
	CHECK_EQ_INT(hand_file("", "", 1), LACRE_E_MALFORMED);
	CHECK_EQ_INT(hand_file("", "", 2), LACRE_E_TRUNCATED);
	CHECK_EQ_INT(hand_file("", "", 3), LACRE_E_TRAILING);
	CHECK_EQ_INT(hand_file("", "", 4), LACRE_E_CORRUPT);
	CHECK_EQ_INT(hand_file("", "", 5), LACRE_E_TRAILING);
	/* unknown stanzas are ignored, before and after ours; multi-line body */
	CHECK_OK(hand_file("-> example.com/enigma a b c\nAAAA\n", "", 0));
	CHECK_OK(hand_file("", "-> example.com/x\n"
			   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
			   "\n", 0));
	CHECK_OK(hand_file("", "-> empty\n\n", 0));
	/* another X25519 stanza for someone else first */
	CHECK_OK(hand_file("-> X25519 D6poTtKIZ7l/Smot7l34zpdOdrcBjj8iocTPJnhXDyA\n"
			   "3LId3GQ0YtbQ4+slEoWz7xD6tvQet84wp3CRK+Lq+WU\n", "", 0));
	/* grammar violations */
	CHECK_EQ_INT(hand_file("-> x\nAAA=\n", "", 0), LACRE_E_MALFORMED);      /* padding */
	CHECK_EQ_INT(hand_file("-> x\nAB\n", "", 0), LACRE_E_MALFORMED);        /* unused bits */
	CHECK_EQ_INT(hand_file("-> x\nA\n", "", 0), LACRE_E_MALFORMED);         /* length 1 mod 4 */
	CHECK_EQ_INT(hand_file("-> x  y\n\n", "", 0), LACRE_E_MALFORMED);      /* empty arg */
	CHECK_EQ_INT(hand_file("-> x \n\n", "", 0), LACRE_E_MALFORMED);        /* trailing space */
	CHECK_EQ_INT(hand_file("-> \n\n", "", 0), LACRE_E_MALFORMED);          /* no type */
	CHECK_EQ_INT(hand_file("->x\n\n", "", 0), LACRE_E_MALFORMED);
	CHECK_EQ_INT(hand_file("", "junk\n", 0), LACRE_E_MALFORMED);
	CHECK_EQ_INT(hand_file("-> x\n"
			       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
			       "", 0), LACRE_E_MALFORMED);                     /* line > 64 */
	CHECK_EQ_INT(hand_file("-> x\n"
			       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
			       "", 0), LACRE_E_MALFORMED);  /* full line must be followed by a final line */
	/* scrypt may not be mixed with other stanzas */
	CHECK_EQ_INT(hand_file("-> scrypt AAAAAAAAAAAAAAAAAAAAAA 10\n"
			       "2LId3GQ0YtbQ4+slEoWz7xD6tvQet84wp3CRK+Lq+WU\n", "", 0), LACRE_E_MALFORMED);
}

/* X25519 stanza checks: arguments, share encoding, body length, low order. */
static void test_x25519_stanza_rules(void)
{
	struct age_x25519_identity id;
	struct lacre_dbuf f, o;
	char *s;
	int r;

	CHECK_OK(kat_encrypt((const uint8_t *)"x", 1, &f, NULL));
	kat_id(&id);
	lacre_dbuf_init(&o, 100);
	s = (char *)f.p;
	/* non-canonical share: change the last character's unused bits */
	{
		struct lacre_dbuf g;
		lacre_dbuf_init(&g, 1 << 16);
		lacre_dbuf_add(&g, f.p, f.len);
		((char *)g.p)[22 + 10 + 42] = 'B'; /* 'A' -> 'B' sets an unused bit */
		r = age_decrypt(g.p, g.len, &id, &o);
		CHECK_EQ_INT(r, LACRE_E_MALFORMED);
		lacre_dbuf_free(&g);
	}
	CHECK(s[22 + 10 + 42] == 'A');
	/* extra argument */
	CHECK_EQ_INT(hand_file("", "", 0), LACRE_OK);
	CHECK_EQ_INT(hand_file("-> X25519 D6poTtKIZ7l/Smot7l34zpdOdrcBjj8iocTPJnhXDyA extra\n"
			       "2LId3GQ0YtbQ4+slEoWz7xD6tvQet84wp3CRK+Lq+WU\n", "", 0), LACRE_E_MALFORMED);
	/* body of 33 bytes */
	CHECK_EQ_INT(hand_file("-> X25519 D6poTtKIZ7l/Smot7l34zpdOdrcBjj8iocTPJnhXDyA\n"
			       "2LId3GQ0YtbQ4+slEoWz7xD6tvQet84wp3CRK+Lq+WUAA\n", "", 0), LACRE_E_MALFORMED);
	/* an all-zero share (low order): the shared secret is zero */
	CHECK_EQ_INT(hand_file("-> X25519 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
			       "2LId3GQ0YtbQ4+slEoWz7xD6tvQet84wp3CRK+Lq+WU\n", "", 0), LACRE_E_MALFORMED);
	lacre_dbuf_free(&o);
	lacre_dbuf_free(&f);
}

static void test_scrypt(void)
{
	struct lacre_dbuf f, o;
	struct age_writer *w = NULL;
	struct age_x25519_identity id;
	uint8_t fp[32], fp2[32];
	const char msg[] = "site master key material";

	lacre_dbuf_init(&f, 1 << 16);
	CHECK_OK(age_writer_new_scrypt("correct horse", 10, &f, &w));
	CHECK_OK(age_writer_write(w, msg, sizeof(msg)));
	CHECK_OK(age_writer_finish(w, fp));
	age_writer_free(w);
	CHECK(memcmp(f.p + 22, "-> scrypt ", 10) == 0);
	CHECK_OK(age_fingerprint(f.p, f.len, fp2));
	CHECK_MEM(fp, fp2, 32);
	lacre_dbuf_init(&o, 1024);
	CHECK_OK(age_decrypt_scrypt(f.p, f.len, "correct horse", 0, &o));
	CHECK_EQ_INT(o.len, sizeof(msg));
	CHECK_MEM(o.p, msg, sizeof(msg));
	lacre_dbuf_reset(&o);
	CHECK_EQ_INT(age_decrypt_scrypt(f.p, f.len, "wrong horse", 0, &o), LACRE_E_PASSPHRASE);
	CHECK_EQ_INT(age_decrypt_scrypt(f.p, f.len, "correct horse", 9, &o), LACRE_E_TOO_LARGE);
	CHECK_EQ_INT(o.len, 0);
	/* an X25519 identity cannot open it */
	CHECK_OK(age_x25519_generate(&id));
	CHECK_EQ_INT(age_decrypt(f.p, f.len, &id, &o), LACRE_E_AUTH);
	/* a passphrase cannot open an X25519 file */
	lacre_dbuf_free(&f);
	CHECK_OK(kat_encrypt((const uint8_t *)"x", 1, &f, NULL));
	CHECK_EQ_INT(age_decrypt_scrypt(f.p, f.len, "correct horse", 0, &o), LACRE_E_AUTH);
	CHECK_EQ_INT(age_writer_new_scrypt("", 10, &o, &w), LACRE_E_INVALID);
	lacre_dbuf_free(&o);
	lacre_dbuf_free(&f);
}

static void test_scrypt_work_factor_syntax(void)
{
	/* leading zero and non-digits are rejected before any work is done */
	struct lacre_dbuf f, o;
	const char *bad[] = { "010", "1a", "", "+10", "99999999999" };
	lacre_dbuf_init(&o, 100);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		lacre_dbuf_init(&f, 1 << 16);
		lacre_dbuf_printf(&f, "age-encryption.org/v1\n-> scrypt AAAAAAAAAAAAAAAAAAAAAA%s%s\n"
				  "2LId3GQ0YtbQ4+slEoWz7xD6tvQet84wp3CRK+Lq+WU\n"
				  "--- pFP/slvSI6adTG9gbIMUkMteHLo8g+jxduOT//W6sLU\n",
				  bad[i][0] ? " " : "", bad[i]);
		int r = age_decrypt_scrypt(f.p, f.len, "pw", 0, &o);
		CHECK(r == LACRE_E_MALFORMED || r == LACRE_E_TOO_LARGE);
		lacre_dbuf_free(&f);
	}
	lacre_dbuf_free(&o);
}

int main(void)
{
	RUN(test_bech32_bip173);
	RUN(test_identity_kat);
	RUN(test_file_kat);
	RUN(test_roundtrip_sizes);
	RUN(test_damage);
	RUN(test_hand_built);
	RUN(test_x25519_stanza_rules);
	RUN(test_scrypt);
	RUN(test_scrypt_work_factor_syntax);
	return t_done();
}
