/* config_json.c - the effective configuration of a job as JSON (the "job"
 * object of run.json), written from the key tables so that every key of
 * docs/jobs.md appears with its value. json-glib; no MPI, no HDF5.
 */
#include "config_int.h"
#include "pc_json.h"
#include "pc_time.h"


/* ISO-8601 UTC, "YYYY-MM-DDTHH:MM:SSZ" with ".ffffff" only when non-zero. */
static void json_time(JsonBuilder *b, int64_t us) {
  char buf[PC_TIME_ISO_BYTES];
  json_builder_add_string_value(b, pc_time_format_iso(us, PC_TIME_FRAC_AUTO, buf));
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
  case V_EVENTS: case V_STEPS: case V_LIST:
    if (*(char **const *)f) json_strv(b, *(char **const *)f, *(const guint *)((const char *)base + ks->off2));
    else json_builder_add_null_value(b);
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

/* "flow": {NAME: {...}} in name order, mirroring [flow.NAME]. */
static void json_flows(JsonBuilder *b, const PcJobConfig *c) {
  json_builder_set_member_name(b, "flow");
  json_builder_begin_object(b);
  for (guint i = 0; i < c->n_flows; i++) {
    json_builder_set_member_name(b, c->flows[i].name);
    json_builder_begin_object(b);
    json_keys(b, pc_cfg_flow_keys, pc_cfg_n_flow_keys, "flow", &c->flows[i]);
    json_builder_end_object(b);
  }
  json_builder_end_object(b);
}

/* Groups in the order of docs/jobs.md ([target] is null without a target,
 * [retention] without the group; the funnels, then the flows follow
 * [target]); every key with its effective value ([scope] segments: null
 * for every segment). */
void pc_config_describe(const PcJobConfig *c, JsonBuilder *b) {
  json_builder_begin_object(b);
  pc_json_member_string(b, "job", c->job_path);
  for (guint g = 0; pc_cfg_known_groups[g]; g++) {
    const char *group = pc_cfg_known_groups[g];
    json_builder_set_member_name(b, group);
    if ((!strcmp(group, "target") && !c->n_target_events) ||
        (!strcmp(group, "retention") && !c->retention)) {
      json_builder_add_null_value(b);
    } else {
      json_builder_begin_object(b);
      json_keys(b, pc_cfg_job_keys, pc_cfg_n_job_keys, group, c);
      json_builder_end_object(b);
    }
    if (!strcmp(group, "target")) {
      json_funnels(b, c);
      json_flows(b, c);
    }
  }
  json_builder_end_object(b);
}

char *pc_config_to_json(const PcJobConfig *c) {
  g_return_val_if_fail(c != NULL, NULL);
  g_autoptr(JsonBuilder) b = json_builder_new();
  pc_config_describe(c, b);
  return pc_json_text(b, FALSE);
}

