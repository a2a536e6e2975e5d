/*
 * home_file.h - file helpers shared by storage/home*.c: paths in the home,
 * whole writes and reads, and the checks every key file passes before it is
 * read (home.c defines them, but for mu_home__clean_restores).
 *
 * Nothing here is public: names carry the mu_home__ prefix and no layer
 * above storage/ includes this file.
 */
#ifndef MU_HOME_FILE_H
#define MU_HOME_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../protocol/error.h"

/* dir/name, malloc()ed (the caller frees it); NULL when out of memory. */
char *mu_home__join(const char *dir, const char *name);

/* Removes the copies (HOME/store.restore-XXXXXX) that restores killed
 * before their end left behind (home_restore.c). Only for the holder of the
 * serve lock, which every restore holds while its copy exists. */
void mu_home__clean_restores(const char *home);

/* Writes all n bytes, retrying on EINTR; 0, or -1 with errno set. */
int mu_home__write_all(int fd, const void *buf, size_t n);

/*
 * Writes the n bytes of buf to a new key file at path, mode 0600, with
 * O_EXCL on its final name so that no key is ever replaced, and fsyncs it.
 * MU_EEXIST (why untouched) when path exists; a file that could not be
 * written whole is removed again.
 */
int mu_home__create_key(const char *path, const uint8_t *buf, size_t n,
                        struct mu_why *why);

/* Reads up to n bytes from the start of the file; how many, or -1 with
 * errno set. */
ssize_t mu_home__read_from_start(int fd, void *buf, size_t n);

/*
 * Checks the key file at path, open on fd, before it is read: a regular
 * file, not readable or writable by group or others when owner_only, and of
 * exactly size bytes. When the size is wrong, why says "it is not a muster
 * <what>". 0, or an MU_E* code with why.
 */
int mu_home__check_key(int fd, const char *path, size_t size, bool owner_only,
                       const char *what, struct mu_why *why);

/* Reads the n bytes of a checked key file into buf; on failure buf is
 * wiped and why says why. */
int mu_home__read_key(int fd, const char *path, uint8_t *buf, size_t n,
                      struct mu_why *why);

#endif
