/*
 * home_conns.c - what the daemon tells `muster status` and the other
 * commands through small files in the home: its list of connections
 * (serve.conns), and what its peers say of its clock (home_clock.c).
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
#define STATE_MAX  (1 << 20) /* far above 64 connections' worth of lines */

static char *
state_path(const struct mu_home *home, const char *name, const char *suffix)
{
	size_t n = strlen(home->dir) + strlen(name) + strlen(suffix) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s%s", home->dir, name, suffix);
	return p;
}

int
mu_home_write_state(const struct mu_home *home, const char *name, const char *text,
                    struct mu_why *why)
{
	char *tmp = state_path(home, name, ".tmp"), *path = state_path(home, name, "");
	size_t len = strlen(text);
	int fd = -1, rc = 0;

	if (tmp == NULL || path == NULL) {
		rc = MU_ENOMEM;
		goto out;
	}
	/* Readers see the old text or the new one, never half of one. */
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
mu_home_read_state(const struct mu_home *home, const char *name)
{
	char *path = state_path(home, name, ""), *text = NULL;
	struct stat st;
	int fd = -1;

	if (path == NULL)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < 0 || st.st_size > STATE_MAX)
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

int
mu_home_write_conns(const struct mu_home *home, const char *text, struct mu_why *why)
{
	return mu_home_write_state(home, CONNS_FILE, text, why);
}

char *
mu_home_read_conns(const struct mu_home *home)
{
	return mu_home_read_state(home, CONNS_FILE);
}
