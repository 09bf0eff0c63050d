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

#endif
