/* Canonical audit records: the encoding is byte-exact, its one decoder
 * rejects every other spelling, the hash is the documented one, and
 * checkpoint signatures have exactly one accepted form. */
#include <criterion/criterion.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>

#include "audit/checkpoint.h"
#include "audit/record.h"
#include "audit/text.h"
#include "support/audit_fixture.h"

static pb_audit_record sample(void)
{
    pb_audit_record r;
    memset(&r, 0, sizeof r);
    r.seq = 42;
    r.time_ms = 1714566605123LL;
    r.node = 2;
    snprintf(r.event, sizeof r.event, "sign.complete");
    snprintf(r.wallet, sizeof r.wallet, "wallet-7");
    snprintf(r.actor, sizeof r.actor, "api:alice");
    r.digest_len = 32;
    for (int i = 0; i < 32; i++)
        r.digest[i] = (uint8_t)(i * 7);
    snprintf(r.outcome, sizeof r.outcome, "ok");
    snprintf(r.detail, sizeof r.detail, "chain=1 path=m/0/5");
    memset(r.prev, 0xab, 32);
    return r;
}

static void encode(pb_audit_record *r, char *line, size_t *len)
{
    cr_assert_eq(pb_audit_record_encode(r, line, PB_AUDIT_LINE_MAX + 1, len), PB_OK, "%s",
                 pb_last_error());
}

Test(audit_record, encoding_is_the_documented_byte_exact_line)
{
    pb_audit_record r = sample();
    char line[PB_AUDIT_LINE_MAX + 1];
    size_t len;
    encode(&r, line, &len);
    char digest[65] = "", prev[65] = "", hash[65] = "";
    for (int i = 0; i < 32; i++) {
        sprintf(digest + 2 * i, "%02x", r.digest[i]);
        sprintf(prev + 2 * i, "%02x", 0xab);
        sprintf(hash + 2 * i, "%02x", r.hash[i]);
    }
    char expect[1024];
    snprintf(expect, sizeof expect,
             "{\"seq\":42,\"time\":\"2024-05-01T12:30:05.123Z\",\"node\":2,\"event\":\"sign.complete\","
             "\"wallet\":\"wallet-7\",\"actor\":\"api:alice\",\"digest\":\"%s\",\"outcome\":\"ok\","
             "\"detail\":\"chain=1 path=m/0/5\",\"prev\":\"%s\",\"hash\":\"%s\"}",
             digest, prev, hash);
    cr_assert_str_eq(line, expect);
    cr_assert_eq(len, strlen(expect));
}

Test(audit_record, hash_is_sha256_of_the_line_without_its_hash_field)
{
    pb_audit_record r = sample();
    char line[PB_AUDIT_LINE_MAX + 1];
    size_t len;
    encode(&r, line, &len);
    /* Independently: cut ,"hash":"<64 hex>" before the final brace. */
    char body[PB_AUDIT_LINE_MAX + 1];
    size_t cut = len - strlen(",\"hash\":\"\"}") - 64;
    cr_assert(strncmp(line + cut, ",\"hash\":\"", 9) == 0);
    memcpy(body, line, cut);
    body[cut] = '}';
    uint8_t md[32];
    unsigned int md_len = 32;
    cr_assert(EVP_Digest(body, cut + 1, md, &md_len, EVP_sha256(), NULL));
    cr_assert_arr_eq(md, r.hash, 32);
}

