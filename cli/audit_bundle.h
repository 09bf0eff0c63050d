/* mlagw audit export | verify: the offline audit bundle (protocol/SPEC.md section 15), written
 * from a gateway's store (cmd_audit_export.c) and verified with the States' roots only
 * (cmd_audit_verify.c, its checks in audit_verify_checks.c). */
#ifndef MLAGW_CLI_AUDIT_BUNDLE_H
#define MLAGW_CLI_AUDIT_BUNDLE_H

int cmd_audit_export(int argc, char **argv);
int cmd_audit_verify(int argc, char **argv);

#endif
