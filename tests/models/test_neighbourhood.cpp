// Neighbourhood attention (docs/variants.md §C2 GNA): pairs, FLOPs and bytes of its windows, and
// the token grid a stride, a dilation or a causal dimension lays out for the tile engine.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <utility>

#include "common/errors.hpp"
#include "models/registry.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::check_same_cost_and_k_bytes;
using test_support::cost;
using test_support::image_heads;
using test_support::make;
using test_support::op_named;
using test_support::registry;
using test_support::with_param;
using test_support::workload;

using models::Phase;

TEST_CASE("gna: pairs are L x prod(w_i), core FLOPs 2 B H (d + dv) L prod(w_i)",
          "[variants][gna]") {
  // A 64 x 64 latent (L = 4096), 13 x 13 window: 4096 * 169 = 692,224 pairs per head.
  const auto w = workload(Phase::prefill, 1, 4096, 4096, false);
  const auto c =
      cost(make("gna", with_param(with_param(image_heads(), "window_x", 13), "window_y", 13)), w);
  const models::Op& op = op_named(c, "neighbourhood_attention_fwd");
  CHECK(op.attention.pairs_per_head == 692224.0);
  CHECK(c.total_flops().tensor == 4096.0 * 692224);  // 2,835,349,504
  CHECK(c.total_flops().exp == 16.0 * 692224);
  // 3-D window 8 x 8 x 4 = 256 keys: 4096 * 256 = 1,048,576 pairs.
  auto p3 = with_param(with_param(with_param(image_heads(), "window_x", 8), "window_y", 8),
                       "window_z", 4);
  CHECK(
      op_named(cost(make("gna", p3), w), "neighbourhood_attention_fwd").attention.pairs_per_head ==
      1048576.0);
}

TEST_CASE(
    "gna's stride leaves the pairs and FLOPs alone and lays the tokens on a grid for the tile "
    "engine: from the length's root, or the extents given",
    "[variants][gna]") {
  const auto w = workload(Phase::prefill, 1, 4096, 4096, false);
  const auto blocked = cost(make("gna", image_heads()), w);
  const auto strided = cost(make("gna", with_param(image_heads(), "stride", 1)), w);
  check_same_cost_and_k_bytes(blocked, strided);
  CHECK(op_named(blocked, "neighbourhood_attention_fwd").attention.grid.dims == 0);
  const models::TokenGrid& grid = op_named(strided, "neighbourhood_attention_fwd").attention.grid;
  CHECK(grid.dims == 2);
  CHECK(grid.extent == std::array<double, 3>{64, 64, 1});
  CHECK(grid.window == std::array<double, 3>{13, 13, 1});
  CHECK(grid.stride == std::array<double, 3>{1, 1, 1});
  // Extents given: 256 x 16; a stride as wide as the window.
  const auto wide =
      cost(make("gna", with_param(with_param(image_heads(), "stride", 13), "extent_y", 16)), w);
  const models::TokenGrid& g2 = op_named(wide, "neighbourhood_attention_fwd").attention.grid;
  CHECK(g2.extent == std::array<double, 3>{256, 16, 1});
  CHECK(g2.stride == std::array<double, 3>{13, 13, 1});
  // A 3-D window on a 16 x 16 x 16 volume.
  const auto p3 =
      with_param(with_param(with_param(image_heads(), "window_x", 5), "window_z", 3), "stride", 2);
  const models::TokenGrid& g3 =
      op_named(cost(make("gna", p3), w), "neighbourhood_attention_fwd").attention.grid;
  CHECK(g3.dims == 3);
  CHECK(g3.extent == std::array<double, 3>{16, 16, 16});
  CHECK(g3.stride == std::array<double, 3>{2, 2, 2});
  // 3-D with extent_y given: extent_z is the square root of what it leaves (4096 / 64 = 64: 8).
  const models::TokenGrid& g4 =
      op_named(cost(make("gna", with_param(with_param(p3, "window_y", 5), "extent_y", 64)), w),
               "neighbourhood_attention_fwd")
          .attention.grid;
  CHECK(g4.extent == std::array<double, 3>{8, 64, 8});
  // Strides per dimension: stride_y and stride_z refine `stride`.
  auto per_dim =
      with_param(with_param(with_param(image_heads(), "window_x", 5), "window_z", 3), "stride", 4);
  per_dim = with_param(with_param(per_dim, "stride_y", 8), "stride_z", 1);
  const models::TokenGrid& g5 =
      op_named(cost(make("gna", per_dim), w), "neighbourhood_attention_fwd").attention.grid;
  CHECK(g5.stride == std::array<double, 3>{4, 8, 1});
  CHECK_THROWS_WITH(make("gna", with_param(image_heads(), "stride_y", 8)),
                    Catch::Contains("stride_y and stride_z refine a stride"));
}

