// Op-mapping tests of the TF.js graph importer: small graphs built here, converted to
// TorchScript, run, and compared with values computed by hand or by a naive NHWC loop that
// follows TF's definitions (so layout, padding and weight permutations are checked against TF
// semantics, not against the converter's own choices).
#include "tools/import/graph/graph_converter.h"

#include <torch/script.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/import/graph/graph_importer.h"
#include "tools/import/graph/tfjs_graph.h"

namespace stratus::import_graph {
namespace {

using nlohmann::json;

json Ints(std::vector<int64_t> v) {
  json list = json::array();
  for (int64_t i : v) list.push_back(std::to_string(i));
  return json{{"list", json{{"i", list}}}};
}
json Str(const std::string& s) { return json{{"s", absl::Base64Escape(s)}}; }
json Strs(std::vector<std::string> v) {
  json list = json::array();
  for (const auto& s : v) list.push_back(absl::Base64Escape(s));
  return json{{"list", json{{"s", list}}}};
}

// Builds a model.json + weights blob the way tfjs-converter writes them.
class GraphBuilder {
 public:
  void Placeholder(const std::string& name, std::vector<int64_t> shape) {
    json dims = json::array();
    for (int64_t d : shape) dims.push_back(json{{"size", std::to_string(d)}});
    nodes_.push_back(json{{"name", name},
                          {"op", "Placeholder"},
                          {"attr", json{{"shape", json{{"shape", json{{"dim", dims}}}}},
                                        {"dtype", json{{"type", "DT_FLOAT"}}}}}});
  }
  // float32 (or int32 for integer tensors) storage.
  void Const(const std::string& name, const at::Tensor& t) {
    const bool is_int = !t.is_floating_point();
    at::Tensor c = (is_int ? t.to(at::kInt) : t.to(at::kFloat)).contiguous();
    blob_.append(reinterpret_cast<const char*>(c.data_ptr()), c.numel() * 4);
    json shape = json::array();
    for (int64_t d : t.sizes()) shape.push_back(d);
    weights_.push_back(
        json{{"name", name}, {"shape", shape}, {"dtype", is_int ? "int32" : "float32"}});
    nodes_.push_back(json{{"name", name}, {"op", "Const"}, {"attr", json::object()}});
  }
  void Op(const std::string& name, const std::string& op, std::vector<std::string> inputs,
          json attr = json::object()) {
    nodes_.push_back(json{{"name", name}, {"op", op}, {"input", inputs}, {"attr", attr}});
  }
  json Model() const {
    return json{
        {"format", "graph-model"},
        {"modelTopology", json{{"node", nodes_}}},
        {"weightsManifest", json::array({json{{"paths", {"w.bin"}}, {"weights", weights_}}})}};
  }
  GraphDef Build() const {
    auto g = ParseTfjsGraph(Model(), blob_);
    EXPECT_TRUE(g.ok()) << g.status();
    return *g;
  }

