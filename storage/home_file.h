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
#include "home.h"

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

/*
 * Key files of random bytes (home_keys.c). mu_home__create_key_file()
 * fills buf with n random bytes and writes them to a new file at path, 0600,
 * with O_EXCL on its final name so that no key is ever replaced: MU_EEXIST
 * (why untouched) when path exists; a file not written whole is removed
 * and buf wiped. mu_home__read_key_file() reads such a file, checked as
 * mu_home__check_key() does (what names it): MU_ENOTFOUND (why untouched)
 * when there is none. mu_home__key_file() reads it, or creates it when
 * there is none (another process creating it at once wins).
 */
int mu_home__create_key_file(const char *path, uint8_t *buf, size_t n,
                             struct mu_why *why);
int mu_home__read_key_file(const char *path, uint8_t *buf, size_t n, const char *what,
                           struct mu_why *why);
int mu_home__key_file(const char *path, uint8_t *buf, size_t n, const char *what,
                      struct mu_why *why);

/* mkdir -p -m 700: missing parents get the usual 0755, the home 0700. */
int mu_home__make_dirs(const char *dir, struct mu_why *why);

/* Creates the store directory sdir (0700) and an empty store in it. */
int mu_home__make_store(const char *sdir, struct mu_why *why);

/* Makes a directory entry durable, not only the file's bytes: 0 or -1. */
int mu_home__sync_dir(const char *dir);

/*
 * The home's keys beside the root's (home_keys.c), for mu_home_open(): the
 * group's public key from HOME/group.pub when there is no group.key
 * (MU_ENOTFOUND, why untouched, when neither is there), and this home's
 * organizer key, its secret only when load_secret.
 */
int mu_home__read_pub(struct mu_home *home, struct mu_why *why);
/* MU_EEXIST with why when dir holds group.pub: it is a group's home. */
int mu_home__check_no_pub(const char *dir, struct mu_why *why);
int mu_home__load_organizer(struct mu_home *home, bool load_secret, struct mu_why *why);

#endif
