/*
 * s3_xml.h - reading the XML bodies an S3 server sends (ListObjectsV2,
 * InitiateMultipartUpload, CompleteMultipartUpload, Error), with expat.
 * Private to lib/store.
 */
#ifndef LACRE_STORE_S3_XML_H
#define LACRE_STORE_S3_XML_H

#include <stddef.h>

/* Longest text of one element we accept (a key, a token, an ETag). */
#define S3_XML_TEXT_MAX 2048
/* Deepest element nesting we accept. */
#define S3_XML_DEPTH_MAX 8

/*
 * Called at the end of each element with its path from the root
 * ("ListBucketResult/Contents/Key") and the text directly inside it
 * (NUL-terminated, len bytes, may contain no NUL).  A non-zero return stops
 * the walk and is returned by s3_xml_walk.
 */
typedef int (*s3_xml_fn)(void *arg, const char *path, const char *text,
			 size_t len);

/*
 * Parse the document p[0..n) (untrusted) and call fn for each element.
 * Refuses a DOCTYPE (so no entity can be declared), nesting deeper than
 * S3_XML_DEPTH_MAX, text longer than S3_XML_TEXT_MAX, and text containing
 * a NUL character: LACRE_E_MALFORMED.  Returns LACRE_OK, fn's non-zero
 * value, or an error.
 */
int s3_xml_walk(const void *p, size_t n, s3_xml_fn fn, void *arg);

/* The text of the first element at path, copied into out (cap bytes with
 * its NUL).  LACRE_E_NOT_FOUND if absent, LACRE_E_TOO_LARGE if longer. */
int s3_xml_find(const void *p, size_t n, const char *path, char *out,
		size_t cap);

#endif