TEST_CASE("gna refuses a stride wider than its window, as NATTEN does, naming the parameter",
          "[variants][gna]") {
  const auto w = workload(Phase::prefill, 1, 4096, 4096, false);
  // 13 x 13 windows on 64 x 64: stride 14 is one past the window.
  CHECK_THROWS_WITH(cost(make("gna", with_param(image_heads(), "stride", 14)), w),
                    Catch::Contains("stride (14) is wider than window_x (13)") &&
                        Catch::Contains("allowed: stride at most 13"));
  // window_z 3 inherits stride 4: the message says where stride_z came from.
  const auto p3 =
      with_param(with_param(with_param(image_heads(), "window_x", 5), "window_z", 3), "stride", 4);
  CHECK_THROWS_WITH(cost(make("gna", p3), w),
                    Catch::Contains("stride_z (4, from stride) is wider than window_z (3)") &&
                        Catch::Contains("--param stride_z=N"));
  CHECK_THROWS_WITH(cost(make("gna", with_param(with_param(p3, "stride_z", 3), "stride_y", 14)), w),
                    Catch::Contains("stride_y (14) is wider than window_y (13)"));
  CHECK_NOTHROW(cost(make("gna", with_param(p3, "stride_z", 3)), w));
}

TEST_CASE("gna: K and V are read once whatever the window", "[variants][gna]") {
  // s B L Hkv d = 2 * 4096 * 16 * 64 = 8,388,608 B each.
  const auto w = workload(Phase::prefill, 1, 4096, 4096, false);
  for (double win : {3.0, 7.0, 13.0, 31.0}) {
    INFO("window " << win);
    const auto c = cost(
        make("gna", with_param(with_param(image_heads(), "window_x", win), "window_y", win)), w);
    // The model rescales the window op's K/V by L / prod(w_i): equal up to rounding (1 ulp).
    CHECK(c.total_bytes().k == Approx(8388608.0).epsilon(1e-12));
    CHECK(c.total_bytes().v == Approx(8388608.0).epsilon(1e-12));
  }
}

TEST_CASE("gna: the backward writes dK and dV for every key, not for one window's worth",
          "[variants][gna]") {
  // dQ: s B L Hq d = 8,388,608 B; dK and dV: s B L Hkv (d + dv) = 16,777,216 B.
  const auto w = workload(Phase::bwd, 1, 4096, 4096, false);
  const auto c = cost(make("gna", image_heads()), w);
  CHECK(c.total_bytes().grad_in == Approx(8388608.0 + 16777216.0).epsilon(1e-12));
  CHECK(c.total_bytes().k == Approx(8388608.0).epsilon(1e-12));
}

TEST_CASE("gna: there is no decode phase and no KV cache", "[variants][gna]") {
  CHECK_FALSE(registry().find("gna").supports(Phase::decode));
  CHECK_THROWS_AS(cost(make("gna", {}), workload(Phase::decode, 1, 1, 4096)), common::SpecError);
  CHECK(cost(make("gna", {}), workload(Phase::prefill, 1, 4096, 4096, false)).kv_cache_bytes == 0);
}

