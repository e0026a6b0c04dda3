/* mpc_tamper.c - forked man-in-the-middle runs and message field maps (see
 * mpc_tamper.h). Nothing in the child path may call Criterion. */
#include "support/mpc_tamper.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <secp256k1.h>

#include "support/mpc_runner.h"

/* A child that has not answered within this many seconds is killed. */
#define TP_CHILD_SECONDS 120

struct tp_run {
    int protocol;
    int next; /* number of the message in flight; 5 when complete */
    uint8_t *msg;
    size_t len;
    uint8_t *hist[5];
    size_t hist_len[5];
    /* inputs */
    const pb_share_p1 *s1_ro;
    const pb_share_p2 *s2;
    pb_share_p1 *owned; /* freed with the run */
    uint8_t digest[PB_MPC_DIGEST_BYTES];
    uint8_t derived[PB_MPC_PUBKEY_BYTES];
    /* sessions */
    pb_dkg_p1 *d1;
    pb_dkg_p2 *d2;
    pb_sign_p1 *g1;
    pb_sign_p2 *g2;
    pb_refresh_p1 *r1;
    pb_refresh_p2 *r2;
};

uint64_t tp_rand(uint64_t *state)
{
    /* splitmix64 */
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

static void keep(tp_run *r)
{
    if (r->next >= 1 && r->next <= 4 && !r->hist[r->next]) {
        r->hist[r->next] = dup_bytes(r->msg, r->len);
        r->hist_len[r->next] = r->len;
    }
}

static tp_run *run_alloc(int protocol)
{
    tp_run *r = calloc(1, sizeof *r);
    cr_assert_not_null(r);
    r->protocol = protocol;
    r->next = 1;
    return r;
}

tp_run *tp_dkg(const pb_cosigner_params *params, const pb_cosigner_public *pub, int bits)
{
    tp_run *r = run_alloc(1);
    cr_assert_eq(pb_dkg_p1_new(&r->d1, pub, bits), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_dkg_p2_new(&r->d2, params, bits), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_dkg_p1_start(r->d1, &r->msg, &r->len), PB_OK, "%s", pb_last_error());
    keep(r);
    return r;
}

tp_run *tp_sign(pb_share_p1 *s1, const pb_share_p2 *s2, const uint8_t digest[PB_MPC_DIGEST_BYTES],
                const uint32_t *path, size_t path_len)
{
    tp_run *r = run_alloc(2);
    r->s1_ro = s1;
    r->s2 = s2;
    memcpy(r->digest, digest, PB_MPC_DIGEST_BYTES);
    mpc_derived_pubkey(s1, path, path_len, r->derived);
    cr_assert_eq(pb_sign_p1_new(&r->g1, s1, digest, path, path_len), PB_OK, "%s",
                 pb_last_error());
    cr_assert_eq(pb_sign_p2_new(&r->g2, s2), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_sign_p1_start(r->g1, &r->msg, &r->len), PB_OK, "%s", pb_last_error());
    keep(r);
    return r;
}

tp_run *tp_sign_fresh(const pb_share_p1 *s1, const pb_share_p2 *s2,
                      const uint8_t digest[PB_MPC_DIGEST_BYTES], const uint32_t *path,
                      size_t path_len)
{
    uint8_t *enc;
    size_t len;
    pb_share_p1 *copy;
    cr_assert_eq(pb_share_p1_serialize(s1, &enc, &len), PB_OK);
    cr_assert_eq(pb_share_p1_parse(&copy, enc, len), PB_OK, "%s", pb_last_error());
    pb_mpc_bytes_free(enc, len);
    tp_run *r = tp_sign(copy, s2, digest, path, path_len);
    r->owned = copy;
    return r;
}

tp_run *tp_refresh(const pb_share_p1 *s1, const pb_share_p2 *s2,
                   const pb_cosigner_params *params, int bits)
{
    tp_run *r = run_alloc(3);
    r->s1_ro = s1;
    r->s2 = s2;
    cr_assert_eq(pb_refresh_p1_new(&r->r1, s1, NULL, bits), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_refresh_p2_new(&r->r2, s2, params, bits), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_refresh_p1_start(r->r1, &r->msg, &r->len), PB_OK, "%s", pb_last_error());
    keep(r);
    return r;
}

static void free_sessions(tp_run *r)
{
    pb_dkg_p1_free(r->d1);
    pb_dkg_p2_free(r->d2);
    pb_sign_p1_free(r->g1);
    pb_sign_p2_free(r->g2);
    pb_refresh_p1_free(r->r1);
    pb_refresh_p2_free(r->r2);
    r->d1 = NULL;
    r->d2 = NULL;
    r->g1 = NULL;
    r->g2 = NULL;
    r->r1 = NULL;
    r->r2 = NULL;
}

void tp_free(tp_run *r)
{
    if (!r)
        return;
    free_sessions(r);
    pb_share_p1_free(r->owned);
    pb_mpc_bytes_free(r->msg, r->len);
    for (int i = 0; i < 5; i++)
        free(r->hist[i]);
    free(r);
}

const uint8_t *tp_in_flight(const tp_run *r, size_t *len)
{
    *len = r->len;
    return r->msg;
}

int tp_next(const tp_run *r) { return r->next; }

int tp_protocol(const tp_run *r) { return r->protocol; }

const uint8_t *tp_message(const tp_run *r, int k, size_t *len)
{
    if (k < 1 || k > 4 || !r->hist[k]) {
        *len = 0;
        return NULL;
    }
    *len = r->hist_len[k];
    return r->hist[k];
}

int tp_receiver(int msg_no) { return (msg_no % 2) ? 2 : 1; }

pb_status tp_receive(tp_run *r, int msg_no, const uint8_t *msg, size_t len, uint8_t **reply,
                     size_t *reply_len)
{
    *reply = NULL;
    *reply_len = 0;
    int to_p2 = tp_receiver(msg_no) == 2;
    switch (r->protocol) {
    case 1:
        return to_p2 ? pb_dkg_p2_step(r->d2, msg, len, reply, reply_len)
                     : pb_dkg_p1_step(r->d1, msg, len, reply, reply_len);
    case 2:
        return to_p2 ? pb_sign_p2_step(r->g2, msg, len, reply, reply_len)
                     : pb_sign_p1_step(r->g1, msg, len, reply, reply_len);
    default:
        return to_p2 ? pb_refresh_p2_step(r->r2, msg, len, reply, reply_len)
                     : pb_refresh_p1_step(r->r1, msg, len, reply, reply_len);
    }
}

pb_status tp_approve(tp_run *r, uint8_t **out, size_t *out_len)
{
    cr_assert_eq(r->protocol, 2, "approval is a signing step");
    return pb_sign_p2_approve(r->g2, out, out_len);
}

static int verify_sig(const uint8_t pub[33], const uint8_t digest[32], const uint8_t sig[64])
{
    const secp256k1_context *ctx = secp256k1_context_static;
    secp256k1_pubkey pk;
    secp256k1_ecdsa_signature es;
    return secp256k1_ec_pubkey_parse(ctx, &pk, pub, 33) &&
           secp256k1_ecdsa_signature_parse_compact(ctx, &es, sig) &&
           secp256k1_ecdsa_verify(ctx, &es, digest, &pk);
}

/* A party answered where the protocol has no answer: reported as a crash,
 * since no status describes it. */
static pb_status unexpected_reply(tp_outcome *o, const char *what)
{
    o->crashed = 1;
    snprintf(o->err, sizeof o->err, "%s", what);
    return PB_ERR_STATE;
}

/* Delivers message r->next; on success the reply (if any) is in flight
 * and the results of the last step are collected into `o`. */
static pb_status step(tp_run *r, const uint8_t *msg, size_t len, tp_outcome *o)
{
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    int k = r->next;
    pb_status st = tp_receive(r, k, msg, len, &reply, &reply_len);
    if (st == PB_OK && r->protocol == 2 && k == 1) {
        /* P2 answers a request only after approval. */
        if (reply)
            st = unexpected_reply(o, "sign p2 answered message 1 before approval");
        else
            st = pb_sign_p2_approve(r->g2, &reply, &reply_len);
    }
    if (st == PB_OK && k == 3 && r->protocol != 2) {
        pb_share_p2 *s2 = NULL;
        st = r->protocol == 1 ? pb_dkg_p2_take_share(r->d2, &s2)
                              : pb_refresh_p2_take_share(r->r2, &s2);
        if (st == PB_OK)
            o->out_p2 = 1;
        pb_share_p2_free(s2);
    }
    if (st == PB_OK && k == 4) {
        if (reply)
            st = unexpected_reply(o, "p1 answered message 4");
        else if (r->protocol == 2) {
            uint8_t sig[64];
            int recid;
            st = pb_sign_p1_signature(r->g1, sig, &recid);
            if (st == PB_OK) {
                o->out_p1 = 1;
                o->sig_valid = verify_sig(r->derived, r->digest, sig) && recid >= 0 && recid <= 3;
            }
        } else {
            pb_share_p1 *s1 = NULL;
            st = r->protocol == 1 ? pb_dkg_p1_take_share(r->d1, &s1)
                                  : pb_refresh_p1_take_share(r->r1, &s1);
            if (st == PB_OK)
                o->out_p1 = 1;
            pb_share_p1_free(s1);
        }
    }
    if (st != PB_OK) {
        pb_mpc_bytes_free(reply, reply_len);
        o->status = st;
        o->party = tp_receiver(k);
        o->msg_no = k;
        if (!o->crashed)
            snprintf(o->err, sizeof o->err, "%s", pb_last_error());
        return st;
    }
    pb_mpc_bytes_free(r->msg, r->len);
    r->msg = reply;
    r->len = reply_len;
    r->next = k + 1;
    return PB_OK;
}

void tp_advance(tp_run *r, int k)
{
    while (r->next < k) {
        tp_outcome o;
        memset(&o, 0, sizeof o);
        uint8_t *copy = dup_bytes(r->msg, r->len);
        cr_assert_not_null(copy);
        pb_status st = step(r, copy, r->len, &o);
        free(copy);
        cr_assert_eq(st, PB_OK, "honest step at message %d failed: %s", o.msg_no, o.err);
        keep(r);
    }
}

void tp_finish(tp_run *r, const uint8_t *msg, size_t len, tp_outcome *o)
{
    memset(o, 0, sizeof *o);
    if (step(r, msg, len, o) == PB_OK) {
        while (r->next <= 4) {
            uint8_t *copy = dup_bytes(r->msg, r->len);
            pb_status st = copy ? step(r, copy, r->len, o) : PB_ERR_NOMEM;
            free(copy);
            if (st != PB_OK)
                break;
        }
    }
    if (r->s1_ro)
        o->locked = pb_share_p1_is_locked(r->s1_ro);
}

uint8_t *tp_apply(const tp_variant *v, const uint8_t *msg, size_t len, size_t *out_len)
{
    uint8_t *b = NULL;
    switch (v->kind) {
    case TP_FLIP:
        b = dup_bytes(msg, len);
        if (b && v->pos < len)
            b[v->pos] ^= v->mask;
        *out_len = len;
        break;
    case TP_TRUNCATE:
        *out_len = v->n < len ? v->n : len;
        b = dup_bytes(msg, *out_len);
        break;
    case TP_EXTEND: {
        b = malloc(len + v->n);
        if (b) {
            memcpy(b, msg, len);
            uint64_t st = 0x5eed0000u + v->n;
            for (size_t i = 0; i < v->n; i++)
                b[len + i] = (uint8_t)tp_rand(&st);
        }
        *out_len = len + v->n;
        break;
    }
    case TP_REPLACE:
        b = dup_bytes(v->bytes, v->n);
        *out_len = v->n;
        break;
    }
    return b;
}

/* --- children ------------------------------------------------------------------ */

static void child_main(tp_run *r, const tp_variant *v, int fd)
{
    tp_outcome o;
    alarm(TP_CHILD_SECONDS);
    size_t blen = 0;
    uint8_t *b = tp_apply(v, r->msg, r->len, &blen);
    if (!b) {
        memset(&o, 0, sizeof o);
        o.crashed = 1;
    } else {
        tp_finish(r, b, blen, &o);
        free(b);
    }
    /* Frees run on error paths too, so ASan can catch a double free. */
    free_sessions(r);
    ssize_t w = write(fd, &o, sizeof o);
    _exit(w == (ssize_t)sizeof o ? 0 : 3);
}

typedef struct pending {
    pid_t pid;
    int fd;
    size_t index;
} pending;

static void reap(const pending *p, tp_outcome *out)
{
    tp_outcome o;
    memset(&o, 0, sizeof o);
    size_t got = 0;
    while (got < sizeof o) {
        ssize_t n = read(p->fd, (uint8_t *)&o + got, sizeof o - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(p->fd);
    int ws = 0;
    while (waitpid(p->pid, &ws, 0) < 0 && errno == EINTR)
        ;
    if (got != sizeof o || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
        if (got != sizeof o)
            memset(&o, 0, sizeof o);
        o.crashed = 1;
        o.exit_info = ws;
    }
    out[p->index] = o;
}

void tp_try(tp_run *r, const tp_variant *v, size_t n, tp_outcome *out)
{
    int jobs = mpc_env_int("PB_TAMPER_JOBS", 2);
    if (jobs > 8)
        jobs = 8;
    pending inflight[8];
    int count = 0, head = 0;
    for (size_t i = 0; i < n; i++) {
        if (count == jobs) {
            reap(&inflight[head], out);
            head = (head + 1) % jobs;
            count--;
        }
        int fds[2];
        cr_assert_eq(pipe(fds), 0);
        fflush(NULL);
        pid_t pid = fork();
        cr_assert_neq(pid, -1, "fork failed");
        if (pid == 0) {
            close(fds[0]);
            child_main(r, &v[i], fds[1]);
        }
        close(fds[1]);
        int slot = (head + count) % jobs;
        inflight[slot].pid = pid;
        inflight[slot].fd = fds[0];
        inflight[slot].index = i;
        count++;
    }
    while (count > 0) {
        reap(&inflight[head], out);
        head = (head + 1) % jobs;
        count--;
    }
}

