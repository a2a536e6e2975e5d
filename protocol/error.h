/*
 * error.h - the error codes every muster layer returns.
 *
 * Every function that can fail returns 0 on success or one of these negative
 * codes. Foreign codes (LMDB, msgpack, libuv, errno) are translated where they
 * enter our code, so callers only ever see MU_E*.
 *
 * Validation failures carry more than a code: the rule that was broken and the
 * value that broke it. Those go into a struct mu_why the caller supplies.
 */
#ifndef MU_ERROR_H
#define MU_ERROR_H

#include <stddef.h>

/*
 * The codes: name, value, and what mu_strerror() says. One list, so that a
 * code and its message cannot drift apart (libuv's UV_ERRNO_MAP).
 */
#define MU_ERRNO_MAP(X)                                                                \
	X(EINVAL, -1, "invalid argument") /* bad argument or input from a user */      \
	X(ENOMEM, -2, "out of memory")    /* allocation failed */                      \
	X(EIO, -3, "input/output error")  /* errno-level detail in mu_why */           \
	X(ENOTFOUND, -4, "not found")     /* no such record, key or file */            \
	X(EEXIST, -5, "already exists")   /* a home, a key file */                     \
	X(EFULL, -6, "storage full")      /* the store's map or the disk */            \
	X(ERECORD, -7, "invalid record")  /* a rule of PROTOCOL.md; see mu_why */      \
	X(ESIG, -8, "bad signature")      /* a signature does not verify */            \
	X(EKEYTEXT, -9, "malformed key, id or address") /* a text form */              \
	X(EPERM, -10, "permission denied") /* a key file others read; a signer */      \
	X(ECORRUPT, -11,                                                               \
	  "the store is damaged: run `muster check`, then `muster "                    \
	  "restore FILE` with a backup")                                               \
	X(ETRUNC, -12, "input is truncated")        /* input ended inside a value */   \
	X(EFORMAT, -13, "unrecognised file format") /* not the expected format */      \
	X(EVERSION, -14, "incompatible version")    /* written by another version */   \
	X(EBUSY, -15, "busy") /* the store's lock is held and not answering */

enum {
#define MU_ERRNO_ENUM(name, value, text) MU_##name = value,
	MU_ERRNO_MAP(MU_ERRNO_ENUM)
#undef MU_ERRNO_ENUM
};

/* A short static description of an MU_E* code; never NULL. */
const char *mu_strerror(int err);

/*
 * Why something was rejected: "rule-name: detail", one line, NUL-terminated.
 * Functions that fill it leave it as an empty string on success.
 */
#define MU_WHY_MAX 240
struct mu_why {
	char text[MU_WHY_MAX];
};

/* What to print for a failure: why's text when it has one, else what err
 * means. */
const char *mu_why_or(const struct mu_why *why, int err);

/* Formats into why (if why is not NULL) and returns err, for one-line failures. */
int mu_fail(struct mu_why *why, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
