/* cheat_modulus.c - malformed moduli and best-effort dishonest provers for
 * Pi^mod and Pi^fac (see the header). Written from the algebra, not from the
 * library's prover, so a shared mistake cannot hide a verifier bug. Must
 * never be linked into the library.
 */
#include "support/cheat_modulus.h"

#include <criterion/criterion.h>
#include <string.h>

#include <openssl/err.h>

#include "crypto/bn.h"
#include "crypto/zk_fac_impl.h"
#include "crypto/zk_mod_impl.h"

static BN_CTX *ctx(void)
{
    BN_CTX *c = pb_bn_ctx();
    cr_assert_not_null(c);
    return c;
}

static BIGNUM *bn(void)
{
    BIGNUM *b = BN_new();
    cr_assert_not_null(b);
    return b;
}

/* A prime of exactly `bits` bits, = rem (mod 4). */
static BIGNUM *prime_mod4(int bits, unsigned rem)
{
    BIGNUM *p = bn();
    if (bits <= 32) {
        for (;;) {
            cr_assert(BN_rand(p, bits, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD));
            if (BN_mod_word(p, 4) == rem && BN_check_prime(p, ctx(), NULL) == 1)
                return p;
        }
    }
    BIGNUM *add = bn(), *r = bn();
    cr_assert(BN_set_word(add, 4) && BN_set_word(r, rem));
    do
        cr_assert(BN_generate_prime_ex(p, bits, 0, add, r, NULL));
    while (BN_num_bits(p) != bits);
    BN_free(add);
    BN_free(r);
    return p;
}

static void modulus_set(cheat_modulus *m, int count, BIGNUM **primes, const int *exps)
{
    memset(m, 0, sizeof *m);
    m->n = bn();
    cr_assert(BN_one(m->n));
    m->count = count;
    for (int i = 0; i < count; i++) {
        m->primes[i] = primes[i];
        m->exps[i] = exps[i];
        for (int k = 0; k < exps[i]; k++)
            cr_assert(BN_mul(m->n, m->n, primes[i], ctx()));
    }
}

void cheat_modulus_free(cheat_modulus *m)
{
    BN_free(m->n);
    for (int i = 0; i < m->count; i++)
        BN_free(m->primes[i]);
    memset(m, 0, sizeof *m);
}

/* Retries until the product has exactly `bits` bits. */
static void make_two(int bits, cheat_modulus *m, int b1, unsigned r1, int e1, int b2,
                     unsigned r2)
{
    for (;;) {
        BIGNUM *ps[2] = {prime_mod4(b1, r1), prime_mod4(b2, r2)};
        int exps[2] = {e1, 1};
        modulus_set(m, 2, ps, exps);
        if (BN_num_bits(m->n) == bits && BN_cmp(ps[0], ps[1]) != 0)
            return;
        cheat_modulus_free(m);
    }
}

void cheat_modulus_small_factor(int bits, cheat_modulus *m)
{
    make_two(bits, m, 16, 3, 1, bits - 16, 3);
}

void cheat_modulus_square_factor(int bits, cheat_modulus *m)
{
    make_two(bits, m, bits / 3, 3, 2, bits - 2 * (bits / 3), 3);
}

void cheat_modulus_one_mod_4(int bits, cheat_modulus *m)
{
    make_two(bits, m, bits / 2, 1, 1, bits / 2, 3);
}

void cheat_modulus_blum(int bits, cheat_modulus *m)
{
    make_two(bits, m, bits / 2, 3, 1, bits / 2, 3);
}

void cheat_modulus_prime(int bits, cheat_modulus *m)
{
    BIGNUM *p = bn();
    cr_assert(BN_generate_prime_ex(p, bits, 0, NULL, NULL, NULL));
    int e = 1;
    modulus_set(m, 1, &p, &e);
}

/* --- per prime-power component ------------------------------------------------ */

typedef struct component {
    BIGNUM *mod;   /* p^k */
    BIGNUM *order; /* p^(k-1) (p-1), the order of the cyclic group mod p^k */
    const BIGNUM *p;
    int k;
} component;

static void components(const cheat_modulus *m, component *c)
{
    for (int i = 0; i < m->count; i++) {
        c[i].p = m->primes[i];
        c[i].k = m->exps[i];
        c[i].mod = bn();
        c[i].order = bn();
        cr_assert(BN_sub(c[i].order, m->primes[i], BN_value_one()));
        cr_assert(BN_copy(c[i].mod, m->primes[i]));
        for (int k = 1; k < m->exps[i]; k++) {
            cr_assert(BN_mul(c[i].mod, c[i].mod, m->primes[i], ctx()));
            cr_assert(BN_mul(c[i].order, c[i].order, m->primes[i], ctx()));
        }
    }
}