  json nodes_ = json::array();
  json weights_ = json::array();
  std::string blob_;
};

ConvertedModel Convert(const GraphBuilder& b, std::vector<std::string> outputs,
                       ConvertOptions o = {}) {
  o.outputs = std::move(outputs);
  auto m = ConvertGraph(b.Build(), o);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *m : ConvertedModel{};
}

at::Tensor RunModel(ConvertedModel& m, const at::Tensor& nchw) {
  c10::InferenceMode guard;
  return m.module.forward({nchw}).toTensor();
}

// TF Conv2D / DepthwiseConv2dNative on NHWC, VALID, after explicit TF-style padding.
at::Tensor NaiveConv(const at::Tensor& x, const at::Tensor& f, int64_t stride, bool depthwise,
                     int64_t pad_top, int64_t pad_bottom, int64_t pad_left, int64_t pad_right) {
  const int64_t n = x.size(0), h = x.size(1), w = x.size(2), c = x.size(3);
  const int64_t kh = f.size(0), kw = f.size(1);
  const int64_t hp = h + pad_top + pad_bottom, wp = w + pad_left + pad_right;
  const int64_t oh = (hp - kh) / stride + 1, ow = (wp - kw) / stride + 1;
  const int64_t mult = depthwise ? f.size(3) : 0;
  const int64_t cout = depthwise ? c * mult : f.size(3);
  at::Tensor out = at::zeros({n, oh, ow, cout});
  auto X = x.accessor<float, 4>();
  auto F = f.accessor<float, 4>();
  auto O = out.accessor<float, 4>();
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        for (int64_t o = 0; o < cout; ++o) {
          double s = 0;
          for (int64_t u = 0; u < kh; ++u)
            for (int64_t v = 0; v < kw; ++v) {
              const int64_t y = i * stride + u - pad_top, xx = j * stride + v - pad_left;
              if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
              if (depthwise) {
                s += X[b][y][xx][o / mult] * F[u][v][o / mult][o % mult];
              } else {
                for (int64_t ci = 0; ci < c; ++ci) s += X[b][y][xx][ci] * F[u][v][ci][o];
              }
            }
          O[b][i][j][o] = static_cast<float>(s);
        }
  return out;
}

at::Tensor ToNchw(const at::Tensor& nhwc) { return nhwc.permute({0, 3, 1, 2}).contiguous(); }

TEST(GraphConverterTest, SamePaddingIsAsymmetricLikeTf) {
  // 6x6 input, 3x3 kernel, stride 2, SAME: TF pads 0 on top/left and 1 on bottom/right.
  GraphBuilder b;
  b.Placeholder("x", {1, 6, 6, 1});
  b.Const("f", at::ones({3, 3, 1, 1}));
  b.Op("conv", "Conv2D", {"x", "f"},
       {{"strides", Ints({1, 2, 2, 1})}, {"padding", Str("SAME")}, {"data_format", Str("NHWC")}});
  ConvertedModel m = Convert(b, {"conv"});
  at::Tensor y = RunModel(m, at::ones({1, 1, 6, 6}));
  ASSERT_EQ(y.sizes().vec(), (std::vector<int64_t>{1, 3, 3, 1}));
  // By hand: top-left window fully inside (9 ones); bottom-right covers rows/cols 4..5 plus
  // the padding (4 ones). Symmetric padding would give 4 at the top-left instead.
  EXPECT_FLOAT_EQ(y[0][0][0][0].item<float>(), 9.f);
  EXPECT_FLOAT_EQ(y[0][2][2][0].item<float>(), 4.f);
  EXPECT_FLOAT_EQ(y[0][0][2][0].item<float>(), 6.f);
  // And against TF's definition on random data.
  at::Tensor x = at::randn({1, 6, 6, 1});
  at::Tensor ref = NaiveConv(x, at::ones({3, 3, 1, 1}), 2, false, 0, 1, 0, 1);
  EXPECT_TRUE(at::allclose(RunModel(m, ToNchw(x)), ref, 1e-4, 1e-5));
}

TEST(GraphConverterTest, DepthwiseWeightsArePermutedLikeTf) {
  // Channel multiplier 2: TF output channel c * 2 + m.
  GraphBuilder b;
  b.Placeholder("x", {1, 5, 5, 3});
  at::Tensor f = at::randn({3, 3, 3, 2});
  b.Const("f", f);
  b.Op("dw", "DepthwiseConv2dNative", {"x", "f"},
       {{"strides", Ints({1, 1, 1, 1})}, {"padding", Str("VALID")}});
  ConvertedModel m = Convert(b, {"dw"});
  at::Tensor x = at::randn({1, 5, 5, 3});
  at::Tensor y = RunModel(m, ToNchw(x));
  at::Tensor ref = NaiveConv(x, f, 1, true, 0, 0, 0, 0);
  ASSERT_EQ(y.sizes(), ref.sizes());
  EXPECT_TRUE(at::allclose(y, ref, 1e-4, 1e-5)) << (y - ref).abs().max();
}

TEST(GraphConverterTest, FusedConvWithBiasAndActivations) {
  at::Tensor x = at::randn({2, 7, 7, 4});
  at::Tensor f = at::randn({3, 3, 4, 5});
  at::Tensor bias = at::randn({5});
  at::Tensor base = NaiveConv(x, f, 2, false, 1, 1, 1, 1) + bias;  // 7 -> SAME stride 2: 1/1
  struct Case {
    std::string act;
    at::Tensor ref;
  };
  const std::vector<Case> cases = {
      {"Relu", at::relu(base)},
      {"Relu6", at::clamp(base, 0, 6)},
      {"LeakyRelu", at::where(base > 0, base, base * 0.1)},
  };
  for (const auto& c : cases) {
    GraphBuilder b;
    b.Placeholder("x", {-1, 7, 7, 4});
    b.Const("f", f);
    b.Const("b", bias);
    b.Op("conv", "_FusedConv2D", {"x", "f", "b"},
         {{"strides", Ints({1, 2, 2, 1})},
          {"padding", Str("SAME")},
          {"fused_ops", Strs({"BiasAdd", c.act})},
          {"num_args", json{{"i", "1"}}},
          {"leakyrelu_alpha", json{{"f", 0.1}}}});
    ConvertedModel m = Convert(b, {"conv"});
    at::Tensor y = RunModel(m, ToNchw(x));  // batch 2 through a graph declared with batch -1
    EXPECT_TRUE(at::allclose(y, c.ref, 1e-4, 1e-4)) << c.act << " " << (y - c.ref).abs().max();
    EXPECT_THAT(m.source, ::testing::HasSubstr("torch.conv2d"));
  }
}

TEST(GraphConverterTest, BiasAddAfterConvIsFolded) {
  GraphBuilder b;
  b.Placeholder("x", {1, 4, 4, 2});
  at::Tensor f = at::randn({1, 1, 2, 3});
  at::Tensor bias = at::randn({3});
  b.Const("f", f);
  b.Const("b", bias);
  b.Op("conv", "Conv2D", {"x", "f"}, {{"strides", Ints({1, 1, 1, 1})}, {"padding", Str("VALID")}});
  b.Op("add", "BiasAdd", {"conv", "b"});
  ConvertedModel m = Convert(b, {"add"});
  at::Tensor x = at::randn({1, 4, 4, 2});
  at::Tensor ref = NaiveConv(x, f, 1, false, 0, 0, 0, 0) + bias;
  EXPECT_TRUE(at::allclose(RunModel(m, ToNchw(x)), ref, 1e-4, 1e-5));
  EXPECT_THAT(m.source, ::testing::Not(::testing::HasSubstr(" + ")));  // folded into conv2d
}

// ONNX-exported graphs (nanodet) are NCHW with Transposes around every NHWC conv; the
// transposes must cost nothing and Reshape/Concat/Split must see TF's logical layout.
TEST(GraphConverterTest, LayoutTrackingThroughTransposeConcatSplitReshape) {
  GraphBuilder b;
  b.Placeholder("x", {1, 3, 4, 4});  // NCHW input
  at::Tensor f = at::randn({3, 3, 3, 6});
  b.Const("perm_in", at::tensor({0, 2, 3, 1}));
  b.Const("perm_out", at::tensor({0, 3, 1, 2}));
  b.Const("pads", at::tensor({0, 0, 0, 0, 1, 1, 1, 1}).reshape({4, 2}));
  b.Const("f", f);
  b.Const("axis1", at::tensor(1));
  b.Const("sizes", at::tensor({2, 4}));
  b.Const("shape", at::tensor({1, 4, -1}));
  b.Const("perm3", at::tensor({0, 2, 1}));
  b.Op("pad", "Pad", {"x", "pads"});
  b.Op("t1", "Transpose", {"pad", "perm_in"});
  b.Op("conv", "Conv2D", {"t1", "f"}, {{"strides", Ints({1, 1, 1, 1})}, {"padding", Str("VALID")}});
  b.Op("t2", "Transpose", {"conv", "perm_out"});  // NCHW [1,6,4,4]
  b.Op("cat", "ConcatV2", {"t2", "x", "axis1"});  // [1,9,4,4]
  b.Op("split", "SplitV", {"t2", "sizes", "axis1"}, {{"num_split", json{{"i", "2"}}}});
  b.Op("sig", "Sigmoid", {"split:1"});
  b.Op("rs", "Reshape", {"sig", "shape"});    // [1,4,16]
  b.Op("out", "Transpose", {"rs", "perm3"});  // [1,16,4]
  ConvertedModel m = Convert(b, {"cat", "out"});
  at::Tensor x = at::randn({1, 3, 4, 4});
  c10::InferenceMode guard;
  auto outs = m.module.forward({x}).toTuple()->elements();
  at::Tensor conv_nhwc = NaiveConv(x.permute({0, 2, 3, 1}).contiguous(), f, 1, false, 1, 1, 1, 1);
  at::Tensor conv_nchw = conv_nhwc.permute({0, 3, 1, 2});
  at::Tensor cat_ref = at::cat({conv_nchw, x}, 1);
  at::Tensor out_ref = at::sigmoid(conv_nchw.slice(1, 2, 6)).reshape({1, 4, 16}).permute({0, 2, 1});
  EXPECT_TRUE(at::allclose(outs[0].toTensor(), cat_ref, 1e-4, 1e-5));
  EXPECT_TRUE(at::allclose(outs[1].toTensor(), out_ref, 1e-4, 1e-5));
  // The only permutes left are those the logical layout demands (the final Transpose and
  // the input of the Reshape), not one per TF Transpose.
  EXPECT_THAT(m.source, ::testing::Not(::testing::HasSubstr("constant_pad_nd")));
}

TEST(GraphConverterTest, PoolingSamePaddingAndCounts) {
  GraphBuilder b;
  b.Placeholder("x", {1, 5, 5, 2});
  json attrs = {
      {"strides", Ints({1, 2, 2, 1})}, {"ksize", Ints({1, 2, 2, 1})}, {"padding", Str("SAME")}};
  b.Op("max", "MaxPool", {"x"}, attrs);
  b.Op("avg", "AvgPool", {"x"}, attrs);
  ConvertedModel m = Convert(b, {"avg", "max"});
  // 5x5, window 2, stride 2, SAME: out 3x3, TF pads 0 before and 1 after; the last row/col
  // windows hold one valid pixel per axis and TF averages over valid pixels only.
  at::Tensor x = -at::rand({1, 5, 5, 2}) - 1;  // negative: padding with 0 would win the max
  c10::InferenceMode guard;
  auto outs = m.module.forward({ToNchw(x)}).toTuple()->elements();
  at::Tensor avg = outs[0].toTensor(), mx = outs[1].toTensor();
  ASSERT_EQ(avg.sizes().vec(), (std::vector<int64_t>{1, 3, 3, 2}));
  EXPECT_NEAR(avg[0][2][2][1].item<float>(), x[0][4][4][1].item<float>(), 1e-6);
  EXPECT_NEAR(avg[0][0][2][0].item<float>(), (x[0][0][4][0] + x[0][1][4][0]).item<float>() / 2,
              1e-6);
  EXPECT_NEAR(mx[0][2][2][0].item<float>(), x[0][4][4][0].item<float>(), 1e-6);
  EXPECT_NEAR(mx[0][0][0][1].item<float>(),
              x.slice(1, 0, 2).slice(2, 0, 2).select(3, 1).max().item<float>(), 1e-6);
}

TEST(GraphConverterTest, ResizeBilinearModes) {
  at::Tensor x = at::randn({1, 3, 4, 1});
  auto build = [&](bool half) {
    GraphBuilder b;
    b.Placeholder("x", {1, 3, 4, 1});
    b.Const("size", at::tensor({6, 8}));
    b.Op("r", "ResizeBilinear", {"x", "size"},
         {{"align_corners", json{{"b", false}}}, {"half_pixel_centers", json{{"b", half}}}});
    return Convert(b, {"r"});
  };
  // TF by definition: src = dst * in/out (legacy) or (dst + 0.5) * in/out - 0.5 (half pixel,
  // clamped at 0); linear between floor(src) and min(floor(src) + 1, in - 1).
  auto reference = [&](bool half) {
    at::Tensor out = at::zeros({1, 6, 8, 1});
    auto src = [&](int64_t d, int64_t in, int64_t outn) {
      double s = half ? (d + 0.5) * in / outn - 0.5 : static_cast<double>(d) * in / outn;
      return std::max(s, 0.0);
    };
    for (int64_t i = 0; i < 6; ++i)
      for (int64_t j = 0; j < 8; ++j) {
        const double sy = src(i, 3, 6), sx = src(j, 4, 8);
        const int64_t y0 = static_cast<int64_t>(sy), x0 = static_cast<int64_t>(sx);
        const int64_t y1 = std::min<int64_t>(y0 + 1, 2), x1 = std::min<int64_t>(x0 + 1, 3);
        const double fy = sy - y0, fx = sx - x0;
        auto v = [&](int64_t y, int64_t xx) { return x[0][y][xx][0].item<double>(); };
        out[0][i][j][0] = (1 - fy) * ((1 - fx) * v(y0, x0) + fx * v(y0, x1)) +
                          fy * ((1 - fx) * v(y1, x0) + fx * v(y1, x1));
      }
    return out;
  };
  for (bool half : {false, true}) {
    ConvertedModel m = build(half);
    at::Tensor y = RunModel(m, ToNchw(x));
    EXPECT_TRUE(at::allclose(y, reference(half), 1e-5, 1e-5)) << "half_pixel=" << half;
  }
}

TEST(GraphConverterTest, MatMulAndConstantFolding) {
  GraphBuilder b;
  b.Placeholder("x", {2, 3});
  at::Tensor w = at::randn({3, 4});
  b.Const("w", w);
  b.Const("bias", at::randn({4}));
  // A shape computed from constants (folded at import): [2, 2, 2].
  b.Const("a", at::tensor({1, 2, 2}));
  b.Const("one", at::tensor({1, 0, 0}));
  b.Op("shape", "AddV2", {"a", "one"});
  b.Op("mm", "_FusedMatMul", {"x", "w", "bias"},
       {{"fused_ops", Strs({"BiasAdd", "Relu"})}, {"num_args", json{{"i", "1"}}}});
  b.Op("rs", "Reshape", {"mm", "shape"});
  ConvertedModel m = Convert(b, {"rs"});
  EXPECT_EQ(m.folded, 1);
  at::Tensor x = at::randn({2, 3});
  c10::InferenceMode guard;
  at::Tensor y = m.module.forward({x}).toTensor();
  const GraphDef g = b.Build();
  at::Tensor ref = at::relu(at::matmul(x, w) + g.consts.at("bias")).reshape({2, 2, 2});
  EXPECT_TRUE(at::allclose(y, ref, 1e-5, 1e-5));
}

TEST(GraphConverterTest, TopKAndGatherLikeCenternetPostprocessing) {
  // scores [1, 6] -> top 2 indices -> gather rows of a [6, 2] table (params from the input).
  GraphBuilder b;
  b.Placeholder("x", {1, 6});
  b.Const("k", at::tensor(2));
  b.Const("shape", at::tensor({6, 1}));
  b.Const("axis", at::tensor(0));
  b.Op("topk", "TopKV2", {"x", "k"}, {{"sorted", json{{"b", true}}}});
  b.Op("table", "Reshape", {"x", "shape"});
  b.Op("rows", "GatherV2", {"table", "topk:1", "axis"});
  ConvertedModel m = Convert(b, {"rows", "topk"});
  at::Tensor x = at::tensor({0.1f, 0.9f, 0.3f, 0.7f, 0.2f, 0.0f}).reshape({1, 6});
  c10::InferenceMode guard;
  auto outs = m.module.forward({x}).toTuple()->elements();
  at::Tensor rows = outs[0].toTensor(), values = outs[1].toTensor();
  ASSERT_EQ(rows.sizes().vec(), (std::vector<int64_t>{1, 2, 1}));
  EXPECT_FLOAT_EQ(rows[0][0][0].item<float>(), 0.9f);
  EXPECT_FLOAT_EQ(rows[0][1][0].item<float>(), 0.7f);
  EXPECT_FLOAT_EQ(values[0][1].item<float>(), 0.7f);
}

TEST(GraphConverterTest, TransposedConvolutionSame) {
  // 3x3 -> 6x6, kernel 3, stride 2, SAME: the forward conv pads 0 before, 1 after.
  GraphBuilder b;
  b.Placeholder("x", {1, 3, 3, 2});
  at::Tensor f = at::randn({3, 3, 4, 2});  // [kh, kw, out, in]
  b.Const("sizes", at::tensor({1, 6, 6, 4}));
  b.Const("f", f);
  b.Op("up", "Conv2DBackpropInput", {"sizes", "f", "x"},
       {{"strides", Ints({1, 2, 2, 1})}, {"padding", Str("SAME")}});
  ConvertedModel m = Convert(b, {"up"});
  at::Tensor x = at::randn({1, 3, 3, 2});
  // By definition (the input gradient of the SAME conv): out[o * 2 + k - 0] += x[o] * f[k].
  at::Tensor ref = at::zeros({1, 6, 6, 4});
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t u = 0; u < 3; ++u)
        for (int64_t v = 0; v < 3; ++v) {
          const int64_t y = i * 2 + u, xx = j * 2 + v;
          if (y >= 6 || xx >= 6) continue;
          for (int64_t co = 0; co < 4; ++co)
            for (int64_t ci = 0; ci < 2; ++ci)
              ref[0][y][xx][co] += x[0][i][j][ci] * f[u][v][co][ci];
        }
  at::Tensor y = RunModel(m, ToNchw(x));
  EXPECT_TRUE(at::allclose(y, ref, 1e-4, 1e-5)) << (y - ref).abs().max();
}

TEST(GraphConverterTest, StridedSliceOnComputedShapesIsFolded) {
  // Shape -> StridedSlice -> Pack -> Reshape, as Keras exports write a reshape.
  GraphBuilder b;
  b.Placeholder("x", {1, 2, 2, 3});
  b.Const("b0", at::tensor({0}));
  b.Const("b1", at::tensor({1}));
  b.Const("s1", at::tensor({1}));
  b.Const("minus1", at::scalar_tensor(-1, at::kLong));
  b.Const("two", at::scalar_tensor(2, at::kLong));
  b.Op("shape", "Shape", {"x"});
  b.Op("batch", "StridedSlice", {"shape", "b0", "b1", "s1"},
       {{"shrink_axis_mask", json{{"i", "1"}}}});
  b.Op("target", "Pack", {"batch", "minus1", "two"}, {{"axis", json{{"i", "0"}}}});
  b.Op("rs", "Reshape", {"x", "target"});
  ConvertedModel m = Convert(b, {"rs"});
  at::Tensor x = at::randn({2, 2, 2, 3});  // batch 2 through a graph built at batch 1
  at::Tensor y = RunModel(m, ToNchw(x));
  EXPECT_TRUE(at::allclose(y, x.reshape({2, 6, 2})));
  EXPECT_EQ(m.folded, 2);  // StridedSlice and Pack (Shape of the input is read statically)
}

TEST(GraphConverterTest, UnsupportedOpsAreListed) {
  GraphBuilder b;
  b.Placeholder("x", {1, 4});
  b.Op("a", "NonMaxSuppressionV5", {"x"});
  b.Op("b", "TensorArrayV3", {"a"});
  auto m = ConvertGraph(b.Build(), ConvertOptions{{"b"}});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(m.status().message()),
              ::testing::HasSubstr("NonMaxSuppressionV5, TensorArrayV3"));
}

