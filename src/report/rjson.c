/* rjson.c - the report's reading of JSON (run.json and the store's batch
 * records) through json-glib (report_int.h): parse, find members, read
 * numbers and scalar text.
 *
 * Owns the checks json-glib 1.6 does not make: it parses nested values by
 * unbounded recursion (1.10 adds a bound), so a file of a million '['
 * overflows the stack; and it accepts comments, single-quoted strings and
 * text after the top-level value. pc_rjson_parse() refuses all of these
 * before json-glib sees the text, so a corrupt file is refused, never a
 * crash, and what is read is plain JSON.
 *
 * Every accessor takes NULL and the wrong type and answers "absent", so a
 * section reads a path without checking each step: a corrupt or foreign
 * run.json drops what it cannot find, nothing else.
 */
#include "report_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* TRUE when text, outside "strings", nests at most JSON_MAX_DEPTH deep,
 * has no ' or / (comments, single quotes) and nothing but white space
 * after the top-level container closes. A string's \x skips x, as in
 * json-glib, so the brackets counted are the ones json-glib parses. */
static gboolean shape_ok(const char *s) {
  int depth = 0;
  gboolean closed = FALSE;
  for (; *s; s++) {
    char ch = *s;
    if (closed && !g_ascii_isspace(ch)) return FALSE;
    if (ch == '"') {
      for (s++; *s && *s != '"'; s++)
        if (*s == '\\' && s[1]) s++;
      if (!*s) return FALSE;
    } else if (ch == '\'' || ch == '/') {
      return FALSE;
    } else if (ch == '[' || ch == '{') {
      if (++depth > JSON_MAX_DEPTH) return FALSE;
    } else if (ch == ']' || ch == '}') {
      if (--depth < 0) return FALSE;
      closed = depth == 0;
    }
  }
  return TRUE;
}

JsonNode *pc_rjson_parse(const char *text) {
  if (!text || !shape_ok(text)) return NULL;
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!json_parser_load_from_data(parser, text, -1, NULL)) return NULL;
  return json_parser_steal_root(parser); /* NULL for an empty text */
}

JsonObject *pc_rjson_object(JsonNode *node) {
  return node && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

JsonArray *pc_rjson_array(JsonNode *node) {
  return node && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
}

JsonNode *pc_rjson_member(JsonNode *node, const char *name) {
  JsonObject *o = pc_rjson_object(node);
  return o ? json_object_get_member(o, name) : NULL;
}

JsonNode *pc_rjson_get(JsonNode *node, const char *path) {
  g_auto(GStrv) names = g_strsplit(path, ".", -1);
  for (guint i = 0; node && names[i]; i++) node = pc_rjson_member(node, names[i]);
  return node;
}

gboolean pc_rjson_number(JsonNode *node, double *v) {
  if (!node || !JSON_NODE_HOLDS_VALUE(node)) return FALSE;
  GType ty = json_node_get_value_type(node);
  if (ty == G_TYPE_INT64) *v = (double)json_node_get_int(node);
  else if (ty == G_TYPE_DOUBLE) *v = json_node_get_double(node);
  else return FALSE;
  return TRUE;
}

gboolean pc_rjson_u64(JsonNode *node, uint64_t *v) {
  if (!node || !JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_INT64) return FALSE;
  gint64 i = json_node_get_int(node);
  if (i < 0) return FALSE;
  *v = (uint64_t)i;
  return TRUE;
}

/* The fewest significant digits that read back as v. buf: 32 bytes. */
static void shortest(char *buf, double v) {
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, 32, "%.*g", prec, v);
    if (strtod(buf, NULL) == v) return;
  }
}

char *pc_rjson_text(JsonNode *node, const char *dfmt) {
  if (!node || !JSON_NODE_HOLDS_VALUE(node)) return NULL;
  char buf[PC_MONEY_BYTES];
  switch (json_node_get_value_type(node)) {
  case G_TYPE_STRING: return g_strdup(json_node_get_string(node));
  case G_TYPE_BOOLEAN: return g_strdup(json_node_get_boolean(node) ? "true" : "false");
  case G_TYPE_INT64: return g_strdup_printf("%" PRId64, (int64_t)json_node_get_int(node));
  case G_TYPE_DOUBLE:
    if (!dfmt) {
      shortest(buf, json_node_get_double(node));
      return g_strdup(buf);
    }
    return g_strdup_printf(dfmt, json_node_get_double(node));
  default: return NULL;
  }
}
