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

enum {
	MU_EINVAL = -1,    /* bad argument or bad input from a user */
	MU_ENOMEM = -2,    /* allocation failed */
	MU_EIO = -3,       /* a read or write failed; errno-level detail in mu_why */
	MU_ENOTFOUND = -4, /* no such record, key or file */
	MU_EEXIST = -5,    /* already exists (home, key file) */
	MU_EFULL = -6,     /* the store's map or the disk is full */
	MU_ERECORD = -7,   /* a record broke a rule of docs/PROTOCOL.md; see mu_why */
	MU_ESIG = -8,      /* a signature does not verify */
	MU_EKEYTEXT = -9,  /* a key, id or address in text form is malformed */
	MU_EPERM = -10,    /* a key file others can read, or a signer not allowed */
	MU_ECORRUPT = -11, /* stored data does not parse: the store is damaged */
	MU_ETRUNC = -12,   /* input ended in the middle of a value */
	MU_EFORMAT = -13,  /* a file is not in the expected format */
	MU_EVERSION = -14, /* a store or file written by an incompatible version */
	MU_EBUSY = -15,    /* the store is locked by something that does not answer */
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
