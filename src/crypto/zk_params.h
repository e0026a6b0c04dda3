/* zk_params.h - the security parameters shared by the range proofs.
 * Their derivation (soundness, statistical hiding, no wrap-around) is in
 * docs/protocol.md; change them only together with that section.
 */
#ifndef PB_CRYPTO_ZK_PARAMS_H
#define PB_CRYPTO_ZK_PARAMS_H

#define PB_ZK_L 256         /* l: bit length of the secrets proven in range (|q|) */
#define PB_ZK_EPS 512       /* eps: slack of the range proofs (2l) */
#define PB_ZK_STAT 128      /* statistical hiding parameter for masks */

#endif
