/*
 * place.h - putting a finished file under the name the user gave, the same
 * way for every command that writes one (`backup`, `export`).
 *
 * The file is written in full under a temp name beside its final name and
 * renamed into place only then, so that the final name never holds half a
 * file. Without force an existing file is never replaced: not by checking
 * first and renaming after (another process may create it in between) but
 * by a rename that refuses an existing name.
 */
#ifndef MU_STORE_PLACE_H
#define MU_STORE_PLACE_H

#include <stdbool.h>

#include "../protocol/error.h"

/*
 * Checks early, before any file is written, that path may be written: it
 * does not exist, or force. Returns 0, or MU_EEXIST with why saying to
 * choose another name or add --force. mu_store_place() checks again.
 */
int mu_store_place_free(const char *path, bool force, struct mu_why *why);

/*
 * Renames tmp to path (without force only when path does not exist) and
 * makes the rename durable (fsync of path's directory). Returns 0, or
 * MU_EEXIST / MU_EIO / MU_EFULL with why; tmp is then still there, for the
 * caller to remove.
 */
int mu_store_place(const char *tmp, const char *path, bool force, struct mu_why *why);

#endif
