/*
 * reach.c - how other nodes reach this one, for `muster status` and
 * `muster peer list`: an onion service (HOME/tor/hostname, written by
 * `serve --tor`), the port the router maps while `serve --map-port` runs
 * (HOME/serve.mapped, node/portmap.c), and the addresses this group's node
 * record announces; else dial-out only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../protocol/kind.h"
#include "cli.h"

#define TOR_HOSTNAME "tor/hostname"
#define MAPPED_FILE  "serve.mapped"
#define LABEL        "reach:     "
#define INDENT       "           "

/* One line of the reach block: the label before the first, an indent
 * before the others. */
static void line(unsigned *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
line(unsigned *n, const char *fmt, ...)
{
	va_list ap;

	printf("%s", (*n)++ == 0 ? LABEL : INDENT);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* The first line of text, without its newline (text is changed). */
static char *
first_line(char *text)
{
	text[strcspn(text, "\r\n")] = '\0';
	return text;
}

static void
print_onion(struct mu_cli *cli, unsigned *n)
{
	char *text = mu_home_read_state(cli->home, TOR_HOSTNAME);

	if (text != NULL && first_line(text)[0] != '\0')
		line(n, "onion %s (Tor)", text);
	free(text);
}

/* serve.mapped: "mapped\tIP:PORT\tPROTOCOL", "refused\tWHY" or
 * "failed\tWHY"; only while the daemon runs. */
static void
print_mapped(struct mu_cli *cli, unsigned *n, char **note)
{
	char *text = mu_home_read_state(cli->home, MAPPED_FILE), *f1, *f2;

	if (text == NULL)
		return;
	first_line(text);
	f1 = strchr(text, '\t');
	f2 = f1 != NULL ? strchr(f1 + 1, '\t') : NULL;
	if (f1 != NULL)
		*f1++ = '\0';
	if (f2 != NULL)
		*f2++ = '\0';
	if (strcmp(text, "mapped") == 0 && f2 != NULL)
		line(n, "mapped %s on the home router (%s)", f1, f2);
	else if (f1 != NULL &&
	         (strcmp(text, "refused") == 0 || strcmp(text, "failed") == 0)) {
		*note = malloc(strlen(f1) + 32);
		if (*note != NULL)
			sprintf(*note, "port mapping %s: %s", text, f1);
	}
	free(text);
}

static int
print_announced(struct mu_cli *cli, unsigned *n)
{
	struct mu_cli_rec cur = {0};
	char addr[MU_NODE_ADDR_MAX + 1];
	struct mu_addr a;
	int rc;

	memset(&a, 0, sizeof(a));
	memcpy(a.group, cli->home->group, MU_KEY_BYTES);
	a.kind = MU_KIND_NODE;
	a.d.ptr = "";
	rc = mu_cli_lookup(cli, &a, &cur);
	if (rc == MU_ENOTFOUND)
		return 0;
	if (rc != 0)
		return mu_cli_fail(rc, "cannot read this group's node record: %s",
		                   mu_strerror(rc));
	for (size_t i = 0; i < cur.rec.c.node.naddrs; i++) {
		size_t len = cur.rec.c.node.addrs[i].len;

		if (len >= sizeof(addr))
			len = sizeof(addr) - 1;
		memcpy(addr, cur.rec.c.node.addrs[i].ptr, len);
		addr[len] = '\0';
		line(n, "announced %s (in this group's node record, which allies dial)",
		     addr);
	}
	mu_cli_rec_free(&cur);
	return 0;
}

int
mu_cli_print_reach(struct mu_cli *cli, bool running)
{
	char *note = NULL;
	unsigned n = 0;
	int rc;

	print_onion(cli, &n);
	if (running)
		print_mapped(cli, &n, &note);
	if ((rc = print_announced(cli, &n)) != 0) {
		free(note);
		return rc;
	}
	if (n == 0)
		line(&n, "dial-out only: allies reach you only through a node you "
		         "both dial");
	if (note != NULL)
		line(&n, "%s", note);
	free(note);
	return 0;
}
