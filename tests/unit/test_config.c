/* test_config.c - unit tests of src/config.c (include/pc_config.h): the job
 * file of spec §11 and docs/jobs.md, its --set overrides and the JSON dump.
 * Every case parses inline text with pc_config_load_data; error cases assert
 * the exact error code and that the message names the line and the key. */
#include "pc_config.h"
#include "pc_test.h"

#include <glib/gstdio.h>
#include <stdio.h>

#define BASE "[input]\nstore = s\n[output]\ndir = o\n"

/* ---- helpers ------------------------------------------------------------- */

static PcJobConfig *load_ok(const char *text, const char *const *ov) {
  PcJobConfig *c = NULL;
  GError *e = NULL;
  gboolean ok = pc_config_load_data(text, "job.ini", (char **)ov, &c, &e);
  if (!ok) fprintf(stderr, "\nunexpected error: %s\n", e->message);
  CU_ASSERT_TRUE_FATAL(ok);
  CU_ASSERT_PTR_NULL(e);
  return c;
}

/* Asserts PC_ERROR_CONFIG, *out untouched, and that the message contains
 * every non-NULL needle (line, key, reason). */
static void expect_error(const char *text, const char *const *ov,
                         const char *n1, const char *n2, const char *n3) {
  PcJobConfig *c = NULL;
  GError *e = NULL;
  gboolean ok = pc_config_load_data(text, "job.ini", (char **)ov, &c, &e);
  CU_ASSERT_FALSE(ok);
  CU_ASSERT_PTR_NULL(c);
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_EQUAL(e->domain, PC_ERROR);
  CU_ASSERT_EQUAL(e->code, PC_ERROR_CONFIG);
  const char *needles[] = {n1, n2, n3};
  for (int i = 0; i < 3; i++) {
    if (!needles[i]) continue;
    gboolean has = strstr(e->message, needles[i]) != NULL;
    if (!has) fprintf(stderr, "\n\"%s\" lacks \"%s\"\n", e->message, needles[i]);
    CU_ASSERT_TRUE(has);
  }
  g_error_free(e);
}

/* BASE + extra, checked for an error on line `line` naming `key`. */
static void expect_base_error(const char *extra, unsigned line, const char *key,
                              const char *why) {
  g_autofree char *text = g_strconcat(BASE, extra, NULL);
  g_autofree char *at = g_strdup_printf("job.ini:%u:", line);
  expect_error(text, NULL, at, key, why);
}

/* ---- defaults and values ------------------------------------------------- */

/* A UTF-8 byte order mark before the first group is skipped; anywhere else
 * it stays an error (here: inside a value it is kept as bytes of the name). */
static void test_bom(void) {
  g_autoptr(PcJobConfig) c = load_ok("\xEF\xBB\xBF" BASE, NULL);
  CU_ASSERT_STRING_EQUAL(c->store, "s");
  CU_ASSERT_STRING_EQUAL(c->dir, "o");
  PcJobConfig *d = NULL;
  GError *e = NULL;
  CU_ASSERT_FALSE(pc_config_load_data("\xEF\xBB\xBF\xEF\xBB\xBF" BASE, "job.ini", NULL, &d, &e));
  CU_ASSERT_TRUE(g_error_matches(e, PC_ERROR, PC_ERROR_CONFIG));
  CU_ASSERT_PTR_NULL(d);
  g_clear_error(&e);
}

static void test_defaults(void) {
  g_autoptr(PcJobConfig) c = load_ok(BASE, NULL);
  CU_ASSERT_STRING_EQUAL(c->job_path, "job.ini");
  CU_ASSERT_STRING_EQUAL(c->store, "s");
  CU_ASSERT_STRING_EQUAL(c->dir, "o");
  CU_ASSERT_FALSE(c->has_from);
  CU_ASSERT_FALSE(c->has_to);
  CU_ASSERT_EQUAL(c->max_reject_fraction, 0.0);
  CU_ASSERT_EQUAL(c->top_k, 1000);
  CU_ASSERT_EQUAL(c->strategy, PC_STRATEGY_BALANCED);
  CU_ASSERT_EQUAL(c->cost_alpha, 1.0);
  CU_ASSERT_EQUAL(c->batch_events, 4000000);
  CU_ASSERT_EQUAL(c->token, PC_TOKEN_EVENT);
  CU_ASSERT_FALSE(c->collapse_repeats);
  CU_ASSERT_EQUAL(c->unit, PC_UNIT_CUSTOMER);
  CU_ASSERT_EQUAL(c->session_gap_s, 1800);
  CU_ASSERT_EQUAL(c->ngram_max, 3);
  CU_ASSERT_EQUAL(c->depth, 8);
  CU_ASSERT_EQUAL(c->min_support, 1);
  CU_ASSERT_PTR_NULL(c->target_events);
  CU_ASSERT_EQUAL(c->n_target_events, 0);
  CU_ASSERT_EQUAL(c->lookback, 5);
  CU_ASSERT_EQUAL(c->sequence_max, 3);
  CU_ASSERT_EQUAL(c->sequence_min_customers, 10);
  CU_ASSERT_PTR_NULL(c->funnels);
  CU_ASSERT_EQUAL(c->n_funnels, 0);
  CU_ASSERT_PTR_NULL(c->flows);
  CU_ASSERT_EQUAL(c->n_flows, 0);
  CU_ASSERT_PTR_NULL(c->nps_event);
  CU_ASSERT_TRUE(c->attribution);
  CU_ASSERT_EQUAL(c->half_life_s, 604800.0);
  CU_ASSERT_EQUAL(c->markov_order, 1);
  CU_ASSERT_TRUE(c->model);
  CU_ASSERT_EQUAL(c->lambda, 1e-3);
  CU_ASSERT_EQUAL(c->top_n, 1000);
  CU_ASSERT_EQUAL(c->max_iter, 100);
  CU_ASSERT_STRING_EQUAL(c->solver, "newton");
  CU_ASSERT_TRUE(c->report);
  CU_ASSERT_EQUAL(c->memory_per_rank, 0);
  CU_ASSERT_PTR_NULL(c->spill_dir);
  CU_ASSERT_EQUAL(c->table_memory, 0);
}

