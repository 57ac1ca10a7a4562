/*
 * test_etsi_crypt.c - the EncryptionContainer decryptor and the byteCounter
 * tracker (lib/wire/etsi_crypt.c).
 *
 * Encrypted PDUs are built here the way the Annex G rule of etsi_crypt.h
 * describes (a plain PS-PDU from etsi_enc, its payload wrapped in an
 * EncryptedPayload, zero padded, encrypted with OpenSSL under the IV of
 * the sequence number), independently of the decryptor; the real OpenLI
 * capture (vectors/openli-c) checks the same rule against another
 * implementation.  Covered: round trips for every supported cipher
 * (Blowfish when OpenSSL's legacy provider is installed), a
 * wrong key, a missing key, short and ragged ciphertexts, bad padding, a
 * rotated key with validity windows, an unsupported cipher, key files,
 * and the byteCounter chain (in order, reordered, a gap, a duplicate, a
 * restart).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/provider.h>

#include "harness.h"
#include "lacre/ber.h"
#include "lacre/ber_enc.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_crypt.h"
#include "lacre/etsi_enc.h"

static const uint8_t key_a[24] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
				   17, 18, 19, 20, 21, 22, 23, 24 };
static const uint8_t key_b[24] = { 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9,
				   0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3,
				   0xc4, 0xc5, 0xc6, 0xc7 };
static const uint8_t key_32[32] = { 0x32, 0x31, 0x30, 0x2f, 0x2e, 0x2d, 0x2c, 0x2b, 0x2a, 0x29,
				    0x28, 0x27, 0x26, 0x25, 0x24, 0x23, 0x22, 0x21, 0x20, 0x1f,
				    0x1e, 0x1d, 0x1c, 0x1b, 0x1a, 0x19, 0x18, 0x17, 0x16, 0x15,
				    0x14, 0x13 };
static const uint8_t packet[28] = { 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 1, 1, 1,
				    10, 2, 2, 2, 0x30, 0x39, 0x00, 0x35, 0, 8, 0, 0 };

/* How to damage the encrypted PDU built by make_enc. */
enum damage { D_NONE, D_PAD_NONZERO, D_PAD_BLOCK, D_RAGGED, D_EMPTY };

static OSSL_LIB_CTX *legacy;
static OSSL_PROVIDER *prov_legacy, *prov_default;
static EVP_CIPHER *test_bf;

/* BF-CBC from OpenSSL's legacy provider (in a context of the test's own),
 * or NULL when it is not installed. */
static const EVP_CIPHER *blowfish(void)
{
	if (!legacy) {
		legacy = OSSL_LIB_CTX_new();
		if (legacy && (prov_legacy = OSSL_PROVIDER_load(legacy, "legacy")) != NULL &&
		    (prov_default = OSSL_PROVIDER_load(legacy, "default")) != NULL)
			test_bf = EVP_CIPHER_fetch(legacy, "BF-CBC", NULL);
	}
	return test_bf;
}

/* The cipher of an encryptionType, for building test PDUs. */
static const EVP_CIPHER *test_cipher(int type)
{
	return type == 3 ? EVP_aes_192_cbc() : type == 4 ? EVP_aes_256_cbc() :
	       type == 5 || type == 6 ? blowfish() : type == 7 ? EVP_des_ede3_cbc() : NULL;
}

/* Key length of an encryptionType, for building test PDUs. */
static int test_key_len(int type)
{
	return type == 4 || type == 6 ? 32 : 24;
}

/*
 * An encrypted IPCC PS-PDU of liid/seq, byteCounter counter, encrypted
 * with key under encryptionType type, into out.  0 or -1.
 */
