/* The engine's audit trail end to end: every operation leaves records on
 * both nodes, both logs verify offline under the tokens' public keys, every
 * signature has its sign.complete record with its digest, and no secret
 * (PIN, Organization Secret, recovery code, shares, exported key) appears in
 * any log in raw, hex, base64 or decimal form. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/verify.h"
#include "engine/audit_wiring.h"
#include "engine/engine_internal.h"
#include "mpc/share.h"
#include "support/engine_fixture.h"

/* All segments of a node's log, concatenated. */
static char *read_logs(pb_test_engine *t, int node)
{
    char dir[600];
    pb_node_audit_dir(&t->e->cfg, node, dir, sizeof dir);
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "no audit directory %s", dir);
    size_t cap = 1 << 20, len = 0;
    char *all = calloc(cap, 1);
    struct dirent *ent;
    while ((ent = readdir(d))) {
        if (!strstr(ent->d_name, ".jsonl"))
            continue;
        char path[900];
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        FILE *f = fopen(path, "r");
        size_t got;
        while (f && (got = fread(all + len, 1, cap - len - 1, f)) > 0) {
            len += got;
            if (len + 1 == cap) {
                all = realloc(all, cap * 2);
                cap *= 2;
            }
        }
        if (f)
            fclose(f);
    }
    closedir(d);
    all[len] = '\0';
    return all;
}

