/* Fetching the directory ([directory] url, SPEC 18.6 Distribution): every fetch_interval the
 * URLs are tried in order on a thread of its own (libcurl, HTTPS against the [trust] roots,
 * bounded in size and time); a document that differs from the one in force is verified as
 * a reload would, and only a newer one replaces the [directory] file and is loaded by a
 * reload. */
#ifndef MLAGW_GATEWAY_DIR_FETCH_H
#define MLAGW_GATEWAY_DIR_FETCH_H

#include "core/gw.h"

struct gw_dir_fetch;

/* Arms the schedule (nothing is fetched while no URL is configured; a reload's URLs and
 * interval apply from the next round). reload is how a fetched directory is adopted. */
mla_err dir_fetch_start(struct gw *g, mla_err (*reload)(struct gw *, mla_diag *),
			struct gw_dir_fetch **out);
/* Fetches url now, once, judged and adopted as a scheduled fetch is (the schedule stays),
 * for peer (its State code: named by the directory-refused entry of a refusal): 1 when
 * started, 0 when a fetch is under way already or it cannot start. */
int dir_fetch_now(struct gw_dir_fetch *f, const char *url, const char *peer);
/* Aborts a fetch under way, waits for its thread, frees. NULL-safe. */
void dir_fetch_free(struct gw_dir_fetch *f);

#endif
