#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

/* The length of the rule name that starts line, when ": " follows it; else 0.
 * Read once here, from the line every caller already writes as "rule:
 * detail", rather than given apart at each of mu_fail()'s callers. */
static size_t
rule_len(const char *line)
{
	size_t n = 0;

	while ((line[n] >= 'a' && line[n] <= 'z') ||
	       (line[n] >= '0' && line[n] <= '9') || line[n] == '-')
		n++;
	return n > 0 && line[n] == ':' && line[n + 1] == ' ' ? n : 0;
}

int
mu_fail(struct mu_why *why, int err, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL) {
		va_start(ap, fmt);
		vsnprintf(why->text, sizeof(why->text), fmt, ap);
		va_end(ap);
		why->rule_len = rule_len(why->text);
	}
	return err;
}

const char *
mu_why_or(const struct mu_why *why, int err)
{
	return why->text[0] != '\0' ? why->text : mu_strerror(err);
}

const char *
mu_why_detail(const struct mu_why *why)
{
	if (why->text[0] == '\0' || why->rule_len == 0)
		return why->text;
	return why->text + why->rule_len + 2;
}

bool
mu_why_rule_is(const struct mu_why *why, const char *rule)
{
	size_t n = strlen(rule);

	return why->text[0] != '\0' && why->rule_len == n &&
	       memcmp(why->text, rule, n) == 0;
}