static const char every_key[] =
    "# every key, none at its default\n"
    "[input]\n"
    "store = /data/store\n"
    "from = 2024-01-01T00:00:00Z\n"
    "to = 1706745600\n"
    "max_reject_fraction = 0.25\n"
    "[output]\n"
    "dir = /data/out\n"
    "top_k = 50\n"
    "[partition]\n"
    "strategy = range\n"
    "alpha = 0.5\n"
    "batch_events = 1000\n"
    "[path]\n"
    "token = channel:event\n"
    "collapse_repeats = true\n"
    "unit = session\n"
    "session_gap = 600\n"
    "ngram_max = 16\n"
    "depth = 64\n"
    "min_support = 20\n"
    "[target]\n"
    "event = purchase;churn\n"
    "lookback = 64\n"
    "sequence_max = 8\n"
    "sequence_min_customers = 1\n"
    "[kpi]\n"
    "nps_event = nps\n"
    "[attribution]\n"
    "enabled = false\n"
    "half_life = 86400.5\n"
    "markov_order = 4\n"
    "[model]\n"
    "enabled = false\n"
    "lambda = 1e-2\n"
    "top_n = 0\n"
    "max_iter = 10000\n"
    "solver = newton\n"
    "[report]\n"
    "enabled = false\n"
    "[run]\n"
    "memory_per_rank = 2G\n"
    "spill_dir = /scratch/spill\n"
    "table_memory = 64M\n"
    "[funnel.buy]\n"
    "steps = web:view;app:buy\n"
    "window = 0\n"
    "match = channel:event\n"
    "split = channel\n"
    "[flow.after_bill]\n"
    "anchor = bill\n"
    "direction = before\n"
    "steps = 16\n";

static void test_every_key(void) {
  g_autoptr(PcJobConfig) c = load_ok(every_key, NULL);
  CU_ASSERT_STRING_EQUAL(c->store, "/data/store");
  CU_ASSERT_TRUE(c->has_from);
  CU_ASSERT_EQUAL(c->from_us, INT64_C(1704067200000000));
  CU_ASSERT_TRUE(c->has_to);
  CU_ASSERT_EQUAL(c->to_us, INT64_C(1706745600000000));
  CU_ASSERT_EQUAL(c->max_reject_fraction, 0.25);
  CU_ASSERT_STRING_EQUAL(c->dir, "/data/out");
  CU_ASSERT_EQUAL(c->top_k, 50);
  CU_ASSERT_EQUAL(c->strategy, PC_STRATEGY_RANGE);
  CU_ASSERT_EQUAL(c->cost_alpha, 0.5);
  CU_ASSERT_EQUAL(c->batch_events, 1000);
  CU_ASSERT_EQUAL(c->token, PC_TOKEN_CHANNEL_EVENT);
  CU_ASSERT_TRUE(c->collapse_repeats);
  CU_ASSERT_EQUAL(c->unit, PC_UNIT_SESSION);
  CU_ASSERT_EQUAL(c->session_gap_s, 600);
  CU_ASSERT_EQUAL(c->ngram_max, 16);
  CU_ASSERT_EQUAL(c->depth, 64);
  CU_ASSERT_EQUAL(c->min_support, 20);
  CU_ASSERT_EQUAL_FATAL(c->n_target_events, 2);
  CU_ASSERT_STRING_EQUAL(c->target_events[0], "purchase");
  CU_ASSERT_STRING_EQUAL(c->target_events[1], "churn");
  CU_ASSERT_PTR_NULL(c->target_events[2]);
  CU_ASSERT_EQUAL(c->lookback, 64);
  CU_ASSERT_EQUAL(c->sequence_max, 8);
  CU_ASSERT_EQUAL(c->sequence_min_customers, 1);
  CU_ASSERT_STRING_EQUAL(c->nps_event, "nps");
  CU_ASSERT_FALSE(c->attribution);
  CU_ASSERT_EQUAL(c->half_life_s, 86400.5);
  CU_ASSERT_EQUAL(c->markov_order, 4);
  CU_ASSERT_FALSE(c->model);
  CU_ASSERT_EQUAL(c->lambda, 1e-2);
  CU_ASSERT_EQUAL(c->top_n, 0);
  CU_ASSERT_EQUAL(c->max_iter, 10000);
  CU_ASSERT_STRING_EQUAL(c->solver, "newton");
  CU_ASSERT_FALSE(c->report);
  CU_ASSERT_EQUAL(c->memory_per_rank, UINT64_C(2147483648));
  CU_ASSERT_STRING_EQUAL(c->spill_dir, "/scratch/spill");
  CU_ASSERT_EQUAL(c->table_memory, UINT64_C(67108864));
  CU_ASSERT_EQUAL_FATAL(c->n_funnels, 1);
  CU_ASSERT_STRING_EQUAL(c->funnels[0].name, "buy");
  CU_ASSERT_EQUAL_FATAL(c->funnels[0].n_steps, 2);
  CU_ASSERT_STRING_EQUAL(c->funnels[0].steps[0], "web:view");
  CU_ASSERT_STRING_EQUAL(c->funnels[0].steps[1], "app:buy");
  CU_ASSERT_EQUAL(c->funnels[0].window_s, 0);
  CU_ASSERT_TRUE(c->funnels[0].match_channel_event);
  CU_ASSERT_EQUAL(c->funnels[0].split, PC_SPLIT_CHANNEL);
  CU_ASSERT_EQUAL_FATAL(c->n_flows, 1);
  CU_ASSERT_STRING_EQUAL(c->flows[0].name, "after_bill");
  CU_ASSERT_STRING_EQUAL(c->flows[0].anchor, "bill");
  CU_ASSERT_TRUE(c->flows[0].before);
  CU_ASSERT_EQUAL(c->flows[0].steps, 16);
}

