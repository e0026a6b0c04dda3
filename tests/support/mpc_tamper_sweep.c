/* mpc_tamper_sweep.c - flip plans, the rules an outcome must obey, and the
 * sweeps the adversarial suites run (see mpc_tamper.h). */
#include "support/mpc_tamper.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of fields up to this size are flipped exhaustively. */
#define TP_DENSE_FIELD 64

static uint8_t pick_mask(uint64_t *st, size_t k)
{
    uint8_t mask = (k % 2) ? (uint8_t)(1u << (tp_rand(st) % 8)) : (uint8_t)tp_rand(st);
    return mask ? mask : 0xff;
}

/* Whether the small fields of Pi^mod round r (0-based, of PB_ZK_MOD_ROUNDS) are flipped
 * exhaustively when `rounds` of them are: the first, the last and evenly
 * spread others. */
static int round_chosen(int r, int rounds)
{
    if (rounds >= PB_ZK_MOD_ROUNDS)
        return 1;
    if (rounds <= 0)
        return 0;
    if (rounds == 1)
        return r == 0;
    for (int k = 0; k < rounds; k++)
        if (r == k * (PB_ZK_MOD_ROUNDS - 1) / (rounds - 1))
            return 1;
    return 0;
}

size_t tp_flip_plan(const tp_field *f, size_t nf, size_t samples, int rounds, uint64_t seed,
                    tp_variant *v, size_t max)
{
    size_t n = 0, big = 0;
    uint64_t st = seed;
    for (size_t i = 0; i < nf; i++) {
        if (f[i].len > TP_DENSE_FIELD) {
            big += f[i].len;
            continue;
        }
        if (f[i].round && !round_chosen(f[i].round - 1, rounds))
            continue;
        for (size_t b = 0; b < f[i].len; b++) {
            cr_assert_lt(n, max, "flip plan overflow");
            v[n] = (tp_variant){.kind = TP_FLIP, .pos = f[i].off + b, .mask = pick_mask(&st, n)};
            n++;
        }
    }
    if (samples > big)
        samples = big;
    /* One position in each of `samples` equal strata of the large fields'
     * bytes taken in message order. */
    size_t fi = 0, before = 0; /* large-field bytes before field fi */
    for (size_t k = 0; k < samples; k++) {
        size_t lo = big * k / samples, hi = big * (k + 1) / samples;
        size_t at = lo + (size_t)(tp_rand(&st) % (hi - lo));
        for (;;) {
            while (f[fi].len <= TP_DENSE_FIELD)
                fi++;
            if (at < before + f[fi].len)
                break;
            before += f[fi].len;
            fi++;
        }
        cr_assert_lt(n, max, "flip plan overflow");
        v[n] = (tp_variant){.kind = TP_FLIP, .pos = f[fi].off + (at - before),
                            .mask = pick_mask(&st, n)};
        n++;
    }
    return n;
}

static const char *status_name(int st)
{
    return pb_status_name((pb_status)st);
}

/* Why an outcome of a flip in field f breaks the rules, or NULL. */
static const char *flip_violation(int protocol, const tp_field *f, const tp_outcome *x)
{
    if (x->crashed)
        return "the child crashed or hung";
    if (x->status == PB_OK)
        return "the altered run completed";
    if (!(f->allowed & TP_ST(x->status)))
        return "unexpected status";
    if (!tp_err_matches(x->err, f->needle))
        return "the error does not name the check";
    if (x->out_p1)
        return "P1 produced its result";
    if (protocol == 2 && x->locked != (x->status == PB_ERR_ABORTED))
        return x->locked ? "locked without an abort" : "aborted without a lock";
    return NULL;
}

void tp_check_flips(int protocol, int msg_no, const tp_field *fields, size_t nf,
                    const tp_variant *v, const tp_outcome *o, size_t n)
{
    int verbose = getenv("PB_TAMPER_VERBOSE") != NULL;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        const tp_field *f = tp_field_at(fields, nf, v[i].pos);
        cr_assert_not_null(f);
        const tp_outcome *x = &o[i];
        const char *why = flip_violation(protocol, f, x);
        if (why && bad++ < 20)
            fprintf(stderr,
                    "p%d m%d byte %zu (%s) ^0x%02x: %s: %s at P%d m%d: %s (wait 0x%x)\n",
                    protocol, msg_no, v[i].pos, f->name, v[i].mask, why,
                    status_name(x->status), x->party, x->msg_no, x->err, x->exit_info);
        else if (verbose)
            fprintf(stderr, "p%d m%d byte %zu (%s): %s at P%d m%d: %s\n", protocol, msg_no,
                    v[i].pos, f->name, status_name(x->status), x->party, x->msg_no, x->err);
    }
    cr_assert_eq(bad, 0, "%zu of %zu flips of protocol %d message %d were not rejected as "
                 "specified", bad, n, protocol, msg_no);
}

