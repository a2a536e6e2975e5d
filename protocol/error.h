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

#include <stdbool.h>
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
 * Why something was rejected, one line, NUL-terminated: text is what to
 * print, "rule: detail" (the rule a name of a-z, 0-9 and '-', as PROTOCOL.md
 * names its rules), or only a detail when no rule applies. rule_len says
 * where the rule ends: the rule is text[0, rule_len) and the detail starts
 * at text + rule_len + 2; rule_len is 0 when the line names no rule.
 *
 * Functions that fill it leave text as an empty string on success. Only
 * mu_fail() (and record_parse.c's formatter) write it, and they set both
 * fields; a caller clears it with text[0] = '\0', which makes rule_len
 * meaningless, so read the parts through mu_why_detail() and
 * mu_why_rule_is().
 */
#define MU_WHY_MAX 240
struct mu_why {
	char text[MU_WHY_MAX];
	size_t rule_len;
};

/* What to print for a failure: why's text when it has one, else what err
 * means. */
const char *mu_why_or(const struct mu_why *why, int err);

/* The detail: why's text without its "rule: ", for a caller that words the
 * rule itself. Points into why; "" when why is empty. */
const char *mu_why_detail(const struct mu_why *why);

/* Whether why names rule (a NUL-terminated rule name). */
bool mu_why_rule_is(const struct mu_why *why, const char *rule);

/*
 * Formats into why (if why is not NULL) and returns err, for one-line
 * failures. fmt follows the "rule: detail" convention above; the rule is
 * taken from the formatted line, so callers write it as part of fmt.
 */
int mu_fail(struct mu_why *why, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
