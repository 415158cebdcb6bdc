/* batch.c - the rejects file and the batch record of a store batch
 * (pc_batch.h, docs/format.md).
 *
 * Owns the text of both: the rejects file's columns and the batch record's
 * keys, built with json-glib (JsonBuilder, JsonGenerator; compact output).
 * Does not own where they go (store.c names the files, ingest.c gathers
 * the rejects and writes the record into every shard) nor the reject rules
 * (csv.c).
 *
 * Invariant: the same batch gives the same bytes: keys in a fixed order,
 * reasons in PcRejectReason order, integers printed as integers.
 */
#include "pc_batch.h"

#include <json-glib/json-glib.h>

/* ---- Rejects ------------------------------------------------------------------ */

void pc_reject_clear(PcReject *r) { g_clear_pointer(&r->text, g_free); }

int pc_reject_cmp(const void *a, const void *b) {
  const PcReject *x = a, *y = b;
  if (x->file != y->file) return x->file < y->file ? -1 : 1;
  return x->line < y->line ? -1 : x->line > y->line;
}

PcReject pc_reject_make(guint file, uint64_t line, PcRejectReason reason,
                        const char *text, size_t full_len) {
  uint32_t n = (uint32_t)MIN(full_len, (size_t)PC_BATCH_REJECT_TEXT_BYTES);
  PcReject r = {file, line, reason, g_malloc(n + 1), n, (uint32_t)full_len};
  memcpy(r.text, text, n);
  r.text[n] = 0;
  return r;
}

/* Bytes as one TSV field: a rejected line may hold any byte (a NUL, a
 * TAB, a CR) and must neither end the field nor the line early. */
static void append_escaped(GString *s, const char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    switch (c) {
    case '\\': g_string_append(s, "\\\\"); break;
    case '\t': g_string_append(s, "\\t"); break;
    case '\n': g_string_append(s, "\\n"); break;
    case '\r': g_string_append(s, "\\r"); break;
    case 0: g_string_append(s, "\\0"); break;
    default:
      if (c < 0x20 || c == 0x7F) g_string_append_printf(s, "\\x%02X", c);
      else g_string_append_c(s, (char)c);
    }
  }
}

gboolean pc_batch_write_rejects(const char *path, const GArray *rejects,
                                GPtrArray *inputs,
                                uint64_t by_reason[PC_REJECT_N],
                                GError **error) {
  g_autoptr(GString) s = g_string_new("file\tline\treason\ttext\n");
  for (guint i = 0; i < rejects->len; i++) {
    const PcReject *r = &g_array_index(rejects, PcReject, i);
    const char *in = g_ptr_array_index(inputs, r->file);
    by_reason[r->reason]++;
    append_escaped(s, in, strlen(in));
    g_string_append_printf(s, "\t%" G_GUINT64_FORMAT "\t%s\t", r->line, pc_csv_reason_name(r->reason));
    append_escaped(s, r->text, r->len);
    if (r->full_len > r->len) g_string_append_printf(s, "\\...[%u more bytes]", r->full_len - r->len);
    g_string_append_c(s, '\n');
  }
  g_autoptr(GError) e = NULL;
  if (!g_file_set_contents(path, s->str, (gssize)s->len, &e)) {
    pc_set_error(error, PC_ERROR_IO, "%s: %s", path, e->message);
    return FALSE;
  }
  return TRUE;
}

/* ---- The batch record ------------------------------------------------------------ */

/* Rejected rows of all reasons. */
static uint64_t batch_rejected(const PcBatchRecord *r) {
  uint64_t n = 0;
  for (int k = 1; k < PC_REJECT_N; k++) n += r->by_reason[k];
  return n;
}

/* JSON text is UTF-8: a file name need not be. */
static void add_string_utf8(JsonBuilder *b, const char *s) {
  if (g_utf8_validate(s, -1, NULL)) {
    json_builder_add_string_value(b, s);
    return;
  }
  g_autofree char *valid = g_utf8_make_valid(s, -1);
  json_builder_add_string_value(b, valid);
}

static void add_member_int(JsonBuilder *b, const char *key, uint64_t v) {
  json_builder_set_member_name(b, key);
  json_builder_add_int_value(b, (gint64)v);
}

static void add_inputs(JsonBuilder *b, const PcBatchRecord *r) {
  json_builder_set_member_name(b, "inputs");
  json_builder_begin_array(b);
  for (guint f = 0; f < r->inputs->len; f++) {
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "path");
    add_string_utf8(b, g_ptr_array_index(r->inputs, f));
    json_builder_set_member_name(b, "kind");
    json_builder_add_string_value(b, f < r->n_event_files ? "events" : "customers");
    if (r->ids) {
      add_member_int(b, "rows", r->ids[f].rows);
      add_member_int(b, "rejected", r->ids[f].rejected);
      json_builder_set_member_name(b, "sha256");
      json_builder_add_string_value(b, r->ids[f].sha256);
    }
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

/* event_rows, event_rejected, customer_rows, customer_rejected: the
 * figures of each table, so that a report counts events as events. */
static void add_kinds(JsonBuilder *b, const PcBatchRecord *r) {
  uint64_t v[2][2] = {{0, 0}, {0, 0}};
  for (guint f = 0; f < r->inputs->len; f++) {
    v[f >= r->n_event_files][0] += r->ids[f].rows;
    v[f >= r->n_event_files][1] += r->ids[f].rejected;
  }
  add_member_int(b, "event_rows", v[0][0]);
  add_member_int(b, "event_rejected", v[0][1]);
  add_member_int(b, "customer_rows", v[1][0]);
  add_member_int(b, "customer_rejected", v[1][1]);
}

/* Compact text of the builder's root. Caller g_free()s. */
static char *builder_text(JsonBuilder *b) {
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, root);
  return json_generator_to_data(gen, NULL);
}

char *pc_batch_record_json(const PcBatchRecord *r) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  uint64_t rejected = batch_rejected(r);
  json_builder_begin_object(b);
  add_member_int(b, "batch", r->batch);
  add_member_int(b, "buckets", r->buckets);
  add_member_int(b, "ranks", (uint64_t)r->ranks);
  add_inputs(b, r);
  if (r->key) {
    json_builder_set_member_name(b, "key");
    json_builder_add_string_value(b, r->key);
  }
  add_member_int(b, "rows", r->rows);
  add_member_int(b, "accepted", r->rows - rejected);
  add_member_int(b, "rejected", rejected);
  if (r->ids) add_kinds(b, r);
  json_builder_set_member_name(b, "rejected_by_reason");
  json_builder_begin_object(b);
  for (int k = 1; k < PC_REJECT_N; k++)
    if (r->by_reason[k]) add_member_int(b, pc_csv_reason_name(k), r->by_reason[k]);
  json_builder_end_object(b);
  json_builder_set_member_name(b, "rejects_file");
  add_string_utf8(b, r->rejects_file);
  json_builder_end_object(b);
  return builder_text(b);
}

char *pc_batch_generated_json(guint batch) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  add_member_int(b, "batch", batch);
  json_builder_set_member_name(b, "generated");
  json_builder_add_boolean_value(b, TRUE);
  json_builder_end_object(b);
  return builder_text(b);
}