static void hex(const uint8_t *in, size_t n, char *out, int upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Asserts that no encoding of `secret` stands in any log. */
static void assert_absent(char *logs[2], const uint8_t *secret, size_t n, const char *what)
{
    char h[200], H[200], b64[200], dec[200];
    hex(secret, n, h, 0);
    hex(secret, n, H, 1);
    EVP_EncodeBlock((unsigned char *)b64, secret, (int)n);
    BIGNUM *bn = BN_bin2bn(secret, (int)n, NULL);
    char *d = BN_bn2dec(bn);
    snprintf(dec, sizeof dec, "%s", d);
    OPENSSL_free(d);
    BN_free(bn);
    for (int i = 0; i < 2; i++) {
        cr_assert(memmem(logs[i], strlen(logs[i]), secret, n) == NULL, "%s (raw) in log %d", what, i + 1);
        cr_assert(strstr(logs[i], h) == NULL, "%s (hex) in log %d", what, i + 1);
        cr_assert(strstr(logs[i], H) == NULL, "%s (HEX) in log %d", what, i + 1);
        cr_assert(strstr(logs[i], b64) == NULL, "%s (base64) in log %d", what, i + 1);
        cr_assert(n < 8 || strstr(logs[i], dec) == NULL, "%s (decimal) in log %d", what, i + 1);
    }
}

Test(engine_audit, every_operation_is_recorded_verifiable_and_secret_free)
{
    pb_test_engine t;
    pb_test_engine_make(&t);
    static const uint8_t pin[] = "90817263", new_pin[] = "55667788", wrong[] = "00000000";
    uint8_t secret[32];
    for (int i = 0; i < 32; i++)
        secret[i] = (uint8_t)(0xa0 + i);
    pb_secrets org = {.org_secret = secret};
    pb_secrets cust = {.pin = pin, .pin_len = 8, .device_dir = t.device};
    pb_secrets cust_new = {.pin = new_pin, .pin_len = 8, .device_dir = t.device};
    pb_secrets cust_wrong = {.pin = wrong, .pin_len = 8, .device_dir = t.device};
    pb_wallet_info std, tl, cu;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE], unused[PB_ENGINE_RECOVERY_CODE_SIZE];
    cr_assert_eq(pb_engine_wallet_create(t.e, "standard", NULL, NULL, &std, unused), PB_OK);
    cr_assert_eq(pb_engine_wallet_create(t.e, "trustless", NULL, &org, &tl, unused), PB_OK);
    cr_assert_eq(pb_engine_wallet_create(t.e, "customer", NULL, &cust, &cu, code), PB_OK);

    uint8_t digests[4][32];
    const char *ids[4] = {std.id, std.id, tl.id, cu.id};
    const pb_secrets *sec[4] = {NULL, NULL, &org, &cust};
    for (int i = 0; i < 4; i++) {
        memset(digests[i], 0x30 + i, 32);
        pb_signature_result res;
        cr_assert_eq(pb_engine_sign(t.e, ids[i], digests[i], i == 1 ? "m/44/60/0/0/1" : NULL,
                                    sec[i], &res),
                     PB_OK, "%s", pb_last_error());
    }
    uint8_t priv[32], pub[33], priv_c[32];
    cr_assert_eq(pb_engine_refresh(t.e, std.id, NULL), PB_OK);
    cr_assert_eq(pb_engine_export(t.e, std.id, NULL, priv, pub), PB_ERR_REFUSED);
    cr_assert_eq(pb_engine_export(t.e, tl.id, &org, priv, pub), PB_OK);
    uint8_t digest[32] = {1};
    pb_signature_result res;
    for (int i = 0; i < 5; i++)
        cr_assert_eq(pb_engine_sign(t.e, cu.id, digest, NULL, &cust_wrong, &res), PB_ERR_AUTH);
    cr_assert_eq(pb_engine_pin_reset(t.e, cu.id, t.device, code, new_pin, 8), PB_OK, "%s",
                 pb_last_error());
    cr_assert_eq(pb_engine_export(t.e, cu.id, &cust_new, priv_c, pub), PB_OK);
    /* The shares themselves, read the way the service would (with the secrets). */
    pb_share_p1 *p1 = NULL;
    pb_share_p2 *p2 = NULL;
    pb_p1_access access;
    pb_p1_access_init(&access, PB_MODE_TRUSTLESS, tl.id, &org);
    cr_assert_eq(pb_p1_load(t.e, &access, &p1), PB_OK);
    cr_assert_eq(pb_p2_load(t.e, tl.id, PB_BLOB_SHARE, &p2), PB_OK);
    uint8_t x1[32], x2[32];
    memcpy(x1, p1->x1.b, 32);
    memcpy(x2, p2->x2.b, 32);
    pb_share_p1_free(p1);
    pb_share_p2_free(p2);
    pb_test_engine_reopen(&t); /* closes the logs: pending token copies finish */

    /* Both logs verify offline under the tokens' public keys (PEM text). */
    for (int node = 1; node <= 2; node++) {
        char *pem = NULL, dir[600], *cp = NULL;
        size_t cp_len = 0;
        cr_assert_eq(pb_keystore_audit_public_pem(t.e->node[node - 1].ks, &pem), PB_OK);
        cr_assert_eq(pb_node_audit_checkpoint_load(t.e->node[node - 1].ks, node, &cp, &cp_len), PB_OK);
        pb_node_audit_dir(&t.e->cfg, node, dir, sizeof dir);
        pb_audit_verify_options opt = {.path = dir, .public_key_pem = pem, .checkpoint = cp,
                                       .node = (unsigned)node};
        pb_audit_summary sum;
        memset(&sum, 0, sizeof sum);
        pb_status vst = pb_audit_verify(&opt, &sum);
        cr_assert_eq(vst, PB_OK, "node %d: %s: %s / %s at seq %llu", node, pb_status_name(vst),
                     pb_last_error(), sum.message, (unsigned long long)sum.bad_seq);
        cr_assert(sum.checkpoints > 0 && sum.unsigned_tail == 0);
        free(cp);
        free(pem);
    }

    char *logs[2] = {read_logs(&t, 1), read_logs(&t, 2)};
    const char *events[] = {"wallet.create", "sign.request", "sign.complete", "refresh",
                            "export.refused", "\"export\"", "pin.fail", "pin.locked_out",
                            "pin.reset"};
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
        cr_assert(strstr(logs[0], events[i]) || strstr(logs[1], events[i]), "no %s record",
                  events[i]);
    for (int i = 0; i < 4; i++) {
        char want[200], h[65];
        hex(digests[i], 32, h, 0);
        snprintf(want, sizeof want, "\"digest\":\"%s\"", h);
        char *at = strstr(logs[0], want);
        int found = 0;
        while (at && !found) {
            const char *line = at;
            while (line > logs[0] && line[-1] != '\n')
                line--;
            const char *end = strchr(at, '\n');
            found = memmem(line, (size_t)(end - line), "sign.complete", 13) != NULL &&
                    memmem(line, (size_t)(end - line), "\"ok\"", 4) != NULL;
            at = strstr(at + 1, want);
        }
        cr_assert(found, "signature %d has no sign.complete record with its digest", i);
    }
    assert_absent(logs, pin, 8, "the PIN");
    assert_absent(logs, new_pin, 8, "the new PIN");
    assert_absent(logs, secret, 32, "the Organization Secret");
    assert_absent(logs, (const uint8_t *)code, strlen(code), "the recovery code");
    assert_absent(logs, x1, 32, "share x1");
    assert_absent(logs, x2, 32, "share x2");
    assert_absent(logs, priv, 32, "the exported trustless key");
    assert_absent(logs, priv_c, 32, "the exported customer key");
    free(logs[0]);
    free(logs[1]);
    pb_test_engine_remove(&t);
}
