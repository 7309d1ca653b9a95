// natten (sim/schedule_natten.cpp): NATTEN's Hopper and Blackwell FNA forward kernels. NATTEN's
// block-sparsity rule worked by hand on the shapes of its own documentation, the tile shapes the
// schedule keeps, the mask's cost, what auto picks, and what the kernel refuses.
#include <catch2/catch.hpp>

#include <array>
#include <string>

#include "common/errors.hpp"
#include "sim/grid_blocks.hpp"
#include "sim/schedules.hpp"
#include "tests/support/sim_helpers.hpp"

using test_support::builtin_profile;
using test_support::make;
using test_support::workload;

namespace {

using Shape = std::array<double, 3>;

// A non-causal fp16 prefill of `tokens` tokens, 24 heads of d 128 unless given, gna's `params`.
test_support::Query gna_query(std::int64_t tokens, models::ParamValues params,
                              std::int64_t heads = 24, std::int64_t d = 128) {
  params.insert(params.begin(), {{"heads", heads}, {"kv_heads", heads}, {"head_dim", d}});
  test_support::Query q{make("gna", params),
                        workload(models::Phase::prefill, 1, tokens, tokens, false)};
  q.w.dtype = q.w.kv_dtype = models::DType::fp16;
  return q;
}

// HunyuanVideo's 30 x 48 x 80 volume with an 18 x 24 x 24 window (NATTEN's profiler documentation).
test_support::Query hunyuan(double stride, double stride_yz) {
  return gna_query(115200, {{"window_x", 18},
                            {"window_y", 24},
                            {"window_z", 24},
                            {"extent_y", 48},
                            {"extent_z", 80},
                            {"stride", stride},
                            {"stride_y", stride_yz},
                            {"stride_z", stride_yz}});
}

// The FNA kernel's launch of natten's lowering (between the token permutation's, if any).
sim::Launch natten_launch(const test_support::Query& q, std::string_view hw) {
  const sim::Launches out =
      test_support::lower_dense_forward("natten", q.cost(), q.w, builtin_profile(hw));
  for (const sim::Launch& l : out) {
    if (std::string_view(l.name) == "natten_fna_fwd") return l;
  }
  FAIL("no natten_fna_fwd launch");
  return {};
}

models::TokenGrid grid_of(Shape extent, Shape window, Shape stride, int dims) {
  models::TokenGrid g;
  g.dims = dims;
  g.extent = extent;
  g.window = window;
  g.stride = stride;
  return g;
}

}  // namespace

TEST_CASE(
    "NATTEN's block-sparsity rule: a stride of whole Q tiles and a window of whole KV tiles whose "
    "groups start on KV tile boundaries, per dimension; never causal",
    "[sim][natten]") {
  // 1-D, 32768 tokens, window 2048, 128-token tiles: stride 1 straddles tiles; 256 and 2048
  // start every group's window (its centre, 256 g + 128 or 2048 g + 1024, less 1024; the ends
  // moved inside) on a tile boundary.
  CHECK_FALSE(sim::axis_block_sparse(32768, 2048, 1, 128, 128));
  CHECK(sim::axis_block_sparse(32768, 2048, 256, 128, 128));
  CHECK(sim::axis_block_sparse(32768, 2048, 2048, 128, 128));
  CHECK(sim::axis_block_sparse(32768, 2048, 256, 256, 128));        // Blackwell's 256-token Q tile
  CHECK_FALSE(sim::axis_block_sparse(32768, 2048, 128, 256, 128));  // a Q tile over two groups
  // A window that spans the dimension needs no mask whatever the tiles.
  CHECK(sim::axis_block_sparse(30, 30, 1, 4, 8));
  // HunyuanVideo's first dimension, 30 positions, window 18, stride 16, tiles of 2: two groups,
  // windows [0, 18) and [12, 30) (the last centre min(16 + 8, 29) = 24, moved inside); 9 - 8 = 1
  // is no whole tile, but with two groups touching both ends the windows start at 0 and 12.
  CHECK(sim::axis_block_sparse(30, 18, 16, 2, 2));
  CHECK_FALSE(sim::axis_block_sparse(30, 18, 16, 4, 4));  // 18 keys: no whole number of 4
  // Whole grids: FLUX's 256 x 256 at stride 16 on (16, 8) tiles; the same causal along x.
  models::TokenGrid flux = grid_of({256, 256, 1}, {80, 80, 1}, {16, 16, 1}, 2);
  CHECK(sim::grid_block_sparse(flux, {16, 8, 1}, {16, 8, 1}));
  flux.causal = {true, false, false};
  CHECK_FALSE(sim::grid_block_sparse(flux, {16, 8, 1}, {16, 8, 1}));
}

