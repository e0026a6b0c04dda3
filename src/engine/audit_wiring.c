/* audit_wiring.c - a node's audit log on its key store (see audit_wiring.h). */
#include "engine/audit_wiring.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fail.h"
#include "common/secret.h"

typedef struct node_ctx {
    pb_keystore *ks;
    uint8_t node;
} node_ctx;

void pb_node_audit_dir(const pb_config *cfg, int node, char *out, size_t n)
{
    snprintf(out, n, "%s/audit/node%d", cfg->home, node);
}

static pb_blob_ref checkpoint_ref(uint8_t node)
{
    pb_blob_ref ref = {PB_AUDIT_BLOB_WALLET, node, PB_BLOB_AUDIT_CHECKPOINT};
    return ref;
}

static pb_status sign_cb(void *ctx, const uint8_t digest[32], uint8_t sig[64])
{
    node_ctx *c = ctx;
    return pb_keystore_audit_sign(c->ks, digest, sig);
}

static pb_status save_cb(void *ctx, const char *line, size_t len)
{
    node_ctx *c = ctx;
    pb_blob_ref ref = checkpoint_ref(c->node);
    return pb_keystore_put(c->ks, &ref, (const uint8_t *)line, len);
}

pb_status pb_node_audit_checkpoint_load(pb_keystore *ks, int node, char **line, size_t *len)
{
    *line = NULL;
    *len = 0;
    if (node < 1 || node > PB_NODES)
        return pb_fail(PB_ERR_ARGUMENT, "node must be 1 or 2");
    pb_blob_ref ref = checkpoint_ref((uint8_t)node);
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    pb_status st = pb_keystore_get(ks, &ref, &plain, &plain_len);
    if (st != PB_OK)
        return st;
    char *copy = malloc(plain_len + 1);
    if (copy) {
        memcpy(copy, plain, plain_len);
        copy[plain_len] = '\0';
    }
    pb_secret_free(plain, plain_len);
    if (!copy)
        return pb_fail(PB_ERR_NOMEM, "out of memory");
    *line = copy;
    *len = plain_len;
    return PB_OK;
}

static pb_status load_cb(void *ctx, char **line, size_t *len)
{
    node_ctx *c = ctx;
    return pb_node_audit_checkpoint_load(c->ks, c->node, line, len);
}

static void release_cb(void *ctx) { free(ctx); }

/* The log knows no commands; the operator needs the one that repairs. */
static void repair_hint(int node, char *out, size_t n)
{
    snprintf(out, n, "run 'planbok audit repair --node %d'", node);
}

pb_status pb_node_audit_check(const pb_config *cfg, int node)
{
    if (node < 1 || node > PB_NODES)
        return pb_fail(PB_ERR_ARGUMENT, "audit: node must be 1 or 2");
    char dir[600], hint[64];
    pb_node_audit_dir(cfg, node, dir, sizeof dir);
    repair_hint(node, hint, sizeof hint);
    return pb_audit_check_tail(dir, hint);
}

pb_status pb_node_audit_open(const pb_config *cfg, int node, pb_keystore *ks, pb_audit_log **out)
{
    return pb_node_audit_open_with(cfg, node, ks, NULL, out);
}

pb_status pb_node_audit_open_with(const pb_config *cfg, int node, pb_keystore *ks,
                                  const pb_node_audit_settings *settings, pb_audit_log **out)
{
    *out = NULL;
    if (node < 1 || node > PB_NODES || !ks)
        return pb_fail(PB_ERR_ARGUMENT, "audit: node must be 1 or 2, with its key store");
    char top[600], dir[600];
    snprintf(top, sizeof top, "%s/audit", cfg->home);
    if (mkdir(top, 0700) != 0 && errno != EEXIST)
        return pb_fail(PB_ERR_STORAGE, "creating %s: %s", top, strerror(errno));
    pb_node_audit_dir(cfg, node, dir, sizeof dir);

    char *pem = NULL;
    pb_status st = pb_keystore_audit_public_pem(ks, &pem);
    if (st != PB_OK)
        return pb_fail_context(st, "audit log of node %d", node);
    node_ctx *ctx = malloc(sizeof *ctx);
    if (!ctx) {
        free(pem);
        return pb_fail(PB_ERR_NOMEM, "out of memory");
    }
    ctx->ks = ks;
    ctx->node = (uint8_t)node;
    pb_audit_options opt;
    memset(&opt, 0, sizeof opt);
    opt.dir = dir;
    opt.node = (unsigned)node;
    opt.flags = PB_AUDIT_STORE_ASYNC;
    if (settings) {
        opt.segment_bytes = settings->segment_bytes;
        opt.checkpoint_every = settings->checkpoint_every;
        opt.flags = settings->flags | (settings->sync_store ? 0 : PB_AUDIT_STORE_ASYNC);
        opt.clock = settings->clock;
        opt.clock_ctx = settings->clock_ctx;
    }
    opt.signer = (pb_audit_signer){sign_cb, ctx};
    opt.store = (pb_audit_checkpoint_store){save_cb, load_cb, ctx, release_cb};
    opt.public_key_pem = pem;
    char hint[64];
    repair_hint(node, hint, sizeof hint);
    opt.repair_hint = hint;
    st = pb_audit_open(&opt, out); /* owns ctx from here, even on failure */
    free(pem);
    return st;
}
