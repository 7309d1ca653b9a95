// The SVG charts: well-formed documents with the expected series, labels, axis titles and units,
// every point inside the plot area, and labels escaped.
#include <catch2/catch.hpp>

#include <sstream>

#include <fmt/format.h>

#include "cli/plot.hpp"
#include "cli/plot_sweep.hpp"
#include "common/errors.hpp"
#include "tests/support/svg_check.hpp"

using cli::plot::Unit;
using test_support::contains;
using test_support::parse_xml;
using test_support::texts;
using test_support::XmlElement;

namespace {

// The plot area is the clip path's rectangle.
struct Area {
  double x0, y0, x1, y1;
  bool inside(double x, double y) const {
    return x >= x0 - 0.05 && x <= x1 + 0.05 && y >= y0 - 0.05 && y <= y1 + 0.05;
  }
};
Area plot_area(const XmlElement& root) {
  const XmlElement* rect = root.all("clipPath").at(0)->all("rect").at(0);
  return {rect->number("x"), rect->number("y"), rect->number("x") + rect->number("width"),
          rect->number("y") + rect->number("height")};
}

cli::plot::SeriesChart two_series() {
  cli::plot::SeriesChart c;
  c.title = "time vs seq-len";
  c.x_title = "seq-len (tokens)";
  c.y_title = "predicted time";
  c.x_unit = Unit::tokens;
  c.y_unit = Unit::seconds;
  c.legend_heading = "variant";
  c.series.push_back({"gqa", {1024, 4096, 16384, 131072}, {1e-5, 1e-4, 1e-3, 6e-2}});
  c.series.push_back(
      {"mla <fast> & \"new\"", {1024, 4096, 16384, 131072}, {2e-5, 2e-4, 3e-3, 1e-1}});
  return c;
}

}  // namespace

TEST_CASE("format_value writes tick labels with their units", "[cli][plot]") {
  CHECK(cli::plot::format_value(1.5e-3, Unit::seconds) == "1.5 ms");
  CHECK(cli::plot::format_value(2, Unit::seconds) == "2 s");
  CHECK(cli::plot::format_value(9.89e14, Unit::flops_per_s) == "989 TFLOP/s");
  CHECK(cli::plot::format_value(4e9, Unit::bytes) == "4 GB");
  CHECK(cli::plot::format_value(4096, Unit::tokens) == "4k");
  CHECK(cli::plot::format_value(131072, Unit::tokens) == "128k");
  CHECK(cli::plot::format_value(1 << 20, Unit::tokens) == "1M");
  CHECK(cli::plot::format_value(1000, Unit::tokens) == "1000");  // whole numbers in full
  CHECK(cli::plot::format_value(1000, Unit::count) == "1000");
  CHECK(cli::plot::format_value(1500, Unit::tokens) == "1500");
  CHECK(cli::plot::format_value(0.5, Unit::flop_per_byte) == "0.5");
  CHECK(cli::plot::format_value(2000, Unit::flop_per_byte) == "2k");
  CHECK(cli::plot::format_value(64, Unit::count) == "64");
}

TEST_CASE("xml_escape escapes the five XML special characters", "[cli][plot]") {
  CHECK(cli::plot::xml_escape("a<b & c>\"d'") == "a&lt;b &amp; c&gt;&quot;d&apos;");
}

TEST_CASE("the SVG checker rejects malformed documents", "[cli][plot]") {
  CHECK_NOTHROW(parse_xml("<svg><g a=\"1\"><text>x &amp; y</text></g></svg>"));
  CHECK_THROWS(parse_xml("<svg><g></svg>"));
  CHECK_THROWS(parse_xml("<svg><text>a & b</text></svg>"));
  CHECK_THROWS(parse_xml("<svg a=1/>"));
  CHECK_THROWS(parse_xml("<svg/><svg/>"));
}

TEST_CASE("a series chart has one line per series, a legend, titles and points inside the area",
          "[cli][plot]") {
  const std::string svg = cli::plot::render_series(two_series());
  const auto root = parse_xml(svg);
  REQUIRE(root->name == "svg");
  const auto series = root->all("g", "series");
  REQUIRE(series.size() == 2);
  CHECK(series[0]->attr("data-series") == "gqa");
  CHECK(series[1]->attr("data-series") == "mla <fast> & \"new\"");  // escaped, then decoded
  const auto legend = texts(*root, "legend-label");
  CHECK(contains(legend, "gqa"));
  CHECK(contains(legend, "mla <fast> & \"new\""));
  CHECK(texts(*root, "title") == std::vector<std::string>{"time vs seq-len"});
  CHECK(texts(*root, "x-title") == std::vector<std::string>{"seq-len (tokens) (log scale)"});
  CHECK(texts(*root, "y-title") == std::vector<std::string>{"predicted time (log scale)"});
  const auto x_ticks = texts(*root, "x-tick");
  CHECK(contains(x_ticks, "1k"));
  CHECK(contains(x_ticks, "128k"));
  const auto y_ticks = texts(*root, "y-tick");
  CHECK(contains(y_ticks, "1 ms"));
  CHECK(contains(y_ticks, "100 µs"));
  const Area area = plot_area(*root);
  const auto markers = root->all("circle", "marker");
  CHECK(markers.size() == 8);
  for (const XmlElement* m : markers) {
    CHECK(area.inside(m->number("cx"), m->number("cy")));
  }
  for (const XmlElement* line : root->all("polyline")) {
    std::istringstream points(line->attr("points"));
    double x = 0, y = 0;
    char comma = 0;
    while (points >> x >> comma >> y) CHECK(area.inside(x, y));
  }
}

