/*
 * test_siphash.c - SipHash-2-4 (lib/util/siphash.c): the published
 * vectors (the reference implementation's 64 of key 00..0f and messages
 * 00, 00 01, ... of 0 to 63 bytes; the paper's appendix example is the
 * 15-byte one, a129ca6149be45e5), and agreement with OpenSSL's EVP_MAC
 * "SIPHASH" for random keys and inputs of every length up to 100 bytes
 * (every tail length, several whole words).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/siphash.h"

/* Output bytes (little-endian) for messages of 0..63 bytes 00 01 02 ... */
static const char *const vectors[64] = {
	"310e0edd47db6f72", "fd67dc93c539f874",
	"5a4fa9d909806c0d", "2d7efbd796666785",
	"b7877127e09427cf", "8da699cd64557618",
	"cee3fe586e46c9cb", "37d1018bf50002ab",
	"6224939a79f5f593", "b0e4a90bdf82009e",
	"f3b9dd94c5bb5d7a", "a7ad6b22462fb3f4",
	"fbe50e86bc8f1e75", "903d84c02756ea14",
	"eef27a8e90ca23f7", "e545be4961ca29a1",
	"db9bc2577fcc2a3f", "9447be2cf5e99a69",
	"9cd38d96f0b3c14b", "bd6179a71dc96dbb",
	"98eea21af25cd6be", "c7673b2eb0cbf2d0",
	"883ea3e395675393", "c8ce5ccd8c030ca8",
	"94af49f6c650adb8", "eab8858ade92e1bc",
	"f315bb5bb835d817", "adcf6b0763612e2f",
	"a5c91da7acaa4dde", "716595876650a2a6",
	"28ef495c53a387ad", "42c341d8fa92d832",
	"ce7cf2722f512771", "e37859f94623f3a7",
	"381205bb1ab0e012", "ae97a10fd434e015",
	"b4a31508beff4d31", "81396229f0907902",
	"4d0cf49ee5d4dcca", "5c73336a76d8bf9a",
	"d0a704536ba93e0e", "925958fcd6420cad",
	"a915c29bc8067318", "952b79f3bc0aa6d4",
	"f21df2e41d4535f9", "87577519048f53a9",
	"10a56cf5dfcd9adb", "eb75095ccd986cd0",
	"51a9cb9ecba312e6", "96afadfc2ce666c7",
	"72fe52975a4364ee", "5a1645b276d592a1",
	"b274cb8ebf87870a", "6f9bb4203de7b381",
	"eaecb2a30b22a87f", "9924a43cc1315724",
	"bd838d3aafbf8db7", "0b1a2a3265d51aea",
	"135079a3231ce660", "932b2846e4d70666",
	"e1915f5cb1eca46c", "f325965ca16d629f",
	"575ff28e60381be5", "724506eb4c328a95",
};

/* The 8 little-endian bytes of h as lower-case hex in b (17 bytes). */
static void sip_hex(uint64_t h, char b[17])
{
	for (int i = 0; i < 8; i++)
		snprintf(b + 2 * i, 3, "%02x", (unsigned)(h >> (8 * i)) & 0xff);
}

/* The 64 published vectors, and the paper's example as a number. */
static void test_vectors(void)
{
	uint8_t key[LACRE_SIPHASH_KEY], msg[64];
	char b[17];

	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (int i = 0; i < LACRE_SIPHASH_KEY; i++)
		key[i] = (uint8_t)i;
	for (size_t n = 0; n < 64; n++) {
		sip_hex(lacre_siphash24(key, msg, n), b);
		if (strcmp(b, vectors[n]) != 0)
			fprintf(stderr, "  message of %zu bytes: %s, expected %s\n", n, b, vectors[n]);
		CHECK_STR(b, vectors[n]);
	}
	CHECK(lacre_siphash24(key, msg, 15) == 0xa129ca6149be45e5ull);
}

/* EVP_MAC SIPHASH (8-byte output) of in under key, as a number. */
static int evp_siphash(const uint8_t *key, const uint8_t *in, size_t len, uint64_t *out)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	size_t size = 8, got = 0;
	OSSL_PARAM p[] = { OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size), OSSL_PARAM_END };
	uint8_t o[8];
	int ok = ctx && EVP_MAC_init(ctx, key, LACRE_SIPHASH_KEY, p) == 1 &&
		 EVP_MAC_update(ctx, in, len) == 1 && EVP_MAC_final(ctx, o, &got, sizeof(o)) == 1 &&
		 got == 8;

	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	if (!ok)
		return LACRE_E_CRYPTO;
	*out = 0;
	for (int i = 7; i >= 0; i--)
		*out = *out << 8 | o[i];
	return LACRE_OK;
}

/* Random keys and inputs of 0..100 bytes: the same as OpenSSL's. */
static void test_against_openssl(void)
{
	uint8_t key[LACRE_SIPHASH_KEY], in[101];
	uint64_t want;

	for (int round = 0; round < 8; round++) {
		CHECK(RAND_bytes(key, sizeof(key)) == 1 && RAND_bytes(in, sizeof(in)) == 1);
		for (size_t n = 0; n <= 100; n++) {
			CHECK_OK(evp_siphash(key, in, n, &want));
			CHECK(lacre_siphash24(key, in, n) == want);
		}
	}
}

/* The key matters: one bit of key flipped, another hash. */
static void test_key(void)
{
	uint8_t key[LACRE_SIPHASH_KEY] = { 0 };
	const char *id = "a84b4c76e66710@pc33.atlanta.example.com";
	uint64_t h = lacre_siphash24(key, id, strlen(id));

	for (int bit = 0; bit < 8 * LACRE_SIPHASH_KEY; bit++) {
		key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		CHECK(lacre_siphash24(key, id, strlen(id)) != h);
		key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
}

int main(void)
{
	RUN(test_vectors);
	RUN(test_against_openssl);
	RUN(test_key);
	return t_done();
}
