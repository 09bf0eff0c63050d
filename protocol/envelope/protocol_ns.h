/* Namespace URIs and algorithm identifiers of envelope format v1 (protocol/SPEC.md). */
#ifndef MLAGW_PROTOCOL_NS_H
#define MLAGW_PROTOCOL_NS_H

#define MLA_NS "urn:mlagw:envelope:1"
/* envelope version 2: version 1 with the Kinds and Actions of SPEC 16.7 added */
#define MLA_NS2 "urn:mlagw:envelope:2"
/* envelope version 3: version 2 with attachments (SPEC 17) */
#define MLA_NS3 "urn:mlagw:envelope:3"
/* the attachment descriptor inside a version 3 Payload (SPEC 17.6) */
#define MLA_ATTACH_DESC_NS "urn:mlagw:attachments:1"
#define MLA_RECEIPT_NS "urn:mlagw:receipt:1"
/* receipt version 2: version 1 plus the problem list of a refused case document (SPEC 12) */
#define MLA_RECEIPT2_NS "urn:mlagw:receipt:2"
/* receipt version 3: version 2 plus, when accepted, the attachments of an envelope version 3
 * (SPEC 12, 17.13) */
#define MLA_RECEIPT3_NS "urn:mlagw:receipt:3"
#define DS_NS "http://www.w3.org/2000/09/xmldsig#"
#define XENC_NS "http://www.w3.org/2001/04/xmlenc#"

#define ALG_EXC_C14N "http://www.w3.org/2001/10/xml-exc-c14n#"
#define ALG_SHA256 "http://www.w3.org/2001/04/xmlenc#sha256"
#define ALG_ECDSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
#define ALG_RSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#define ALG_AES256_GCM "http://www.w3.org/2009/xmlenc11#aes256-gcm"
#define ALG_RSA_OAEP "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"

/* The payload is gzip data (RFC 1952) before encryption. */
#define MLA_PAYLOAD_ENCODING "urn:mlagw:encoding:gzip"
#define MLA_PAYLOAD_MIME "application/octet-stream"

#endif
