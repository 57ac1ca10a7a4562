/*
 * s3.c - the s3:// backend (placeholder until the libcurl client lands:
 * every entry point answers LACRE_E_UNSUPPORTED).
 */
#include "lacre/err.h"
#include "lacre/store.h"
#include "store/store_int.h"

/* See store_int.h. */
int store_s3_open_spec(const char *bucket_prefix, struct lacre_store **out)
{
	(void)bucket_prefix;
	(void)out;
	return LACRE_E_UNSUPPORTED;
}

/* See store.h. */
int lacre_store_open_s3(const struct lacre_s3_config *cfg,
			struct lacre_store **out)
{
	(void)cfg;
	(void)out;
	return LACRE_E_UNSUPPORTED;
}

/* See store.h. */
int lacre_store_s3_ensure_bucket(struct lacre_store *s)
{
	(void)s;
	return LACRE_E_UNSUPPORTED;
}