static void test_timestamps(void) {
  const char *ov[] = {"input.from=1970-01-01T01:00:00.5+01:00", "input.to=-1",
                      NULL};
  /* from = 0.5 s, to = -1 s: to before from is an error */
  expect_error(BASE, ov, "--set input.to", "later than input.from", NULL);
  const char *ov2[] = {"input.from=1970-01-01T01:00:00.5+01:00", "input.to=1",
                       NULL};
  g_autoptr(PcJobConfig) d = load_ok(BASE, ov2);
  CU_ASSERT_EQUAL(d->from_us, 500000);
  CU_ASSERT_EQUAL(d->to_us, 1000000);
}

static void test_memory_suffixes(void) {
  static const struct {
    const char *v;
    guint64 bytes;
  } ok[] = {{"0", 0},
            {"512", 512},
            {"4K", 4096},
            {"2M", UINT64_C(2097152)},
            {"3g", UINT64_C(3221225472)},
            {"1T", UINT64_C(1099511627776)}};
  for (size_t i = 0; i < G_N_ELEMENTS(ok); i++) {
    g_autofree char *o = g_strconcat("run.memory_per_rank=", ok[i].v, NULL);
    const char *ov[] = {o, NULL};
    g_autoptr(PcJobConfig) c = load_ok(BASE, ov);
    CU_ASSERT_EQUAL(c->memory_per_rank, ok[i].bytes);
  }
  static const char *const bad[] = {"4X", "4GB", "-1", "G", "1.5G",
                                    "99999999999T", "4 G"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *t = g_strdup_printf("[run]\nmemory_per_rank = %s\n", bad[i]);
    expect_base_error(t, 6, "memory_per_rank", NULL);
  }
}

/* ---- lists and funnels --------------------------------------------------- */

static void test_list_trimming(void) {
  g_autoptr(PcJobConfig) c = load_ok(
      BASE "[target]\nevent =  a ;b;  c d  \n"
           "[funnel.f]\nsteps = x ; y\\;z ;x\nwindow = 10\n",
      NULL);
  CU_ASSERT_EQUAL_FATAL(c->n_target_events, 3);
  CU_ASSERT_STRING_EQUAL(c->target_events[0], "a");
  CU_ASSERT_STRING_EQUAL(c->target_events[1], "b");
  CU_ASSERT_STRING_EQUAL(c->target_events[2], "c d");
  CU_ASSERT_EQUAL_FATAL(c->funnels[0].n_steps, 3);
  CU_ASSERT_STRING_EQUAL(c->funnels[0].steps[0], "x");
  CU_ASSERT_STRING_EQUAL(c->funnels[0].steps[1], "y;z");
  CU_ASSERT_STRING_EQUAL(c->funnels[0].steps[2], "x");
}

static void test_list_empty_items(void) {
  expect_base_error("[target]\nevent = a;;b\n", 6, "event", "empty item");
  expect_base_error("[target]\nevent = a;b;\n", 6, "event", "empty item");
  expect_base_error("[target]\nevent = a; ;b\n", 6, "event", "empty item");
  expect_base_error("[target]\nevent =\n", 6, "event", "empty list");
  expect_base_error("[funnel.f]\nwindow = 1\nsteps = ;\n", 7, "steps",
                    "empty item");
}

static void test_list_bad_names(void) {
  expect_base_error("[target]\nevent = a,b\n", 6, "event", "not an event name");
  expect_base_error("[target]\nevent = ok;(all)\n", 6, "event", "reserved");
  expect_base_error("[kpi]\nnps_event = a>b\n", 6, "nps_event",
                    "not an event name");
  expect_base_error(
      "[target]\nevent = "
      "x234567890123456789012345678901234567890123456789012345678901234\n",
      6, "event", "longer than 63");
}

static void test_funnel_sorting(void) {
  g_autoptr(PcJobConfig) c = load_ok(
      BASE "[funnel.zeta]\nsteps = a\nwindow = 1\n"
           "[funnel.beta]\nsteps = b;c\nwindow = 2\n"
           "[funnel.Alpha]\nsteps = d\nwindow = 3\nsplit = channel\n"
           "[funnel.b]\nsteps = e\nwindow = 4\n",
      NULL);
  CU_ASSERT_EQUAL_FATAL(c->n_funnels, 4);
  CU_ASSERT_STRING_EQUAL(c->funnels[0].name, "Alpha");
  CU_ASSERT_STRING_EQUAL(c->funnels[1].name, "b");
  CU_ASSERT_STRING_EQUAL(c->funnels[2].name, "beta");
  CU_ASSERT_STRING_EQUAL(c->funnels[3].name, "zeta");
  CU_ASSERT_EQUAL(c->funnels[0].window_s, 3);
  CU_ASSERT_EQUAL(c->funnels[0].split, PC_SPLIT_CHANNEL);
  CU_ASSERT_FALSE(c->funnels[0].match_channel_event);
  CU_ASSERT_EQUAL(c->funnels[2].n_steps, 2);
  CU_ASSERT_EQUAL(c->funnels[3].split, PC_SPLIT_NONE);
}

