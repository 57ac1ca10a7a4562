/*
 * pct.h - the strict percent-encoding of lacre's line-based logs (the
 * warrant log, the user and case logs, access events): bytes of the raw set
 * [A-Za-z0-9-._~:/@+] are written as they are, every other byte as %XX with
 * upper-case hex.  The decoder accepts exactly that form (one encoding per
 * value) and refuses control bytes and NUL.  lib/util/pct.c.
 */
#ifndef LACRE_PCT_H
#define LACRE_PCT_H

#include <stddef.h>

#include "lacre/buf.h"

/* Append the encoding of the NUL-terminated s to d. */
int pct_encode(struct lacre_dbuf *d, const char *s);
/* Decode s[0..n) into out (cap bytes, NUL-terminated).  LACRE_E_MALFORMED
 * for any other form, LACRE_E_TOO_LARGE when it does not fit. */
int pct_decode(const char *s, size_t n, char *out, size_t cap);

#endif