TEST_CASE(
    "a legend never shows two series one label: labels that differ in a cut tail are cut in "
    "the middle",
    "[cli][plot]") {
  cli::plot::SeriesChart c = two_series();
  const std::string head = "h100-sxm5-80gb heads=32 kv_heads=8 window=4096 softcap=50 head_dim=";
  c.series[0].name = head + "64";
  c.series[1].name = head + "128";
  c.series.push_back({"short", {1024, 4096}, {1e-5, 1e-4}});
  const auto root = parse_xml(cli::plot::render_series(c));
  const auto legend = texts(*root, "legend-label");
  REQUIRE(legend.size() == 3);
  CHECK(legend[0] != legend[1]);
  CHECK(legend[0].size() < c.series[0].name.size());  // cut, it does not fit
  CHECK_THAT(legend[0],
             Catch::StartsWith("h100") && Catch::Contains("...") && Catch::EndsWith("head_dim=64"));
  CHECK_THAT(legend[1], Catch::EndsWith("head_dim=128"));
  CHECK(legend[2] == "short");
}

TEST_CASE(
    "a subtitle of any length sits between the title and the plot area, which moves down for "
    "more than two lines",
    "[cli][plot]") {
  for (std::size_t fields : {1, 8, 16, 40}) {
    cli::plot::SeriesChart c = two_series();
    c.subtitle.clear();
    for (std::size_t i = 0; i < fields; ++i) {
      c.subtitle += fmt::format("{}parameter_{}={}", i == 0 ? "" : ", ", i, 1000 + i);
    }
    const auto root = parse_xml(cli::plot::render_series(c));
    INFO(fields << " fields: " << c.subtitle);
    const auto lines = root->all("text", "subtitle");
    REQUIRE(!lines.empty());
    const double title_y = root->all("text", "title").at(0)->number("y");
    // The first line's glyphs (12 px) start below the title's baseline.
    CHECK(lines.front()->number("y") - 12 >= title_y);
    // The last line's baseline is above the plot area.
    const Area area = plot_area(*root);
    CHECK(lines.back()->number("y") + 4 <= area.y0);
    if (fields == 1) CHECK(area.y0 == 64);
    if (fields == 40) CHECK(area.y0 > 64);
  }
}

TEST_CASE("a series chart keeps a linear y axis when a value is zero", "[cli][plot]") {
  cli::plot::SeriesChart c = two_series();
  c.series[0].y[0] = 0;
  const auto root = parse_xml(cli::plot::render_series(c));
  CHECK(texts(*root, "y-title") == std::vector<std::string>{"predicted time"});
  CHECK(root->all("circle", "marker").size() == 8);
}

TEST_CASE("an all-zero series starts its y axis at 0, with no negative ticks", "[cli][plot]") {
  cli::plot::SeriesChart c = two_series();
  c.series.pop_back();
  c.series[0].y.assign(c.series[0].x.size(), 0.0);
  const auto root = parse_xml(cli::plot::render_series(c));
  const auto ticks = texts(*root, "y-tick");
  REQUIRE_FALSE(ticks.empty());
  CHECK(ticks.front().rfind('0', 0) == 0);
  for (const std::string& t : ticks) CHECK(t.rfind('-', 0) == std::string::npos);
}

