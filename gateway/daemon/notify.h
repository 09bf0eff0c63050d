/* The service manager's readiness protocol (sd_notify(3)) without libsystemd: one datagram
 * on the AF_UNIX socket $NOTIFY_SOCKET names, as mlagwd.service's Type=notify expects. */
#ifndef MLAGW_GATEWAY_NOTIFY_H
#define MLAGW_GATEWAY_NOTIFY_H

/* Sends state ("READY=1", "RELOADING=1", "STOPPING=1", "STATUS=...") when $NOTIFY_SOCKET is
 * set: an absolute path, or "@name" for an abstract socket. Returns 1 when sent, 0 when there
 * is no manager to tell, -1 (errno set) when the socket is unusable or the send failed. */
int gw_notify(const char *state);

#endif