TEST_CASE(
    "natten keeps the fastest of NATTEN's tile shapes: HunyuanVideo's volume in (2, 8, 8) tiles "
    "on Hopper, block-sparse at stride (16, 8, 8), 81 KV tiles a Q tile",
    "[sim][natten]") {
  // (2, 8, 8): 15 x 6 x 10 = 900 Q tiles a head, each visiting 9 x 3 x 3 KV tiles (the window
  // exactly); (4, 4, 8), NATTEN's default, pads 30 to 32 and its 18-key window straddles tiles.
  const sim::Launch strided = natten_launch(hunyuan(16, 8), "h100");
  CHECK(strided.jobs.total_tiles == 24 * 900 * 81);
  CHECK(strided.jobs.max_tiles == 81);
  // A CTA per Q tile in hardware order (NATTEN's Hopper kernels are not persistent), one an SM.
  CHECK(strided.jobs.count == 24 * 900);
  CHECK(strided.dispatch == sim::Dispatch::in_order);
  CHECK(strided.cta.max_ctas_per_sm == 1);
  // Blackwell: 256-position Q tiles, 480 a head; its block-sparse pairs also keep the window's 81
  // KV tiles of 128.
  const sim::Launch b200 = natten_launch(hunyuan(16, 8), "b200");
  CHECK(b200.jobs.count == 24 * 480);
  CHECK(b200.jobs.total_tiles == 24 * 480 * 81);
}

TEST_CASE(
    "natten charges the mask's FP32 work on every visited tile only where the mask is not fully "
    "block-sparse, more in more dimensions",
    "[sim][natten]") {
  const auto one_d = [](double stride) {
    return gna_query(32768, {{"window_x", 2048}, {"window_y", 1}, {"stride", stride}}, 1);
  };
  const sim::Launch sparse = natten_launch(one_d(256), "h100");
  const sim::Launch masked = natten_launch(one_d(1), "h100");
  // Hopper FNA at d 128: 128 x 128 tiles; the softmax's own work is the same in both.
  const double mask_1d = masked.per_tile.alu_ops - sparse.per_tile.alu_ops;
  CHECK(mask_1d == Approx(128.0 * 128 * 5 * 3));
  const sim::Launch masked_3d = natten_launch(hunyuan(1, 1), "h100");
  CHECK(masked_3d.per_tile.alu_ops - natten_launch(hunyuan(16, 8), "h100").per_tile.alu_ops ==
        Approx(128.0 * 128 * 5 * 5));
  // A masked run costs more than the block-sparse one beyond its extra tiles (1-D: 17 against 16
  // a Q tile).
  const hw::Profile& h100 = builtin_profile("h100");
  const double t_sparse = test_support::tile_prediction(one_d(256), h100, "natten").time_s;
  const double t_masked = test_support::tile_prediction(one_d(1), h100, "natten").time_s;
  CHECK(masked.jobs.total_tiles / sparse.jobs.total_tiles == Approx(17.0 / 16).epsilon(0.01));
  // As NATTEN's H100 runs of these two shapes measured them: 94.848 us against 62.687 us
  // (docs/sample-outputs at 8c8729f), within 5 %.
  CHECK(t_masked / t_sparse == Approx(94.848 / 62.687).epsilon(0.05));
}

TEST_CASE(
    "auto prices a strided gna forward with natten on Hopper and Blackwell, and keeps the "
    "default schedule elsewhere and for the blocked bound",
    "[sim][natten]") {
  const test_support::Query q = hunyuan(1, 1);
  for (const char* hw : {"h100", "h200", "h20", "b200", "gb200", "gb300"}) {
    INFO(hw);
    const sim::Prediction p = test_support::tile_prediction(q, builtin_profile(hw));
    CHECK(test_support::launch_names(p) ==
          "natten_token_permute:natten natten_fna_fwd:natten natten_token_unpermute:natten ");
  }
  CHECK(test_support::launch_names(test_support::tile_prediction(q, builtin_profile("a100"))) ==
        "attention_fwd:fa2 ");
  // Stride 0 (the blocked bound) has no grid: the default schedule.
  const test_support::Query blocked = gna_query(65536, {{"window_x", 80}, {"window_y", 80}});
  CHECK(test_support::launch_names(test_support::tile_prediction(
            blocked, builtin_profile("h100"))) == "attention_fwd:fa3 ");
}

