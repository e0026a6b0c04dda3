/* The session pool under load and under a token that drops its sessions:
 * 2,000 stored blobs, C_CloseAllSessions behind the pool's back, four
 * threads unsealing at once, and two stores changing one token as two
 * processes do. */
#include <criterion/criterion.h>
#include <p11-kit/pkcs11.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/secret.h"
#include "support/token_fixture.h"

static void wallet_name(char *out, size_t n, int i) { snprintf(out, n, "w-%05d", i); }

static void check_blob(pb_keystore *ks, int i)
{
    char id[32];
    wallet_name(id, sizeof id, i);
    pb_blob_ref ref = {id, 2, PB_BLOB_SHARE};
    uint8_t *plain = NULL;
    size_t len = 0;
    pb_status st = pb_keystore_get(ks, &ref, &plain, &len);
    cr_assert_eq(st, PB_OK, "blob %d: %s", i, pb_last_error());
    cr_assert_eq(len, sizeof(int));
    int value;
    memcpy(&value, plain, sizeof value);
    cr_assert_eq(value, i * 7919, "blob %d holds another wallet's record", i);
    pb_secret_free(plain, len);
}

static void store_blobs(pb_keystore *ks, int n)
{
    for (int i = 0; i < n; i++) {
        char id[32];
        wallet_name(id, sizeof id, i);
        pb_blob_ref ref = {id, 2, PB_BLOB_SHARE};
        int value = i * 7919;
        cr_assert_eq(pb_keystore_put(ks, &ref, (uint8_t *)&value, sizeof value), PB_OK,
                     "put %d: %s", i, pb_last_error());
    }
}

Test(keystore_pool, two_thousand_blobs_survive_reopen_and_closed_sessions)
{
    pb_test_token t;
    pb_test_token_make(&t, PB_PLACEMENT_TOKEN);
    pb_keystore *ks = pb_test_token_open(&t);
    store_blobs(ks, 2000);
    cr_assert_eq(pb_keystore_blob_count(ks), 2000);
    pb_keystore_close(ks);

    /* A fresh open finds all of them by one scan. */
    ks = pb_test_token_open(&t);
    cr_assert_eq(pb_keystore_blob_count(ks), 2000);

    /* The token drops every session of this application under the pool. */
    pb_keystore_raw raw;
    pb_keystore_raw_access(ks, &raw);
    CK_FUNCTION_LIST *fn = raw.function_list;
    cr_assert_eq(fn->C_CloseAllSessions(raw.slot), CKR_OK);
    for (int i = 0; i < 2000; i += 97)
        check_blob(ks, i);
    /* And again, in the middle of writes. */
    cr_assert_eq(fn->C_CloseAllSessions(raw.slot), CKR_OK);
    pb_blob_ref extra = {"w-extra", 1, PB_BLOB_SHARE};
    uint8_t one = 1;
    cr_assert_eq(pb_keystore_put(ks, &extra, &one, 1), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_keystore_blob_count(ks), 2001);
    cr_assert_eq(pb_keystore_delete(ks, &extra), PB_OK);
    cr_assert_eq(pb_keystore_delete(ks, &extra), PB_ERR_NOT_FOUND);
    check_blob(ks, 1999);
    pb_keystore_close(ks);
    pb_test_token_remove(&t);
}

Test(keystore_pool, a_crash_between_create_and_destroy_keeps_the_newer_blob)
{
    pb_test_token t;
    pb_test_token_make(&t, PB_PLACEMENT_TOKEN);
    pb_keystore *ks = pb_test_token_open(&t);
    pb_blob_ref ref = {"w-dup", 1, PB_BLOB_SHARE};
    uint8_t old_value = 1, new_value = 2;
    cr_assert_eq(pb_keystore_put(ks, &ref, &old_value, 1), PB_OK);
    uint8_t *old_sealed;
    size_t old_len;
    cr_assert_eq(pb_keystore_get_sealed(ks, &ref, &old_sealed, &old_len), PB_OK);
    cr_assert_eq(pb_keystore_put(ks, &ref, &new_value, 1), PB_OK);
    pb_keystore_close(ks);

    /* Recreate the "old" object by hand with a lower sequence number, as if
     * the process died after creating the new object and before destroying
     * the old one. */
    ks = pb_test_token_open(&t);
    pb_keystore_raw raw;
    pb_keystore_raw_access(ks, &raw);
    CK_FUNCTION_LIST *fn = raw.function_list;
    CK_SESSION_HANDLE s;
    cr_assert_eq(fn->C_OpenSession(raw.slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s),
                 CKR_OK);
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_BBOOL yes = CK_TRUE;
    uint8_t oid[] = {0x06, 0x02, 0x69, 0x01}; /* 2.25.1: the first put */
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof cls},         {CKA_TOKEN, &yes, sizeof yes},
        {CKA_PRIVATE, &yes, sizeof yes},       {CKA_APPLICATION, "planbok", 7},
        {CKA_LABEL, "w-dup/p1/share", 14},     {CKA_OBJECT_ID, oid, sizeof oid},
        {CKA_VALUE, old_sealed, old_len},
    };
    CK_OBJECT_HANDLE h;
    cr_assert_eq(fn->C_CreateObject(s, tmpl, 7, &h), CKR_OK);
    fn->C_CloseSession(s);
    pb_keystore_close(ks);

    ks = pb_test_token_open(&t);
    uint8_t *plain;
    size_t len;
    cr_assert_eq(pb_keystore_get(ks, &ref, &plain, &len), PB_OK, "%s", pb_last_error());
    cr_assert_eq(plain[0], 2, "the older copy won");
    pb_secret_free(plain, len);
    cr_assert_eq(pb_keystore_blob_count(ks), 1);
    free(old_sealed);
    pb_keystore_close(ks);
    pb_test_token_remove(&t);
}

