/* engine_audit.c - what the engine tells each node's audit log. Records
 * carry only public facts: wallet id, event, digest, outcome and the status
 * name. Never a PIN, secret, share, recovery code or key. A write-ahead
 * record that cannot be made durable stops the operation. */
#include <stdio.h>
#include <string.h>

#include "common/fail.h"
#include "engine/engine_internal.h"

static const char *outcome_of(pb_status st)
{
    switch (st) {
    case PB_OK: return "ok";
    case PB_ERR_AUTH: return "denied";
    case PB_ERR_REFUSED:
    case PB_ERR_ABORTED: return "refused";
    default: return "failed";
    }
}

pb_status pb_engine_audit(pb_engine *e, int node, const char *event, const char *wallet_id,
                          const uint8_t *digest, pb_status result, int checkpoint)
{
    pb_audit_log *log = e->node[node - 1].audit;
    if (!log)
        return PB_OK;
    pb_audit_event ev = {
        .event = event,
        .wallet = wallet_id,
        .actor = e->actor,
        .digest = digest,
        .digest_len = digest ? 32 : 0,
        .outcome = outcome_of(result),
        .detail = result == PB_OK ? NULL : pb_status_name(result),
    };
    /* The caller's own error message must survive the audit call. */
    char saved[512];
    snprintf(saved, sizeof saved, "%s", pb_last_error());
    pb_status st = checkpoint ? pb_audit_append_checkpoint(log, &ev, NULL)
                              : pb_audit_append(log, &ev, NULL);
    if (st != PB_OK)
        return pb_fail_context(st, "audit log of node %d", node);
    pb_fail(result, "%s", saved);
    return PB_OK;
}

pb_status pb_engine_audit_result(pb_engine *e, const char *event, const char *wallet_id,
                                 const uint8_t *digest, pb_status result, int nodes)
{
    /* A failed operation's own message is what the caller must see, even
     * when recording it failed too (a full disk fails both). */
    char saved[512];
    snprintf(saved, sizeof saved, "%s", pb_last_error());
    for (int node = 1; node <= 2; node++) {
        if (!(nodes & (1 << (node - 1))))
            continue;
        /* A token failure is also named as such, for the operator's alarms. */
        if (result == PB_ERR_HSM)
            (void)pb_engine_audit(e, node, "hsm.error", wallet_id, NULL, result, 0);
        pb_status st = pb_engine_audit(e, node, event, wallet_id, digest, result, 1);
        if (st != PB_OK && result == PB_OK)
            return st;
    }
    if (result != PB_OK)
        pb_fail(result, "%s", saved);
    return result;
}