static void test_funnel_errors(void) {
  expect_base_error("[funnel.f]\nsteps = a\n", 5, "[funnel.f]",
                    "missing required key window");
  expect_base_error("[funnel.f]\nwindow = 5\n", 5, "[funnel.f]",
                    "missing required key steps");
  expect_base_error("[funnel.f]\nsteps = a;b\nwindow = 5\nmatch = channel:event\n",
                    6, "steps", "exactly one ':'");
  expect_base_error("[funnel.f]\nsteps = w:a:b\nwindow = 5\nmatch = channel:event\n",
                    6, "steps", "exactly one ':'");
  expect_base_error("[funnel.f]\nsteps = :a\nwindow = 5\nmatch = channel:event\n",
                    6, "steps", "CHANNEL:EVENT");
  expect_base_error("[funnel.f]\nsteps = a\nwindow = -1\n", 7, "window",
                    "out of range");
  expect_base_error("[funnel.f]\nsteps = a\nwindow = 9223372036855\n", 7, "window",
                    "out of range");
  expect_base_error("[funnel.f]\nsteps = a\nwindow = 1\nsplit = event\n", 8,
                    "split", "none, channel");
  expect_base_error("[funnel.f]\nsteps = a\nwindow = 1\nmatch = channel\n", 8,
                    "match", "event, channel:event");
  expect_base_error("[funnel.]\nsteps = a\n", 5, "funnel.", "NAME is empty");
  expect_base_error("[funnel]\nsteps = a\n", 5, "[funnel]", "unknown group");
  expect_base_error("[funnel.a b]\n", 5, "funnel.a b", "space");
}

/* funnel.mode: a ';'-list of ClickHouse options in any order, repeats
 * allowed, as bits; absent = 0 (the default definition). */
static void test_funnel_mode(void) {
  g_autoptr(PcJobConfig) c = load_ok(
      BASE "[funnel.f]\nsteps = a;b;c\nwindow = 1\n"
           "mode = allow_reentry ; strict_order;strict_increase;strict_order\n"
           "[funnel.g]\nsteps = a;b\nwindow = 1\n"
           "mode = strict_deduplication;strict_once\n"
           "[funnel.h]\nsteps = a;a\nwindow = 1\n",
      NULL);
  CU_ASSERT_EQUAL_FATAL(c->n_funnels, 3);
  CU_ASSERT_EQUAL(c->funnels[0].mode, PC_FUNNEL_ALLOW_REENTRY | PC_FUNNEL_STRICT_ORDER |
                                          PC_FUNNEL_STRICT_INCREASE);
  CU_ASSERT_EQUAL(c->funnels[1].mode, PC_FUNNEL_STRICT_DEDUPLICATION | PC_FUNNEL_STRICT_ONCE);
  CU_ASSERT_EQUAL(c->funnels[2].mode, 0); /* repeated steps: fine without a mode */
  const char *ov[] = {"funnel.h.mode=strict_once", NULL};
  expect_error(BASE "[funnel.h]\nsteps = a;b;a\nwindow = 1\n", ov, "job.ini: --set funnel.h.mode",
               "funnel h", "distinct steps (step 3 repeats step 1, \"a\")");
}

static void test_funnel_mode_errors(void) {
  expect_base_error("[funnel.f]\nsteps = a;b\nwindow = 1\nmode = allow_reentry\n", 8,
                    "mode", "funnel f: allow_reentry needs strict_order");
  expect_base_error("[funnel.f]\nsteps = a;b\nwindow = 1\nmode = strict_increase;allow_reentry\n",
                    8, "mode", "funnel f: allow_reentry needs strict_order");
  expect_base_error("[funnel.f]\nsteps = a;b;a\nwindow = 1\nmode = strict_order\n", 8,
                    "mode", "funnel f: a mode needs distinct steps");
  expect_base_error("[funnel.f]\nsteps = w:a;w:a\nwindow = 1\nmatch = channel:event\n"
                    "mode = strict_once\n", 9, "mode", "a mode needs distinct steps");
  expect_base_error("[funnel.f]\nsteps = a;b\nwindow = 1\nmode = strict\n", 8, "mode",
                    "is not one of: strict_order, strict_deduplication");
  expect_base_error("[funnel.f]\nsteps = a;b\nwindow = 1\nmode = strict_order;\n", 8, "mode",
                    "empty item");
}

/* ---- error kinds --------------------------------------------------------- */

/* Flows: defaults (after, 5 steps), name order whatever the file order, a
 * flow created by --set, and the errors: no anchor, a bad anchor name,
 * steps out of 1..16, an unknown direction, [flow] without NAME. */
