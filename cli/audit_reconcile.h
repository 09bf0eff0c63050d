/* mlagw audit reconcile: two States' audit bundles (SPEC section 15) compared exchange by
 * exchange (cmd_audit_reconcile.c). */
#ifndef MLAGW_CLI_AUDIT_RECONCILE_H
#define MLAGW_CLI_AUDIT_RECONCILE_H

int cmd_audit_reconcile(int argc, char **argv);

#endif