TEST_CASE("a roofline has each device's ceilings and each workload as a labelled point",
          "[cli][plot]") {
  cli::plot::RooflineChart c;
  c.title = "roofline";
  // Round numbers of the H100 SXM's order (989 TFLOP/s bf16, 3.35 TB/s), not a profile.
  c.devices.push_back(
      {"dev-a", 3.35e12, {{"bf16 tensor", 989e12, ""}, {"FP32 vector", 67e12, "7 4"}}});
  c.devices.push_back({"dev-b", 8e12, {{"bf16 tensor", 2250e12, ""}}});
  c.points.push_back({"gqa", 0, 400, 600e12});
  c.points.push_back({"mla & <co>", 1, 50, 300e12});
  c.points.push_back({"no tensor work", 1, 0, 0});
  const auto root = parse_xml(cli::plot::render_roofline(c));
  const auto ceilings = root->all("line", "ceiling");
  std::vector<std::string> names;
  for (const XmlElement* l : ceilings)
    names.push_back(l->attr("data-device") + "/" + l->attr("data-ceiling"));
  CHECK(contains(names, "dev-a/HBM"));
  CHECK(contains(names, "dev-a/bf16 tensor"));
  CHECK(contains(names, "dev-a/FP32 vector"));
  CHECK(contains(names, "dev-b/HBM"));
  CHECK(contains(names, "dev-b/bf16 tensor"));
  const auto labels = texts(*root, "ceiling-label");
  CHECK(contains(labels, "dev-a bf16 tensor 989 TFLOP/s"));
  CHECK(contains(labels, "dev-b bf16 tensor 2.25 PFLOP/s"));
  const auto points = root->all("circle", "point");
  REQUIRE(points.size() == 2);
  const Area area = plot_area(*root);
  for (const XmlElement* p : points) CHECK(area.inside(p->number("cx"), p->number("cy")));
  CHECK(texts(*root, "point-label") == std::vector<std::string>{"gqa", "mla & <co>"});
  CHECK(test_support::subtitle(*root).find("1 workload(s) without tensor FLOPs") !=
        std::string::npos);
  CHECK(texts(*root, "x-title").at(0).rfind("arithmetic intensity (tensor FLOP per HBM byte)", 0) ==
        0);
  // The point at 400 FLOP/B sits right of the one at 50 FLOP/B, and higher (600 > 300 TFLOP/s).
  CHECK(points[0]->number("cx") > points[1]->number("cx"));
  CHECK(points[0]->number("cy") < points[1]->number("cy"));
}

TEST_CASE("a sweep plot picks the one varying axis and refuses ambiguous or huge sweeps",
          "[cli][plot]") {
  cli::SweepAxisSizes sizes;
  sizes.seq_len = 8;
  sizes.points = 16;
  CHECK(cli::plan_sweep_plot(sizes, "", "time").x_flag == "--seq-len");
  CHECK(cli::plan_sweep_plot(sizes, "", "time").x_columns ==
        std::vector<std::string>{"kv_len", "q_len"});
  sizes.batch = 3;
  CHECK_THROWS_WITH(
      cli::plan_sweep_plot(sizes, "", "time"),
      Catch::Contains("several axes vary (seq-len, batch)") && Catch::Contains("--plot-x"));
  CHECK(cli::plan_sweep_plot(sizes, "batch", "tflops").x_column == "batch");
  CHECK_THROWS_AS(cli::plan_sweep_plot(sizes, "heads", "time"), common::SpecError);
  CHECK_THROWS_AS(cli::plan_sweep_plot(sizes, "batch", "watts"), common::SpecError);
  sizes.points = cli::kMaxPlotPoints + 1;
  CHECK_THROWS_WITH(cli::plan_sweep_plot(sizes, "batch", "time"),
                    Catch::Contains("at most 200000"));
  cli::SweepAxisSizes flat;
  flat.points = 1;
  CHECK_THROWS_WITH(cli::plan_sweep_plot(flat, "", "time"), Catch::Contains("no axis"));
}

TEST_CASE("a sweep plot makes one series per combination of the other axes", "[cli][plot]") {
  cli::SweepAxisSizes sizes;
  sizes.seq_len = 2;
  sizes.points = 4;
  const std::string header = "hw,variant,phase,batch,q_len,kv_len,time_s,flops_tensor\n";
  cli::SweepPlot plot(cli::plan_sweep_plot(sizes, "", "time"), header);
  plot.add("h100,gqa,prefill,1,1024,1024,0.001,5\n");
  plot.add("h100,gqa,prefill,1,2048,2048,0.004,5\n");
  plot.add("h100,mla,prefill,1,1024,1024,0.002,5\n");
  plot.add("h100,mla,prefill,1,2048,2048,0.008,5\n");
  const cli::plot::SeriesChart c = plot.chart();
  REQUIRE(c.series.size() == 2);
  CHECK(c.series[0].name == "gqa");
  CHECK(c.series[1].name == "mla");
  CHECK(c.series[1].x == std::vector<double>{1024, 2048});
  CHECK(c.series[1].y == std::vector<double>{0.002, 0.008});
  CHECK(c.legend_heading == "variant");
  CHECK(c.subtitle == "hw h100, phase prefill, batch 1");
}