static void components_free(component *c, int count)
{
    for (int i = 0; i < count; i++) {
        BN_free(c[i].mod);
        BN_free(c[i].order);
    }
}

static int fourth_power_is(const BIGNUM *x, const BIGNUM *v, const BIGNUM *mod)
{
    BIGNUM *t = bn();
    cr_assert(BN_mod_sqr(t, x, mod, ctx()) && BN_mod_sqr(t, t, mod, ctx()));
    int ok = BN_cmp(t, v) == 0;
    BN_free(t);
    return ok;
}

/* A square root of v mod the prime p, if there is one. */
static int sqrt_prime(BIGNUM *out, const BIGNUM *v, const BIGNUM *p)
{
    BIGNUM *r = BN_mod_sqrt(NULL, v, p, ctx());
    ERR_clear_error();
    if (r == NULL)
        return 0;
    BIGNUM *chk = bn();
    cr_assert(BN_mod_sqr(chk, r, p, ctx()));
    int ok = BN_cmp(chk, v) == 0 && BN_copy(out, r) != NULL;
    BN_free(chk);
    BN_free(r);
    return ok;
}

/* A fourth root of v (reduced) in the component, if the cheater can find one. */
static int comp_fourth_root(BIGNUM *out, const BIGNUM *v, const component *c)
{
    int found = 0;
    if (BN_mod_word(c->p, 4) == 3) {
        /* The squares form a subgroup of odd order o; on it squaring is a
         * bijection with inverse exponent (o+1)/2. */
        BIGNUM *o = bn(), *f = bn(), *chk = bn();
        cr_assert(BN_rshift1(o, c->order));
        cr_assert(BN_mod_exp(chk, v, o, c->mod, ctx()));
        if (BN_is_one(chk)) {
            cr_assert(BN_add(f, o, BN_value_one()) && BN_rshift1(f, f));
            cr_assert(BN_mod_sqr(f, f, o, ctx()));
            cr_assert(BN_mod_exp(out, v, f, c->mod, ctx()));
            found = fourth_power_is(out, v, c->mod);
        }
        BN_free(o);
        BN_free(f);
        BN_free(chk);
    } else if (c->k == 1) {
        BIGNUM *r = bn(), *neg = bn();
        if (sqrt_prime(r, v, c->p)) {
            cr_assert(BN_mod_sub(neg, c->p, r, c->p, ctx()));
            found = sqrt_prime(out, r, c->p) || sqrt_prime(out, neg, c->p);
            found = found && fourth_power_is(out, v, c->mod);
        }
        BN_free(r);
        BN_free(neg);
    }
    return found;
}

/* v^(N^-1) on the part of the group whose order is prime to N: a true N-th
 * root whenever one exists there. */
static void comp_nth_root(BIGNUM *out, const BIGNUM *v, const BIGNUM *n, const component *c)
{
    BIGNUM *m = bn(), *g = bn(), *d = bn(), *nm = bn();
    cr_assert(BN_copy(m, c->order));
    for (;;) {
        cr_assert(BN_gcd(g, n, m, ctx()));
        if (BN_is_one(g))
            break;
        cr_assert(BN_div(m, NULL, m, g, ctx()));
    }
    cr_assert(BN_nnmod(nm, n, m, ctx()));
    if (BN_is_one(m))
        BN_zero(d);
    else
        cr_assert(BN_mod_inverse(d, nm, m, ctx()));
    cr_assert(BN_mod_exp(out, v, d, c->mod, ctx()));
    BN_free(m);
    BN_free(g);
    BN_free(d);
    BN_free(nm);
}

/* The x mod prod(mods) with x = xs[j] mod mods[j]. */
static void crt(BIGNUM *out, BIGNUM *const *xs, const component *c, int count)
{
    BIGNUM *acc = bn(), *m = bn(), *h = bn(), *inv = bn();
    cr_assert(BN_copy(acc, xs[0]) && BN_copy(m, c[0].mod));
    for (int j = 1; j < count; j++) {
        cr_assert(BN_mod_inverse(inv, m, c[j].mod, ctx()));
        cr_assert(BN_mod_sub(h, xs[j], acc, c[j].mod, ctx()));
        cr_assert(BN_mod_mul(h, h, inv, c[j].mod, ctx()));
        cr_assert(BN_mul(h, h, m, ctx()) && BN_add(acc, acc, h));
        cr_assert(BN_mul(m, m, c[j].mod, ctx()));
    }
    cr_assert(BN_copy(out, acc));
    BN_free(acc);
    BN_free(m);
    BN_free(h);
    BN_free(inv);
}

