/* json.c - helpers over json-glib (pc_json.h). Owns nothing. */
#include "pc_json.h"

void pc_json_add_string(JsonBuilder *b, const char *s) {
  if (!s) {
    json_builder_add_null_value(b);
    return;
  }
  g_autofree char *ok = g_utf8_make_valid(s, -1);
  json_builder_add_string_value(b, ok);
}

void pc_json_member_string(JsonBuilder *b, const char *name, const char *s) {
  json_builder_set_member_name(b, name);
  pc_json_add_string(b, s);
}

void pc_json_member_int(JsonBuilder *b, const char *name, int64_t v) {
  json_builder_set_member_name(b, name);
  json_builder_add_int_value(b, v);
}

/* JSON numbers have no width; json-glib stores int64, so values above
 * INT64_MAX (none parcours writes: counts and bytes) are clamped. */
void pc_json_member_uint(JsonBuilder *b, const char *name, uint64_t v) {
  json_builder_set_member_name(b, name);
  json_builder_add_int_value(b, v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

void pc_json_member_double(JsonBuilder *b, const char *name, double v) {
  json_builder_set_member_name(b, name);
  json_builder_add_double_value(b, v);
}

char *pc_json_text(JsonBuilder *b, gboolean pretty) {
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autoptr(JsonGenerator) g = json_generator_new();
  json_generator_set_root(g, root);
  json_generator_set_pretty(g, pretty);
  json_generator_set_indent(g, 2);
  char *text = json_generator_to_data(g, NULL);
  if (!pretty) return text;
  char *nl = g_strconcat(text, "\n", NULL);
  g_free(text);
  return nl;
}