static int make_enc(struct lacre_dbuf *out, const char *liid, uint64_t seq, uint64_t counter,
		    int type, const uint8_t *key, enum damage dmg)
{
	struct etsi_enc_header h;
	struct lacre_dbuf plainpdu, ep;
	struct etsi_pdu pdu;
	struct ber_enc e;
	struct lacre_rbuf b, c;
	struct ber_tlv outer, y, payload;
	uint8_t ct[512], iv[16], cbytes[8];
	const EVP_CIPHER *ciph = test_cipher(type);
	size_t block = ciph ? (size_t)EVP_CIPHER_get_block_size(ciph) : 16, n;
	int l1 = 0, l2 = 0, rc = -1;
	EVP_CIPHER_CTX *cx = NULL;

	lacre_dbuf_init(&plainpdu, 4096);
	lacre_dbuf_init(&ep, 4096);
	etsi_enc_header_defaults(&h);
	h.liid = (const uint8_t *)liid;
	h.liid_len = strlen(liid);
	h.operator_id = "opT";
	h.has_cin = 1;
	h.cin = 5;
	h.seq = seq;
	h.time_style = ETSI_ENC_TIME_MICROSECOND;
	h.time_us = 1796592809066294LL;
	if (etsi_enc_ipcc(&plainpdu, &h, 0, packet, sizeof(packet)) != LACRE_OK ||
	    etsi_decode(plainpdu.p, plainpdu.len, &pdu) != LACRE_OK)
		goto done;
	/* the payload [2] element of the plain PDU */
	lacre_rbuf_init(&b, plainpdu.p, plainpdu.len);
	if (ber_next(&b, &outer, 8) != LACRE_OK)
		goto done;
	lacre_rbuf_init(&c, outer.value, outer.len);
	if (ber_next(&c, &y, 8) != LACRE_OK || ber_next(&c, &payload, 8) != LACRE_OK)
		goto done;
	/* EncryptedPayload { byteCounter [0] 8 octets, payload [1] } */
	for (int i = 0; i < 8; i++)
		cbytes[i] = (uint8_t)(counter >> (56 - 8 * i));
	ber_enc_init(&e, &ep, BER_ENC_LEN_MINIMAL);
	ber_enc_seq(&e);
	ber_enc_prim(&e, BER_CONTEXT, 0, cbytes, 8);
	ber_enc_open(&e, BER_CONTEXT, 1);
	ber_enc_raw(&e, payload.value, payload.len);
	ber_enc_close(&e);
	ber_enc_close(&e);
	if (ber_enc_finish(&e) != LACRE_OK)
		goto done;
	while (ep.len % block)
		lacre_dbuf_add_u8(&ep, dmg == D_PAD_NONZERO ? 0x07 : 0);
	if (dmg == D_PAD_NONZERO && ep.len % block == 0 && ep.p[ep.len - 1] == 0) {
		/* already aligned: add a block of non-zero padding */
		for (size_t i = 0; i < block; i++)
			lacre_dbuf_add_u8(&ep, 0x07);
	}
	if (dmg == D_PAD_BLOCK)
		for (size_t i = 0; i < block; i++)
			lacre_dbuf_add_u8(&ep, 0);
	if (ep.len > sizeof(ct))
		goto done;
	n = ep.len;
	if (ciph) {
		for (size_t i = 0; i < block; i += 4) {
			iv[i] = (uint8_t)(seq >> 24);
			iv[i + 1] = (uint8_t)(seq >> 16);
			iv[i + 2] = (uint8_t)(seq >> 8);
			iv[i + 3] = (uint8_t)seq;
		}
		cx = EVP_CIPHER_CTX_new();
		if (!cx || EVP_EncryptInit_ex(cx, ciph, NULL, NULL, NULL) != 1 ||
		    EVP_CIPHER_CTX_set_key_length(cx, test_key_len(type)) != 1 ||
		    EVP_EncryptInit_ex(cx, NULL, NULL, key, iv) != 1 ||
		    EVP_CIPHER_CTX_set_padding(cx, 0) != 1 ||
		    EVP_EncryptUpdate(cx, ct, &l1, ep.p, (int)ep.len) != 1 ||
		    EVP_EncryptFinal_ex(cx, ct + l1, &l2) != 1)
			goto done;
	} else {
		memcpy(ct, ep.p, n);  /* a cipher lacre cannot do: any bytes */
	}
	if (dmg == D_RAGGED)
		n -= 1;
	if (dmg == D_EMPTY)
		n = 0;
	/* PS-PDU { pSHeader (as built), payload [2] { encryptionContainer [4] } } */
	lacre_dbuf_reset(out);
	ber_enc_init(&e, out, BER_ENC_LEN_MINIMAL);
	ber_enc_seq(&e);
	ber_enc_raw(&e, pdu.header_tlv.p, pdu.header_tlv.len);
	ber_enc_open(&e, BER_CONTEXT, 2);
	ber_enc_open(&e, BER_CONTEXT, 4);
	ber_enc_uint(&e, BER_CONTEXT, 0, (uint64_t)type);
	ber_enc_prim(&e, BER_CONTEXT, 1, ct, n);
	ber_enc_uint(&e, BER_CONTEXT, 2, 3);
	ber_enc_close(&e);
	ber_enc_close(&e);
	ber_enc_close(&e);
	rc = ber_enc_finish(&e) == LACRE_OK ? 0 : -1;
done:
	EVP_CIPHER_CTX_free(cx);
	lacre_dbuf_free(&plainpdu);
	lacre_dbuf_free(&ep);
	return rc;
}

/* Decode raw as a PS-PDU and try to decrypt it with kr at at_us. */
static int try_decrypt(const struct lacre_dbuf *raw, const struct etsi_keyring *kr, int64_t at_us,
		       struct etsi_pdu *pdu, struct lacre_dbuf *plain)
{
	int r = etsi_decode(raw->p, raw->len, pdu);

	if (r != LACRE_OK)
		return r;
	if (!pdu->encrypted || pdu->kind != ETSI_KIND_OTHER)
		return LACRE_E_INTERNAL;
	return etsi_decrypt(kr, at_us, pdu, plain);
}

