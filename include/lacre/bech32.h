/*
 * bech32.h - Bech32 (BIP 173) as age uses it for identities and recipients:
 * the checksum constant 1 (not Bech32m), no 90-character length limit, all
 * upper or all lower case (the checksum is over the lower-case form).
 *
 * The encoder writes the lower-case form; age's identities are upper-cased
 * by the caller.  The decoder is strict: mixed case, characters outside the
 * alphabet, a bad checksum, or non-zero padding bits in the 5-to-8-bit
 * conversion are all LACRE_E_MALFORMED.  Owned by lib/seal/bech32.c.
 */
#ifndef LACRE_BECH32_H
#define LACRE_BECH32_H

#include <stddef.h>
#include <stdint.h>

/* Encode hrp (lower-case ASCII 33..126, 1..83 chars) and data[0..n) as a
 * NUL-terminated lower-case Bech32 string into out[0..cap).
 * LACRE_E_INVALID for a bad hrp, LACRE_E_TOO_LARGE when out is too small;
 * out is written only on success. */
int bech32_encode(const char *hrp, const uint8_t *data, size_t n,
		  char *out, size_t cap);

/* Decode the NUL-terminated string s.  The hrp is returned lower-cased in
 * hrp[0..hrp_cap) (NUL-terminated), the data bytes in data[0..data_cap) with
 * their count in *n.  LACRE_E_MALFORMED for any encoding error,
 * LACRE_E_TOO_LARGE when hrp or data do not fit.  Outputs are set only on
 * success. */
int bech32_decode(const char *s, char *hrp, size_t hrp_cap,
		  uint8_t *data, size_t data_cap, size_t *n);

#endif