TEST_CASE("a sweep plot labels a series by the fields that vary, parameters split into fields",
          "[cli][plot]") {
  cli::SweepAxisSizes sizes;
  sizes.seq_len = 2;
  sizes.points = 8;
  sizes.params = {{"head_dim", 2}};  // --head-dim 64,128
  const std::string header =
      "hw,variant,causal,include_projections,params_heads,params_head_dim,params_v_head_dim,"
      "q_len,kv_len,time_s\n";
  cli::SweepPlot plot(cli::plan_sweep_plot(sizes, "", "time"), header);
  for (const char* hw : {"h100-sxm5-80gb", "h200-sxm-141gb"}) {
    for (const char* dim : {"64", "128"}) {
      for (const char* len : {"4096", "8192"}) {
        plot.add(fmt::format("{},gqa,false,true,32,{},{},{},{},0.001\n", hw, dim, dim, len, len));
      }
    }
  }
  const cli::plot::SeriesChart c = plot.chart();
  std::vector<std::string> names;
  for (const auto& s : c.series) names.push_back(s.name);
  // v_head_dim varies with head_dim: it names no series head_dim does not.
  CHECK(names ==
        std::vector<std::string>{"h100-sxm5-80gb head_dim=64", "h100-sxm5-80gb head_dim=128",
                                 "h200-sxm-141gb head_dim=64", "h200-sxm-141gb head_dim=128"});
  CHECK(c.legend_heading == "hw, head_dim");
  CHECK(c.subtitle == "variant gqa, non-causal, +projections, heads=32");
}

TEST_CASE("a sweep plot gives series with different keys different labels", "[cli][plot]") {
  cli::SweepAxisSizes sizes;
  sizes.seq_len = 2;
  sizes.points = 4;
  // Two columns whose values read the same: "x" in one series' a, the other's b.
  cli::SweepPlot plot(cli::plan_sweep_plot(sizes, "", "time"), "a,b,q_len,kv_len,time_s\n");
  plot.add("x,,1,1,1\n");
  plot.add("x,,2,2,1\n");
  plot.add(",x,1,1,1\n");
  plot.add(",x,2,2,1\n");
  const cli::plot::SeriesChart c = plot.chart();
  REQUIRE(c.series.size() == 2);
  CHECK(c.series[0].name != c.series[1].name);
}

TEST_CASE("a sweep plot takes tp and cp as x axes and per-device measures only with a layout",
          "[cli][plot][parallel]") {
  cli::SweepAxisSizes sizes;
  sizes.tp = 4;
  sizes.points = 4;
  CHECK_THROWS_WITH(cli::plan_sweep_plot(sizes, "", "exposed-comm"),
                    Catch::Contains("needs a layout"));
  sizes.parallel = true;
  const cli::SweepPlotPlan plan = cli::plan_sweep_plot(sizes, "", "exposed-comm");
  CHECK(plan.x_flag == "--tp");
  CHECK(plan.x_columns == std::vector<std::string>{"tp"});
  CHECK(plan.x_unit == cli::plot::Unit::count);
  CHECK(plan.y == cli::PlotY::exposed_comm);
  sizes.cp = 2;
  CHECK_THROWS_WITH(cli::plan_sweep_plot(sizes, "", "comm"),
                    Catch::Contains("several axes vary (tp, cp)"));
  CHECK(cli::plan_sweep_plot(sizes, "cp", "comm").x_column == "cp");
}

TEST_CASE("a layout sweep plot reads the per-device column and keys series by the layout",
          "[cli][plot][parallel]") {
  cli::SweepAxisSizes sizes;
  sizes.seq_len = 2;
  sizes.tp = 2;
  sizes.parallel = true;
  sizes.points = 4;
  const std::string header =
      "hw,variant,q_len,kv_len,time_s,tp,cp,cp_strategy,nodes,per_device_exposed_comm_s\n";
  cli::SweepPlot plot(cli::plan_sweep_plot(sizes, "seq-len", "exposed-comm"), header);
  plot.add("h100,gqa,1024,1024,0.5,1,4,ring,4,0.001\n");
  plot.add("h100,gqa,1024,1024,0.5,2,4,ring,4,0.002\n");
  plot.add("h100,gqa,2048,2048,0.5,1,4,ring,4,0.003\n");
  plot.add("h100,gqa,2048,2048,0.5,2,4,ring,4,0.004\n");
  const cli::plot::SeriesChart c = plot.chart();
  REQUIRE(c.series.size() == 2);
  CHECK(c.series[0].name == "tp=1");
  CHECK(c.series[1].name == "tp=2");
  CHECK(c.series[1].x == std::vector<double>{1024, 2048});
  CHECK(c.series[1].y == std::vector<double>{0.002, 0.004});
  CHECK(c.subtitle == "hw h100, variant gqa, cp 4, cp_strategy ring, nodes 4");
  CHECK(c.y_unit == cli::plot::Unit::seconds);
}
