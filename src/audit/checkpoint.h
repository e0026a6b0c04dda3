/* checkpoint.h - signing and checking audit checkpoints.
 *
 * Owns: the signature format in the log (strict DER ECDSA-Sig-Value, low-S,
 * over SHA-256 of the checkpoint statement) and the public-key checks.
 * Signing itself is injected (pb_audit_sign_fn), so this layer never talks
 * to a token: the engine hands in its key store's audit key. Must never
 * accept a signature that is not in the one canonical form.
 */
#ifndef PB_AUDIT_CHECKPOINT_H
#define PB_AUDIT_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "audit/record.h"
#include "planbok/error.h"

/* ECDSA P-256 over a SHA-256 digest; sig = r||s (32 bytes each). */
typedef pb_status (*pb_audit_sign_fn)(void *ctx, const uint8_t digest[32], uint8_t sig[64]);

/* SHA-256 of the statement for (node, head_seq, head, time). */
pb_status pb_audit_statement_digest(unsigned node, uint64_t head_seq, const uint8_t head[32],
                                    int64_t time_ms, uint8_t digest[32]);

/* Fills cp->sig/sig_len for the statement of cp (node, head_seq, head,
 * time_ms) by calling sign, normalizing s to the low half, DER-encoding. */
pb_status pb_audit_checkpoint_sign(pb_audit_sign_fn sign, void *ctx, pb_audit_record *cp);

/* An EC P-256 public key from PEM (SubjectPublicKeyInfo). */
pb_status pb_audit_public_key_load(const char *pem, size_t len, EVP_PKEY **out);

/* PB_OK iff cp's signature is canonical and verifies under key;
 * PB_ERR_INTEGRITY with a message otherwise. */
pb_status pb_audit_checkpoint_verify(EVP_PKEY *key, const pb_audit_record *cp);

#endif
