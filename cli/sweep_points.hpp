// The points of a sweep: the Cartesian product of its axes, enumerated by index in a fixed order
// (profile, variant spec or model, engine, phase, dtype, batch, seq_len, q_len, kv_len,
// cp_strategy, tp, cp; the last varies fastest), and one output row per point.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "hwprofiles/profile.hpp"
#include "models/hf_config.hpp"
#include "models/registry.hpp"
#include "sim/engine.hpp"
#include "sim/parallel.hpp"

namespace cli {

enum class SweepFormat { csv, json, jsonl };

struct SweepAxes {
  std::vector<hw::Profile> profiles;
  std::vector<models::AttentionSpec> specs;  // a variant sweep; empty when `models` is used
  // The variants' parameters as query's `params` gives them (cli/report.hpp spec_params): the
  // names any spec has, in first-seen order (the params_NAME columns), and each spec's values
  // (none where its variant lacks the parameter: an empty cell, no JSON member).
  std::vector<std::string> param_names;
  std::vector<std::vector<std::optional<double>>> param_values;
  // The parameters the command line sweeps over several values (a --param list, --heads,
  // --kv-heads or --head-dim lists): a plot's series are keyed by these, not by the parameters
  // that follow them (v_head_dim with head_dim) or differ only between variants.
  std::vector<std::string> swept_params;
  // A model sweep (--model / --hf-config): each row totals all of the model's attention layers.
  std::vector<models::ModelConfig> models;
  std::vector<std::string> model_labels;       // the row's `model` cell for each of `models`
  const models::Registry* registry = nullptr;  // resolves the models' layer-group variants
  bool include_projections = false;            // for the models (specs carry their own)
  std::vector<sim::EngineKind> engines;
  std::vector<models::Phase> phases;
  std::vector<models::DType> dtypes;
  std::vector<std::int64_t> batches;
  std::vector<std::int64_t> seq_lens;  // q_len and kv_len default to these (decode: q_len 1)
  std::vector<std::int64_t> q_lens;    // empty: from seq_lens
  std::vector<std::int64_t> kv_lens;   // empty: from seq_lens
  std::optional<models::DType> kv_dtype;
  std::int64_t layers = 1;
  bool causal = true;
  std::string kernel = "auto";
  hw::Caller caller = hw::Caller::direct;  // --caller: whose per-call host floor every point pays
  // Multi-device layout axes (--tp, --cp, --cp-strategy lists; --nodes): empty = single device,
  // and the rows keep their single-device columns only. No strategy given: ring. A strategy a
  // point cannot run (cad for decode) skips that point with its reason.
  std::vector<std::int64_t> tps, cps;
  std::vector<sim::CpStrategy> cp_strategies;
  std::optional<sim::CpStrategy> cp_state_strategy;  // --cp-state-strategy (lasp2, zeco)
  std::int64_t nodes = 1;
  bool parallel = false;
  // What reading the axes left out (a value listed twice, a variant no shape of which could be
  // made), said after the sweep has run, so that bad input found later is one line.
  std::vector<std::string> warnings;
};

// Points in the product; throws common::SpecError above 2^40.
std::size_t point_count(const SweepAxes& axes);

// The CSV header line (with its newline): model sweeps have their own columns, and a sweep with
// a layout axis (--tp/--cp) adds the layout and per-device columns.
std::string csv_header(const SweepAxes& axes);

// Warnings the points of a sweep raise (FlashMLA's fp8 fallback to split_kv, per profile),
// collected from the worker threads and printed once each after the sweep.
class SweepWarnings {
 public:
  void add(std::string line);
  // Each line once, sorted (the same whatever the thread count).
  std::vector<std::string> lines() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

// Appends point `index`'s row in `format` to `row`. Returns false (and sets `why`) when the point
// is not a valid workload for its variant (a phase it lacks, kv_len < q_len under a causal mask):
// the sweep skips it.
// The warnings its pricing raises go to `warnings` when given.
bool format_point(const SweepAxes& axes, std::size_t index, SweepFormat format, std::string& row,
                  std::string& why, SweepWarnings* warnings = nullptr);

}  // namespace cli
