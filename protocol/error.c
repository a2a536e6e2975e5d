#include "error.h"

#include <stdarg.h>
#include <stdio.h>

const char *
mu_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
#define MU_ERRNO_TEXT(name, value, text)                                               \
	case MU_##name:                                                                \
		return text;
		MU_ERRNO_MAP(MU_ERRNO_TEXT)
#undef MU_ERRNO_TEXT
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
