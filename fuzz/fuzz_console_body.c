/*
 * fuzz_console_body.c - libFuzzer harness for the two bodies the web
 * console's page sends (lib/console/body.c): the login and the answer to
 * a signature request.  Byte 0 picks the parser (even: login, odd: sign);
 * the rest is the body.
 *
 * Invariants (any violation aborts): an accepted login has a non-empty
 * name of [A-Za-z0-9._-] and a non-empty origin without control bytes,
 * both terminated; written back in the one canonical form it is the input
 * byte for byte; an accepted signature answer has 0 or 64 signature bytes
 * and is likewise the input written back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/err.h"
#include "lacre/hex.h"
#include "console/console.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char back[2048];
	char ch[65], sg[129], id[65];
	int n;

	if (size < 1 || size > 1024)
		return 0;
	if (data[0] % 2 == 0) {
		struct console_login_req lr;
		if (console_login_parse(data + 1, size - 1, &lr) != LACRE_OK)
			return 0;
		must(lr.name[0] && strlen(lr.name) < sizeof(lr.name));
		must(strspn(lr.name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
		     strlen(lr.name));
		must(lr.origin[0] && strlen(lr.origin) < sizeof(lr.origin));
		for (const char *p = lr.origin; *p; p++)
			must((uint8_t)*p >= 0x20 && *p != 0x7f);
		lacre_hex(lr.challenge, sizeof(lr.challenge), ch);
		lacre_hex(lr.sig, sizeof(lr.sig), sg);
		n = snprintf(back, sizeof(back), "user %s\norigin %s\nchallenge %s\nsig %s\n", lr.name,
			     lr.origin, ch, sg);
	} else {
		uint8_t i[CONSOLE_TOKEN_LEN], s[64];
		size_t sl = 99;
		if (console_sign_parse(data + 1, size - 1, i, s, &sl) != LACRE_OK)
			return 0;
		must(sl == 0 || sl == 64);
		lacre_hex(i, sizeof(i), id);
		if (sl)
			lacre_hex(s, 64, sg);
		else
			sg[0] = '\0';
		n = snprintf(back, sizeof(back), "id %s\nsig %s\n", id, sg);
	}
	must(n > 0 && (size_t)n == size - 1 && memcmp(back, data + 1, size - 1) == 0);
	return 0;
}