namespace {

// NATTEN's mask along one dimension (csrc/include/natten/cuda/reference/mask.hpp): the keys query
// `i` of a dilation sub-grid of `length` positions sees. Causal: from its stride group's leader
// (the group's last position, at most the last) back window - 1 keys, cut at 0, to itself;
// otherwise the whole window, moved inside the sub-grid.
long natten_keys(long i, long length, long window, long stride, bool causal) {
  if (!causal) return window;
  const long leader = std::min(i / stride * stride + stride - 1, length - 1);
  const long start = std::max(leader - window + 1, 0L);
  return std::min(i + 1, length) - start;
}

// The pairs of one head on an extent[0] x extent[1] grid, query by query: a position's dilation
// group is its index modulo the dilation, its index in that group's sub-grid the quotient.
double natten_pairs(const std::array<long, 2>& extent, const std::array<long, 2>& window,
                    const std::array<long, 2>& stride, const std::array<long, 2>& dilation,
                    const std::array<bool, 2>& causal) {
  double pairs = 0;
  for (long x = 0; x < extent[0]; ++x) {
    for (long y = 0; y < extent[1]; ++y) {
      double keys = 1;
      const long at[2] = {x, y};
      for (int d = 0; d < 2; ++d) {
        const long group = at[d] % dilation[d];
        const long length = extent[d] / dilation[d] + (group < extent[d] % dilation[d] ? 1 : 0);
        keys *= static_cast<double>(
            natten_keys(at[d] / dilation[d], length, window[d], stride[d], causal[d]));
      }
      pairs += keys;
    }
  }
  return pairs;
}

double gna_pairs(const models::ParamValues& p, std::int64_t tokens) {
  return op_named(cost(make("gna", p), workload(Phase::prefill, 1, tokens, tokens, false)),
                  "neighbourhood_attention_fwd")
      .attention.pairs_per_head;
}

}  // namespace

TEST_CASE(
    "gna: a causal dimension sees no later position, L w - w(w-1)/2 keys summed along it at "
    "stride 1, and the FLOPs follow the pairs",
    "[variants][gna]") {
  // 64 x 64, 13 x 13, causal along x: 64 * 13 - 78 = 754 along x times 64 * 13 = 832 along y.
  const auto w = workload(Phase::prefill, 1, 4096, 4096, false);
  auto p = with_param(with_param(image_heads(), "stride", 1), "causal_x", 1);
  const auto c = cost(make("gna", p), w);
  const models::Op& op = op_named(c, "neighbourhood_attention_fwd");
  CHECK(op.attention.pairs_per_head == 754.0 * 832);  // 627,328
  CHECK(c.total_flops().tensor == 4096.0 * 754 * 832);
  CHECK(c.total_flops().exp == 16.0 * 754 * 832);
  CHECK(op.attention.grid.causal == std::array<bool, 3>{true, false, false});
  CHECK_FALSE(op.attention.causal);  // the op's own mask is the grid's
  // Causal along both: 754 x 754. K and V are still read once.
  const auto both = cost(make("gna", with_param(p, "causal_y", 1)), w);
  CHECK(op_named(both, "neighbourhood_attention_fwd").attention.pairs_per_head == 754.0 * 754);
  CHECK(both.total_bytes().k == Approx(8388608.0).epsilon(1e-12));
}

TEST_CASE(
    "gna: a dilation splits a dimension into sub-grids, each query still seeing its window (the "
    "pairs unchanged) unless causal",
    "[variants][gna]") {
  auto p = with_param(with_param(image_heads(), "stride", 1), "dilation", 2);
  CHECK(gna_pairs(p, 4096) == 692224.0);  // 4096 x 169, as undilated
  const auto w = workload(Phase::prefill, 1, 4096, 4096, false);
  const models::TokenGrid& grid =
      op_named(cost(make("gna", p), w), "neighbourhood_attention_fwd").attention.grid;
  CHECK(grid.dilation == std::array<double, 3>{2, 2, 1});
  CHECK(
      op_named(cost(make("gna", with_param(p, "dilation_y", 3)), w), "neighbourhood_attention_fwd")
          .attention.grid.dilation == std::array<double, 3>{2, 3, 1});
  // Causal along x with dilation 2: two sub-grids of 32, each 32 * 13 - 78 = 338.
  CHECK(gna_pairs(with_param(p, "causal_x", 1), 4096) == 2.0 * 338 * 832);
}

