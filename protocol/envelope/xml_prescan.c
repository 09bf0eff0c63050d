/* A linear pass over untrusted XML bytes before libxml2 parses them: libxml2 2.9 checks an
 * element's attributes for duplicates in quadratic time before any SAX hook runs, so a body
 * with tens of thousands of attributes on one element would hold a worker for minutes. Each
 * byte is looked at once; markup that holds no attributes (comments, CDATA sections,
 * processing instructions, end tags, declarations) is skipped whole. */
#include <string.h>

#include "xml_safe.h"

struct scan {
	const uint8_t *p, *end;
	size_t total;      /* attributes so far */
	size_t line;       /* of the current position, for the message */
	const mla_limits *limits;
	mla_diag *diag;
};

/* Moves past the first occurrence of term (length 2 or 3); 0 when the input ends first,
 * which libxml2 then reports as malformed. */
static int skip_past(struct scan *s, const char *term)
{
	size_t n = strlen(term);

	for (; s->p + n <= s->end; s->p++) {
		if (*s->p == '\n')
			s->line++;
		if (memcmp(s->p, term, n) == 0) {
			s->p += n;
			return 1;
		}
	}
	s->p = s->end;
	return 0;
}

/* Moves past the '>' that closes a tag, outside quoted values; counts '=' outside quotes,
 * one per attribute (namespace declarations included: libxml2 checks those too). */
static mla_err scan_tag(struct scan *s, int count)
{
	uint8_t quote = 0;
	size_t attrs = 0;

	for (; s->p < s->end; s->p++) {
		uint8_t c = *s->p;

		if (c == '\n')
			s->line++;
		if (quote != 0) {
			if (c == quote)
				quote = 0;
		} else if (c == '"' || c == '\'') {
			quote = c;
		} else if (c == '>') {
			s->p++;
			break;
		} else if (c == '=' && count) {
			if (++attrs > s->limits->max_element_attrs)
				return mla_fail(s->diag, MLA_ERR_XML_ATTRS, "XML element at line %zu "
						"has more than %u attributes", s->line,
						s->limits->max_element_attrs);
			if (++s->total > s->limits->max_attrs)
				return mla_fail(s->diag, MLA_ERR_XML_ATTRS, "XML attribute count "
						"exceeds the limit of %u", s->limits->max_attrs);
		}
	}
	return MLA_OK;
}

/* At '<': what follows decides what kind of markup it is. */
static mla_err scan_markup(struct scan *s)
{
	size_t left = (size_t)(s->end - s->p);

	if (left >= 4 && memcmp(s->p, "<!--", 4) == 0) {
		s->p += 4;
		skip_past(s, "-->");
	} else if (left >= 9 && memcmp(s->p, "<![CDATA[", 9) == 0) {
		s->p += 9;
		skip_past(s, "]]>");
	} else if (left >= 2 && s->p[1] == '?') {
		s->p += 2;
		skip_past(s, "?>");
	} else {
		int start_tag = left >= 2 && s->p[1] != '/' && s->p[1] != '!';

		s->p++;
		return scan_tag(s, start_tag);
	}
	return MLA_OK;
}

mla_err xml_prescan(const void *buf, size_t len, const mla_limits *limits, mla_diag *diag)
{
	struct scan s = {buf, (const uint8_t *)buf + len, 0, 1, limits, diag};
	mla_err r = MLA_OK;

	while (r == MLA_OK && s.p < s.end) {
		const uint8_t *lt = memchr(s.p, '<', (size_t)(s.end - s.p));

		for (const uint8_t *q = s.p; q < (lt != NULL ? lt : s.end); q++)
			s.line += *q == '\n';
		if (lt == NULL)
			break;
		s.p = lt;
		r = scan_markup(&s);
	}
	return r;
}
