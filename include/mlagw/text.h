/* UTF-8 checks shared by every parser of human text (configuration values, receipt error
 * messages, signed notes, audit entries): one decoder, one notion of "clean". */
#ifndef MLAGW_TEXT_H
#define MLAGW_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the UTF-8 sequence at s (at most n bytes) into *cp and returns its length (1-4),
 * or 0 when it is not valid UTF-8 (overlong, surrogate, beyond U+10FFFF, truncated). */
size_t mla_utf8_next(const uint8_t *s, size_t n, uint32_t *cp);

/* Non-zero when s is valid UTF-8 without C0 controls, DEL or C1 controls: safe to put in a
 * log line or an XML text node. */
int mla_text_is_clean(const char *s);

/* Copies src into dst (capacity n > 0) as safe text: each byte of invalid UTF-8 and each
 * control character (C0, DEL, C1) becomes '?', and a cut falls on a character boundary, so
 * the result always passes mla_text_is_clean. dst may be src (the text never grows).
 * Returns the length written. The one place diagnostics become fit for logs and receipts. */
size_t mla_text_copy_safe(char *dst, size_t n, const char *src);

#endif
