#include "error.h"

#include <stdarg.h>
#include <stdio.h>

const char *
mu_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case MU_EINVAL:
		return "invalid argument";
	case MU_ENOMEM:
		return "out of memory";
	case MU_EIO:
		return "input/output error";
	case MU_ENOTFOUND:
		return "not found";
	case MU_EEXIST:
		return "already exists";
	case MU_EFULL:
		return "storage full";
	case MU_ERECORD:
		return "invalid record";
	case MU_ESIG:
		return "bad signature";
	case MU_EKEYTEXT:
		return "malformed key, id or address";
	case MU_EPERM:
		return "permission denied";
	case MU_ECORRUPT:
		return "the store is damaged: run `muster check`, then `muster "
		       "restore FILE` with a backup";
	case MU_ETRUNC:
		return "input is truncated";
	case MU_EFORMAT:
		return "unrecognised file format";
	case MU_EVERSION:
		return "incompatible version";
	case MU_EBUSY:
		return "busy";
	}
	return "unknown error";
}

int
mu_fail(struct mu_why *why, int err, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL) {
		va_start(ap, fmt);
		vsnprintf(why->text, sizeof(why->text), fmt, ap);
		va_end(ap);
	}
	return err;
}

const char *
mu_why_or(const struct mu_why *why, int err)
{
	return why->text[0] != '\0' ? why->text : mu_strerror(err);
}
