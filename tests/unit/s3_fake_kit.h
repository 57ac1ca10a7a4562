/*
 * s3_fake_kit.h - a scripted fake S3 server on 127.0.0.1 for the s3://
 * client's unit tests (test_store_s3_fake.c, test_store_s3_multipart.c):
 * each scripted answer is sent on its own connection; the first line of
 * every request is kept; "Expect: 100-continue" is answered at once.
 * Include once, after the system headers it needs (arpa/inet.h, pthread.h,
 * sys/socket.h, unistd.h, string.h, stdio.h, stdlib.h).
 */
#ifndef LACRE_TEST_S3_FAKE_KIT_H
#define LACRE_TEST_S3_FAKE_KIT_H

#define MAXSCRIPT 16

struct fake {
	int lfd, port;
	pthread_t th;
	const char *script[MAXSCRIPT]; /* raw responses; "CLOSE": hang up */
	int n, served;
	char req[MAXSCRIPT][512];      /* first line of each request */
};

/* Read one request (headers and Content-Length body) from fd; keep its
 * first line in line. */
static void read_request(int fd, char *line, size_t cap)
{
	char buf[65536];
	size_t len = 0;
	char *end = NULL, *cl;
	long body = 0;

	while (len < sizeof(buf) - 1) {
		ssize_t k = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (k <= 0)
			return;
		len += (size_t)k;
		buf[len] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
	}
	if (!end)
		return;
	snprintf(line, cap, "%.*s", (int)strcspn(buf, "\r"), buf);
	/* curl waits for "100 Continue" before a large body: answer at once */
	if (strcasestr(buf, "expect: 100-continue") &&
	    write(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25) != 25)
		return;
	cl = strcasestr(buf, "content-length:");
	if (cl && cl < end)
		body = strtol(cl + 15, NULL, 10);
	body -= (long)(len - (size_t)(end + 4 - buf));
	while (body > 0) {
		ssize_t k = read(fd, buf, sizeof(buf));
		if (k <= 0)
			return;
		body -= k;
	}
}

/* Server thread: one connection per scripted answer. */
static void *fake_thread(void *arg)
{
	struct fake *f = arg;

	for (int i = 0; i < f->n; i++) {
		int c = accept(f->lfd, NULL, NULL);
		if (c < 0)
			break;
		read_request(c, f->req[i], sizeof(f->req[i]));
		if (strcmp(f->script[i], "CLOSE") != 0) {
			size_t l = strlen(f->script[i]);
			if (write(c, f->script[i], l) != (ssize_t)l)
				break;
		}
		f->served = i + 1;
		close(c);
	}
	return NULL;
}

/* Start a fake server answering with the NULL-terminated list. */
static int fake_start(struct fake *f, const char **answers)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	int one = 1;

	memset(f, 0, sizeof(*f));
	while (answers[f->n] && f->n < MAXSCRIPT) {
		f->script[f->n] = answers[f->n];
		f->n++;
	}
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (f->lfd < 0)
		return -1;
	setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(f->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(f->lfd, 16) != 0 ||
	    getsockname(f->lfd, (struct sockaddr *)&a, &l) != 0)
		return -1;
	f->port = ntohs(a.sin_port);
	return pthread_create(&f->th, NULL, fake_thread, f);
}

/* Stop the server (after its script, or now). */
static void fake_stop(struct fake *f)
{
	shutdown(f->lfd, SHUT_RDWR);
	close(f->lfd);
	pthread_join(f->th, NULL);
}

#endif
