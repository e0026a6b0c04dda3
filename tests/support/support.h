/* support.h - shared helpers for the Criterion suites (no mocks: these make
 * real SoftHSM tokens and real keys in temporary directories). */
#ifndef PB_TEST_SUPPORT_H
#define PB_TEST_SUPPORT_H

const char *pb_test_source_dir(void);
/* Removes a test's temporary directory and everything under it. */
void pb_test_rmtree(const char *dir);

#endif
