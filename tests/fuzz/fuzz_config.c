/* fuzz_config.c - libFuzzer harness for the job-file parser (src/config.c).
 *
 * The input is split at the first NUL byte: before it the job text, after
 * it NUL-separated --set overrides (at most 8). Every input must either
 * load (and then serialise to JSON) or fail with a PC_ERROR GError; nothing
 * may crash, leak or read out of bounds.
 */
#include "pc_config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *buf = g_malloc(size + 2);
  memcpy(buf, data, size);
  buf[size] = buf[size + 1] = '\0';
  char *ovs[9] = {NULL};
  size_t tlen = strlen(buf);
  int n = 0;
  for (char *p = buf + tlen + 1; p < buf + size + 1 && n < 8; p += strlen(p) + 1)
    ovs[n++] = p;
  PcJobConfig *cfg = NULL;
  GError *e = NULL;
  if (pc_config_load_data(buf, "fuzz.ini", n ? ovs : NULL, &cfg, &e)) {
    if (!cfg || e) abort();
    char *json = pc_config_to_json(cfg);
    if (!json) abort();
    g_free(json);
    pc_config_free(cfg);
  } else {
    if (!e || e->domain != PC_ERROR || !e->message[0]) abort();
    g_error_free(e);
  }
  g_free(buf);
  return 0;
}