void tp_check_rejected(const tp_outcome *o, int msg_no, pb_status status, const char *needle,
                       const char *what)
{
    cr_assert_not(o->crashed, "%s: the child crashed or hung (wait 0x%x)", what, o->exit_info);
    cr_assert_eq(o->status, status, "%s: %s at P%d m%d, wanted %s: %s", what,
                 status_name(o->status), o->party, o->msg_no, status_name(status), o->err);
    cr_assert_eq(o->msg_no, msg_no, "%s: rejected at message %d, not %d: %s", what, o->msg_no,
                 msg_no, o->err);
    cr_assert_eq(o->party, tp_receiver(msg_no), "%s: rejected by P%d", what, o->party);
    cr_assert(tp_err_matches(o->err, needle), "%s: error \"%s\" does not name \"%s\"", what,
              o->err, needle);
    cr_assert_not(o->out_p1, "%s: P1 produced its result", what);
    cr_assert_eq(o->locked, status == PB_ERR_ABORTED, "%s: lock state %d", what, o->locked);
}

size_t tp_sweep_flips(tp_run *r, size_t samples, int rounds, uint64_t seed)
{
    size_t len;
    const uint8_t *msg = tp_in_flight(r, &len);
    tp_field *f = calloc(TP_MAX_FIELDS, sizeof *f);
    cr_assert_not_null(f);
    size_t nf = tp_layout(tp_protocol(r), tp_next(r), msg, len, f, TP_MAX_FIELDS);
    size_t max = len + 16;
    tp_variant *v = calloc(max, sizeof *v);
    tp_outcome *o = calloc(max, sizeof *o);
    cr_assert(v && o);
    size_t n = tp_flip_plan(f, nf, samples, rounds, seed, v, max);
    tp_try(r, v, n, o);
    tp_check_flips(tp_protocol(r), tp_next(r), f, nf, v, o, n);
    free(v);
    free(o);
    free(f);
    return n;
}

size_t tp_sweep_cuts(tp_run *r)
{
    size_t len;
    (void)tp_in_flight(r, &len);
    const size_t cuts[] = {0, 1, 39, 40, 41, len / 2, len - 33, len - 2, len - 1};
    const size_t extra[] = {1, 2, 4096, PB_MPC_MESSAGE_MAX + 1 - len};
    tp_variant v[16];
    size_t n = 0;
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++)
        if (cuts[i] < len)
            v[n++] = (tp_variant){.kind = TP_TRUNCATE, .n = cuts[i]};
    for (size_t i = 0; i < sizeof extra / sizeof *extra; i++)
        v[n++] = (tp_variant){.kind = TP_EXTEND, .n = extra[i]};
    tp_outcome o[16];
    tp_try(r, v, n, o);
    for (size_t i = 0; i < n; i++) {
        char what[96];
        const char *needle;
        if (v[i].kind == TP_TRUNCATE) {
            snprintf(what, sizeof what, "protocol %d message %d cut to %zu of %zu bytes",
                     tp_protocol(r), tp_next(r), v[i].n, len);
            needle = v[i].n < 40 ? "shorter than the header" : "truncated";
        } else {
            snprintf(what, sizeof what, "protocol %d message %d extended by %zu bytes",
                     tp_protocol(r), tp_next(r), v[i].n);
            needle = len + v[i].n > PB_MPC_MESSAGE_MAX ? "limit" : "trailing";
        }
        if (getenv("PB_TAMPER_VERBOSE"))
            fprintf(stderr, "%s: %s at P%d m%d: %s\n", what, status_name(o[i].status),
                    o[i].party, o[i].msg_no, o[i].err);
        tp_check_rejected(&o[i], tp_next(r), PB_ERR_PARSE, needle, what);
    }
    return n;
}

