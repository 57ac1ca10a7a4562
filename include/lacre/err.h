/*
 * err.h - the one error space of liblacre.
 *
 * Every fallible function in lib/ returns a lacre_err.  LACRE_OK is zero and
 * every failure is negative (as OpenSSH's ssherr.h).  Numbers are stable and
 * are never reused once published: add new codes at the end of the list.
 * lacre_strerror() gives a lower-case one-line description for each.
 *
 * Distinct codes exist for the conditions a caller must tell apart: input
 * that is merely incomplete (read more) versus malformed (reject), too large,
 * trailing bytes, corrupt storage (the untrusted backend lied or lost data),
 * authentication failures (a MAC or signature did not verify) and refusals
 * (the acting user is not authorised).
 */
#ifndef LACRE_ERR_H
#define LACRE_ERR_H

#include <stddef.h>

typedef enum lacre_err {
	LACRE_OK = 0,
	LACRE_E_NOMEM = -1,          /* out of memory */
	LACRE_E_INVALID = -2,        /* invalid argument (a caller's mistake) */
	LACRE_E_INCOMPLETE = -3,     /* input ends early: more bytes are needed */
	LACRE_E_TOO_LARGE = -4,      /* a length or count exceeds a limit */
	LACRE_E_TRAILING = -5,       /* bytes left over after a complete value */
	LACRE_E_MALFORMED = -6,      /* input violates its encoding rules */
	LACRE_E_DEPTH = -7,          /* nesting deeper than allowed */
	LACRE_E_TAG_TOO_LONG = -8,   /* a BER tag longer than allowed */
	LACRE_E_UNEXPECTED = -9,     /* a well-formed but unexpected element */
	LACRE_E_CORRUPT = -10,       /* stored data is corrupt (checksum, tag, size) */
	LACRE_E_AUTH = -11,          /* a MAC, AEAD tag or signature did not verify */
	LACRE_E_DENIED = -12,        /* the acting user is not authorised */
	LACRE_E_NOT_FOUND = -13,     /* no such object, record, warrant or key */
	LACRE_E_EXISTS = -14,        /* the object already exists */
	LACRE_E_IO = -15,            /* an operating-system I/O error (see errno) */
	LACRE_E_CRYPTO = -16,        /* the crypto library failed */
	LACRE_E_NETWORK = -17,       /* a network operation failed */
	LACRE_E_TIMEOUT = -18,       /* an operation timed out */
	LACRE_E_CONFIG = -19,        /* the configuration is invalid */
	LACRE_E_RANGE = -20,         /* a value is outside its allowed range */
	LACRE_E_UNSUPPORTED = -21,   /* a valid but unsupported feature */
	LACRE_E_UNAVAILABLE = -22,   /* a backend or peer is unavailable; retry later */
	LACRE_E_MISSING = -23,       /* an object the ledger expects is missing */
	LACRE_E_TRUNCATED = -24,     /* a stored object is shorter than recorded */
	LACRE_E_SHREDDED = -25,      /* the key was destroyed by court order */
	LACRE_E_VERIFY = -26,        /* verification failed (tampering, inconsistency) */
	LACRE_E_DB = -27,            /* the SQLite index failed */
	LACRE_E_STATE = -28,         /* operation not valid in the current state */
	LACRE_E_LEGAL = -29,         /* refused by a legal rule (L1-L15) */
	LACRE_E_PASSPHRASE = -30,    /* wrong passphrase or master key */
	LACRE_E_ROLLBACK = -31,      /* a log or checkpoint went backwards */
	LACRE_E_FORK = -32,          /* two inconsistent views of one log */
	LACRE_E_INTERNAL = -33,      /* an invariant failed: a bug */
	LACRE_E_NOSPACE = -34        /* local storage full or its quota reached; the
	                              * input was NOT taken: retry once space returns */
} lacre_err;

/* lacre_strerror returns a static description of e, never NULL. */
const char *lacre_strerror(int e);

/* lacre_err_name returns the symbolic name of e ("LACRE_E_CORRUPT"). */
const char *lacre_err_name(int e);

/* printf into msg[0..msglen) unless msg is NULL or msglen 0: how functions
 * that take (char *msg, size_t msglen) explain a failure. */
void lacre_msg(char *msg, size_t msglen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
