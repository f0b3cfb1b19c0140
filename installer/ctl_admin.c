/*
 * ctl_admin.c - whether the process may change the system catalog: the
 * token is a member of Administrators and (UAC) elevated.
 */
#include "ctl.h"

int ctl_is_admin(void)
{
    SID_IDENTIFIER_AUTHORITY nt = SECURITY_NT_AUTHORITY;
    PSID admins = NULL;
    BOOL member = FALSE;
    if (!AllocateAndInitializeSid(&nt, 2, SECURITY_BUILTIN_DOMAIN_RID,
                                  DOMAIN_ALIAS_RID_ADMINS, 0, 0, 0, 0, 0, 0, &admins))
        return 0;
    /* NULL token: the effective token of this thread, which under UAC has
     * Administrators as a deny-only group unless elevated. */
    if (!CheckTokenMembership(NULL, admins, &member))
        member = FALSE;
    FreeSid(admins);
    return member ? 1 : 0;
}
