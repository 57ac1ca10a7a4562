/*
 * main.c - lacre-console: the web console, a process that holds NO key
 * (docs/console.md, DESIGN.md §2).  It serves HTTPS on console.listen
 * (default 127.0.0.1:8443) with console.cert/console.key (made, self-signed
 * P-256, at first start when both are absent; their SHA-256 fingerprint is
 * printed), and relays the requests that users' browsers sign with their
 * own keys to the keeper's socket (SITE/keeper.sock).  TLS and HTTP parsing
 * run here, never in the keeper's address space: a bug in them can reach no
 * key.  The core is lib/console/.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lacre/err.h"
#include "lacre/keeper.h"
#include "lacre/site.h"
#include "console/console.h"

#define EXIT_USAGE 2

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lacre-console [--site DIR] [--listen HOST:PORT] [--cert FILE] [--key FILE]\n"
		"                     [--keeper PATH] [--web DIR] [--ready-file FILE] [--quiet]\n"
		"Serves the web console over HTTPS (default console.listen 127.0.0.1:8443) and\n"
		"relays the requests users sign in their browsers to the keeper (default\n"
		"SITE/keeper.sock).  It holds no key of the site or of any user.  Without\n"
		"console.cert and console.key it makes a self-signed P-256 certificate\n"
		"(SITE/console/cert.pem, key.pem) and prints its SHA-256 fingerprint.\n"
		"--web DIR: the folder of index.html, app.js and style.css (console.web).\n"
		"--ready-file FILE gets \"url=https://HOST:PORT/\" once it listens.\n");
}

/* "host" of "host:port" or "[v6]:port" into out. */
static void host_of(const char *addr, char *out, size_t cap)
{
	const char *colon = strrchr(addr, ':');
	size_t n = colon ? (size_t)(colon - addr) : strlen(addr);

	if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
		addr++;
		n -= 2;
	}
	snprintf(out, cap, "%.*s", (int)n, addr);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "site", required_argument, NULL, 's' },
		{ "listen", required_argument, NULL, 'l' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "keeper", required_argument, NULL, 'K' },
		{ "web", required_argument, NULL, 'w' },
		{ "ready-file", required_argument, NULL, 'r' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *site_arg = NULL, *listen = NULL, *cert = NULL, *key = NULL, *keeper = NULL;
	const char *web = NULL, *ready = NULL;
	static struct site s;
	struct console_config cfg;
	struct rlimit rl = { 0, 0 };
	char dir[SITE_PATH_MAX], msg[SITE_MSG_MAX], certp[SITE_PATH_MAX], keyp[SITE_PATH_MAX];
	char sock[SITE_PATH_MAX], host[256], fpr[65], spki[45];
	void *ctx = NULL;
	int c, quiet = 0, made = 0, r;

	setrlimit(RLIMIT_CORE, &rl);          /* plaintext passes through: no core dumps */
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's': site_arg = optarg; break;
		case 'l': listen = optarg; break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'K': keeper = optarg; break;
		case 'w': web = optarg; break;
		case 'r': ready = optarg; break;
		case 'q': quiet = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "lacre-console: unexpected argument '%s'; run 'lacre-console --help'\n",
			argv[optind]);
		return EXIT_USAGE;
	}
	if (site_dir_resolve(site_arg, dir) != LACRE_OK) {
		fprintf(stderr, "lacre-console: no site: use --site DIR or set LACRE_SITE\n");
		return EXIT_USAGE;
	}
	if ((r = site_open(dir, &s, msg, sizeof(msg))) != LACRE_OK) {
		fprintf(stderr, "lacre-console: %s\n", msg[0] ? msg : lacre_strerror(r));
		return 1;
	}
	if (listen == NULL)
		listen = s.cfg.console_listen;
	if (cert == NULL && s.cfg.console_cert[0])
		cert = s.cfg.console_cert;
	if (key == NULL && s.cfg.console_key[0])
		key = s.cfg.console_key;
	if (web == NULL)
		web = s.cfg.console_web[0] ? s.cfg.console_web : "/usr/share/lacre/web";
	if (cert == NULL || key == NULL) {
		char d[SITE_PATH_MAX];
		if (site_path(&s, "console", d, sizeof(d)) != LACRE_OK ||
		    (mkdir(d, 0700) != 0 && errno != EEXIST)) {
			fprintf(stderr, "lacre-console: cannot create %s: %s (set console.cert and "
				"console.key, or run as the site's owner once)\n", d, strerror(errno));
			return 1;
		}
	}
	snprintf(certp, sizeof(certp), "%s", cert ? cert : "");
	snprintf(keyp, sizeof(keyp), "%s", key ? key : "");
	if ((!cert && site_path(&s, "console/cert.pem", certp, sizeof(certp)) != LACRE_OK) ||
	    (!key && site_path(&s, "console/key.pem", keyp, sizeof(keyp)) != LACRE_OK) ||
	    (!keeper && site_path(&s, KEEPER_SOCKET, sock, sizeof(sock)) != LACRE_OK)) {
		fprintf(stderr, "lacre-console: the site's path %s is too long\n", s.dir);
		return 1;
	}
	if (keeper)
		snprintf(sock, sizeof(sock), "%s", keeper);
	host_of(listen, host, sizeof(host));
	if ((r = console_tls_setup(certp, keyp, host, &ctx, fpr, spki, &made, msg, sizeof(msg))) !=
	    LACRE_OK) {
		fprintf(stderr, "lacre-console: %s\n", msg);
		return 1;
	}
	if (made)
		fprintf(stderr, "lacre-console: made a self-signed certificate %s\n", certp);
	fprintf(stderr, "lacre-console: certificate SHA-256 fingerprint %s\n", fpr);
	fprintf(stderr, "lacre-console: public key SHA-256 (base64) %s\n", spki);
	memset(&cfg, 0, sizeof(cfg));
	cfg.site = &s;
	cfg.listen = listen;
	cfg.keeper_socket = sock;
	cfg.web_dir = web;
	cfg.tls_ctx = ctx;
	cfg.ready_file = ready;
	cfg.quiet = quiet;
	r = console_serve(&cfg, msg, sizeof(msg));
	console_tls_free(ctx);
	if (r != LACRE_OK) {
		fprintf(stderr, "lacre-console: %s\n", msg[0] ? msg : lacre_strerror(r));
		return 1;
	}
	return 0;
}