static void test_flows(void) {
  const char *ov[] = {"flow.m.anchor=x", "flow.m.direction=before", NULL};
  g_autoptr(PcJobConfig) c = load_ok(
      BASE "[flow.z]\nanchor = bill\n[flow.a.b]\nanchor = pay\nsteps = 1\n", ov);
  CU_ASSERT_EQUAL_FATAL(c->n_flows, 3);
  CU_ASSERT_STRING_EQUAL(c->flows[0].name, "a.b");
  CU_ASSERT_STRING_EQUAL(c->flows[0].anchor, "pay");
  CU_ASSERT_EQUAL(c->flows[0].steps, 1);
  CU_ASSERT_FALSE(c->flows[0].before);
  CU_ASSERT_STRING_EQUAL(c->flows[1].name, "m");
  CU_ASSERT_TRUE(c->flows[1].before);
  CU_ASSERT_EQUAL(c->flows[1].steps, 5);
  CU_ASSERT_STRING_EQUAL(c->flows[2].name, "z");
  expect_base_error("[flow.f]\nsteps = 3\n", 5, "[flow.f]", "missing required key anchor");
  expect_base_error("[flow.f]\nanchor = a>b\n", 6, "anchor", "not an event name");
  expect_base_error("[flow.f]\nanchor = a\nsteps = 17\n", 7, "steps", "1..16");
  expect_base_error("[flow.f]\nanchor = a\nsteps = 0\n", 7, "steps", "1..16");
  expect_base_error("[flow.f]\nanchor = a\ndirection = around\n", 7, "direction",
                    "after, before");
  expect_base_error("[flow]\nanchor = a\n", 5, "[flow]", "[flow.NAME]");
  expect_base_error("[flow.a=b]\nanchor = a\n", 5, "flow NAME", NULL);
  const char *bad[] = {"flow.x y.anchor=a", NULL};
  expect_error(BASE, bad, "--set", "flow NAME", NULL);
}

/* The keys of spec §16 and §18: ranges. */
static void test_deeper_ranges(void) {
  expect_base_error("[target]\nevent = c\nsequence_max = 1\n", 7, "sequence_max", "2..8");
  expect_base_error("[target]\nevent = c\nsequence_max = 9\n", 7, "sequence_max", "2..8");
  expect_base_error("[target]\nevent = c\nsequence_min_customers = 0\n", 7,
                    "sequence_min_customers", ">= 1");
  expect_base_error("[attribution]\nhalf_life = 0\n", 6, "half_life", "> 0");
  expect_base_error("[attribution]\nhalf_life = -5\n", 6, "half_life", "> 0");
  expect_base_error("[attribution]\nmarkov_order = 5\n", 6, "markov_order", "1..4");
  expect_base_error("[attribution]\nmarkov_order = 0\n", 6, "markov_order", "1..4");
}

static void test_unknown_group(void) {
  expect_base_error("\n[pathz]\ntoken = event\n", 6, "[pathz]", "unknown group");
}

static void test_unknown_key(void) {
  expect_base_error("[path]\ntoken = event\ntokn = event\n", 7, "tokn",
                    "unknown key");
  /* GKeyFile hides localized keys; we do not */
  expect_base_error("[path]\ntoken[de] = event\n", 6, "token[de]", "unknown key");
  expect_error("[input]\nstore = s\ndir = o\n", NULL, "job.ini:3:", "[input] dir",
               "unknown key");
}

static void test_duplicate_key(void) {
  expect_base_error("[path]\ndepth = 4\n\ndepth = 5\n", 8, "depth",
                    "duplicate key (first at line 6)");
}

static void test_duplicate_group(void) {
  expect_base_error("[path]\ndepth = 4\n[path]\nngram_max = 2\n", 7, "[path]",
                    "duplicate group (first at line 5)");
}

static void test_syntax(void) {
  expect_error("store = s\n[input]\n", NULL, "job.ini:1:", "store",
               "outside of any group");
  expect_base_error("[path]\ndepth\n", 6, "depth", "not a [group]");
  expect_base_error("[path]\n= 4\n", 6, "= 4", "not a [group]");
  expect_base_error("[path] x\n", 5, "[path] x", "not a [group]");
  expect_base_error("[]\n", 5, "[]", "invalid group name");
  expect_base_error("; comment\n", 5, "; comment", "not a [group]");
}

static void test_bad_integers(void) {
  static const char *const bad[] = {"abc", "12abc", "1e3", "1.0", "+5", "0x10",
                                    " ", "5 5"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *t = g_strdup_printf("[path]\n\nngram_max = %s\n", bad[i]);
    expect_base_error(t, 7, "ngram_max", NULL);
  }
  expect_base_error("[path]\nngram_max = abc\n", 6, "ngram_max",
                    "not a plain decimal integer");
  expect_error("[input]\nstore = s\n[output]\ndir = o\ntop_k = -5\n", NULL,
               "job.ini:5:", "top_k", "out of range (>= 1)");
  expect_error("[input]\nstore = s\n[output]\ndir = o\ntop_k = 99999999999999999999\n",
               NULL, "job.ini:5:", "top_k", "out of range");
}

static void test_out_of_range(void) {
  static const struct {
    const char *text;
    const char *key;
  } cases[] = {
      {"[path]\nngram_max = 17\n", "ngram_max"},
      {"[path]\nngram_max = 0\n", "ngram_max"},
      {"[path]\ndepth = 0\n", "depth"},
      {"[path]\ndepth = 65\n", "depth"},
      {"[path]\nmin_support = 0\n", "min_support"},
      {"[path]\nsession_gap = -1\n", "session_gap"},
      {"[target]\nlookback = 65\n", "lookback"},
      {"[model]\nmax_iter = 0\n", "max_iter"},
      {"[model]\nmax_iter = 10001\n", "max_iter"},
      {"[model]\nlambda = 0\n", "lambda"},
      {"[model]\nlambda = -1e-3\n", "lambda"},
      {"[partition]\nbatch_events = 999\n", "batch_events"},
      {"[partition]\nalpha = -0.1\n", "alpha"},
      {"[input]\nmax_reject_fraction = 1.5\n", "max_reject_fraction"},
      {"[output]\ntop_k = 0\n", "top_k"},
  };
  /* [input] and [output] keys go in a job whose other group comes first,
   * so the bad key is on line 4; every other group follows BASE (line 6). */
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    const char *t = cases[i].text;
    gboolean in = g_str_has_prefix(t, "[input]"), outg = g_str_has_prefix(t, "[output]");
    const char *head = in ? "[output]\ndir = o\n" : outg ? "[input]\nstore = s\n" : BASE;
    g_autofree char *text = g_strconcat(head, t, NULL);
    g_autofree char *at = g_strdup_printf("job.ini:%u:", in || outg ? 4u : 6u);
    expect_error(text, NULL, at, cases[i].key, "out of range");
  }
}

