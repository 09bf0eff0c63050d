/* Newer directories seen on an exchange (see dir_peer.h). The header is untrusted text: it
 * only prompts a fetch, whose document is judged as any fetched directory (dir_fetch.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "core/clock.h"
#include "core/log.h"
#include "dir_peer.h"
#include "mlagw/codec.h"
#include "net/peer_client.h"

struct gw_dir_peers {
	struct gw *g;
	struct gw_dir_fetch *fetch;
	struct {
		char state[3];
		int64_t last_ms;   /* monotonic time of the last fetch it prompted */
		uint64_t tried;    /* the highest serial it advertised that was fetched */
	} seen[GW_MAX_PEERS];
	size_t n;
};

mla_err dir_peers_new(struct gw *g, struct gw_dir_fetch *fetch, struct gw_dir_peers **out)
{
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return MLA_ERR_NOMEM;
	(*out)->g = g;
	(*out)->fetch = fetch;
	peer_client_on_directory(g->client, dir_peers_seen, *out);
	return MLA_OK;
}

void dir_peers_free(struct gw_dir_peers *p)
{
	free(p);
}

int dir_advert_url(const char *url, unsigned port, char *out, size_t cap)
{
	CURLU *u = curl_url();
	char portstr[8], *scheme = NULL, *full = NULL;
	int ok;

	mla_require(mla_snprintf(portstr, sizeof(portstr), "%u", port) == MLA_OK);
	ok = u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	     curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	     strcmp(scheme, "https") == 0 &&
	     curl_url_set(u, CURLUPART_PORT, portstr, 0) == CURLUE_OK &&
	     curl_url_set(u, CURLUPART_PATH, DIR_WELL_KNOWN, 0) == CURLUE_OK &&
	     curl_url_set(u, CURLUPART_QUERY, NULL, 0) == CURLUE_OK &&
	     curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK &&
	     curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
	     curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
	     curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK &&
	     mla_strcpy(out, cap, full) == MLA_OK;
	curl_free(scheme);
	curl_free(full);
	curl_url_cleanup(u);
	return ok;
}

static size_t slot_of(struct gw_dir_peers *p, const char *state)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->seen[i].state, state) == 0)
			return i;
	if (p->n == GW_MAX_PEERS)
		return GW_MAX_PEERS;
	memcpy(p->seen[p->n].state, state, 3);
	return p->n++;
}

void dir_peers_seen(void *arg, const char *state, const char *value, const char *url)
{
	struct gw_dir_peers *p = arg;
	const struct gw_snapshot *s = p->g->snap;
	char publisher[3], fetch_url[GW_URL_MAX];
	uint64_t serial = 0;
	unsigned port = 0;
	int64_t now = gw_mono_ms();
	size_t i;

	if (s == NULL || s->dir == NULL || strlen(state) != 2)
		return; /* no directory here: nothing to compare with */
	if (!mla_dir_advert_parse(value, strlen(value), publisher, &serial, &port)) {
		gw_log_limited(GW_LOG_WARN, "directory-advert-refused", state, NULL, "peer=%s "
			       "reason=\"Mlagw-Directory is not <publisher> <serial> <port>\"", state);
		return;
	}
	if (strcmp(publisher, s->cfg.dir_publisher) != 0 || serial <= s->dir->serial ||
	    (i = slot_of(p, state)) == GW_MAX_PEERS || serial <= p->seen[i].tried ||
	    (p->seen[i].last_ms != 0 && now - p->seen[i].last_ms < DIR_PEER_FETCH_MIN_MS))
		return; /* not newer, tried already, or too soon after the last */
	if (!dir_advert_url(url, port, fetch_url, sizeof(fetch_url)) ||
	    !dir_fetch_now(p->fetch, fetch_url, state))
		return; /* a fetch under way: the next answer tells again */
	p->seen[i].tried = serial;
	p->seen[i].last_ms = now;
	gw_log(GW_LOG_INFO, "directory-seen", NULL, "peer=%s serial=%llu url=%s reason=\"newer "
	       "than the held %llu: fetched\"", state, (unsigned long long)serial, fetch_url,
	       (unsigned long long)s->dir->serial);
}