/* Every supported cipher: the inner IPCC comes back with its packet and
 * the byteCounter. */
static void test_roundtrip(void)
{
	static const struct { int type; const uint8_t *key; size_t len; } c[] = {
		{ 3, key_a, 24 }, { 4, key_32, 32 }, { 7, key_b, 24 },
	};
	struct lacre_dbuf raw, plain;
	struct etsi_keyring kr;
	struct etsi_pdu pdu;

	lacre_dbuf_init(&raw, 8192);
	lacre_dbuf_init(&plain, 8192);
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		etsi_keyring_init(&kr);
		CHECK_OK(etsi_keyring_add(&kr, c[i].key, c[i].len, INT64_MIN, INT64_MAX));
		CHECK_EQ_INT(make_enc(&raw, "LI-ENC", 0x01020304u, 0x6b15d4a900000410ull, c[i].type,
				      c[i].key, D_NONE), 0);
		CHECK_OK(try_decrypt(&raw, &kr, INT64_MIN, &pdu, &plain));
		CHECK_EQ_INT(pdu.decrypted, 1);
		CHECK_EQ_INT(pdu.encrypted, 1);
		CHECK_EQ_INT(pdu.partial, 0);
		CHECK_EQ_INT(pdu.kind, ETSI_KIND_CC);
		CHECK_STR(pdu.content, "ipcc");
		CHECK_EQ_INT(pdu.content_bytes.len, sizeof(packet));
		CHECK_MEM(pdu.content_bytes.p, packet, sizeof(packet));
		CHECK_EQ_INT(pdu.has_byte_counter, 1);
		CHECK(pdu.byte_counter == 0x6b15d4a900000410ull);
		CHECK_EQ_INT(pdu.enc.type, c[i].type);
		CHECK_EQ_INT(pdu.flags, 0);
		/* the header is the received one */
		CHECK_EQ_INT(pdu.seq, 0x01020304u);
		CHECK_EQ_INT(pdu.liid.len, 6);
		etsi_keyring_wipe(&kr);
		CHECK_EQ_INT(kr.n, 0);
	}
	lacre_dbuf_free(&raw);
	lacre_dbuf_free(&plain);
}

/* A wrong key: LACRE_E_AUTH, and the PDU stays its ciphertext view. */
static void test_wrong_key(void)
{
	struct lacre_dbuf raw, plain;
	struct etsi_keyring kr;
	struct etsi_pdu pdu;

	lacre_dbuf_init(&raw, 8192);
	lacre_dbuf_init(&plain, 8192);
	etsi_keyring_init(&kr);
	CHECK_OK(etsi_keyring_add(&kr, key_b, 24, INT64_MIN, INT64_MAX));
	CHECK_EQ_INT(make_enc(&raw, "LI-ENC", 9, 0, 3, key_a, D_NONE), 0);
	CHECK_EQ_INT(try_decrypt(&raw, &kr, INT64_MIN, &pdu, &plain), LACRE_E_AUTH);
	CHECK_EQ_INT(pdu.decrypt_err, LACRE_E_AUTH);
	CHECK_EQ_INT(pdu.decrypted, 0);
	CHECK_EQ_INT(pdu.kind, ETSI_KIND_OTHER);
	CHECK_EQ_INT(pdu.payload, ETSI_PAYLOAD_ENCRYPTED);
	CHECK(pdu.content == NULL);
	CHECK_EQ_INT(pdu.has_byte_counter, 0);
	CHECK_EQ_INT(plain.len, 0);
	lacre_dbuf_free(&raw);
	lacre_dbuf_free(&plain);
}

/* No key at all, or only keys of another length: LACRE_E_NOT_FOUND. */
static void test_missing_key(void)
{
	struct lacre_dbuf raw, plain;
	struct etsi_keyring kr;
	struct etsi_pdu pdu;

	lacre_dbuf_init(&raw, 8192);
	lacre_dbuf_init(&plain, 8192);
	etsi_keyring_init(&kr);
	CHECK_EQ_INT(make_enc(&raw, "LI-ENC", 1, 0, 3, key_a, D_NONE), 0);
	CHECK_EQ_INT(try_decrypt(&raw, &kr, INT64_MIN, &pdu, &plain), LACRE_E_NOT_FOUND);
	CHECK_OK(etsi_keyring_add(&kr, key_32, 32, INT64_MIN, INT64_MAX));
	CHECK_EQ_INT(try_decrypt(&raw, &kr, INT64_MIN, &pdu, &plain), LACRE_E_NOT_FOUND);
	CHECK_EQ_INT(pdu.decrypt_err, LACRE_E_NOT_FOUND);
	/* a PDU in clear is not something to decrypt */
	{
		struct etsi_enc_header h;
		etsi_enc_header_defaults(&h);
		h.liid = (const uint8_t *)"LI-CLEAR";
		h.liid_len = 8;
		h.operator_id = "opT";
		lacre_dbuf_reset(&raw);
		CHECK_OK(etsi_enc_ipcc(&raw, &h, 0, packet, sizeof(packet)));
		CHECK_OK(etsi_decode(raw.p, raw.len, &pdu));
		CHECK_EQ_INT(etsi_decrypt(&kr, INT64_MIN, &pdu, &plain), LACRE_E_INVALID);
		CHECK_EQ_INT(pdu.kind, ETSI_KIND_CC);
	}
	lacre_dbuf_free(&raw);
	lacre_dbuf_free(&plain);
}