static void test_bad_doubles(void) {
  static const char *const bad[] = {"nan", "inf", "0x10", "1e999", "abc", "1,5",
                                    "."};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *t = g_strdup_printf("[model]\nlambda = %s\n", bad[i]);
    expect_base_error(t, 6, "lambda", NULL);
  }
  expect_base_error("[model]\nlambda = abc\n", 6, "lambda", "not a number");
  g_autoptr(PcJobConfig) c = load_ok(BASE "[partition]\nalpha = 0\n", NULL);
  CU_ASSERT_EQUAL(c->cost_alpha, 0.0);
}

static void test_bad_bools(void) {
  static const char *const bad[] = {"yes", "1", "True", "0", "no", ""};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *t = g_strdup_printf("[report]\nenabled = %s\n", bad[i]);
    expect_base_error(t, 6, "enabled", NULL);
  }
  expect_base_error("[path]\ncollapse_repeats = yes\n", 6, "collapse_repeats",
                    "not a boolean (true or false)");
}

static void test_bad_choices(void) {
  expect_base_error("[path]\ntoken = events\n", 6, "token",
                    "not one of: event, channel, channel:event");
  expect_base_error("[path]\nunit = Session\n", 6, "unit", "customer, session");
  expect_base_error("[partition]\nstrategy = random\n", 6, "strategy",
                    "balanced, hash, range");
  expect_base_error("[model]\nsolver = lbfgs\n", 6, "solver", "newton");
}

static void test_bad_timestamps(void) {
  expect_error("[output]\ndir = o\n[input]\nstore = s\nfrom = 2024-01-01\n", NULL,
               "job.ini:5:", "from", "not a timestamp");
  expect_error("[output]\ndir = o\n[input]\nstore = s\nto = 2024-01-01 00:00:00Z\n",
               NULL, "job.ini:5:", "to", "not a timestamp");
  expect_error("[output]\ndir = o\n[input]\nstore = s\nfrom = 10\nto = 10\n", NULL,
               "job.ini:6:", "[input] to", "later than input.from");
}

static void test_missing_required(void) {
  expect_error("[input]\nfrom = 1\n[output]\ndir = o\n", NULL, "job.ini:1:",
               "[input]", "missing required key store");
  expect_error("[input]\nstore = s\n", NULL, "job.ini", "[output]",
               "missing required group [output] (key dir)");
  expect_base_error("\n[target]\nlookback = 3\n", 6, "[target]",
                    "missing required key event");
  expect_error("[input]\nstore =  \n[output]\ndir = o\n", NULL, "job.ini:2:",
               "store", "is empty");
}

/* ---- overrides ----------------------------------------------------------- */

static void test_override_precedence(void) {
  const char *ov[] = {"path.ngram_max=5", " path.depth = 9 ", "path.ngram_max=7",
                      "output.dir=elsewhere", NULL};
  g_autoptr(PcJobConfig) c =
      load_ok(BASE "[path]\nngram_max = 2\ndepth = 4\n", ov);
  CU_ASSERT_EQUAL(c->ngram_max, 7);
  CU_ASSERT_EQUAL(c->depth, 9);
  CU_ASSERT_STRING_EQUAL(c->dir, "elsewhere");
  CU_ASSERT_STRING_EQUAL(c->store, "s");
}

static void test_override_creates_groups(void) {
  const char *ov[] = {"target.event=buy; sell", "funnel.offer.window=10",
                      "funnel.offer.steps=a;b", "funnel.new.x.steps=c",
                      "funnel.new.x.window=1", "kpi.nps_event=nps", NULL};
  g_autoptr(PcJobConfig) c =
      load_ok(BASE "[funnel.offer]\nsteps = z\nwindow = 5\n", ov);
  CU_ASSERT_EQUAL_FATAL(c->n_target_events, 2);
  CU_ASSERT_STRING_EQUAL(c->target_events[1], "sell");
  CU_ASSERT_EQUAL_FATAL(c->n_funnels, 2);
  CU_ASSERT_STRING_EQUAL(c->funnels[0].name, "new.x");
  CU_ASSERT_STRING_EQUAL(c->funnels[0].steps[0], "c");
  CU_ASSERT_STRING_EQUAL(c->funnels[1].name, "offer");
  CU_ASSERT_EQUAL(c->funnels[1].window_s, 10);
  CU_ASSERT_EQUAL(c->funnels[1].n_steps, 2);
  CU_ASSERT_STRING_EQUAL(c->nps_event, "nps");
  /* store and dir may come from overrides only */
  const char *ov2[] = {"input.store=S", "output.dir=D", NULL};
  g_autoptr(PcJobConfig) d = load_ok("", ov2);
  CU_ASSERT_STRING_EQUAL(d->store, "S");
  CU_ASSERT_STRING_EQUAL(d->dir, "D");
}

