// Core attention disaggregation (CAD; Zhuang et al., "Efficient Long-context Language Model
// Training by Core Attention Disaggregation", arXiv:2510.18121, the DistCA system): the core
// attention softmax(QK^T)V of every document is cut into token-level tasks (a shard of a
// document's queries with the keys it sees) and placed on a pool of attention servers so that
// each server gets about the same FLOPs. This file is the placement alone, in scored (query, key)
// pairs; sim/parallel_cad.cpp prices it.
#pragma once

#include <cstdint>
#include <vector>

namespace sim {

// Smallest task: one 128-row query tile, the block FlashAttention-2/3 kernels process per CTA
// (docs/kernels.md); a shorter shard would run a partly empty tile. An assumption of this model:
// DistCA's scheduler picks shard sizes itself and the paper gives no fixed minimum.
inline constexpr std::int64_t kCadMinShardTokens = 128;
// Most tasks one placement sorts; past it the shard grows (by doubling) until the tasks fit.
inline constexpr std::int64_t kCadMaxTasks = std::int64_t{1} << 20;

// What one attention server receives and computes.
struct CadServer {
  double pairs = 0;      // scored (query, key) pairs of its tasks, per head
  double q_tokens = 0;   // query tokens of its tasks
  double kv_tokens = 0;  // key/value tokens it needs: per document, the longest prefix (causal)
                         // or the whole document (non-causal) among its tasks
  std::int64_t tasks = 0;
};

struct CadSchedule {
  std::int64_t shard_tokens = 0;  // query tokens per task (the last task of a document: fewer)
  std::int64_t tasks = 0;
  std::vector<CadServer> servers;
  double total_pairs() const;
  std::size_t busiest() const;  // the server with the most pairs (lowest index on ties)
  double balance() const;       // max / mean pairs per server; 1 is perfect balance
};

// `documents` documents of `length` tokens each (causal: query i sees keys 0..i of its
// document), cut into shards of `shard_tokens` queries (at least kCadMinShardTokens; doubled while
// there would be more than kCadMaxTasks tasks), placed by longest-processing-time-first: tasks in
// decreasing pairs, each onto the server with the fewest pairs so far. Throws common::SpecError
// for servers < 1 or a batch with more documents than kCadMaxTasks.
CadSchedule schedule_cad(std::int64_t documents, std::int64_t length, bool causal, int servers,
                         std::int64_t shard_tokens = kCadMinShardTokens);

}  // namespace sim
