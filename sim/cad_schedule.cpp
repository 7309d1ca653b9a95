#include "sim/cad_schedule.hpp"

#include <algorithm>
#include <functional>
#include <queue>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "common/errors.hpp"

namespace sim {

namespace {

struct Task {
  double pairs = 0;
  std::int64_t document = 0;
  std::int64_t first = 0;   // first query token
  std::int64_t tokens = 0;  // query tokens
};

// Pairs of queries [first, first + n) of a `length`-token document.
double task_pairs(std::int64_t first, std::int64_t n, std::int64_t length, bool causal) {
  const double a = static_cast<double>(first);
  const double q = static_cast<double>(n);
  if (!causal) return q * static_cast<double>(length);
  return q * a + q * (q + 1) / 2;  // query first + i sees first + i + 1 keys
}

std::vector<Task> cut(std::int64_t documents, std::int64_t length, bool causal,
                      std::int64_t shard) {
  std::vector<Task> tasks;
  const std::int64_t per_document = (length + shard - 1) / shard;
  tasks.reserve(static_cast<std::size_t>(documents * per_document));
  for (std::int64_t doc = 0; doc < documents; ++doc) {
    for (std::int64_t first = 0; first < length; first += shard) {
      const std::int64_t n = std::min(shard, length - first);
      tasks.push_back({task_pairs(first, n, length, causal), doc, first, n});
    }
  }
  // Longest first; ties in document and token order, so the placement is deterministic.
  std::stable_sort(tasks.begin(), tasks.end(),
                   [](const Task& x, const Task& y) { return x.pairs > y.pairs; });
  return tasks;
}

}  // namespace

double CadSchedule::total_pairs() const {
  double sum = 0;
  for (const CadServer& s : servers) sum += s.pairs;
  return sum;
}

std::size_t CadSchedule::busiest() const {
  std::size_t best = 0;
  for (std::size_t i = 1; i < servers.size(); ++i) {
    if (servers[i].pairs > servers[best].pairs) best = i;
  }
  return best;
}

double CadSchedule::balance() const {
  const double total = total_pairs();
  if (servers.empty() || total <= 0) return 1;
  return servers[busiest()].pairs * static_cast<double>(servers.size()) / total;
}

CadSchedule schedule_cad(std::int64_t documents, std::int64_t length, bool causal, int servers,
                         std::int64_t shard_tokens) {
  if (servers < 1 || documents < 1 || length < 1) {
    throw common::SpecError(fmt::format(
        "core attention disaggregation needs servers, documents and tokens >= 1, got {}, {}, {}",
        servers, documents, length));
  }
  if (documents > kCadMaxTasks) {
    throw common::SpecError(
        fmt::format("--cp-strategy cad places at most {} tasks; a batch of {} documents is more",
                    kCadMaxTasks, documents));
  }
  CadSchedule out;
  out.shard_tokens = std::max(shard_tokens, kCadMinShardTokens);
  while (out.shard_tokens < length &&
         documents * ((length + out.shard_tokens - 1) / out.shard_tokens) > kCadMaxTasks) {
    out.shard_tokens *= 2;
  }
  const std::vector<Task> tasks = cut(documents, length, causal, out.shard_tokens);
  out.tasks = static_cast<std::int64_t>(tasks.size());
  out.servers.assign(static_cast<std::size_t>(servers), {});

  using Load = std::pair<double, std::size_t>;  // (pairs so far, server): least first
  std::priority_queue<Load, std::vector<Load>, std::greater<>> least;
  for (std::size_t s = 0; s < out.servers.size(); ++s) least.push({0.0, s});
  // (document, server) -> keys the server needs from that document.
  std::unordered_map<std::int64_t, std::int64_t> needed;
  for (const Task& t : tasks) {
    const std::size_t s = least.top().second;
    least.pop();
    CadServer& server = out.servers[s];
    server.pairs += t.pairs;
    server.q_tokens += static_cast<double>(t.tokens);
    server.tasks += 1;
    least.push({server.pairs, s});
    const std::int64_t keys = causal ? t.first + t.tokens : length;
    std::int64_t& held = needed[t.document * servers + static_cast<std::int64_t>(s)];
    held = std::max(held, keys);
  }
  for (const auto& [key, keys] : needed) {
    out.servers[static_cast<std::size_t>(key % servers)].kv_tokens += static_cast<double>(keys);
  }
  return out;
}

}  // namespace sim
