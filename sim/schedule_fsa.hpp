// Internal to fsa_triton (sim/schedule_fsa.cpp, sim/schedule_fsa_backward.cpp): the shape of FSA's
// selected branch as its kernels see it, and their launches.
#pragma once

#include "sim/launch.hpp"
#include "sim/schedule.hpp"

namespace sim::fsa {

inline constexpr double kTokenTile = 128;  // BLOCK_SIZE_Q of qk_kernel, forward and dq kernels
inline constexpr double kTokensPerProgram = 1024;  // num_q_blocks: 8 tiles of 128 tokens a program

struct Shape {
  double seqs, tokens, heads, kv_heads, d, s, s_kv;
  double blocks;       // nb = max(ceil(N / block), top_k): the dense tables' rows
  double real_blocks;  // ceil(N / block): the blocks a token can choose
  double block;        // keys per selected block
  double top_k;
  double selections;  // (token, block) pairs per KV head: N x the blocks a query visits
  double rest_len;    // tokens per block other than block 0, on average
  double rest_max;    // the longest such list (the partial buffers' size)
  // Programs and 128-token tiles of one head's pass over the blocks: block 0 (every token's) and
  // the other blocks with chosen tokens.
  double first_programs() const;
  double first_tiles() const;
  double rest_programs() const;
  double rest_tiles() const;
};
Shape shape(const ScheduleInput& in);

// A kernel over (block, up to 1024 chosen tokens) programs, 128-token tiles of gathered rows
// against the block's K (and V).
struct TokenTiles {
  const char* name;
  double programs, tiles;
  double products;   // 128 x d x block products a tile (Q K^T; P V; the backward's three)
  double rows;       // gathered d-wide rows a token (Q; Q and dO)
  double row_bytes;  // other bytes a token reads or writes (ids, statistics, partial outputs)
  double warps;
  double launches;  // one per query (or KV) head and sequence
  bool softmax;     // exp2 of the scores
};
Launch token_tiles(const ScheduleInput& in, const Shape& x, const TokenTiles& t);

void lower_selected_backward(const ScheduleInput& in, Launches& out);

}  // namespace sim::fsa