/* The distinct checks (needles) of a field map, in message order, from the
 * session id on (the rest of the header is pb_msg_open's, which allocates
 * nothing). */
static size_t stages(const tp_field *f, size_t nf, const char **needles, size_t max)
{
    size_t n = 0;
    for (size_t i = 5; i < nf; i++) {
        int seen = 0;
        for (size_t j = 0; j < n && !seen; j++)
            seen = strcmp(needles[j], f[i].needle) == 0;
        if (!seen && n < max && !strstr(f[i].name, "length"))
            needles[n++] = f[i].needle;
    }
    return n;
}

/* The largest field with this needle (its middle byte reaches the proof
 * rather than the decoder) and, if it is an integer, its length prefix. */
static void stage_fields(const tp_field *f, size_t nf, const char *needle, size_t *big,
                         size_t *len_field)
{
    *big = SIZE_MAX;
    *len_field = SIZE_MAX;
    for (size_t i = 5; i < nf; i++)
        if (strcmp(f[i].needle, needle) == 0 && (*big == SIZE_MAX || f[i].len > f[*big].len))
            *big = i;
    if (*big != SIZE_MAX && strstr(f[*big - 1].name, "length"))
        *len_field = *big - 1;
}

static void stage_one(tp_run *(*make)(void *ctx, int k), void *ctx, int k, size_t stage,
                      int length_variant, size_t *count)
{
    tp_run *r = make(ctx, k);
    size_t len;
    const uint8_t *msg = tp_in_flight(r, &len);
    tp_field *f = calloc(TP_MAX_FIELDS, sizeof *f);
    cr_assert_not_null(f);
    size_t nf = tp_layout(tp_protocol(r), k, msg, len, f, TP_MAX_FIELDS);
    const char *needles[64];
    size_t ns = stages(f, nf, needles, 64);
    cr_assert_lt(stage, ns);
    size_t big, lenf;
    stage_fields(f, nf, needles[stage], &big, &lenf);
    size_t fi = length_variant ? lenf : big;
    if (fi == SIZE_MAX) {
        tp_free(r);
        free(f);
        return;
    }
    tp_variant v = {.kind = TP_FLIP,
                    .pos = f[fi].off + (length_variant ? f[fi].len - 1 : f[fi].len / 2),
                    .mask = length_variant ? 0x01 : 0x10};
    size_t blen;
    uint8_t *b = tp_apply(&v, msg, len, &blen);
    cr_assert_not_null(b);
    tp_outcome o;
    tp_finish(r, b, blen, &o);
    free(b);
    const char *why = flip_violation(tp_protocol(r), &f[fi], &o);
    cr_assert_null(why, "in-process: protocol %d message %d byte %zu (%s): %s: %s at P%d m%d: %s",
                   tp_protocol(r), k, v.pos, f[fi].name, why, status_name(o.status), o.party,
                   o.msg_no, o.err);
    (*count)++;
    tp_free(r);
    free(f);
}

size_t tp_sweep_stages(tp_run *(*make)(void *ctx, int k), void *ctx, int k)
{
    tp_run *r = make(ctx, k);
    size_t len;
    const uint8_t *msg = tp_in_flight(r, &len);
    tp_field *f = calloc(TP_MAX_FIELDS, sizeof *f);
    cr_assert_not_null(f);
    size_t nf = tp_layout(tp_protocol(r), k, msg, len, f, TP_MAX_FIELDS);
    const char *needles[64];
    size_t ns = stages(f, nf, needles, 64);
    int protocol = tp_protocol(r);
    free(f);
    /* The run made for the layout delivers a truncated copy. */
    tp_variant cut = {.kind = TP_TRUNCATE, .n = len - 1};
    size_t blen;
    uint8_t *b = tp_apply(&cut, msg, len, &blen);
    cr_assert_not_null(b);
    tp_outcome o;
    tp_finish(r, b, blen, &o);
    free(b);
    tp_free(r);
    char what[64];
    snprintf(what, sizeof what, "in-process: protocol %d message %d cut by one byte", protocol,
             k);
    tp_check_rejected(&o, k, PB_ERR_PARSE, "truncated", what);
    size_t count = 1;
    for (size_t i = 0; i < ns; i++) {
        stage_one(make, ctx, k, i, 0, &count);
        stage_one(make, ctx, k, i, 1, &count);
    }
    return count;
}