TEST_CASE("gna's pairs are NATTEN's mask counted query by query: strides, dilations, causal",
          "[variants][gna]") {
  struct Case {
    std::array<long, 2> extent, window, stride, dilation;
    std::array<bool, 2> causal;
  };
  const Case cases[] = {
      {{12, 10}, {5, 3}, {2, 1}, {1, 1}, {true, false}},
      {{12, 10}, {5, 3}, {3, 2}, {2, 3}, {true, true}},
      {{17, 9}, {4, 2}, {4, 1}, {3, 2}, {false, true}},
      {{16, 16}, {7, 7}, {7, 3}, {2, 2}, {true, false}},
      {{20, 7}, {6, 7}, {5, 7}, {3, 1}, {true, true}},
      {{9, 11}, {3, 5}, {1, 5}, {3, 2}, {false, false}},
  };
  for (const Case& k : cases) {
    INFO(k.extent[0] << "x" << k.extent[1] << " window " << k.window[0] << "x" << k.window[1]
                     << " stride " << k.stride[0] << "x" << k.stride[1] << " dilation "
                     << k.dilation[0] << "x" << k.dilation[1] << " causal " << k.causal[0]
                     << k.causal[1]);
    models::ParamValues p = image_heads();
    const std::pair<const char*, double> given[] = {
        {"extent_y", k.extent[1]},        {"window_x", k.window[0]},
        {"window_y", k.window[1]},        {"stride", k.stride[0]},
        {"stride_y", k.stride[1]},        {"dilation", k.dilation[0]},
        {"dilation_y", k.dilation[1]},    {"causal_x", k.causal[0] ? 1 : 0},
        {"causal_y", k.causal[1] ? 1 : 0}};
    for (const auto& [name, value] : given) p = with_param(p, name, value);
    CHECK(gna_pairs(p, k.extent[0] * k.extent[1]) ==
          natten_pairs(k.extent, k.window, k.stride, k.dilation, k.causal));
  }
}

TEST_CASE(
    "gna's dilation and causal dimensions need a stride, a window times its dilation no wider "
    "than its dimension, and a dimension the grid has",
    "[variants][gna]") {
  const auto w = workload(Phase::prefill, 1, 4096, 4096, false);
  CHECK_THROWS_WITH(cost(make("gna", with_param(image_heads(), "dilation", 2)), w),
                    Catch::Contains("needs the token grid") && Catch::Contains("stride=N"));
  CHECK_THROWS_WITH(cost(make("gna", with_param(image_heads(), "causal_y", 1)), w),
                    Catch::Contains("needs the token grid"));
  const auto strided = with_param(image_heads(), "stride", 1);
  // 13 x 5 = 65 > 64.
  CHECK_THROWS_WITH(
      cost(make("gna", with_param(strided, "dilation", 5)), w),
      Catch::Contains("window_x (13) x dilation (5) = 65 is wider than the grid's 64") &&
          Catch::Contains("at most 64"));
  CHECK_NOTHROW(cost(make("gna", with_param(strided, "dilation", 4)), w));
  // A 2-D grid has no third dimension to be causal or dilated along.
  CHECK_THROWS_WITH(cost(make("gna", with_param(strided, "causal_z", 1)), w),
                    Catch::Contains("causal_z names the grid's dimension 3, and this grid has 2"));
  CHECK_THROWS_WITH(cost(make("gna", with_param(strided, "dilation_z", 2)), w),
                    Catch::Contains("dilation_z names the grid's dimension 3"));
  // dilation alone applies to the dimensions the grid has.
  CHECK_NOTHROW(cost(make("gna", with_param(strided, "dilation", 2)), w));
}