TEST(TfjsGraphTest, DequantisesUint8AndFloat16) {
  json model = {
      {"format", "graph-model"},
      {"modelTopology", json{{"node", json::array({json{{"name", "q"}, {"op", "Const"}},
                                                   json{{"name", "h"}, {"op", "Const"}}})}}},
      {"weightsManifest",
       json::array({json{
           {"paths", {"w.bin"}},
           {"weights", json::array({json{{"name", "q"},
                                         {"shape", {3}},
                                         {"dtype", "float32"},
                                         {"quantization",
                                          json{{"dtype", "uint8"}, {"scale", 0.5}, {"min", -1.0}}}},
                                    json{{"name", "h"},
                                         {"shape", {2}},
                                         {"dtype", "float32"},
                                         {"quantization", json{{"dtype", "float16"}}}}})}}})}};
  std::string blob = {0, 2, static_cast<char>(255)};
  const uint16_t halves[2] = {0x3c00, 0xc200};  // 1.0, -3.0
  blob.append(reinterpret_cast<const char*>(halves), 4);
  auto g = ParseTfjsGraph(model, blob);
  ASSERT_TRUE(g.ok()) << g.status();
  at::Tensor q = g->consts.at("q");
  EXPECT_FLOAT_EQ(q[0].item<float>(), -1.f);
  EXPECT_FLOAT_EQ(q[1].item<float>(), 0.f);
  EXPECT_FLOAT_EQ(q[2].item<float>(), 126.5f);
  EXPECT_FLOAT_EQ(g->consts.at("h")[1].item<float>(), -3.f);
  EXPECT_FALSE(ParseTfjsGraph(model, blob.substr(0, 5)).ok());  // short shard
}

