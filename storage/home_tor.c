/*
 * home_tor.c - the home's Tor files (home.h, "Tor"): HOME/tor/ holds tor's
 * own data directory, the onion service key, the onion host name and the
 * state the daemon writes for `muster status`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "home_file.h"

#define TOR_DIR  "tor"
#define KEY_FILE "tor/onion_key"

char *
mu_home_tor_dirs(const struct mu_home *home, struct mu_why *why)
{
	char *dir = mu_home__join(home->dir, TOR_DIR), *data = NULL;

	if (dir == NULL || (data = mu_home__join(dir, "data")) == NULL) {
		mu_fail(why, MU_ENOMEM, "out of memory");
		goto fail;
	}
	/* tor refuses a data directory that others can read. */
	if (mu_home__make_dirs(data, why) != 0)
		goto fail;
	if (chmod(dir, 0700) != 0 || chmod(data, 0700) != 0) {
		mu_fail(why, MU_EIO, "cannot make %s private: %s", dir,
		        strerror(errno));
		goto fail;
	}
	free(data);
	return dir;
fail:
	free(data);
	free(dir);
	return NULL;
}

int
mu_home_read_onion_key(const struct mu_home *home, uint8_t key[MU_HOME_ONION_KEY_BYTES],
                       struct mu_why *why)
{
	char *path = mu_home__join(home->dir, KEY_FILE);
	int rc;

	if (path == NULL)
		return mu_fail(why, MU_ENOMEM, "out of memory");
	rc = mu_home__read_key_file(path, key, MU_HOME_ONION_KEY_BYTES,
	                            "onion service key", why);
	free(path);
	return rc;
}

int
mu_home_write_onion_key(const struct mu_home *home,
                        const uint8_t key[MU_HOME_ONION_KEY_BYTES], struct mu_why *why)
{
	char *path = mu_home__join(home->dir, KEY_FILE);
	int rc;

	if (path == NULL)
		return mu_fail(why, MU_ENOMEM, "out of memory");
	rc = mu_home__create_key(path, key, MU_HOME_ONION_KEY_BYTES, why);
	if (rc == MU_EEXIST)
		rc =
		    mu_fail(why, MU_EEXIST,
		            "%s exists already: the onion key is never replaced", path);
	free(path);
	return rc;
}