/* A ciphertext that is not whole blocks, or empty: LACRE_E_MALFORMED. */
static void test_short_ciphertext(void)
{
	struct lacre_dbuf raw, plain;
	struct etsi_keyring kr;
	struct etsi_pdu pdu;

	lacre_dbuf_init(&raw, 8192);
	lacre_dbuf_init(&plain, 8192);
	etsi_keyring_init(&kr);
	CHECK_OK(etsi_keyring_add(&kr, key_a, 24, INT64_MIN, INT64_MAX));
	CHECK_EQ_INT(make_enc(&raw, "LI-ENC", 2, 0, 3, key_a, D_RAGGED), 0);
	CHECK_EQ_INT(try_decrypt(&raw, &kr, INT64_MIN, &pdu, &plain), LACRE_E_MALFORMED);
	CHECK_EQ_INT(pdu.kind, ETSI_KIND_OTHER);
	CHECK_EQ_INT(make_enc(&raw, "LI-ENC", 2, 0, 3, key_a, D_EMPTY), 0);
	CHECK_OK(etsi_decode(raw.p, raw.len, &pdu));
	CHECK_EQ_INT(etsi_decrypt(&kr, INT64_MIN, &pdu, &plain), LACRE_E_MALFORMED);
	lacre_dbuf_free(&raw);
	lacre_dbuf_free(&plain);
}

/* Padding of non-zero octets, or a whole extra block: LACRE_E_MALFORMED
 * (the key is right: the EncryptedPayload itself parses). */
static void test_bad_padding(void)
{
	struct lacre_dbuf raw, plain;
	struct etsi_keyring kr;
	struct etsi_pdu pdu;

	lacre_dbuf_init(&raw, 8192);
	lacre_dbuf_init(&plain, 8192);
	etsi_keyring_init(&kr);
	CHECK_OK(etsi_keyring_add(&kr, key_a, 24, INT64_MIN, INT64_MAX));
	CHECK_EQ_INT(make_enc(&raw, "LI-ENC", 3, 0, 3, key_a, D_PAD_NONZERO), 0);
	CHECK_EQ_INT(try_decrypt(&raw, &kr, INT64_MIN, &pdu, &plain), LACRE_E_MALFORMED);
	CHECK_EQ_INT(pdu.decrypted, 0);
	CHECK_EQ_INT(make_enc(&raw, "LI-ENC", 3, 0, 3, key_a, D_PAD_BLOCK), 0);
	CHECK_EQ_INT(try_decrypt(&raw, &kr, INT64_MIN, &pdu, &plain), LACRE_E_MALFORMED);
	/* the same PDU without damage decrypts: the damage was the cause */
	CHECK_EQ_INT(make_enc(&raw, "LI-ENC", 3, 0, 3, key_a, D_NONE), 0);
	CHECK_OK(try_decrypt(&raw, &kr, INT64_MIN, &pdu, &plain));
	lacre_dbuf_free(&raw);
	lacre_dbuf_free(&plain);
}

/* A key rotated at time T: each PDU decrypts with its key; the old key
 * after its window still works but is flagged. */
static void test_rotated_key(void)
{
	const int64_t t_rot = 1796592000000000LL;
	struct lacre_dbuf raw, plain;
	struct etsi_keyring kr;
	struct etsi_pdu pdu;

	lacre_dbuf_init(&raw, 8192);
	lacre_dbuf_init(&plain, 8192);
	etsi_keyring_init(&kr);
	CHECK_OK(etsi_keyring_add(&kr, key_a, 24, INT64_MIN, t_rot));
	CHECK_OK(etsi_keyring_add(&kr, key_b, 24, t_rot, INT64_MAX));
	CHECK_EQ_INT(etsi_keyring_add(&kr, key_b, 24, t_rot, t_rot), LACRE_E_INVALID);
	CHECK_EQ_INT(etsi_keyring_add(&kr, key_b, 16, INT64_MIN, INT64_MAX), LACRE_E_INVALID);
	/* before the rotation, under the old key */
	CHECK_EQ_INT(make_enc(&raw, "LI-ROT", 10, 0, 3, key_a, D_NONE), 0);
	CHECK_OK(try_decrypt(&raw, &kr, t_rot - 1, &pdu, &plain));
	CHECK_EQ_INT(pdu.flags & ETSI_FLAG_KEY_OUTSIDE_WINDOW, 0);
	/* after it, under the new key */
	CHECK_EQ_INT(make_enc(&raw, "LI-ROT", 11, 1000, 3, key_b, D_NONE), 0);
	CHECK_OK(try_decrypt(&raw, &kr, t_rot, &pdu, &plain));
	CHECK_EQ_INT(pdu.flags & ETSI_FLAG_KEY_OUTSIDE_WINDOW, 0);
	CHECK_STR(pdu.content, "ipcc");
	/* a late PDU under the old key, received after the rotation */
	CHECK_EQ_INT(make_enc(&raw, "LI-ROT", 12, 2000, 3, key_a, D_NONE), 0);
	CHECK_OK(try_decrypt(&raw, &kr, t_rot + 5000000, &pdu, &plain));
	CHECK(pdu.flags & ETSI_FLAG_KEY_OUTSIDE_WINDOW);
	CHECK_STR(etsi_flag_name(ETSI_FLAG_KEY_OUTSIDE_WINDOW), "key-outside-validity-window");
	lacre_dbuf_free(&raw);
	lacre_dbuf_free(&plain);
}