Test(audit_record, decode_round_trips_every_field_including_escapes)
{
    pb_audit_record r = sample();
    snprintf(r.detail, sizeof r.detail, "quote\" back\\ nl\n ctl\x01 del\x7f utf8 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    snprintf(r.actor, sizeof r.actor, "tab\there");
    char line[PB_AUDIT_LINE_MAX + 1];
    size_t len;
    encode(&r, line, &len);
    cr_assert_not_null(strstr(line, "quote\\\" back\\\\ nl\\u000a ctl\\u0001 del\\u007f utf8 \xc3\xa9"));
    cr_assert_not_null(strstr(line, "tab\\u0009here"));
    pb_audit_record back;
    int hash_ok = 0;
    cr_assert_eq(pb_audit_record_decode(line, len, &back, &hash_ok), PB_OK, "%s", pb_last_error());
    cr_assert(hash_ok);
    cr_assert_eq(back.seq, r.seq);
    cr_assert_eq(back.time_ms, r.time_ms);
    cr_assert_eq(back.node, r.node);
    cr_assert_str_eq(back.event, r.event);
    cr_assert_str_eq(back.wallet, r.wallet);
    cr_assert_str_eq(back.actor, r.actor);
    cr_assert_eq(back.digest_len, r.digest_len);
    cr_assert_arr_eq(back.digest, r.digest, r.digest_len);
    cr_assert_str_eq(back.outcome, r.outcome);
    cr_assert_str_eq(back.detail, r.detail);
    cr_assert_arr_eq(back.prev, r.prev, 32);
    cr_assert_arr_eq(back.hash, r.hash, 32);
}

Test(audit_record, optional_fields_are_absent_when_empty)
{
    pb_audit_record r = sample();
    r.digest_len = 0;
    r.detail[0] = '\0';
    r.wallet[0] = '\0';
    char line[PB_AUDIT_LINE_MAX + 1];
    size_t len;
    encode(&r, line, &len);
    cr_assert_null(strstr(line, "\"digest\""));
    cr_assert_null(strstr(line, "\"detail\""));
    cr_assert_not_null(strstr(line, "\"wallet\":\"\","));
    pb_audit_record back;
    int hash_ok;
    cr_assert_eq(pb_audit_record_decode(line, len, &back, &hash_ok), PB_OK);
    cr_assert(hash_ok);
}

/* Replaces the first occurrence of `from` in line by `to`. */
static void mutate(char *line, const char *from, const char *to)
{
    char *at = strstr(line, from);
    cr_assert_not_null(at, "'%s' not in line", from);
    char rest[PB_AUDIT_LINE_MAX + 1];
    snprintf(rest, sizeof rest, "%s", at + strlen(from));
    sprintf(at, "%s%s", to, rest);
}

static void expect_rejected(const char *from, const char *to)
{
    pb_audit_record r = sample();
    snprintf(r.detail, sizeof r.detail, "a\nb");
    char line[PB_AUDIT_LINE_MAX + 1];
    size_t len;
    encode(&r, line, &len);
    mutate(line, from, to);
    pb_audit_record back;
    int hash_ok;
    cr_assert_eq(pb_audit_record_decode(line, strlen(line), &back, &hash_ok), PB_ERR_PARSE,
                 "accepted '%s' -> '%s': %s", from, to, line);
}

Test(audit_record, decoder_rejects_every_non_canonical_spelling)
{
    expect_rejected("\"seq\":42", "\"seq\": 42");          /* whitespace */
    expect_rejected("\"seq\":42", "\"seq\":042");          /* leading zero */
    expect_rejected("{\"seq\"", " {\"seq\"");              /* leading space */
    expect_rejected("\"}", "\" }");                        /* space before the end (last brace) */
    expect_rejected("\"node\":2,\"event\":\"sign.complete\"",
                    "\"event\":\"sign.complete\",\"node\":2"); /* key order */
    expect_rejected("\"prev\":\"abab", "\"prev\":\"ABab");   /* uppercase hex */
    expect_rejected("a\\u000ab", "a\\u000Ab");              /* uppercase escape */
    expect_rejected("a\\u000ab", "a\\nb");                  /* short escape */
    expect_rejected("api:alice", "api\\/alice");            /* needless escape */
    expect_rejected("api:alice", "\\u0061pi:alice");        /* escaped printable */
    expect_rejected(".123Z", "Z");                          /* time without milliseconds */
    expect_rejected("2024-05-01", "2024-02-30");            /* impossible date */
    expect_rejected("\"sign.complete\"", "\"Sign.complete\""); /* event charset */
    expect_rejected("api:alice", "api\xff" "alice");        /* not UTF-8 */
    expect_rejected("api:alice", "api\xc0\xba" "alice");    /* overlong UTF-8 */
    expect_rejected("\"outcome\":\"ok\"", "\"outcome\":\"ok\",\"extra\":1"); /* unknown key */
    expect_rejected(",\"detail\":\"a\\u000ab\"", ",\"detail\":\"\"");      /* empty optional */
}

Test(audit_record, encoder_refuses_fields_outside_the_rules)
{
    char line[PB_AUDIT_LINE_MAX + 1];
    size_t len;
    pb_audit_record r = sample();
    snprintf(r.event, sizeof r.event, "Sign");
    cr_assert_eq(pb_audit_record_encode(&r, line, sizeof line, &len), PB_ERR_ARGUMENT);
    r = sample();
    snprintf(r.wallet, sizeof r.wallet, "bad wallet");
    cr_assert_eq(pb_audit_record_encode(&r, line, sizeof line, &len), PB_ERR_ARGUMENT);
    r = sample();
    r.actor[0] = '\0';
    cr_assert_eq(pb_audit_record_encode(&r, line, sizeof line, &len), PB_ERR_ARGUMENT);
    r = sample();
    snprintf(r.outcome, sizeof r.outcome, "not ok");
    cr_assert_eq(pb_audit_record_encode(&r, line, sizeof line, &len), PB_ERR_ARGUMENT);
    r = sample();
    r.seq = 0;
    cr_assert_eq(pb_audit_record_encode(&r, line, sizeof line, &len), PB_ERR_ARGUMENT);
    r = sample();
    snprintf(r.detail, sizeof r.detail, "bad \xed\xa0\x80 surrogate");
    cr_assert_eq(pb_audit_record_encode(&r, line, sizeof line, &len), PB_ERR_ARGUMENT);
}

Test(audit_record, worst_case_record_fits_the_line_limit)
{
    pb_audit_record r = sample();
    memset(r.actor, 0x01, PB_AUDIT_ACTOR_MAX);
    r.actor[PB_AUDIT_ACTOR_MAX] = '\0';
    memset(r.detail, 0x01, PB_AUDIT_DETAIL_MAX);
    r.detail[PB_AUDIT_DETAIL_MAX] = '\0';
    snprintf(r.wallet, sizeof r.wallet, "%064d", 1);
    r.digest_len = PB_AUDIT_DIGEST_MAX;
    char line[PB_AUDIT_LINE_MAX + 1];
    size_t len;
    encode(&r, line, &len);
    cr_assert_leq(len, PB_AUDIT_LINE_MAX);
}

Test(audit_record, times_are_rfc3339_utc_with_milliseconds)
{
    char t[PB_AUDIT_TIME_LEN + 1];
    pb_audit_time_format(0, t);
    cr_assert_str_eq(t, "1970-01-01T00:00:00.000Z");
    pb_audit_time_format(1709164800999LL, t); /* a leap day */
    cr_assert_str_eq(t, "2024-02-29T00:00:00.999Z");
    int64_t ms;
    cr_assert_eq(pb_audit_time_parse(t, strlen(t), &ms), 0);
    cr_assert_eq(ms, 1709164800999LL);
    cr_assert_neq(pb_audit_time_parse("2023-02-29T00:00:00.000Z", 24, &ms), 0);
    cr_assert_neq(pb_audit_time_parse("2024-02-29T24:00:00.000Z", 24, &ms), 0);
    cr_assert_neq(pb_audit_time_parse("2024-02-29 00:00:00.000Z", 24, &ms), 0);
    cr_assert_eq(pb_audit_time_parse_loose("2024-05-01", &ms), 0);
    cr_assert_eq(ms, 1714521600000LL);
    cr_assert_eq(pb_audit_time_parse_loose("2024-05-01T12:30:05Z", &ms), 0);
    cr_assert_eq(ms, 1714566605000LL);
    cr_assert_eq(pb_audit_time_parse_loose("2024-05-01T12:30:05.123Z", &ms), 0);
    cr_assert_eq(ms, 1714566605123LL);
    cr_assert_neq(pb_audit_time_parse_loose("2024-5-1", &ms), 0);
    cr_assert_neq(pb_audit_time_parse_loose("2024-05-01T12:30:05+02:00", &ms), 0);
}

Test(audit_record, statement_is_the_documented_json)
{
    uint8_t head[32];
    memset(head, 0x5c, sizeof head);
    char out[256];
    size_t len;
    cr_assert_eq(pb_audit_statement(1, 41, head, 1714566605123LL, out, sizeof out, &len), PB_OK);
    char hex[65];
    for (int i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", 0x5c);
    char expect[256];
    snprintf(expect, sizeof expect,
             "{\"domain\":\"planbok-audit-checkpoint-v1\",\"node\":1,\"seq\":41,\"head\":\"%s\","
             "\"time\":\"2024-05-01T12:30:05.123Z\"}", hex);
    cr_assert_str_eq(out, expect);
    cr_assert_eq(len, strlen(expect));
}

static pb_audit_record signed_checkpoint(pb_test_signer *s)
{
    pb_audit_record cp;
    memset(&cp, 0, sizeof cp);
    cp.seq = 10;
    cp.head_seq = 9;
    memset(cp.head, 0x11, 32);
    memset(cp.prev, 0x11, 32);
    cp.node = 1;
    cp.time_ms = 1714566605123LL;
    snprintf(cp.event, sizeof cp.event, "checkpoint");
    snprintf(cp.actor, sizeof cp.actor, "audit");
    snprintf(cp.outcome, sizeof cp.outcome, "ok");
    cr_assert_eq(pb_audit_checkpoint_sign(pb_test_signer_sign, s, &cp), PB_OK, "%s",
                 pb_last_error());
    return cp;
}

Test(audit_record, checkpoint_signatures_are_low_s_der_and_the_high_s_twin_is_refused)
{
    pb_test_signer s;
    pb_test_signer_make(&s);
    EVP_PKEY *key;
    cr_assert_eq(pb_audit_public_key_load(s.pem, strlen(s.pem), &key), PB_OK);
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM *half = BN_new();
    BN_rshift1(half, EC_GROUP_get0_order(g));
    for (int k = 0; k < 16; k++) { /* the signer's s is random: both halves occur */
        pb_audit_record cp = signed_checkpoint(&s);
        cr_assert_eq(pb_audit_checkpoint_verify(key, &cp), PB_OK, "%s", pb_last_error());
        const unsigned char *p = cp.sig;
        ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)cp.sig_len);
        cr_assert_not_null(sig);
        cr_assert_leq(BN_cmp(ECDSA_SIG_get0_s(sig), half), 0, "high s written");
        /* (r, n - s) verifies in plain ECDSA but is not the canonical form. */
        BIGNUM *r2 = BN_dup(ECDSA_SIG_get0_r(sig)), *s2 = BN_new();
        BN_sub(s2, EC_GROUP_get0_order(g), ECDSA_SIG_get0_s(sig));
        ECDSA_SIG *twin = ECDSA_SIG_new();
        ECDSA_SIG_set0(twin, r2, s2);
        unsigned char *der = NULL;
        int der_len = i2d_ECDSA_SIG(twin, &der);
        pb_audit_record high = cp;
        memcpy(high.sig, der, (size_t)der_len);
        high.sig_len = (size_t)der_len;
        cr_assert_eq(pb_audit_checkpoint_verify(key, &high), PB_ERR_INTEGRITY);
        OPENSSL_free(der);
        ECDSA_SIG_free(twin);
        ECDSA_SIG_free(sig);
    }
    /* Any change to the signed statement breaks the signature. */
    pb_audit_record cp = signed_checkpoint(&s);
    pb_audit_record other = cp;
    other.time_ms += 1;
    cr_assert_eq(pb_audit_checkpoint_verify(key, &other), PB_ERR_INTEGRITY);
    other = cp;
    other.node = 2;
    cr_assert_eq(pb_audit_checkpoint_verify(key, &other), PB_ERR_INTEGRITY);
    other = cp;
    other.head[31] ^= 1;
    cr_assert_eq(pb_audit_checkpoint_verify(key, &other), PB_ERR_INTEGRITY);
    BN_free(half);
    EC_GROUP_free(g);
    EVP_PKEY_free(key);
    pb_test_signer_free(&s);
}

Test(audit_record, public_key_must_be_p256)
{
    EVP_PKEY *k384 = EVP_EC_gen("P-384");
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, k384);
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    EVP_PKEY *out = NULL;
    cr_assert_eq(pb_audit_public_key_load(data, (size_t)n, &out), PB_ERR_PARSE);
    cr_assert_eq(pb_audit_public_key_load("garbage", 7, &out), PB_ERR_PARSE);
    cr_assert_null(out);
    BIO_free(bio);
    EVP_PKEY_free(k384);
}