static void test_override_errors(void) {
  const char *a[] = {"path.depth=65", NULL};
  expect_error(BASE, a, "--set path.depth", "\"65\"", "out of range (1..64)");
  const char *b[] = {"path.foo=1", NULL};
  expect_error(BASE, b, "--set path.foo=1", "unknown key foo", NULL);
  const char *c[] = {"nogroup.depth=1", NULL};
  expect_error(BASE, c, "--set nogroup.depth=1", "unknown group [nogroup]", NULL);
  const char *d[] = {"path.depth", NULL};
  expect_error(BASE, d, "--set path.depth", "group.key=value", NULL);
  const char *e[] = {"depth=3", NULL};
  expect_error(BASE, e, "--set depth=3", "group.key=value", NULL);
  const char *f[] = {"target.lookback=3", NULL};
  expect_error(BASE, f, "--set target.lookback", "missing required key event", NULL);
  const char *g[] = {"funnel.x.window=3", NULL};
  expect_error(BASE, g, "--set funnel.x.window", "missing required key steps", NULL);
  const char *h[] = {"report.enabled=yes", NULL};
  expect_error(BASE, h, "--set report.enabled", "true or false", NULL);
  const char *i[] = {"funnel..steps=a", NULL};
  expect_error(BASE, i, "--set funnel..steps", "NAME is empty", NULL);
  const char *j[] = {"input.store=a\nb", NULL};
  expect_error(BASE, j, "--set input.store", "line break", NULL);
}

/* ---- text forms ---------------------------------------------------------- */

static void test_crlf_comments_escapes(void) {
  g_autoptr(PcJobConfig) c = load_ok(
      "# job\r\n\r\n  [input]  \r\n  store = a\\sb\\\\c  \r\n"
      "[output]\r\n# dir below\r\ndir=out\r\n",
      NULL);
  CU_ASSERT_STRING_EQUAL(c->store, "a b\\c");
  CU_ASSERT_STRING_EQUAL(c->dir, "out");
  expect_error("# job\r\n[input]\r\nstore = s\r\n[output]\r\ndir = o\r\nx = 1\r\n",
               NULL, "job.ini:6:", "[output] x", "unknown key");
}

static void test_load_file(void) {
  g_autofree char *dir = g_dir_make_tmp("pc-config-XXXXXX", NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
  g_autofree char *path = g_build_filename(dir, "job.ini", NULL);
  CU_ASSERT_TRUE_FATAL(g_file_set_contents(path, BASE "[path]\ndepth = 2\n", -1, NULL));
  PcJobConfig *c = NULL;
  GError *e = NULL;
  const char *ov[] = {"path.ngram_max=2", NULL};
  CU_ASSERT_TRUE(pc_config_load(path, (char **)ov, &c, &e));
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT_STRING_EQUAL(c->job_path, path);
  CU_ASSERT_EQUAL(c->depth, 2);
  CU_ASSERT_EQUAL(c->ngram_max, 2);
  pc_config_free(c);
  c = NULL;
  g_autofree char *missing = g_build_filename(dir, "none.ini", NULL);
  CU_ASSERT_FALSE(pc_config_load(missing, NULL, &c, &e));
  CU_ASSERT_PTR_NULL(c);
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_EQUAL(e->code, PC_ERROR_IO);
  CU_ASSERT_PTR_NOT_NULL(strstr(e->message, "none.ini"));
  g_clear_error(&e);
  CU_ASSERT_TRUE(g_file_set_contents(path, "[input]\nstore = s\0x\n", 21, NULL));
  CU_ASSERT_FALSE(pc_config_load(path, NULL, &c, &e));
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_EQUAL(e->code, PC_ERROR_CONFIG);
  CU_ASSERT_PTR_NOT_NULL(strstr(e->message, "job.ini:2:"));
  g_clear_error(&e);
  g_unlink(path);
  g_rmdir(dir);
}

/* The job files of the repository parse (run from the repository root, as
 * `make unit` and tools/unit-one do); scripts override store and dir. */
static void test_repo_jobs(void) {
  static const char *const jobs[] = {"jobs/example.ini", "jobs/monthly.ini",
                                     "jobs/paths-only.ini"};
  const char *ov[] = {"input.store=/s", "output.dir=/o", NULL};
  for (size_t i = 0; i < G_N_ELEMENTS(jobs); i++) {
    PcJobConfig *c = NULL;
    GError *e = NULL;
    gboolean ok = pc_config_load(jobs[i], (char **)ov, &c, &e);
    if (!ok) fprintf(stderr, "\n%s\n", e->message);
    CU_ASSERT_TRUE(ok);
    g_clear_error(&e);
    if (!c) continue;
    CU_ASSERT_STRING_EQUAL(c->store, "/s");
    CU_ASSERT_EQUAL(c->n_target_events, i < 2 ? 1u : 0u);
    CU_ASSERT_EQUAL(c->n_funnels, i < 2 ? 2u : 0u);
    CU_ASSERT_EQUAL(c->n_flows, i < 2 ? 2u : 0u);
    pc_config_free(c);
  }
}

/* ---- JSON ---------------------------------------------------------------- */

/* json-glib writes doubles with 17 significant digits (exact, if long). */

static void test_json_exact(void) {
  g_autoptr(PcJobConfig) c = load_ok(
      "[input]\nstore = st\\\\ore\"1\nfrom = 2024-02-29T23:59:59.25+01:00\n"
      "[output]\ndir = out\\tdir\ntop_k = 7\n"
      "[target]\nevent = won;lost\n"
      "[funnel.z]\nsteps = a\nwindow = 60\nmode = strict_once; strict_order\n"
      "[funnel.a]\nsteps = web:x;app:y\nwindow = 5\nmatch = channel:event\n"
      "split = channel\n"
      "[flow.f]\nanchor = bill\ndirection = before\n"
      "[model]\nlambda = 0.1\n[run]\nmemory_per_rank = 1K\n",
      NULL);
  g_autofree char *json = pc_config_to_json(c);
  CU_ASSERT_STRING_EQUAL(
      json,
      "{\"job\":\"job.ini\","
      "\"input\":{\"store\":\"st\\\\ore\\\"1\",\"from\":\"2024-02-29T22:59:59.250000Z\","
      "\"to\":null,\"max_reject_fraction\":0.0},"
      "\"scope\":{\"segments\":null,\"entry_event\":null},"
      "\"output\":{\"dir\":\"out\\tdir\",\"top_k\":7},"
      "\"partition\":{\"strategy\":\"balanced\",\"alpha\":1.0,\"batch_events\":4000000},"
      "\"path\":{\"token\":\"event\",\"collapse_repeats\":false,\"unit\":\"customer\","
      "\"session_gap\":1800,\"ngram_max\":3,\"depth\":8,\"min_support\":1},"
      "\"target\":{\"event\":[\"won\",\"lost\"],\"lookback\":5,\"sequence_max\":3,"
      "\"sequence_min_customers\":10},"
      "\"funnel\":{\"a\":{\"steps\":[\"web:x\",\"app:y\"],\"window\":5,"
      "\"match\":\"channel:event\",\"split\":\"channel\",\"mode\":[]},"
      "\"z\":{\"steps\":[\"a\"],\"window\":60,\"match\":\"event\",\"split\":\"none\",\"mode\":[\"strict_order\",\"strict_once\"]}},"
      "\"flow\":{\"f\":{\"anchor\":\"bill\",\"direction\":\"before\",\"steps\":5}},"
      "\"kpi\":{\"nps_event\":null},\"retention\":null,\"attribution\":{\"enabled\":true,"
      "\"half_life\":604800.0,\"markov_order\":1},"
      "\"model\":{\"enabled\":true,\"lambda\":0.10000000000000001,\"top_n\":1000,\"max_iter\":100,"
      "\"solver\":\"newton\"},\"report\":{\"enabled\":true},"
      "\"run\":{\"memory_per_rank\":1024,\"spill_dir\":null,\"table_memory\":0}}");
}

static void test_json_minimal(void) {
  g_autoptr(PcJobConfig) d = load_ok(BASE, NULL);
  g_autofree char *json = pc_config_to_json(d);
  CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"target\":null,\"funnel\":{},\"flow\":{},"));
  CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"lambda\":0.001,"));
  CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"from\":null,\"to\":null,"));
}

