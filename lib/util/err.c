/*
 * err.c - descriptions of the lacre_err codes, and lacre_msg() for the
 * messages that go with them (see include/lacre/err.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "lacre/err.h"

struct err_entry {
	int code;
	const char *name;
	const char *text;
};

static const struct err_entry err_table[] = {
	{ LACRE_OK, "LACRE_OK", "success" },
	{ LACRE_E_NOMEM, "LACRE_E_NOMEM", "out of memory" },
	{ LACRE_E_INVALID, "LACRE_E_INVALID", "invalid argument" },
	{ LACRE_E_INCOMPLETE, "LACRE_E_INCOMPLETE", "input is incomplete" },
	{ LACRE_E_TOO_LARGE, "LACRE_E_TOO_LARGE", "length exceeds the limit" },
	{ LACRE_E_TRAILING, "LACRE_E_TRAILING", "trailing bytes after the value" },
	{ LACRE_E_MALFORMED, "LACRE_E_MALFORMED", "malformed encoding" },
	{ LACRE_E_DEPTH, "LACRE_E_DEPTH", "nesting too deep" },
	{ LACRE_E_TAG_TOO_LONG, "LACRE_E_TAG_TOO_LONG", "tag number too long" },
	{ LACRE_E_UNEXPECTED, "LACRE_E_UNEXPECTED", "unexpected element" },
	{ LACRE_E_CORRUPT, "LACRE_E_CORRUPT", "stored data is corrupt" },
	{ LACRE_E_AUTH, "LACRE_E_AUTH", "authentication failed" },
	{ LACRE_E_DENIED, "LACRE_E_DENIED", "not authorised" },
	{ LACRE_E_NOT_FOUND, "LACRE_E_NOT_FOUND", "not found" },
	{ LACRE_E_EXISTS, "LACRE_E_EXISTS", "already exists" },
	{ LACRE_E_IO, "LACRE_E_IO", "input/output error" },
	{ LACRE_E_CRYPTO, "LACRE_E_CRYPTO", "cryptographic library failure" },
	{ LACRE_E_NETWORK, "LACRE_E_NETWORK", "network error" },
	{ LACRE_E_TIMEOUT, "LACRE_E_TIMEOUT", "timed out" },
	{ LACRE_E_CONFIG, "LACRE_E_CONFIG", "invalid configuration" },
	{ LACRE_E_RANGE, "LACRE_E_RANGE", "value out of range" },
	{ LACRE_E_UNSUPPORTED, "LACRE_E_UNSUPPORTED", "unsupported feature" },
	{ LACRE_E_UNAVAILABLE, "LACRE_E_UNAVAILABLE", "service unavailable, retry later" },
	{ LACRE_E_MISSING, "LACRE_E_MISSING", "object missing from storage" },
	{ LACRE_E_TRUNCATED, "LACRE_E_TRUNCATED", "stored object is truncated" },
	{ LACRE_E_SHREDDED, "LACRE_E_SHREDDED", "key destroyed by court order" },
	{ LACRE_E_VERIFY, "LACRE_E_VERIFY", "verification failed" },
	{ LACRE_E_DB, "LACRE_E_DB", "index database error" },
	{ LACRE_E_STATE, "LACRE_E_STATE", "operation not valid in this state" },
	{ LACRE_E_LEGAL, "LACRE_E_LEGAL", "refused by a legal rule" },
	{ LACRE_E_PASSPHRASE, "LACRE_E_PASSPHRASE", "wrong passphrase" },
	{ LACRE_E_ROLLBACK, "LACRE_E_ROLLBACK", "log rolled back" },
	{ LACRE_E_FORK, "LACRE_E_FORK", "log forked" },
	{ LACRE_E_INTERNAL, "LACRE_E_INTERNAL", "internal error" },
	{ LACRE_E_NOSPACE, "LACRE_E_NOSPACE", "local storage full (retry when space returns)" },
};

static const struct err_entry *err_find(int e)
{
	for (unsigned i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
		if (err_table[i].code == e)
			return &err_table[i];
	return 0;
}

const char *lacre_strerror(int e)
{
	const struct err_entry *x = err_find(e);
	return x ? x->text : "unknown error";
}

const char *lacre_err_name(int e)
{
	const struct err_entry *x = err_find(e);
	return x ? x->name : "LACRE_E_UNKNOWN";
}

void lacre_msg(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	if (msg == NULL || msglen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
}