static uint8_t value_of(pb_keystore *ks, const pb_blob_ref *ref)
{
    uint8_t *plain = NULL;
    size_t len = 0;
    cr_assert_eq(pb_keystore_get(ks, ref, &plain, &len), PB_OK, "%s", pb_last_error());
    cr_assert_eq(len, 1);
    uint8_t v = plain[0];
    pb_secret_free(plain, len);
    return v;
}

/* Two stores on one token stand for two planbok processes: each caches
 * handles and sequence numbers from its own start. */
Test(keystore_pool, a_put_lands_above_what_another_process_put_since_this_one_started)
{
    pb_test_token t;
    pb_test_token_make(&t, PB_PLACEMENT_TOKEN);
    pb_keystore *first = pb_test_token_open(&t);
    pb_blob_ref ref = {"w-shared", 1, PB_BLOB_SHARE};
    uint8_t v = 1;
    cr_assert_eq(pb_keystore_put(first, &ref, &v, 1), PB_OK);
    pb_keystore *second = pb_test_token_open(&t);
    for (v = 2; v <= 3; v++)
        cr_assert_eq(pb_keystore_put(second, &ref, &v, 1), PB_OK, "%s", pb_last_error());
    /* The first store still holds its start-up sequence number. */
    v = 4;
    cr_assert_eq(pb_keystore_put(first, &ref, &v, 1), PB_OK, "%s", pb_last_error());
    cr_assert_eq(value_of(second, &ref), 4, "the second store reads a superseded copy");
    v = 5;
    cr_assert_eq(pb_keystore_put(second, &ref, &v, 1), PB_OK, "%s", pb_last_error());
    cr_assert_eq(value_of(first, &ref), 5, "the first store reads a superseded copy");
    pb_keystore_close(first);
    pb_keystore_close(second);

    /* A store opened now sees the last put, and only one copy. */
    pb_keystore *later = pb_test_token_open(&t);
    cr_assert_eq(value_of(later, &ref), 5, "a put by a store with a stale sequence lost");
    pb_keystore_raw raw;
    pb_keystore_raw_access(later, &raw);
    CK_FUNCTION_LIST *fn = raw.function_list;
    CK_SESSION_HANDLE s;
    cr_assert_eq(fn->C_OpenSession(raw.slot, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_LABEL, "w-shared/p1/share", 17}};
    CK_OBJECT_HANDLE h[4];
    CK_ULONG n = 0;
    cr_assert_eq(fn->C_FindObjectsInit(s, tmpl, 2), CKR_OK);
    cr_assert_eq(fn->C_FindObjects(s, h, 4, &n), CKR_OK);
    fn->C_FindObjectsFinal(s);
    fn->C_CloseSession(s);
    cr_assert_eq(n, 1, "%lu copies of one blob are left", (unsigned long)n);
    pb_keystore_close(later);
    pb_test_token_remove(&t);
}

Test(keystore_pool, a_blob_another_process_added_or_deleted_is_seen)
{
    pb_test_token t;
    pb_test_token_make(&t, PB_PLACEMENT_TOKEN);
    pb_keystore *first = pb_test_token_open(&t);
    pb_keystore *second = pb_test_token_open(&t);
    pb_blob_ref ref = {"w-new", 2, PB_BLOB_SHARE};
    uint8_t v = 7, *plain = NULL;
    size_t len = 0;
    cr_assert_eq(pb_keystore_get(first, &ref, &plain, &len), PB_ERR_NOT_FOUND);
    cr_assert_eq(pb_keystore_put(second, &ref, &v, 1), PB_OK);
    cr_assert_eq(value_of(first, &ref), 7, "a blob added after this store opened is not found");
    cr_assert_eq(pb_keystore_delete(second, &ref), PB_OK);
    cr_assert_eq(pb_keystore_get(first, &ref, &plain, &len), PB_ERR_NOT_FOUND,
                 "a deleted blob is still read");
    cr_assert_eq(pb_keystore_delete(first, &ref), PB_ERR_NOT_FOUND);
    pb_keystore_close(first);
    pb_keystore_close(second);
    pb_test_token_remove(&t);
}

typedef struct worker {
    pb_keystore *ks;
    int first;
    int failures;
} worker;

static void *unseal_worker(void *arg)
{
    worker *w = arg;
    for (int k = 0; k < 1000; k++) {
        int i = (w->first + k * 13) % 200;
        char id[32];
        wallet_name(id, sizeof id, i);
        pb_blob_ref ref = {id, 2, PB_BLOB_SHARE};
        uint8_t *plain = NULL;
        size_t len = 0;
        int value = -1;
        if (pb_keystore_get(w->ks, &ref, &plain, &len) == PB_OK && len == sizeof value)
            memcpy(&value, plain, sizeof value);
        if (value != i * 7919)
            w->failures++;
        pb_secret_free(plain, len);
    }
    return NULL;
}

static void four_threads(pb_placement placement)
{
    pb_test_token t;
    pb_test_token_make(&t, placement);
    pb_keystore *ks = pb_test_token_open(&t);
    store_blobs(ks, 200);
    pthread_t th[4];
    worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){ks, i * 50, 0};
        pthread_create(&th[i], NULL, unseal_worker, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(w[i].failures, 0, "thread %d: %d wrong or failed unseals", i, w[i].failures);
    }
    pb_keystore_close(ks);
    pb_test_token_remove(&t);
}

Test(keystore_pool, four_threads_by_1000_unseals_all_correct)
{
    four_threads(PB_PLACEMENT_TOKEN);
}

Test(keystore_pool, four_threads_by_1000_unseals_store_directory)
{
    four_threads(PB_PLACEMENT_DIRECTORY);
}
