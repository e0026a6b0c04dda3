/* fuzz_custody.c - the custody envelope parsers, each opened with the
 * fixed fixture key, so that honest seeds decrypt and every branch after
 * the tag check is reachable. Control byte (low 3 bits):
 *   0  Organization Secret wrap      (pb_org_unwrap)
 *   1  PIN wrappedSecret             (pb_pin_wrapped_kdf, pb_pin_unwrap)
 *   2  recovery-code blob            (pb_recovery_unwrap)
 *   3  (reserved for the recovery seal, custody/recovery_seal.h)
 *   4  admin backup (RSA-OAEP + GCM) (pb_backup_open)
 *   5  a typed recovery code         (pb_recovery_code_parse)
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/secret.h"
#include "custody/backup.h"
#include "custody/org_secret.h"
#include "custody/pin.h"
#include "custody/recovery_code.h"
#include "harness.h"

static char code[PB_RECOVERY_CODE_MAX];
static char backup_key[PATH_MAX + 64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    size_t len;
    uint8_t *c = fz_fixture(FZ_RECOVERY_CODE, &len);
    if (len >= sizeof code) {
        fprintf(stderr, "fuzz_custody: bad recovery code fixture\n");
        exit(2);
    }
    memcpy(code, c, len);
    free(c);
    snprintf(backup_key, sizeof backup_key, "%s/%s", fz_fixture_dir(), FZ_BACKUP_KEY);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t len = size - 1;
    uint8_t *in = fz_copy(data + 1, len);
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    pb_status st = PB_ERR_ARGUMENT;
    switch (data[0] & 7) {
    case 0: {
        uint8_t org[PB_ORG_SECRET_BYTES];
        memset(org, FZ_ORG_SECRET_BYTE, sizeof org);
        st = pb_org_unwrap(org, FZ_WALLET_ID, in, len, &plain, &plain_len);
        break;
    }
    case 1: {
        uint8_t key[PB_PIN_KEY_BYTES];
        memset(key, FZ_PIN_KEY_BYTE, sizeof key);
        pb_kdf_params kdf;
        (void)pb_pin_wrapped_kdf(in, len, &kdf);
        st = pb_pin_unwrap(key, FZ_WALLET_ID, in, len, &plain, &plain_len);
        break;
    }
    case 2:
        st = pb_recovery_unwrap(code, FZ_WALLET_ID, in, len, &plain, &plain_len);
        break;
    case 4:
        st = pb_backup_open(backup_key, in, len, &plain, &plain_len);
        break;
    case 5: {
        char *text = malloc(len + 1);
        char out[PB_RECOVERY_CODE_MAX];
        if (!text)
            abort();
        memcpy(text, in, len);
        text[len] = '\0';
        (void)pb_recovery_code_parse(text, out);
        free(text);
        break;
    }
    default:
        break;
    }
    if (st == PB_OK)
        pb_secret_free(plain, plain_len);
    free(in);
    return 0;
}