// Shapes found by fuzz/tfjs_graph_fuzzer.cc: element counts that overflowed int64 (undefined
// behaviour) or whose byte count wrapped to 0 past the shard check, and a negative dimension;
// each is INVALID_ARGUMENT before any tensor is made.
TEST(TfjsGraphTest, OverflowingAndNegativeShapesAreInvalidArgument) {
  const std::string blob(8, '\0');
  auto model = [](json shape, json quantization) {
    json spec = {{"name", "x"}, {"shape", shape}, {"dtype", "float32"}};
    if (!quantization.is_null()) spec["quantization"] = quantization;
    return json{
        {"modelTopology", json{{"node", json::array({json{{"name", "x"}, {"op", "Const"}}})}}},
        {"weightsManifest",
         json::array({json{
             {"paths", {"w.bin"}},
             {"weights", json::array({json{{"name", "pad"}, {"shape", {1}}, {"dtype", "float32"}},
                                      spec})}}})}};
  };
  const json u8 = {{"dtype", "uint8"}, {"scale", 1.0}, {"min", 0.0}};
  for (const json& m :
       {model({4294967296LL, 4294967296LL}, nullptr), model({4611686018427387904LL}, nullptr),
        model({4611686018427387904LL, 4}, u8), model({-1}, nullptr), model({2, -3}, u8),
        model({2}, nullptr)}) {
    auto g = ParseTfjsGraph(m, blob);
    EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument) << m.dump();
  }
  auto ok = ParseTfjsGraph(model({1, 0}, nullptr), blob);  // a zero-size tensor is fine
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->consts.at("x").numel(), 0);
}