TEST_CASE("natten refuses what NATTEN's FNA kernels do not run", "[sim][natten]") {
  const auto refused = [](const test_support::Query& q, const char* hw) {
    return test_support::tile_prediction(q, builtin_profile(hw), "natten");
  };
  // Head dim 96: Hopper FNA has configurations for 32, 64, 128 and 256 only.
  CHECK_THROWS_WITH(refused(gna_query(4096, {{"stride", 1}}, 4, 96), "h100"),
                    Catch::Contains("32, 64, 128 or 256"));
  // Head dim 256 on Blackwell: at most 128, and a multiple of 8.
  CHECK_THROWS_WITH(refused(gna_query(4096, {{"stride", 1}}, 4, 256), "b200"),
                    Catch::Contains("at most 128"));
  CHECK_THROWS_WITH(refused(gna_query(4096, {{"stride", 1}}, 4, 100), "b200"),
                    Catch::Contains("multiples of 8"));
  // fp8 on Blackwell takes multiples of 16: 40 is refused, 48 runs.
  test_support::Query fp8_40 = gna_query(4096, {{"stride", 1}}, 4, 40);
  fp8_40.w.dtype = fp8_40.w.kv_dtype = models::DType::fp8;
  CHECK_THROWS_WITH(refused(fp8_40, "b200"), Catch::Contains("of 16 in fp8"));
  test_support::Query fp8_48 = gna_query(4096, {{"stride", 1}}, 4, 48);
  fp8_48.w.dtype = fp8_48.w.kv_dtype = models::DType::fp8;
  CHECK_NOTHROW(refused(fp8_48, "b200"));
  // fp8 on Hopper (fp16 and bf16 only); an fp32 strided gna stays on the default schedule.
  test_support::Query fp8 = gna_query(4096, {{"stride", 1}}, 4);
  fp8.w.dtype = fp8.w.kv_dtype = models::DType::fp8;
  CHECK_THROWS_WITH(refused(fp8, "h100"), Catch::Contains("fp16 and bf16"));
  test_support::Query fp32 = gna_query(4096, {{"stride", 1}}, 4);
  fp32.w.dtype = fp32.w.kv_dtype = models::DType::fp32;
  CHECK(test_support::launch_names(test_support::tile_prediction(fp32, builtin_profile("h100"))) ==
        "attention_fwd:fa3 ");
  // An Ampere profile given a natten entry is still not Hopper or Blackwell.
  hw::Profile a100 = builtin_profile("a100");
  a100.calibration.schedules["natten"] = a100.calibration.schedules.at("fa2");
  const test_support::Query q = gna_query(4096, {{"stride", 1}}, 4);
  CHECK_THROWS_AS(test_support::tile_prediction(q, a100, "natten"), common::KernelRefusal);
  // Causal attention (NATTEN's causal windows are gna's causal_x/y/z).
  test_support::Query causal{make("mha", {{"heads", 4}, {"head_dim", 128}}),
                             workload(models::Phase::prefill, 1, 4096, 4096, true)};
  CHECK_THROWS_WITH(refused(causal, "h100"), Catch::Contains("non-causal"));
}

TEST_CASE(
    "every natten entry holds its profile's fa3 values on Hopper and cudnn values on Blackwell "
    "(inherited, not fitted)",
    "[sim][natten]") {
  for (const char* hw :
       {"h100", "h100-pcie", "h200", "h800", "h20", "b200", "gb200", "b300", "gb300"}) {
    INFO(hw);
    const hw::Profile& p = builtin_profile(hw);
    const bool blackwell = p.arch.rfind("sm_10", 0) == 0;
    const hw::ScheduleCalibration& own = p.calibration.schedules.at("natten");
    const hw::ScheduleCalibration& from = p.calibration.schedules.at(blackwell ? "cudnn" : "fa3");
    CHECK(own == from);
  }
}

TEST_CASE(
    "natten lays a 2-D or 3-D map (or a dilated one) out in tile order around the kernel, "
    "PyTorch's strided copies priced by their offset arithmetic; a 1-D map is a view",
    "[sim][natten]") {
  const hw::Profile& h100 = builtin_profile("h100");
  const auto names = [&](const test_support::Query& q) {
    return test_support::launch_names(test_support::tile_prediction(q, h100, "natten"));
  };
  const test_support::Query one_d =
      gna_query(32768, {{"window_x", 2048}, {"window_y", 1}, {"stride", 1}}, 1);
  CHECK(names(one_d) == "natten_fna_fwd:natten ");
  test_support::Query dilated =
      gna_query(32768, {{"window_x", 2048}, {"window_y", 1}, {"stride", 1}, {"dilation", 2}}, 1);
  CHECK(names(dilated) ==
        "natten_token_permute:natten natten_fna_fwd:natten natten_token_unpermute:natten ");
  // FLUX's 256 x 256 map, 24 heads of 128 in (16, 8) tiles: Q, K and V in (3 x 65536 x 3072
  // elements), O out (65536 x 3072), each read and written once; the copy's dimensions are the
  // two tile counts, the two tile sides and heads x head dim: 5, at 20 instructions each.
  const test_support::Query flux =
      gna_query(65536, {{"window_x", 80}, {"window_y", 80}, {"stride", 16}});
  const sim::Launches out = test_support::lower_dense_forward("natten", flux.cost(), flux.w, h100);
  REQUIRE(out.size() == 3);
  const double qkv = 3.0 * 65536 * 3072, o = 65536.0 * 3072;
  const auto work = [](const sim::Launch& l, double sim::TileWork::*field) {
    return l.per_tile.*field * l.jobs.total_tiles;
  };
  CHECK(work(out[0], &sim::TileWork::hbm_bytes) == Approx(2 * 2 * qkv));
  CHECK(work(out[0], &sim::TileWork::alu_ops) == Approx(qkv * 20 * 5));
  CHECK(work(out[2], &sim::TileWork::hbm_bytes) == Approx(2 * 2 * o));
  CHECK(work(out[2], &sim::TileWork::alu_ops) == Approx(o * 20 * 5));
}
