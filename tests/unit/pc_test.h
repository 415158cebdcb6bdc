/* pc_test.h - the few lines every CUnit program of tests/unit repeats.
 * A test file defines its cases as static void functions and ends with
 *   PC_TEST_MAIN("module", {"/module/case", test_case}, ...)
 * The program exits non-zero when any assert failed. */
#ifndef PC_TEST_H
#define PC_TEST_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <stdlib.h>

typedef struct {
  const char *name;
  void (*fn)(void);
} PcTestCase;

static inline int pc_test_run(const char *suite, const PcTestCase *cases,
                              size_t n) {
  if (CU_initialize_registry() != CUE_SUCCESS) return 2;
  CU_pSuite s = CU_add_suite(suite, NULL, NULL);
  for (size_t i = 0; i < n; i++) CU_add_test(s, cases[i].name, cases[i].fn);
  CU_basic_set_mode(CU_BRM_NORMAL);
  CU_basic_run_tests();
  unsigned failed = CU_get_number_of_failures();
  CU_cleanup_registry();
  return failed ? 1 : 0;
}

#define PC_TEST_MAIN(suite, ...)                                      \
  int main(void) {                                                    \
    static const PcTestCase cases[] = {__VA_ARGS__};                  \
    return pc_test_run(suite, cases, sizeof cases / sizeof cases[0]); \
  }

#endif
