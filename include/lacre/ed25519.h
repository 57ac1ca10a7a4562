/*
 * ed25519.h - Ed25519 from a 32-byte seed (RFC 8032), through OpenSSL.
 */
#ifndef LACRE_ED25519_H
#define LACRE_ED25519_H

#include <stddef.h>
#include <stdint.h>

/* The public key of a seed.  LACRE_OK or LACRE_E_CRYPTO. */
int lacre_ed25519_public(const uint8_t seed[32], uint8_t pub[32]);
/* The signature of m[0..n) with the key of seed.  LACRE_OK or LACRE_E_CRYPTO. */
int lacre_ed25519_sign(const uint8_t seed[32], const void *m, size_t n, uint8_t sig[64]);
/* LACRE_OK when sig is pub's signature of m[0..n), else LACRE_E_AUTH
 * (LACRE_E_CRYPTO when OpenSSL fails). */
int lacre_ed25519_verify(const uint8_t pub[32], const void *m, size_t n, const uint8_t sig[64]);

#endif
