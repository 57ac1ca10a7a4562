/*
 * fuzz_config.c - libFuzzer harness for the site configuration parser
 * (lacre.conf is read by the ingest process: a strict key = value format).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/err.h"
#include "lacre/site.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct site_config cfg;
	char msg[256];

	site_config_defaults(&cfg, "/srv/lacre/fuzz");
	if (site_config_parse(&cfg, "fuzz.conf", data, size, msg, sizeof(msg)) == LACRE_OK)
		(void)site_config_check(&cfg, msg, sizeof(msg));
	return 0;
}