/* Blowfish-192 and -256 (OpenSSL's legacy provider) round trip, and a
 * Blowfish key of the wrong length is not tried. */
static void test_blowfish(void)
{
	struct lacre_dbuf raw, plain;
	struct etsi_keyring kr;
	struct etsi_pdu pdu;

	if (!blowfish())
		SKIP("OpenSSL's legacy provider (Blowfish) is not installed here");
	lacre_dbuf_init(&raw, 8192);
	lacre_dbuf_init(&plain, 8192);
	etsi_keyring_init(&kr);
	CHECK_OK(etsi_keyring_add(&kr, key_b, 24, INT64_MIN, INT64_MAX));
	CHECK_EQ_INT(make_enc(&raw, "LI-BF", 77, 5, 5, key_b, D_NONE), 0);
	CHECK_OK(try_decrypt(&raw, &kr, INT64_MIN, &pdu, &plain));
	CHECK_STR(pdu.content, "ipcc");
	CHECK_MEM(pdu.content_bytes.p, packet, sizeof(packet));
	CHECK_EQ_INT(make_enc(&raw, "LI-BF", 78, 6, 6, key_32, D_NONE), 0);
	CHECK_EQ_INT(try_decrypt(&raw, &kr, INT64_MIN, &pdu, &plain), LACRE_E_NOT_FOUND);
	CHECK_OK(etsi_keyring_add(&kr, key_32, 32, INT64_MIN, INT64_MAX));
	CHECK_OK(try_decrypt(&raw, &kr, INT64_MIN, &pdu, &plain));
	CHECK(pdu.byte_counter == 6);
	/* a Blowfish-192 PDU under the wrong key */
	CHECK_EQ_INT(make_enc(&raw, "LI-BF", 79, 7, 5, key_a, D_NONE), 0);
	CHECK_EQ_INT(try_decrypt(&raw, &kr, INT64_MIN, &pdu, &plain), LACRE_E_AUTH);
	lacre_dbuf_free(&raw);
	lacre_dbuf_free(&plain);
}

/* national-option (2) and unknown types: LACRE_E_UNSUPPORTED. */
static void test_unsupported(void)
{
	struct lacre_dbuf raw, plain;
	struct etsi_keyring kr;
	struct etsi_pdu pdu;

	lacre_dbuf_init(&raw, 8192);
	lacre_dbuf_init(&plain, 8192);
	etsi_keyring_init(&kr);
	CHECK_OK(etsi_keyring_add(&kr, key_a, 24, INT64_MIN, INT64_MAX));
	CHECK_EQ_INT(make_enc(&raw, "LI-ENC", 4, 0, 2, key_a, D_NONE), 0);
	CHECK_EQ_INT(try_decrypt(&raw, &kr, INT64_MIN, &pdu, &plain), LACRE_E_UNSUPPORTED);
	CHECK_EQ_INT(make_enc(&raw, "LI-ENC", 4, 0, 99, key_a, D_NONE), 0);
	CHECK_EQ_INT(try_decrypt(&raw, &kr, INT64_MIN, &pdu, &plain), LACRE_E_UNSUPPORTED);
	CHECK_EQ_INT(etsi_cipher_key_len(2), 0);
	CHECK_EQ_INT(etsi_cipher_key_len(3), 24);
	CHECK_EQ_INT(etsi_cipher_key_len(4), 32);
	CHECK_EQ_INT(etsi_cipher_key_len(7), 24);
	lacre_dbuf_free(&raw);
	lacre_dbuf_free(&plain);
}

