/*
 * home_conns.c - the daemon's list of connections, for `muster status`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "home.h"

#define CONNS_FILE "serve.conns"
#define CONNS_MAX  (1 << 20) /* far above 64 connections' worth of lines */

static char *
conns_path(const struct mu_home *home, const char *suffix)
{
	size_t n = strlen(home->dir) + sizeof(CONNS_FILE) + strlen(suffix) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s%s", home->dir, CONNS_FILE, suffix);
	return p;
}

int
mu_home_write_conns(const struct mu_home *home, const char *text, struct mu_why *why)
{
	char *tmp = conns_path(home, ".tmp"), *path = conns_path(home, "");
	size_t len = strlen(text);
	int fd = -1, rc = 0;

	if (tmp == NULL || path == NULL) {
		rc = MU_ENOMEM;
		goto out;
	}
	/* Readers see the old list or the new one, never half of one. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || close(fd) != 0 ||
	    rename(tmp, path) != 0) {
		rc = mu_fail(why, MU_EIO, "cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			unlink(tmp);
	}
out:
	free(tmp);
	free(path);
	return rc;
}

char *
mu_home_read_conns(const struct mu_home *home)
{
	char *path = conns_path(home, ""), *text = NULL;
	struct stat st;
	int fd = -1;

	if (path == NULL)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < 0 || st.st_size > CONNS_MAX)
		goto out;
	text = malloc((size_t)st.st_size + 1);
	if (text == NULL)
		goto out;
	if (read(fd, text, (size_t)st.st_size) != st.st_size) {
		free(text);
		text = NULL;
		goto out;
	}
	text[st.st_size] = '\0';
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return text;
}
