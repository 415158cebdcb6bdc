/* modules.c - the module table: every analysis of a run, in the order of
 * its outputs (spec §10). Adding an analysis = a file in src/analytics/
 * that defines a PcModule (pc_module.h) + one line here + its report
 * section (src/report/). The order matters twice: tables are written in it,
 * and a module's reduce may read the PcFacts of the modules above it
 * ("summary" publishes N and Y first).
 */
#include "pc_module.h"

extern const PcModule pc_module_summary, pc_module_paths, pc_module_preceding,
    pc_module_funnels, pc_module_drivers, pc_module_channels, pc_module_nps,
    pc_module_attribution, pc_module_model, pc_module_segments,
    pc_module_retention, pc_module_flows, pc_module_sequence_drivers,
    pc_module_time_to_target, pc_module_attribution_models;

static const PcModule *const modules[] = {
    &pc_module_summary,     /* summary.csv rows; facts N, Y */
    &pc_module_paths,       /* variants, ngrams, transitions, prefix_tree, transition_gaps */
    &pc_module_preceding,   /* preceding_paths, preceding_tokens */
    &pc_module_funnels,     /* funnels, funnel_times */
    &pc_module_drivers,     /* drivers, channel_drivers */
    &pc_module_channels,    /* channels */
    &pc_module_nps,         /* nps */
    &pc_module_attribution, /* attribution */
    &pc_module_model,       /* model, model_summary, roc, scores, at_risk */
    &pc_module_segments,    /* segments (with a customers table) */
    &pc_module_retention,   /* retention */
    &pc_module_flows,       /* flows */
    &pc_module_sequence_drivers, /* sequence_drivers */
    &pc_module_time_to_target, /* time_to_target */
    &pc_module_attribution_models, /* attribution_models */
};

const PcModule *const *pc_modules_all(guint *n) {
  *n = G_N_ELEMENTS(modules);
  return modules;
}