/* Key files: hex with white space and 0x, 24 or 32 octets, nothing else. */
static void test_key_from_hex(void)
{
	uint8_t k[ETSI_HKEY_MAX];
	size_t n = 0;
	const char *good = " 0x54b33708277ca5c1d79b0b232aab841d0c9bef14f5187d84\n";
	const char *up = "54B33708277CA5C1D79B0B232AAB841D0C9BEF14F5187D84";

	CHECK_OK(etsi_key_from_hex(good, strlen(good), k, &n));
	CHECK_EQ_INT(n, 24);
	CHECK_EQ_INT(k[0], 0x54);
	CHECK_EQ_INT(k[23], 0x84);
	CHECK_OK(etsi_key_from_hex(up, strlen(up), k, &n));
	CHECK_EQ_INT(k[1], 0xb3);
	CHECK_EQ_INT(etsi_key_from_hex("00112233", 8, k, &n), LACRE_E_MALFORMED);
	CHECK_EQ_INT(etsi_key_from_hex(up, strlen(up) - 1, k, &n), LACRE_E_MALFORMED);
	CHECK_EQ_INT(etsi_key_from_hex("zz", 2, k, &n), LACRE_E_MALFORMED);
	CHECK_EQ_INT(etsi_key_from_hex("", 0, k, &n), LACRE_E_MALFORMED);
}

/* A decoded PDU carrying only what the tracker reads. */
static void fake(struct etsi_pdu *p, const char *liid, uint32_t start, uint32_t count)
{
	memset(p, 0, sizeof(*p));
	p->liid.p = (const uint8_t *)liid;
	p->liid.len = strlen(liid);
	p->has_byte_counter = 1;
	p->byte_counter = (uint64_t)start << 32 | count;
}

struct gaps {
	unsigned n;
	uint64_t from, to;
	char liid[16];
};

/* etsi_bctr_finish callback of the tests: remember the last gap. */
static void on_gap(void *arg, const uint8_t *liid, size_t len, uint64_t from, uint64_t to)
{
	struct gaps *g = arg;

	g->n++;
	g->from = from;
	g->to = to;
	snprintf(g->liid, sizeof(g->liid), "%.*s", (int)len, (const char *)liid);
}

/* The byteCounter chain: in order, reordered, a gap, a duplicate, a restart. */
static void test_byte_counter(void)
{
	struct etsi_bctr b;
	struct etsi_pdu p;
	struct gaps g;
	uint64_t want = 0, got = 0;

	/* in order, two LIIDs interleaved */
	etsi_bctr_init(&b, 16);
	fake(&p, "A", 100, 0);
	CHECK_EQ_INT(etsi_bctr_account(&b, &p, 50, &want, &got), ETSI_BCTR_FIRST);
	fake(&p, "B", 100, 0);
	CHECK_EQ_INT(etsi_bctr_account(&b, &p, 70, &want, &got), ETSI_BCTR_FIRST);
	fake(&p, "A", 100, 50);
	CHECK_EQ_INT(etsi_bctr_account(&b, &p, 30, &want, &got), ETSI_BCTR_OK);
	/* reordered: 110 arrives before 80 (a hash sent ahead of its data) */
	fake(&p, "A", 100, 110);
	CHECK_EQ_INT(etsi_bctr_account(&b, &p, 10, &want, &got), ETSI_BCTR_OK);
	fake(&p, "A", 100, 80);
	CHECK_EQ_INT(etsi_bctr_account(&b, &p, 30, &want, &got), ETSI_BCTR_OK);
	memset(&g, 0, sizeof(g));
	CHECK_EQ_INT(etsi_bctr_finish(&b, on_gap, &g), 0);
	CHECK_EQ_INT(g.n, 0);
	etsi_bctr_free(&b);

	/* a gap: 50..80 never arrives */
	etsi_bctr_init(&b, 16);
	fake(&p, "LI-G", 7, 0);
	CHECK_EQ_INT(etsi_bctr_account(&b, &p, 50, &want, &got), ETSI_BCTR_FIRST);
	fake(&p, "LI-G", 7, 80);
	CHECK_EQ_INT(etsi_bctr_account(&b, &p, 20, &want, &got), ETSI_BCTR_OK);
	memset(&g, 0, sizeof(g));
	CHECK_EQ_INT(etsi_bctr_finish(&b, on_gap, &g), 1);
	CHECK_EQ_INT(g.from, 50);
	CHECK_EQ_INT(g.to, 80);
	CHECK_STR(g.liid, "LI-G");
	etsi_bctr_free(&b);

	/* a stream that starts mid-chain: its first bytes are a gap */
	etsi_bctr_init(&b, 16);
	fake(&p, "LI-M", 7, 500);
	CHECK_EQ_INT(etsi_bctr_account(&b, &p, 50, &want, &got), ETSI_BCTR_FIRST);
	memset(&g, 0, sizeof(g));
	CHECK_EQ_INT(etsi_bctr_finish(&b, on_gap, &g), 1);
	CHECK_EQ_INT(g.from, 0);
	CHECK_EQ_INT(g.to, 500);
	etsi_bctr_free(&b);

	/* a duplicate: bytes counted twice */
	etsi_bctr_init(&b, 16);
	fake(&p, "LI-D", 7, 0);
	etsi_bctr_account(&b, &p, 50, &want, &got);
	fake(&p, "LI-D", 7, 50);
	etsi_bctr_account(&b, &p, 50, &want, &got);
	fake(&p, "LI-D", 7, 50);
	CHECK_EQ_INT(etsi_bctr_account(&b, &p, 50, &want, &got), ETSI_BCTR_BREAK);
	CHECK_EQ_INT(want, 100);
	CHECK_EQ_INT(got, 50);
	/* a restart: a new start time, counting from 0 again */
	fake(&p, "LI-D", 8, 0);
	CHECK_EQ_INT(etsi_bctr_account(&b, &p, 40, &want, &got), ETSI_BCTR_RESTART);
	CHECK_EQ_INT(want, 100);
	CHECK_EQ_INT(got, 0);
	fake(&p, "LI-D", 8, 40);
	CHECK_EQ_INT(etsi_bctr_account(&b, &p, 40, &want, &got), ETSI_BCTR_OK);
	CHECK_EQ_INT(etsi_bctr_finish(&b, NULL, NULL), 0);
	etsi_bctr_free(&b);

	/* the LIID cap: the third LIID is not tracked */
	etsi_bctr_init(&b, 2);
	fake(&p, "L1", 1, 0);
	etsi_bctr_account(&b, &p, 10, &want, &got);
	fake(&p, "L2", 1, 0);
	etsi_bctr_account(&b, &p, 10, &want, &got);
	fake(&p, "L3", 1, 0);
	CHECK_EQ_INT(etsi_bctr_account(&b, &p, 10, &want, &got), ETSI_BCTR_UNTRACKED);
	etsi_bctr_free(&b);
}