/* Timestamps are written back in UTC, whatever zone they were given in. */
static void test_json_timestamps(void) {
  const char *ov[] = {"input.from=0000-03-01T00:00:00-00:30",
                      "input.to=9999-12-31T23:59:59.999999Z", NULL};
  g_autoptr(PcJobConfig) c = load_ok(BASE, ov);
  g_autofree char *json = pc_config_to_json(c);
  CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"from\":\"0000-03-01T00:30:00Z\","
                                      "\"to\":\"9999-12-31T23:59:59.999999Z\""));
  const char *ov2[] = {"input.from=-1", "input.to=951782400", NULL};
  g_autoptr(PcJobConfig) d = load_ok(BASE, ov2);
  g_autofree char *json2 = pc_config_to_json(d);
  CU_ASSERT_PTR_NOT_NULL(strstr(json2, "\"from\":\"1969-12-31T23:59:59Z\","
                                       "\"to\":\"2000-02-29T00:00:00Z\""));
}

PC_TEST_MAIN("config",
             {"/config/bom", test_bom},
             {"/config/defaults", test_defaults},
             {"/config/every_key", test_every_key},
             {"/config/timestamps", test_timestamps},
             {"/config/memory_suffixes", test_memory_suffixes},
             {"/config/list_trimming", test_list_trimming},
             {"/config/list_empty_items", test_list_empty_items},
             {"/config/list_bad_names", test_list_bad_names},
             {"/config/funnel_sorting", test_funnel_sorting},
             {"/config/funnel_errors", test_funnel_errors},
             {"/config/funnel_mode", test_funnel_mode},
             {"/config/funnel_mode_errors", test_funnel_mode_errors},
             {"/config/flows", test_flows},
             {"/config/deeper_ranges", test_deeper_ranges},
             {"/config/unknown_group", test_unknown_group},
             {"/config/unknown_key", test_unknown_key},
             {"/config/duplicate_key", test_duplicate_key},
             {"/config/duplicate_group", test_duplicate_group},
             {"/config/syntax", test_syntax},
             {"/config/bad_integers", test_bad_integers},
             {"/config/out_of_range", test_out_of_range},
             {"/config/bad_doubles", test_bad_doubles},
             {"/config/bad_bools", test_bad_bools},
             {"/config/bad_choices", test_bad_choices},
             {"/config/bad_timestamps", test_bad_timestamps},
             {"/config/missing_required", test_missing_required},
             {"/config/override_precedence", test_override_precedence},
             {"/config/override_creates_groups", test_override_creates_groups},
             {"/config/override_errors", test_override_errors},
             {"/config/crlf_comments_escapes", test_crlf_comments_escapes},
             {"/config/load_file", test_load_file},
             {"/config/repo_jobs", test_repo_jobs},
             {"/config/json_exact", test_json_exact},
             {"/config/json_minimal", test_json_minimal},
             {"/config/json_timestamps", test_json_timestamps})