// ImportGraphModel: writes the folder (model.pt that loads, config.yaml, .stamp), skips while
// the key matches, re-imports when the config changes, and leaves the old folder in place when
// an import fails.
TEST(GraphImporterTest, WritesStampsSkipsAndKeepsOldFolderOnFailure) {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("graph_importer_test_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "src");
  auto write_model = [&](const std::string& op) {
    GraphBuilder b;
    b.Placeholder("x", {1, 4});
    b.Op("y", op, {"x"});
    std::ofstream(dir / "src" / "model.json") << b.Model().dump();
    std::ofstream(dir / "src" / "w.bin", std::ios::binary) << b.blob_;
  };
  write_model("Sigmoid");
  GraphImportOptions o;
  o.model_json = (dir / "src" / "model.json").string();
  o.output_dir = (dir / "models" / "tiny").string();
  o.config_yaml = "name: tiny\n";
  o.source_integrity = "sha512-test";
  auto r = RunGraphImport(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->skipped);
  EXPECT_EQ(r->output_shapes, std::vector<std::string>{"[1,4]"});
  for (const char* f : {"model.pt", "config.yaml", ".stamp"}) {
    EXPECT_TRUE(fs::exists(fs::path(o.output_dir) / f)) << f;
  }
  torch::jit::Module m = torch::jit::load((fs::path(o.output_dir) / "model.pt").string());
  at::Tensor x = at::randn({3, 4});
  EXPECT_TRUE(at::allclose(m.forward({x}).toTensor(), at::sigmoid(x)));

  r = RunGraphImport(o);  // same key: skipped
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->skipped);

  o.config_yaml = "name: tiny\nversion: \"2\"\n";  // new key: re-imported
  r = RunGraphImport(o);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->skipped);

  write_model("NotARealOp");  // fails: the previous folder stays, nothing half-written
  o.force = true;
  EXPECT_EQ(ImportGraphModel(o).code(), absl::StatusCode::kUnimplemented);
  EXPECT_TRUE(fs::exists(fs::path(o.output_dir) / "model.pt"));
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir / "models")) entries += e.is_directory() ? 1 : 0;
  EXPECT_EQ(entries, 1);  // no temporaries left behind

  o.config_yaml = "[not, a, mapping]";
  EXPECT_EQ(ImportGraphModel(o).code(), absl::StatusCode::kInvalidArgument);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace stratus::import_graph
