/*
 * s3_xml.c - a small, strict walk over the XML documents of S3 responses,
 * on top of expat (a well-kept Debian library) rather than a hand-written
 * parser: S3 bodies are untrusted and XML has enough corners (entities,
 * CDATA, character references, encodings) that we should not re-implement
 * them.  The walk reports each element's path and direct text; it refuses
 * DOCTYPE declarations (no entity can be defined, so no expansion bombs),
 * caps nesting and text length, and refuses NUL characters in text.
 * Namespaces are not processed: S3 uses one default namespace, so element
 * names arrive bare ("Contents").
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "lacre/err.h"
#include "store/s3_xml.h"

#define PATH_MAX_LEN 256

struct walk {
	XML_Parser xp;
	s3_xml_fn fn;
	void *arg;
	int err;                    /* first error or fn's value */
	int depth;
	char path[PATH_MAX_LEN];
	size_t plen[S3_XML_DEPTH_MAX + 1]; /* path length before each level */
	char text[S3_XML_TEXT_MAX + 1];
	size_t tlen;
};

/* Stop the parser with error e (the first one wins). */
static void walk_stop(struct walk *w, int e)
{
	if (w->err == 0)
		w->err = e;
	XML_StopParser(w->xp, XML_FALSE);
}

/* expat: an element opens; extend the path, reset the text. */
static void XMLCALL on_start(void *ud, const XML_Char *name,
			     const XML_Char **attrs)
{
	struct walk *w = ud;
	size_t cur, n = strlen(name);

	(void)attrs;
	if (w->err)
		return;
	if (w->depth >= S3_XML_DEPTH_MAX) {
		walk_stop(w, LACRE_E_DEPTH);
		return;
	}
	cur = strlen(w->path);
	if (n + 2 > sizeof(w->path) - cur) {
		walk_stop(w, LACRE_E_MALFORMED);
		return;
	}
	w->plen[w->depth] = cur;
	if (cur)
		w->path[cur++] = '/';
	memcpy(w->path + cur, name, n + 1);
	w->depth++;
	w->tlen = 0;
	w->text[0] = '\0';
}

/* expat: an element closes; report it, then trim the path. */
static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	struct walk *w = ud;
	int r;

	(void)name;
	if (w->err || w->depth <= 0)
		return;
	r = w->fn(w->arg, w->path, w->text, w->tlen);
	if (r != 0) {
		walk_stop(w, r);
		return;
	}
	w->depth--;
	w->path[w->plen[w->depth]] = '\0';
	/* text after a child element belongs to no field we read */
	w->tlen = 0;
	w->text[0] = '\0';
}

/* expat: character data (possibly in several pieces). */
static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct walk *w = ud;

	if (w->err || len <= 0)
		return;
	if ((size_t)len > S3_XML_TEXT_MAX - w->tlen) {
		walk_stop(w, LACRE_E_TOO_LARGE);
		return;
	}
	if (memchr(s, '\0', (size_t)len)) {
		walk_stop(w, LACRE_E_MALFORMED);
		return;
	}
	memcpy(w->text + w->tlen, s, (size_t)len);
	w->tlen += (size_t)len;
	w->text[w->tlen] = '\0';
}

/* expat: a DOCTYPE starts: refuse the document. */
static void XMLCALL on_doctype(void *ud, const XML_Char *name,
			       const XML_Char *sysid, const XML_Char *pubid,
			       int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	walk_stop(ud, LACRE_E_MALFORMED);
}

/* See s3_xml.h. */
int s3_xml_walk(const void *p, size_t n, s3_xml_fn fn, void *arg)
{
	struct walk *w;
	int r;

	if (n > INT_MAX)
		return LACRE_E_TOO_LARGE;
	w = calloc(1, sizeof(*w));
	if (!w)
		return LACRE_E_NOMEM;
	w->xp = XML_ParserCreate(NULL);
	if (!w->xp) {
		free(w);
		return LACRE_E_NOMEM;
	}
	w->fn = fn;
	w->arg = arg;
	XML_SetUserData(w->xp, w);
	XML_SetElementHandler(w->xp, on_start, on_end);
	XML_SetCharacterDataHandler(w->xp, on_text);
	XML_SetStartDoctypeDeclHandler(w->xp, on_doctype);
	XML_SetParamEntityParsing(w->xp, XML_PARAM_ENTITY_PARSING_NEVER);
	if (XML_Parse(w->xp, p, (int)n, XML_TRUE) == XML_STATUS_ERROR &&
	    w->err == 0)
		w->err = LACRE_E_MALFORMED;
	r = w->err;
	XML_ParserFree(w->xp);
	free(w);
	return r;
}

struct find {
	const char *path;
	char *out;
	size_t cap;
	int found;
};

/* s3_xml_find's walk callback. */
static int find_cb(void *arg, const char *path, const char *text, size_t len)
{
	struct find *f = arg;

	if (strcmp(path, f->path) != 0)
		return 0;
	if (len + 1 > f->cap)
		return LACRE_E_TOO_LARGE;
	memcpy(f->out, text, len + 1);
	f->found = 1;
	return 1; /* stop: found */
}

/* See s3_xml.h. */
int s3_xml_find(const void *p, size_t n, const char *path, char *out,
		size_t cap)
{
	struct find f = { path, out, cap, 0 };
	int r = s3_xml_walk(p, n, find_cb, &f);

	if (f.found)
		return LACRE_OK;
	if (r != LACRE_OK && r != 1)
		return r;
	return LACRE_E_NOT_FOUND;
}
