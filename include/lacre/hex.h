/*
 * hex.h - hexadecimal text of bytes, and back: the one implementation of
 * the logs (warrants, users, cases, access events), the export manifest
 * and the command line.
 */
#ifndef LACRE_HEX_H
#define LACRE_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Lower-case hex of p[0..n) into out (2n + 1 bytes, NUL-terminated). */
void lacre_hex(const uint8_t *p, size_t n, char *out);
/* Exactly n bytes from exactly 2n lower-case hex characters s[0..slen):
 * the strict form lacre writes.  LACRE_OK or LACRE_E_MALFORMED. */
int lacre_unhex(const char *s, size_t slen, uint8_t *out, size_t n);
/* Up to cap bytes from the NUL-terminated hex s (either case, even
 * length): what a user types.  The number of bytes, or -1. */
long lacre_unhex_text(const char *s, uint8_t *out, size_t cap);

#endif