/* Too many PDUs held ahead of a gap: the gap is declared at once. */
static void test_byte_counter_bound(void)
{
	struct etsi_bctr b;
	struct etsi_pdu p;
	uint64_t want = 0, got = 0;
	int v = ETSI_BCTR_OK, breaks = 0;

	etsi_bctr_init(&b, 4);
	fake(&p, "LI-H", 1, 0);
	etsi_bctr_account(&b, &p, 10, &want, &got);
	/* 10..20 is missing; 100 PDUs follow */
	for (uint32_t i = 0; i < 100; i++) {
		fake(&p, "LI-H", 1, 20 + 10 * i);
		v = etsi_bctr_account(&b, &p, 10, &want, &got);
		if (v == ETSI_BCTR_BREAK) {
			breaks++;
			CHECK_EQ_INT(want, 10);
			CHECK_EQ_INT(got, 20);
		}
	}
	CHECK_EQ_INT(breaks, 1);
	CHECK_EQ_INT(etsi_bctr_finish(&b, NULL, NULL), 0);
	etsi_bctr_free(&b);
}

/* The real OpenLI capture: its first encrypted PDU (hi2.bin offset 73,
 * README "worked example") decrypts to an IPMMIRI Begin with byteCounter
 * 6b15d4a8 00000000, and a wrong key is told apart. */
static void test_openli_vector(void)
{
	size_t n = 0, kn = 0, klen = 0;
	uint8_t *raw = t_vector("openli-c/raw/hi2.bin", &n);
	uint8_t *ktext = t_vector("openli-c/config/payload-encryption-key.hex", &kn);
	uint8_t key[ETSI_HKEY_MAX];
	struct etsi_keyring kr;
	struct lacre_dbuf plain;
	struct etsi_pdu pdu;

	if (!raw || !ktext) {
		free(raw);
		free(ktext);
		return;
	}
	lacre_dbuf_init(&plain, 1 << 20);
	etsi_keyring_init(&kr);
	CHECK(n > 73 + 1040);
	CHECK_OK(etsi_key_from_hex((const char *)ktext, kn, key, &klen));
	CHECK_OK(etsi_keyring_add(&kr, key, klen, INT64_MIN, INT64_MAX));
	CHECK_OK(etsi_decode(raw + 73, 1040, &pdu));
	CHECK_EQ_INT(pdu.encrypted, 1);
	CHECK_EQ_INT(pdu.enc.payload.len, 928);
	CHECK_OK(etsi_decrypt(&kr, INT64_MIN, &pdu, &plain));
	CHECK_EQ_INT(plain.len, 928);
	CHECK_EQ_INT(pdu.kind, ETSI_KIND_IRI);
	CHECK_EQ_INT(pdu.iri_type, ETSI_IRI_BEGIN);
	CHECK_STR(pdu.content, "ipmmiri");
	CHECK(pdu.byte_counter == 0x6b15d4a800000000ull);
	CHECK(pdu.ipmmiri.sip.len > 0);
	CHECK(memcmp(pdu.ipmmiri.sip.p, "INVITE ", 7) == 0);
	key[0] ^= 1;
	etsi_keyring_wipe(&kr);
	CHECK_OK(etsi_keyring_add(&kr, key, klen, INT64_MIN, INT64_MAX));
	CHECK_OK(etsi_decode(raw + 73, 1040, &pdu));
	CHECK_EQ_INT(etsi_decrypt(&kr, INT64_MIN, &pdu, &plain), LACRE_E_AUTH);
	etsi_keyring_wipe(&kr);
	lacre_dbuf_free(&plain);
	free(raw);
	free(ktext);
}

