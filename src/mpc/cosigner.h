/* cosigner.h - the cosigner's (P2's) node-level ring-Pedersen parameters as
 * seen by the protocols.
 *
 * Owns: the secret parameters of a P2 node, their sealed encoding, the
 * exported public part with its Pi^prm proof, and P1's verification of an
 * export. Pi^prm is bound to an id derived from the parameters themselves
 * (they outlive any session). Must never reveal lambda or the factors.
 */
#ifndef PB_MPC_COSIGNER_H
#define PB_MPC_COSIGNER_H

#include "crypto/ring_pedersen.h"
#include "planbok/mpc.h"

struct pb_cosigner_params {
    pb_rped_secret *sec;
};

struct pb_cosigner_public {
    pb_rped_public *pub; /* passed pb_rped_public_check and Pi^prm */
};

#endif
