/* engine_fixture.c - two-node installations for engine tests (see
 * engine_fixture.h). No mocks: real tokens, real keys. */
#include "support/support.h"
#include "support/engine_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/paillier.h"
#include "engine/config.h"
#include "engine/engine_internal.h"
#include "mpc/share.h"
#include "pkcs11/softhsm_dev.h"
#include "support/mpc_runner.h"

static void install_cosigner(pb_engine *e)
{
    /* The suites' cached safe-prime parameters (see mpc_runner.h). */
    pb_cosigner_params *params = mpc_fx_cosigner(2048);
    cr_assert_eq(pb_engine_setup_with(e, params), PB_OK, "%s", pb_last_error());
    pb_cosigner_params_free(params);
}

void pb_test_engine_make(pb_test_engine *t)
{
    memset(t, 0, sizeof *t);
    const char *tmp = getenv("TMPDIR");
    snprintf(t->home, sizeof t->home, "%s/planbok-engine-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    cr_assert_not_null(mkdtemp(t->home));
    snprintf(t->device, sizeof t->device, "%s/device", t->home);
    pb_config cfg;
    pb_config_dev_defaults(&cfg, t->home);
    cfg.paillier_bits = 2048;
    char path[600], softhsm[600];
    pb_config_path(t->home, path, sizeof path);
    cr_assert_eq(pb_config_write(path, &cfg), PB_OK);
    pb_config_softhsm_dir(&cfg, softhsm, sizeof softhsm);
    const char *labels[] = {"planbok-node1", "planbok-node2"};
    cr_assert_eq(pb_softhsm_dev_provision(cfg.node[0].module, softhsm, labels, 2), PB_OK, "%s",
                 pb_last_error());
    for (int n = 0; n < 2; n++) {
        pb_keystore *ks = NULL;
        cr_assert_eq(pb_keystore_open(&cfg.node[n], PB_KEYSTORE_CREATE, &ks), PB_OK, "%s",
                     pb_last_error());
        pb_keystore_close(ks);
    }
    cr_assert_eq(pb_engine_open(t->home, &t->e), PB_OK, "%s", pb_last_error());
    install_cosigner(t->e);
}

void pb_test_engine_reopen(pb_test_engine *t)
{
    pb_engine_close(t->e);
    t->e = NULL;
    cr_assert_eq(pb_engine_open(t->home, &t->e), PB_OK, "%s", pb_last_error());
}

void pb_test_engine_remove(pb_test_engine *t)
{
    pb_engine_close(t->e);
    t->e = NULL;
    if (t->home[0])
        pb_test_rmtree(t->home);
}

const char *pb_test_write_file(pb_test_engine *t, const char *name, const char *text)
{
    static char paths[8][400];
    static int next;
    char *path = paths[next++ % 8];
    snprintf(path, 400, "%s/%s", t->home, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Corrupts node 2's c_key (Enc(x1) -> Enc(x1 + 1)), as a faulty or hostile
 * cosigner would, so that P1's decryption yields an invalid signature. */
void pb_test_corrupt_cosigner(pb_test_engine *t, const char *id, uint8_t **saved,
                              size_t *saved_len)
{
    pb_blob_ref ref = {id, 2, PB_BLOB_SHARE};
    cr_assert_eq(pb_keystore_get_sealed(t->e->node[1].ks, &ref, saved, saved_len), PB_OK);
    pb_share_p2 *p2 = NULL;
    cr_assert_eq(pb_p2_load(t->e, id, PB_BLOB_SHARE, &p2), PB_OK);
    BIGNUM *one = BN_new(), *c1 = BN_new();
    BN_one(one);
    cr_assert_eq(pb_paillier_encrypt(p2->paillier, one, c1, NULL), PB_OK);
    cr_assert_eq(pb_paillier_add(p2->paillier, p2->c_key, c1, p2->c_key), PB_OK);
    cr_assert_eq(pb_p2_store(t->e, id, PB_BLOB_SHARE, p2), PB_OK);
    BN_free(one);
    BN_free(c1);
    pb_share_p2_free(p2);
}


void pb_test_assert_signs(pb_test_engine *t, const char *id, const pb_secrets *s)
{
    uint8_t digest[32] = {0x5a};
    pb_signature_result res;
    cr_assert_eq(pb_engine_sign(t->e, id, digest, NULL, s, &res), PB_OK, "wallet %s: %s", id,
                 pb_last_error());
    mpc_check_signature(res.public_key, digest, res.sig, res.recovery_id);
}
