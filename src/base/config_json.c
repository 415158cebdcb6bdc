/* config_json.c - the effective configuration of a job as JSON (the "job"
 * object of run.json), written from the key tables so that every key of
 * docs/jobs.md appears with its value. json-glib; no MPI, no HDF5.
 */
#include "config_int.h"
#include "pc_json.h"


/* Days since 1970-01-01 -> proleptic Gregorian y/m/d (H. Hinnant's
 * civil_from_days), exact for every int64 day count we can get. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* ISO-8601 UTC, "YYYY-MM-DDTHH:MM:SSZ" with ".ffffff" only when non-zero. */
static void json_time(JsonBuilder *b, int64_t us) {
  int64_t sec = us / 1000000, frac = us % 1000000;
  if (frac < 0) frac += 1000000, sec--;
  int64_t days = sec / 86400, tod = sec % 86400;
  if (tod < 0) tod += 86400, days--;
  int64_t y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  g_autofree char *hms = g_strdup_printf(
      "%04" G_GINT64_FORMAT "-%02u-%02uT%02u:%02u:%02u", y, m, d,
      (unsigned)(tod / 3600), (unsigned)(tod / 60 % 60), (unsigned)(tod % 60));
  g_autofree char *s = frac ? g_strdup_printf("%s.%06uZ", hms, (unsigned)frac)
                            : g_strconcat(hms, "Z", NULL);
  json_builder_add_string_value(b, s);
}

static void json_strv(JsonBuilder *b, char **v, guint n) {
  json_builder_begin_array(b);
  for (guint i = 0; i < n; i++) pc_json_add_string(b, v[i]);
  json_builder_end_array(b);
}

/* The value of one key, read from its field exactly as the setters wrote
 * it (base: the PcJobConfig or the PcFunnelConfig). */
static void json_value(JsonBuilder *b, const KeySpec *ks, const void *base) {
  const char *f = (const char *)base + ks->off;
  switch (ks->kind) {
  case V_STRING: case V_EVENT: case V_WORD:
    pc_json_add_string(b, *(char *const *)f);
    break;
  case V_EVENTS: case V_STEPS:
    json_strv(b, *(char **const *)f, *(const guint *)((const char *)base + ks->off2));
    break;
  case V_TIME:
    if (*(const gboolean *)((const char *)base + ks->off2)) json_time(b, *(const int64_t *)f);
    else json_builder_add_null_value(b);
    break;
  case V_BOOL:
    json_builder_add_boolean_value(b, *(const gboolean *)f);
    break;
  case V_INT:
    json_builder_add_int_value(b, ks->size == 4 ? (int64_t)*(const guint32 *)f : *(const int64_t *)f);
    break;
  case V_DOUBLE:
    json_builder_add_double_value(b, *(const double *)f);
    break;
  case V_BYTES:
    json_builder_add_int_value(b, (int64_t)*(const guint64 *)f);
    break;
  case V_CHOICE:
    json_builder_add_string_value(b, ks->choices[*(const int *)f]);
    break;
  case V_FLAGS:
    json_builder_begin_array(b);
    for (guint i = 0; ks->choices[i]; i++)
      if (*(const guint *)f & (1u << i)) json_builder_add_string_value(b, ks->choices[i]);
    json_builder_end_array(b);
    break;
  }
}

/* Every key of group (in table order) as members of the current object. */
static void json_keys(JsonBuilder *b, const KeySpec *keys, guint n,
                      const char *group, const void *base) {
  for (guint i = 0; i < n; i++) {
    if (strcmp(keys[i].group, group) != 0) continue;
    json_builder_set_member_name(b, keys[i].key);
    json_value(b, &keys[i], base);
  }
}

/* "funnel": {NAME: {...}} in name order, mirroring [funnel.NAME]. */
static void json_funnels(JsonBuilder *b, const PcJobConfig *c) {
  json_builder_set_member_name(b, "funnel");
  json_builder_begin_object(b);
  for (guint i = 0; i < c->n_funnels; i++) {
    json_builder_set_member_name(b, c->funnels[i].name);
    json_builder_begin_object(b);
    json_keys(b, pc_cfg_funnel_keys, pc_cfg_n_funnel_keys, "funnel", &c->funnels[i]);
    json_builder_end_object(b);
  }
  json_builder_end_object(b);
}

/* Groups in the order of docs/jobs.md ([target] is null without a target;
 * the funnels follow it); every key with its effective value. */
void pc_config_describe(const PcJobConfig *c, JsonBuilder *b) {
  json_builder_begin_object(b);
  pc_json_member_string(b, "job", c->job_path);
  for (guint g = 0; pc_cfg_known_groups[g]; g++) {
    const char *group = pc_cfg_known_groups[g];
    json_builder_set_member_name(b, group);
    if (!strcmp(group, "target") && !c->n_target_events) {
      json_builder_add_null_value(b);
    } else {
      json_builder_begin_object(b);
      json_keys(b, pc_cfg_job_keys, pc_cfg_n_job_keys, group, c);
      json_builder_end_object(b);
    }
    if (!strcmp(group, "target")) json_funnels(b, c);
  }
  json_builder_end_object(b);
}

char *pc_config_to_json(const PcJobConfig *c) {
  g_return_val_if_fail(c != NULL, NULL);
  g_autoptr(JsonBuilder) b = json_builder_new();
  pc_config_describe(c, b);
  return pc_json_text(b, FALSE);
}

