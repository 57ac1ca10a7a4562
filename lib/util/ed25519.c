/*
 * ed25519.c - Ed25519 keys from 32-byte seeds, signatures and their
 * verification through OpenSSL: the one implementation shared by the
 * warrant log's writers (lib/keeper/warrant_log.c) and the access domain's
 * signed logs and user keys (lib/access).  See include/lacre/ed25519.h.
 */
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "lacre/ed25519.h"
#include "lacre/err.h"

int lacre_ed25519_public(const uint8_t seed[32], uint8_t pub[32])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	size_t n = 32;
	int r = LACRE_E_CRYPTO;

	if (k != NULL && EVP_PKEY_get_raw_public_key(k, pub, &n) == 1 && n == 32)
		r = LACRE_OK;
	EVP_PKEY_free(k);
	return r;
}

int lacre_ed25519_sign(const uint8_t seed[32], const void *m, size_t n, uint8_t sig[64])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	size_t sl = 64;
	int r = LACRE_E_CRYPTO;

	if (k != NULL && c != NULL && EVP_DigestSignInit(c, NULL, NULL, NULL, k) == 1 &&
	    EVP_DigestSign(c, sig, &sl, m, n) == 1 && sl == 64)
		r = LACRE_OK;
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(k);
	return r;
}

int lacre_ed25519_verify(const uint8_t pub[32], const void *m, size_t n, const uint8_t sig[64])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int r = LACRE_E_CRYPTO;

	if (k != NULL && c != NULL && EVP_DigestVerifyInit(c, NULL, NULL, NULL, k) == 1)
		r = EVP_DigestVerify(c, sig, 64, m, n) == 1 ? LACRE_OK : LACRE_E_AUTH;
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(k);
	return r;
}
