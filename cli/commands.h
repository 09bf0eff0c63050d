/* The mlagw subcommands. Each receives the arguments after "mlagw" (argv[0] is the
 * subcommand's own name, e.g. "pki") and returns the process exit status. */
#ifndef MLAGW_CLI_COMMANDS_H
#define MLAGW_CLI_COMMANDS_H

/* mlagw pki init --state CC --out DIR ...: exit 0 ok, 2 usage, 3 I/O/key/cert, 4 internal. */
int cmd_pki(int argc, char **argv);
/* mlagw pki renew | issue (cmd_pki_renew.c), reached through cmd_pki. */
int cmd_pki_renew(int argc, char **argv);
int cmd_pki_issue(int argc, char **argv);
/* mlagw pki revoke|crl (cmd_pki_revoke.c); argv[0] is the subcommand. */
int cmd_pki_revocation(int argc, char **argv);
/* mlagw envelope seal|verify|open. */
int cmd_envelope(int argc, char **argv);
/* mlagw submit | status | health, talking to the daemon's submission socket
 * (argv[0] is the command name). */
int cmd_gateway(int argc, char **argv);
/* mlagw submit|status|inbox|fetch|answer|health|whoami against the local API (--gateway). */
int cmd_api(int argc, char **argv);
/* mlagw audit proof: an inclusion or consistency proof of the audit log from the local API,
 * verified against the latest checkpoint signed by the gateway's audit key. */
int cmd_audit(int argc, char **argv);
/* mlagw receipt verify: a receipt checked offline, optionally against its envelope. */
int cmd_receipt(int argc, char **argv);
/* mlagw case validate FILE [--json]: a case document's problems (cmd_case.c). */
int cmd_case(int argc, char **argv);
/* mlagw store show: a gateway's store read through its read-only reader (cmd_store.c). */
int cmd_store(int argc, char **argv);
/* mlagw store check (backup 0) and mlagw store backup (1), argv[0] the subcommand
 * (cmd_store_check.c). */
int cmd_store_check(int argc, char **argv, int backup);
/* mlagw bench envelope: seal/open rates beside OpenSSL's bound; mlagw bench gateway: two
 * local gateways under load, receipted envelopes/s and latency beside the exchange's bound. */
int cmd_bench(int argc, char **argv);
/* mlagw bench evidence (cmd_bench_evidence.c): one attachment to a running gateway, timed
 * beside the bound (issue 15 §6, one gateway). */
int bench_evidence(int argc, char **argv);
/* mlagw bench audit: appends/s, proof times and bundle verification (bench_audit.c). */
int bench_audit(int argc, char **argv);
/* mlagw stats (a gateway's own audit log) and mlagw audit stats (verified bundles): the case
 * statistics of SPEC 16.13 (cmd_stats.c). */
int cmd_stats(int argc, char **argv);
int cmd_audit_stats(int argc, char **argv);
/* mlagw directory build|sign|verify|show|diff: the signed directory (cmd_directory.c). */
int cmd_directory(int argc, char **argv);

#endif
