/* The attachment list of receipt version 3 (protocol/SPEC.md, sections 12 and 17.13): a
 * positive receipt for an envelope version 3 names each attachment received complete and
 * verified by index, ciphertext size and Merkle root, so the sender's proof of delivery
 * covers every byte of every attachment; the sender checks it against what it sealed. */
#include <string.h>

#include <libxml/xmlstring.h>

#include "mlagw/codec.h"
#include "receipt_internal.h"

mla_err receipt_attach_check(const mla_receipt_attachments *atts, mla_diag *diag)
{
	if (atts->n == 0 || atts->n > MLA_ATTACH_MAX)
		return mla_fail(diag, MLA_ERR_HEADER,
				"receipt Attachments list %zu attachments, not 1 to %u", atts->n,
				MLA_ATTACH_MAX);
	for (size_t i = 0; i < atts->n; i++) {
		if (atts->list[i].index != i + 1)
			return mla_fail(diag, MLA_ERR_HEADER, "receipt Attachment %zu has index %lu; "
					"indices run 1 to %zu in order", i + 1,
					(unsigned long)atts->list[i].index, atts->n);
		if (atts->list[i].size < MLA_ATTACH_TAG_LEN)
			return mla_fail(diag, MLA_ERR_HEADER,
					"receipt Attachment %zu: size %llu holds no segment", i + 1,
					(unsigned long long)atts->list[i].size);
	}
	return MLA_OK;
}

static mla_err add_one(xmlNodePtr list, xmlNsPtr ns, const mla_receipt_attachment *a)
{
	char index[12], size[24], root[2 * MLA_MERKLE_HASH_LEN + 1];
	xmlNodePtr n = xmlNewChild(list, ns, BAD_CAST "Attachment", NULL);
	mla_err r;

	if (n == NULL)
		return MLA_ERR_NOMEM;
	if ((r = mla_snprintf(index, sizeof(index), "%lu", (unsigned long)a->index)) != MLA_OK ||
	    (r = mla_snprintf(size, sizeof(size), "%llu", (unsigned long long)a->size)) != MLA_OK ||
	    (r = mla_hex_encode(a->root, sizeof(a->root), root, sizeof(root))) != MLA_OK)
		return r;
	if (xmlNewProp(n, BAD_CAST "index", BAD_CAST index) == NULL ||
	    xmlNewProp(n, BAD_CAST "size", BAD_CAST size) == NULL ||
	    xmlNewProp(n, BAD_CAST "root", BAD_CAST root) == NULL)
		return MLA_ERR_NOMEM;
	return MLA_OK;
}

mla_err receipt_attach_write(xmlNodePtr body, xmlNsPtr ns, const mla_receipt_attachments *atts)
{
	xmlNodePtr list = xmlNewChild(body, ns, BAD_CAST "Attachments", NULL);
	mla_err r;

	if (list == NULL)
		return MLA_ERR_NOMEM;
	for (size_t i = 0; i < atts->n; i++)
		if ((r = add_one(list, ns, &atts->list[i])) != MLA_OK)
			return r;
	return MLA_OK;
}

/* One Attachment's attributes (their shape is the schema's; the values are read again). */
static mla_err read_one(xmlNodePtr el, size_t i, mla_receipt_attachment *a, mla_diag *diag)
{
	xmlChar *index = xmlGetNoNsProp(el, BAD_CAST "index");
	xmlChar *size = xmlGetNoNsProp(el, BAD_CAST "size");
	xmlChar *root = xmlGetNoNsProp(el, BAD_CAST "root");
	uint64_t v = 0;
	mla_err r = MLA_OK;

	memset(a, 0, sizeof(*a));
	if (index == NULL || mla_parse_u64((const char *)index, 1, MLA_ATTACH_MAX, &v) != MLA_OK)
		r = mla_fail(diag, MLA_ERR_HEADER, "receipt Attachment %zu index is not 1 to %u",
			     i + 1, MLA_ATTACH_MAX);
	else if ((a->index = (uint32_t)v, size == NULL) ||
		 mla_parse_u64((const char *)size, 1, UINT64_MAX, &a->size) != MLA_OK)
		r = mla_fail(diag, MLA_ERR_HEADER, "receipt Attachment %zu size is not a decimal",
			     i + 1);
	else if (root == NULL || xmlStrlen(root) != 2 * MLA_MERKLE_HASH_LEN ||
		 mla_hex_decode((const char *)root, 2 * MLA_MERKLE_HASH_LEN, a->root,
				sizeof(a->root), NULL) != MLA_OK)
		r = mla_fail(diag, MLA_ERR_HEADER, "receipt Attachment %zu root is not 64 hex digits",
			     i + 1);
	xmlFree(index);
	xmlFree(size);
	xmlFree(root);
	return r;
}

mla_err receipt_attach_read(xmlNodePtr el, mla_receipt *r, mla_receipt_attachments *atts,
			    mla_diag *diag)
{
	mla_receipt_attachments tmp;
	mla_receipt_attachments *to = atts != NULL ? atts : &tmp;
	mla_err e;

	memset(to, 0, sizeof(*to));
	for (xmlNodePtr c = el->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (to->n == MLA_ATTACH_MAX)
			return mla_fail(diag, MLA_ERR_HEADER, "receipt lists more than %u attachments",
					MLA_ATTACH_MAX);
		if ((e = read_one(c, to->n, &to->list[to->n], diag)) != MLA_OK)
			return e;
		to->n++;
	}
	if ((e = receipt_attach_check(to, diag)) != MLA_OK)
		return e;
	r->attachment_count = (uint32_t)to->n;
	return MLA_OK;
}

void mla_receipt_attachments_of(const mla_attach_list *l, mla_receipt_attachments *out)
{
	memset(out, 0, sizeof(*out));
	out->n = l->n <= MLA_ATTACH_MAX ? l->n : MLA_ATTACH_MAX;
	for (size_t i = 0; i < out->n; i++) {
		out->list[i].index = l->item[i].pub.index;
		out->list[i].size = l->item[i].pub.size;
		memcpy(out->list[i].root, l->item[i].pub.root, MLA_MERKLE_HASH_LEN);
	}
}

mla_err mla_receipt_match_attachments(const mla_receipt *r, const mla_receipt_attachments *got,
				      const mla_attach_list *sealed, mla_diag *diag)
{
	if (r->outcome != MLA_OUTCOME_ACCEPTED)
		return MLA_OK;
	if (got->n != sealed->n)
		return mla_fail(diag, MLA_ERR_RECEIPT_MISMATCH,
				"receipt names %zu attachments; %zu were sealed", got->n, sealed->n);
	for (size_t i = 0; i < got->n; i++) {
		const mla_attach_entry *e = &sealed->item[i].pub;

		if (got->list[i].index != e->index || got->list[i].size != e->size)
			return mla_fail(diag, MLA_ERR_RECEIPT_MISMATCH,
					"receipt names attachment %lu of %llu bytes; attachment %lu "
					"of %llu bytes was sealed",
					(unsigned long)got->list[i].index,
					(unsigned long long)got->list[i].size, (unsigned long)e->index,
					(unsigned long long)e->size);
		if (memcmp(got->list[i].root, e->root, MLA_MERKLE_HASH_LEN) != 0)
			return mla_fail(diag, MLA_ERR_RECEIPT_MISMATCH, "receipt names attachment %lu "
					"with another root than the one sealed",
					(unsigned long)e->index);
	}
	return MLA_OK;
}
