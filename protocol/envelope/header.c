/* The envelope header: vocabulary, syntax checks and fresh identifiers. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "mlagw/codec.h"
#include "mlagw/envelope.h"
#include "mlagw/text.h"

/* Every value of every envelope version, each version's additions after the last of the one
 * before (SPEC 3 and 16.7): the first MLA_KINDS_V1 / MLA_ACTIONS_V1 are version 1's. */
const char *const mla_kinds[] = {
	"extradition", "provisional-arrest", "mla", "evidence", "search-seizure",
	"bank-records", "asset-tracing", "asset-freezing", "confiscation", "crisis",
	"information-exchange", "victim-protection",
	/* envelope version 2 */
	"spontaneous-information", "production-order", "preservation-order", NULL,
};

const char *const mla_actions[] = {
	"request", "received", "accepted", "additional-information-requested",
	"additional-information-provided", "refused", "executed", "partially-executed",
	"withdrawn",
	/* envelope version 2 */
	"postponed", "forwarded", "in-execution", "closed", "deadline-extended",
	/* retrieval notices and records of other channels (SPEC 16.10, 16.11), version 2 only */
	"retrieved", "not-retrieved", "other-channel",
	/* a European arrest warrant's steps (SPEC 16.8), version 2 only */
	"person-arrested", "surrender-consented", NULL,
};

#define MLA_KINDS_V1 12
#define MLA_ACTIONS_V1 9
_Static_assert(sizeof(mla_kinds) / sizeof(mla_kinds[0]) == MLA_KINDS_V1 + 3 + 1,
	       "three Kinds of version 2");
_Static_assert(sizeof(mla_actions) / sizeof(mla_actions[0]) == MLA_ACTIONS_V1 + 10 + 1,
	       "ten Actions of version 2");

const char *const mla_handling_codes[] = {
	"public", "restricted", "confidential", "secret", NULL,
};

static const char *const priority_names[] = {"normal", "urgent", "crisis"};

const char *mla_priority_name(mla_priority p)
{
	if ((unsigned)p >= sizeof(priority_names) / sizeof(priority_names[0]))
		return "normal";
	return priority_names[p];
}

mla_err mla_priority_parse(const char *s, mla_priority *out)
{
	for (unsigned i = 0; i < sizeof(priority_names) / sizeof(priority_names[0]); i++) {
		if (strcmp(s, priority_names[i]) == 0) {
			*out = (mla_priority)i;
			return MLA_OK;
		}
	}
	return MLA_ERR_ARG;
}

static mla_err new_uuid(char out[MLA_UUID_LEN + 1])
{
	unsigned char u[16];

	if (RAND_bytes(u, sizeof(u)) != 1)
		return MLA_ERR_INTERNAL;
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40); /* version 4 */
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	return mla_snprintf(out, MLA_UUID_LEN + 1,
			    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			    u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
			    u[12], u[13], u[14], u[15]);
}

mla_err mla_header_init(mla_header *h)
{
	mla_err r;

	memset(h, 0, sizeof(*h));
	if ((r = new_uuid(h->message_id)) != MLA_OK || (r = new_uuid(h->case_id)) != MLA_OK)
		return r;
	h->created = time(NULL);
	h->priority = MLA_PRIORITY_NORMAL;
	h->version = 1;
	if ((r = mla_strcpy(h->action, sizeof(h->action), "request")) != MLA_OK)
		return r;
	return mla_strcpy(h->handling, sizeof(h->handling), "confidential");
}

static int is_uuid(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (strlen(s) != MLA_UUID_LEN)
		return 0;
	for (size_t i = 0; i < MLA_UUID_LEN; i++) {
		if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]) ||
						     isupper((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

static int is_state(const char *s)
{
	return isupper((unsigned char)s[0]) && isupper((unsigned char)s[1]) && s[2] == '\0' &&
	       s[0] <= 'Z' && s[1] <= 'Z';
}

/* Case ids are chosen by authorities: letters, digits and . _ / - only, 1 to 64. */
static int is_case_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MLA_CASE_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("._/-", s[i]) == NULL)
			return 0;
	return 1;
}

static int in_list(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/* The envelope version that first names s in list, whose first n_v1 values are version 1's
 * and the rest version 2's; 0 when no version names it. */
static int first_version(const char *s, const char *const *list, int n_v1)
{
	for (int i = 0; list[i] != NULL; i++)
		if (strcmp(s, list[i]) == 0)
			return i < n_v1 ? 1 : 2;
	return 0;
}

int mla_kind_version(const char *kind)
{
	return first_version(kind, mla_kinds, MLA_KINDS_V1);
}

int mla_action_version(const char *action)
{
	return first_version(action, mla_actions, MLA_ACTIONS_V1);
}

int mla_header_version(const mla_header *h)
{
	return h->version == 0 ? 1 : h->version;
}

mla_err mla_header_check(const mla_header *h, mla_diag *diag)
{
	if (h->version < 0 || h->version > MLA_ENVELOPE_VERSION_ATTACH)
		return mla_fail(diag, MLA_ERR_HEADER, "header: envelope version %d is not 1, 2 or 3",
				h->version);
	if (!is_uuid(h->message_id))
		return mla_fail(diag, MLA_ERR_HEADER, "header MessageId is not a lower-case UUID");
	if (!is_case_id(h->case_id))
		return mla_fail(diag, MLA_ERR_HEADER,
				"header CaseId must be 1-64 letters, digits or . _ / -");
	if (h->in_reply_to[0] != '\0' && !is_uuid(h->in_reply_to))
		return mla_fail(diag, MLA_ERR_HEADER, "header InReplyTo is not a lower-case UUID");
	if (!is_state(h->from_state))
		return mla_fail(diag, MLA_ERR_HEADER, "header From state is not ISO 3166-1 alpha-2");
	if (!is_state(h->to_state))
		return mla_fail(diag, MLA_ERR_HEADER, "header To state is not ISO 3166-1 alpha-2");
	/* text for people: C0, DEL and C1 controls or invalid UTF-8 would break logs and XML */
	if (!mla_text_is_clean(h->from_authority) || !mla_text_is_clean(h->to_authority))
		return mla_fail(diag, MLA_ERR_HEADER,
				"header authority is not UTF-8 text without control characters");
	if (!in_list(h->kind, mla_kinds))
		return mla_fail(diag, MLA_ERR_HEADER, "header Kind '%.40s' is not a known request kind",
				h->kind);
	if (!in_list(h->action, mla_actions))
		return mla_fail(diag, MLA_ERR_HEADER, "header Action '%.40s' is not a known action",
				h->action);
	if (mla_kind_version(h->kind) > mla_header_version(h))
		return mla_fail(diag, MLA_ERR_HEADER, "header Kind '%.40s' needs envelope version %d",
				h->kind, mla_kind_version(h->kind));
	if (mla_action_version(h->action) > mla_header_version(h))
		return mla_fail(diag, MLA_ERR_HEADER,
				"header Action '%.40s' needs envelope version %d", h->action,
				mla_action_version(h->action));
	if (!in_list(h->handling, mla_handling_codes))
		return mla_fail(diag, MLA_ERR_HEADER,
				"header Handling '%.40s' is not a known handling code", h->handling);
	if ((unsigned)h->priority > MLA_PRIORITY_CRISIS)
		return mla_fail(diag, MLA_ERR_HEADER, "header Priority is out of range");
	if (h->created <= 0)
		return mla_fail(diag, MLA_ERR_HEADER, "header Created time is missing");
	return MLA_OK;
}