pb_zk_mod_proof *cheat_zk_mod_prove(const pb_transcript *t, const cheat_modulus *m)
{
    const BIGNUM *n = m->n;
    pb_zk_mod_proof *proof = pb_zk_mod_alloc();
    cr_assert_not_null(proof);
    component c[CHEAT_MAX_PRIMES];
    components(m, c);
    do
        cr_assert(BN_rand_range(proof->w, n));
    while (BN_kronecker(proof->w, n, ctx()) != -1);
    BIGNUM *y[PB_ZK_MOD_ROUNDS];
    for (int i = 0; i < PB_ZK_MOD_ROUNDS; i++)
        y[i] = bn();
    cr_assert_eq(pb_zk_mod_challenges(t, n, proof->w, y), PB_OK);

    BIGNUM *parts[CHEAT_MAX_PRIMES], *yy = bn(), *v = bn();
    for (int j = 0; j < m->count; j++)
        parts[j] = bn();
    for (int i = 0; i < PB_ZK_MOD_ROUNDS; i++) {
        int found = 0;
        for (int combo = 0; combo < 4 && !found; combo++) {
            int a = combo & 1, b = combo >> 1;
            cr_assert(BN_copy(yy, y[i]));
            if (b)
                cr_assert(BN_mod_mul(yy, yy, proof->w, n, ctx()));
            if (a)
                cr_assert(BN_sub(yy, n, yy));
            found = 1;
            for (int j = 0; j < m->count && found; j++) {
                cr_assert(BN_nnmod(v, yy, c[j].mod, ctx()));
                found = comp_fourth_root(parts[j], v, &c[j]);
            }
            if (found) {
                crt(proof->x[i], parts, c, m->count);
                proof->a[i] = (uint8_t)a;
                proof->b[i] = (uint8_t)b;
            }
        }
        if (!found) {
            /* No fourth root exists for any sign choice: nothing better
             * than a guess is possible, so send y itself. */
            cr_assert(BN_copy(proof->x[i], y[i]));
            proof->a[i] = proof->b[i] = 0;
        }
        for (int j = 0; j < m->count; j++) {
            cr_assert(BN_nnmod(v, y[i], c[j].mod, ctx()));
            comp_nth_root(parts[j], v, n, &c[j]);
        }
        crt(proof->z[i], parts, c, m->count);
    }
    for (int j = 0; j < m->count; j++)
        BN_free(parts[j]);
    for (int i = 0; i < PB_ZK_MOD_ROUNDS; i++)
        BN_free(y[i]);
    BN_free(yy);
    BN_free(v);
    components_free(c, m->count);
    return proof;
}

pb_zk_fac_proof *cheat_zk_fac_prove(const pb_transcript *t, const cheat_modulus *m,
                                    const pb_rped_public *rp)
{
    /* Every prime instance goes to one side; keep the split whose larger
     * factor is smallest (the one most likely to meet the bound). */
    const BIGNUM *inst[2 * CHEAT_MAX_PRIMES];
    int count = 0;
    for (int i = 0; i < m->count; i++)
        for (int k = 0; k < m->exps[i]; k++)
            inst[count++] = m->primes[i];
    BIGNUM *f1 = bn(), *f2 = bn(), *best1 = bn(), *best2 = bn();
    int best = -1;
    for (unsigned mask = 0; mask < (1u << count); mask++) {
        cr_assert(BN_one(f1) && BN_one(f2));
        for (int j = 0; j < count; j++)
            cr_assert(BN_mul((mask >> j) & 1 ? f1 : f2, (mask >> j) & 1 ? f1 : f2, inst[j],
                             ctx()));
        int big = BN_num_bits(f1) > BN_num_bits(f2) ? BN_num_bits(f1) : BN_num_bits(f2);
        if (best < 0 || big < best) {
            best = big;
            cr_assert(BN_copy(best1, f1) && BN_copy(best2, f2));
        }
    }
    pb_zk_fac_proof *proof = NULL;
    cr_assert_eq(pb_zk_fac_prove_factors(t, m->n, best1, best2, rp, &proof), PB_OK, "%s",
                 pb_last_error());
    BN_free(f1);
    BN_free(f2);
    BN_free(best1);
    BN_free(best2);
    return proof;
}
