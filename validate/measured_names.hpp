// The names published tables give kernels, passes, element types and flags, mapped onto
// attnsim's: a measurements CSV is written by hand from a paper or a README, so `FlashAttention-2`,
// `flash_attn_2` and `fa2` are one kernel, `bfloat16` is bf16 and `true` is 1. Parsing at the edge
// (validate/measurements.cpp); everything after it sees the canonical names only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "hwprofiles/profile.hpp"
#include "models/workload.hpp"

namespace validate {

// A kernel name as looked up: ASCII lower case, with spaces, underscores and dots as hyphens.
std::string kernel_key(std::string_view name);

// The attnsim schedule a published kernel name stands for, or "auto" for a name with none
// (validate/data/measured/README.md lists them).
std::string schedule_for(std::string_view kernel);

// The calibration entry a kernel name's rows fit when it is not their schedule's own, however
// spelled, or "" for the schedule's: NSA's compressed branch followed by its block scores and
// top-k (`nsa-compressed-topk`) fits the score kernel's entry (sim::kNsaScoresEntry), so that the
// chain's rows leave the compressed kernels' entry as the branch's own rows fit it.
std::string_view fit_entry_for(std::string_view kernel);

// `fwd`, `bwd`, `fwd+bwd` or `decode` (also `forward`, `backward`, `fwd_bwd`, any case);
// std::invalid_argument naming `where` and the allowed values otherwise.
std::string canonical_pass(std::string_view pass, const std::string& where);
models::Phase phase_of_pass(const std::string& canonical);
// FlashMLA's dense decode is a forward of q_len new tokens (1 to a few, with speculative or
// multi-token decoding) over the cached keys: a `fwd` row of it with at most
// kFlashMlaDecodeQueries queries and more keys is that decode step. A longer forward (a chunk, a
// prefill, FlashMLA's sparse prefill) is not, and stays a forward.
inline constexpr std::int64_t kFlashMlaDecodeQueries = 16;
bool forward_is_decode(std::string_view schedule, const models::Workload& w);

// An element type as attnsim names it (`bfloat16` -> bf16, `float16`/`half` -> fp16,
// `float32` -> fp32, `e4m3`/`float8`/`float8_e4m3fn` -> fp8; any case, `-` or `_`);
// models::parse_dtype rejects the rest.
std::string canonical_dtype(std::string_view dtype);

// A caller as hw::parse_caller spells it: any case, `-` or a space for `_` (`Torch-NPU`).
std::string canonical_caller(std::string_view caller);

// The variant a row that names none takes, by the kernel it names: the family the kernels of its
// schedule price (absorbed MLA for flashmla, Lightning Attention-2 for lightning2, chunked linear
// attention, FLA's simple_gla by default, for fla_chunk, NSA for NSA's kernels: nsa_triton,
// nsa_triton_compressed, flash_nsa; FSA for fsa_triton), or NSA for a kernel named NSA alone
// (`nsa`, `native-sparse-attention`, priced by `auto`). `variant` is empty for a dense kernel;
// `described` says what the defaults are, for the reader's warning.
struct RowFamily {
  std::string_view variant, described;
};
RowFamily family_of(std::string_view schedule, std::string_view kernel);

// Whether `kernel` names a version of its schedule's kernel that the schedule prices but does not
// model exactly (the no-decay Lightning Attention-2 kernel, priced as the decayed one): its rows
// are compared, never fitted.
bool priced_as_a_neighbour(std::string_view kernel);

// The op a row of one NSA branch's kernel times when its `op` column is empty: the kernel's name
// names it (nsa-selected and topk_sparse_attention: selected_attention; nsa-compressed and
// compressed_attention: compressed_attention; nsa-compressed-topk: the compressed attention with
// its block scores and top-k; fsa-selected: selected_attention); empty for any other kernel.
std::string_view implied_op(std::string_view kernel);

// The caller of a row that names none: its schedule's own way in (sim::ScheduleInfo::caller, the
// only way its kernels are reached: torch_npu's ops through torch_npu, Triton kernels through
// Triton's launcher); `auto` and an unknown name are called directly.
hw::Caller default_caller(std::string_view schedule);

// A 0/1 column that also reads `true`/`false` and `yes`/`no` (any case): 1 or 0, and -1 for
// anything else, which the caller reports.
int flag_value(std::string_view text);
// A `causal` cell: a flag, or the words tables print (causal, non-causal / noncausal); -1 when it
// is neither.
int causal_value(std::string_view text);

}  // namespace validate