/* The pre-encryption form of every encrypted PDU of the real capture
 * equals, byte for byte, decoded/hiN.preencryption.bin (made by the set's
 * own tools, the form OpenLI's hashes verify over). */
static void test_preencryption_form(void)
{
	static const char *const s[2] = { "hi2", "hi3" };

	for (int i = 0; i < 2; i++) {
		char p1[96], p2[96];
		size_t n = 0, n2 = 0, kn = 0, klen = 0, off = 0, len = 0, done = 0;
		uint8_t *raw, *pre, *ktext, *out;
		uint8_t key[ETSI_HKEY_MAX];
		struct etsi_keyring kr;
		struct lacre_dbuf plain;
		struct etsi_pdu pdu;

		snprintf(p1, sizeof(p1), "openli-c/raw/%s.bin", s[i]);
		snprintf(p2, sizeof(p2), "openli-c/decoded/%s.preencryption.bin", s[i]);
		raw = t_vector(p1, &n);
		pre = t_vector(p2, &n2);
		ktext = t_vector("openli-c/config/payload-encryption-key.hex", &kn);
		out = malloc(n + 1);
		if (!raw || !pre || !ktext || !out) {
			free(raw), free(pre), free(ktext), free(out);
			return;
		}
		lacre_dbuf_init(&plain, 1 << 20);
		etsi_keyring_init(&kr);
		if (n != n2 || etsi_key_from_hex((const char *)ktext, kn, key, &klen) != LACRE_OK ||
		    etsi_keyring_add(&kr, key, klen, INT64_MIN, INT64_MAX) != LACRE_OK) {
			t_fail(__FILE__, __LINE__, "%s: sizes %zu/%zu or key", s[i], n, n2);
			goto next;
		}
		while (off < n) {
			if (etsi_pdu_size(raw + off, n - off, ETSI_MAX_PDU_DEFAULT, &len) != LACRE_OK ||
			    etsi_decode(raw + off, len, &pdu) != LACRE_OK) {
				t_fail(__FILE__, __LINE__, "%s: PDU at %zu", s[i], off);
				goto next;
			}
			if (pdu.encrypted) {
				if (etsi_decrypt(&kr, INT64_MIN, &pdu, &plain) != LACRE_OK ||
				    etsi_preencryption_form(raw + off, len, &pdu, &plain, out) != LACRE_OK ||
				    memcmp(out, pre + off, len) != 0) {
					t_fail(__FILE__, __LINE__, "%s: pre-encryption form of the PDU at %zu differs",
					       s[i], off);
					goto next;
				}
				done++;
			} else if (memcmp(raw + off, pre + off, len) != 0) {
				t_fail(__FILE__, __LINE__, "%s: clear PDU at %zu differs", s[i], off);
				goto next;
			}
			off += len;
		}
		if (done != (i == 0 ? 34u : 338u))
			t_fail(__FILE__, __LINE__, "%s: %zu encrypted PDUs", s[i], done);
		/* not a decrypted PDU (hi2.bin offset 73, 1040 bytes): refused */
		if (i == 0 && (etsi_decode(raw + 73, 1040, &pdu) != LACRE_OK ||
			       etsi_preencryption_form(raw + 73, 1040, &pdu, &plain, out) != LACRE_E_INVALID))
			t_fail(__FILE__, __LINE__, "an undecrypted PDU was not refused");
next:
		etsi_keyring_wipe(&kr);
		lacre_dbuf_free(&plain);
		free(raw);
		free(pre);
		free(ktext);
		free(out);
	}
}

int main(void)
{
	RUN(test_roundtrip);
	RUN(test_wrong_key);
	RUN(test_missing_key);
	RUN(test_short_ciphertext);
	RUN(test_bad_padding);
	RUN(test_rotated_key);
	RUN(test_blowfish);
	RUN(test_unsupported);
	RUN(test_key_from_hex);
	RUN(test_byte_counter);
	RUN(test_byte_counter_bound);
	RUN(test_openli_vector);
	RUN(test_preencryption_form);
	EVP_CIPHER_free(test_bf);
	if (prov_default)
		OSSL_PROVIDER_unload(prov_default);
	if (prov_legacy)
		OSSL_PROVIDER_unload(prov_legacy);
	OSSL_LIB_CTX_free(legacy);
	return t_done();
}
