#include "tools/import/faceapi_models.h"

#include <torch/script.h>

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace stratus::import {
namespace {

// An intermediate value of the generated forward(): its TorchScript variable and NCHW size.
// Sizes are static because every face-api net has a fixed input size, and TF's SAME padding
// depends on the input size.
struct Var {
  std::string v;
  int64_t c = 0, h = 0, w = 0;
};

enum class Pad { kSame, kValid };

// The TF.js epsilon of face-api's SSD batch norm (float32 0.001).
constexpr double kBatchNormEpsilon = 0.0010000000474974513;

// Accumulates parameters in a torch::jit::Module and the statements of its forward().
// Errors are thrown (std::runtime_error) and turned into a Status by BuildFaceApiModel.
class ScriptNet {
 public:
  ScriptNet(const std::string& class_name, const TfjsWeightMap& weights)
      : module_(c10::QualifiedName("__torch__", class_name)), weights_(weights) {
    module_.register_attribute("training", c10::BoolType::get(), false);
  }

  // ---- weights ----

  // A TF.js tensor as a float tensor in TF layout; `shape` is checked when given.
  torch::Tensor Tf(const std::string& name, std::vector<int64_t> shape = {}) const {
    auto it = weights_.find(name);
    if (it == weights_.end()) throw std::runtime_error("missing weight " + name);
    const TfjsTensor& t = it->second;
    if (!shape.empty() && shape != t.shape) {
      throw std::runtime_error(absl::StrCat("weight ", name, " has shape [",
                                            absl::StrJoin(t.shape, ","), "], expected [",
                                            absl::StrJoin(shape, ","), "]"));
    }
    return torch::from_blob(const_cast<float*>(t.values.data()), t.shape, torch::kFloat32)
        .clone();
  }
  // Conv filters HWIO -> OIHW.
  torch::Tensor Hwio(const std::string& name) const {
    torch::Tensor t = Tf(name);
    if (t.dim() != 4) throw std::runtime_error(name + " is not a 4-D conv filter");
    return t.permute({3, 2, 0, 1}).contiguous();
  }
  // Depthwise filters HW(C)(M) -> (C*M)1HW, output channel c*M+m as in TF.
  torch::Tensor Depthwise(const std::string& name) const {
    torch::Tensor t = Tf(name);
    if (t.dim() != 4) throw std::runtime_error(name + " is not a 4-D depthwise filter");
    const int64_t c = t.size(2), m = t.size(3);
    return t.permute({2, 3, 0, 1}).reshape({c * m, 1, t.size(0), t.size(1)}).contiguous();
  }

  // Registers `t` as a parameter and returns its expression ("self.name").
  std::string Param(const std::string& name, torch::Tensor t) {
    std::string n = absl::StrReplaceAll(name, {{"/", "_"}, {"-", "_"}, {".", "_"}});
    if (module_.hasattr(n)) n = absl::StrCat(n, "_", ++counter_);
    t = t.to(torch::kFloat32);
    // channels_last weights let oneDNN run the convolutions without reordering (runtime/MODELS.md, layout).
    t = t.dim() == 4 ? t.contiguous(at::MemoryFormat::ChannelsLast) : t.contiguous();
    module_.register_parameter(n, t, /*is_buffer=*/false);
    return "self." + n;
  }

  // ---- statements ----

  std::string Emit(const std::string& expr) {
    std::string v = absl::StrCat("v", ++counter_);
    body_ << "    " << v << " = " << expr << "\n";
    return v;
  }
  Var Emit(const std::string& expr, const Var& shape_like) {
    Var out = shape_like;
    out.v = Emit(expr);
    return out;
  }

  // Convolution with TF padding semantics. `w` is OIHW (or (C*M)1HW for depthwise, groups=C).
  Var Conv(const Var& x, const torch::Tensor& w, const torch::Tensor& bias, int stride, Pad pad,
           int64_t groups, const std::string& name) {
    const int64_t kh = w.size(2), kw = w.size(3);
    if (w.size(1) * groups != x.c) {
      throw std::runtime_error(absl::StrCat(name, ": filter expects ", w.size(1) * groups,
                                            " input channels, the input has ", x.c));
    }
    int64_t pt = 0, pb = 0, pl = 0, pr = 0, oh, ow;
    if (pad == Pad::kSame) {
      oh = (x.h + stride - 1) / stride;
      ow = (x.w + stride - 1) / stride;
      const int64_t th = std::max<int64_t>((oh - 1) * stride + kh - x.h, 0);
      const int64_t tw = std::max<int64_t>((ow - 1) * stride + kw - x.w, 0);
      pt = th / 2, pb = th - pt, pl = tw / 2, pr = tw - pl;  // TF pads more at bottom/right
    } else {
      oh = (x.h - kh) / stride + 1;
      ow = (x.w - kw) / stride + 1;
    }
    std::string in = x.v;
    torch::Tensor weight = w;
    int64_t ph = pt, pw = pl;
    if (pt != pb || pl != pr) {
      if (groups > 1 && (pb == pt || pb == pt + 1) && (pr == pl || pr == pl + 1)) {
        // TF pads one more at the bottom/right (stride 2 on an even size). For a depthwise conv
        // (memory-bound) copying the input into a padded tensor costs more than the conv: grow
        // the kernel by a zero row on top / zero column on the left and pad symmetrically
        // instead. Same windows, same sums, 1.4-2.3x faster on these CPUs. Dense convs are
        // compute-bound: there the 16/9 extra work loses to the copy, so they pad.
        weight = torch::constant_pad_nd(w, {pr - pl, 0, pb - pt, 0}, 0.0);
        ph = pb;
        pw = pr;
      } else {
        in = Emit(absl::StrCat("torch.constant_pad_nd(", x.v, ", [", pl, ", ", pr, ", ", pt, ", ",
                               pb, "], 0.0)"));
        ph = pw = 0;
      }
    }
    // LibTorch 1.13 sends a 1x1, stride-1, batch<16 convolution to its slow THNN path when it
    // runs on one thread (ConvParams::use_mkldnn); a dilation, which means nothing for a 1x1
    // kernel, sends it to oneDNN: 2x faster single-threaded, identical results, any device.
    // Only where oneDNN then takes it (inputs over 20480 elements); small ones stay as they are.
    const int dilation =
        (kh == 1 && kw == 1 && stride == 1 && ph == 0 && pw == 0 && x.c * x.h * x.w > 20480) ? 2
                                                                                            : 1;
    const std::string wv = Param(name + "_w", weight);
    const std::string bv = bias.defined() ? Param(name + "_b", bias) : "None";
    Var out{"", w.size(0), oh, ow};
    out.v = Emit(absl::StrCat("torch.conv2d(", in, ", ", wv, ", ", bv, ", [", stride, ", ", stride,
                              "], [", ph, ", ", pw, "], [", dilation, ", ", dilation, "], ",
                              groups, ")"));
    return out;
  }

  Var Relu(const Var& x, bool inplace) {
    return Emit(absl::StrCat(inplace ? "torch.relu_(" : "torch.relu(", x.v, ")"), x);
  }
  Var Relu6(const Var& x) { return Emit(absl::StrCat("torch.clamp_(", x.v, ", 0.0, 6.0)"), x); }
  Var Add(const Var& a, const Var& b) { return Emit(absl::StrCat("torch.add(", a.v, ", ", b.v, ")"), a); }

  // Max pooling with TF SAME semantics (padding never wins the max).
  Var MaxPoolSame(const Var& x, int k, int s) {
    const int64_t oh = (x.h + s - 1) / s;
    const int64_t th = std::max<int64_t>((oh - 1) * s + k - x.h, 0);
    const int64_t before = th / 2, after = th - before;
    if (after != before && after != before + 1) throw std::runtime_error("unsupported max pool");
    const bool ceil = after != before;  // one extra window at the end, as TF's extra pad
    Var out{"", x.c, oh, (x.w + s - 1) / s};
    out.v = Emit(absl::StrCat("torch.max_pool2d(", x.v, ", [", k, ", ", k, "], [", s, ", ", s,
                              "], [", before, ", ", before, "], [1, 1], ",
                              ceil ? "True" : "False", ")"));
    return out;
  }
  Var MaxPoolValid(const Var& x, int k, int s) {
    Var out{"", x.c, (x.h - k) / s + 1, (x.w - k) / s + 1};
    out.v = Emit(absl::StrCat("torch.max_pool2d(", x.v, ", [", k, ", ", k, "], [", s, ", ", s,
                              "], [0, 0], [1, 1], False)"));
    return out;
  }
  Var AvgPoolValid(const Var& x, int k, int s) {
    Var out{"", x.c, (x.h - k) / s + 1, (x.w - k) / s + 1};
    out.v = Emit(absl::StrCat("torch.avg_pool2d(", x.v, ", [", k, ", ", k, "], [", s, ", ", s,
                              "], [0, 0], False, True, None)"));
    return out;
  }

  // x [B,C,1,1] (or any [B,...]) flattened, times a TF.js fully connected layer ([in,out]).
  std::string Dense(const std::string& x, const std::string& w_name, const std::string& b_name,
                    const std::string& name) {
    const std::string flat = Emit(absl::StrCat(x, ".reshape([", x, ".size(0), -1])"));
    const std::string wv = Param(name + "_w", Tf(w_name));
    std::string y = Emit(absl::StrCat("torch.matmul(", flat, ", ", wv, ")"));
    if (!b_name.empty()) y = Emit(absl::StrCat("torch.add(", y, ", ", Param(name + "_b", Tf(b_name)), ")"));
    return y;
  }

  // TF separableConv2d(x, depthwise, pointwise, stride, 'same') + bias.
  Var SeparableConv(const Var& x, const std::string& prefix, int stride) {
    Var d = Conv(x, Depthwise(prefix + "/depthwise_filter"), torch::Tensor(), stride, Pad::kSame,
                 x.c, prefix + "/dw");
    return Conv(d, Hwio(prefix + "/pointwise_filter"), Tf(prefix + "/bias"), 1, Pad::kSame, 1,
                prefix + "/pw");
  }

  // Compiles forward(self, x) returning `ret` and saves the module.
  void Save(const std::string& ret, const std::filesystem::path& path) {
    std::string src = "def forward(self, x):\n" + body_.str() + "    return " + ret + "\n";
    module_.define(src);
    module_.save(path.string());
  }

 private:
  torch::jit::Module module_;
  const TfjsWeightMap& weights_;
  std::ostringstream body_;
  int counter_ = 0;
};

// ---------------------------------------------------------------------------------------------
// SSD MobileNet v1 (ssdMobilenetv1/*.ts). Depthwise batch norms are folded into the filters.

Var SsdPointwise(ScriptNet& n, const Var& x, const std::string& prefix, int stride) {
  return n.Relu6(n.Conv(x, n.Hwio(prefix + "/weights"), n.Tf(prefix + "/convolution_bn_offset"),
                        stride, Pad::kSame, 1, prefix));
}

Var SsdDepthwise(ScriptNet& n, const Var& x, const std::string& prefix, int stride) {
  torch::Tensor w = n.Depthwise(prefix + "/depthwise_weights").to(torch::kFloat64);
  torch::Tensor gamma = n.Tf(prefix + "/BatchNorm/gamma").to(torch::kFloat64);
  torch::Tensor beta = n.Tf(prefix + "/BatchNorm/beta").to(torch::kFloat64);
  torch::Tensor mean = n.Tf(prefix + "/BatchNorm/moving_mean").to(torch::kFloat64);
  torch::Tensor var = n.Tf(prefix + "/BatchNorm/moving_variance").to(torch::kFloat64);
  torch::Tensor k = gamma / torch::sqrt(var + kBatchNormEpsilon);
  torch::Tensor wf = (w * k.view({-1, 1, 1, 1})).to(torch::kFloat32);
  torch::Tensor bf = (beta - mean * k).to(torch::kFloat32);
  return n.Relu6(n.Conv(x, wf, bf, stride, Pad::kSame, x.c, prefix));
}

// One box predictor: NHWC-ordered [B, H*W*anchors, 4] encodings and [B, H*W*anchors, 3] classes.
std::pair<std::string, std::string> SsdBoxPredictor(ScriptNet& n, const Var& x, int idx) {
  const std::string p = absl::StrCat("Prediction/BoxPredictor_", idx);
  Var box = n.Conv(x, n.Hwio(p + "/BoxEncodingPredictor/weights"),
                   n.Tf(p + "/BoxEncodingPredictor/biases"), 1, Pad::kSame, 1,
                   p + "/BoxEncodingPredictor");
  Var cls = n.Conv(x, n.Hwio(p + "/ClassPredictor/weights"), n.Tf(p + "/ClassPredictor/biases"),
                   1, Pad::kSame, 1, p + "/ClassPredictor");
  std::string b = n.Emit(absl::StrCat(box.v, ".permute([0, 2, 3, 1]).reshape([", box.v,
                                      ".size(0), -1, 4])"));
  std::string c = n.Emit(absl::StrCat(cls.v, ".permute([0, 2, 3, 1]).reshape([", cls.v,
                                      ".size(0), -1, 3])"));
  return {b, c};
}

void BuildSsd(ScriptNet& n, const std::filesystem::path& out) {
  Var x{"x", 3, 512, 512};
  x = SsdPointwise(n, x, "MobilenetV1/Conv2d_0_pointwise", 2);
  Var conv11;
  for (int i = 1; i <= 13; ++i) {
    const int stride = (i == 2 || i == 4 || i == 6 || i == 12) ? 2 : 1;
    x = SsdDepthwise(n, x, absl::StrCat("MobilenetV1/Conv2d_", i, "_depthwise"), stride);
    x = SsdPointwise(n, x, absl::StrCat("MobilenetV1/Conv2d_", i, "_pointwise"), 1);
    if (i == 11) conv11 = x;
  }
  std::vector<Var> p(8);
  Var prev = x;
  for (int i = 0; i < 8; ++i) {
    p[i] = SsdPointwise(n, prev, absl::StrCat("Prediction/Conv2d_", i, "_pointwise"),
                        i % 2 == 1 ? 2 : 1);
    prev = p[i];
  }
  const Var sources[6] = {conv11, x, p[1], p[3], p[5], p[7]};
  std::vector<std::string> boxes, classes;
  for (int i = 0; i < 6; ++i) {
    auto [b, c] = SsdBoxPredictor(n, sources[i], i);
    boxes.push_back(b);
    classes.push_back(c);
  }
  const std::string enc = n.Emit(absl::StrCat("torch.cat([", absl::StrJoin(boxes, ", "), "], 1)"));
  const std::string cls =
      n.Emit(absl::StrCat("torch.cat([", absl::StrJoin(classes, ", "), "], 1)"));
  const std::string scores = n.Emit(absl::StrCat("torch.sigmoid(", cls, ".select(2, 1))"));

  // outputLayer.ts: anchors (ymin,xmin,ymax,xmax) -> centers/sizes, then the SSD box decoding
  // with scales 10 (centers) and 5 (sizes), operation by operation as face-api does it.
  torch::Tensor anchors = n.Tf("Output/extra_dim");
  if (anchors.dim() != 3 || anchors.size(2) != 4) throw std::runtime_error("bad Output/extra_dim");
  const std::string a = n.Param("anchors", anchors.reshape({-1, 4}));
  const std::string sy = n.Emit(absl::StrCat(a, "[:, 2] - ", a, "[:, 0]"));
  const std::string sx = n.Emit(absl::StrCat(a, "[:, 3] - ", a, "[:, 1]"));
  const std::string cy = n.Emit(absl::StrCat(a, "[:, 0] + ", sy, " / 2.0"));
  const std::string cx = n.Emit(absl::StrCat(a, "[:, 1] + ", sx, " / 2.0"));
  const std::string hh = n.Emit(absl::StrCat("torch.exp(", enc, "[:, :, 2] / 5.0) * ", sy, " / 2.0"));
  const std::string yc = n.Emit(absl::StrCat(enc, "[:, :, 0] / 10.0 * ", sy, " + ", cy));
  const std::string hw = n.Emit(absl::StrCat("torch.exp(", enc, "[:, :, 3] / 5.0) * ", sx, " / 2.0"));
  const std::string xc = n.Emit(absl::StrCat(enc, "[:, :, 1] / 10.0 * ", sx, " + ", cx));
  const std::string decoded =
      n.Emit(absl::StrCat("torch.stack([", yc, " - ", hh, ", ", xc, " - ", hw, ", ", yc, " + ", hh,
                          ", ", xc, " + ", hw, "], 2)"));
  n.Save(absl::StrCat("(", decoded, ", ", scores, ")"), out);
}

// ---------------------------------------------------------------------------------------------
// FaceFeatureExtractor (faceFeatureExtractor/*.ts): four dense blocks of separable convolutions,
// shared by the 68-point landmark net and the expression net.

Var DenseBlock4(ScriptNet& n, const Var& x, const std::string& prefix, bool first) {
  Var out1;
  if (first) {
    out1 = n.Conv(x, n.Hwio(prefix + "/conv0/filters"), n.Tf(prefix + "/conv0/bias"), 2,
                  Pad::kSame, 1, prefix + "/conv0");
  } else {
    out1 = n.SeparableConv(x, prefix + "/conv0", 2);
  }
  out1 = n.Relu(out1, /*inplace=*/true);
  Var out2 = n.SeparableConv(out1, prefix + "/conv1", 1);
  Var in3 = n.Relu(n.Add(out1, out2), true);
  Var out3 = n.SeparableConv(in3, prefix + "/conv2", 1);
  Var in4 = n.Relu(n.Add(out1, n.Add(out2, out3)), true);
  Var out4 = n.SeparableConv(in4, prefix + "/conv3", 1);
  return n.Relu(n.Add(out1, n.Add(out2, n.Add(out3, out4))), true);
}

std::string FaceFeatureExtractor(ScriptNet& n) {
  Var x{"x", 3, 112, 112};
  x = DenseBlock4(n, x, "dense0", true);
  x = DenseBlock4(n, x, "dense1", false);
  x = DenseBlock4(n, x, "dense2", false);
  x = DenseBlock4(n, x, "dense3", false);
  x = n.AvgPoolValid(x, 7, 2);
  if (x.h != 1 || x.w != 1) throw std::runtime_error("feature extractor output is not 1x1");
  return x.v;
}

void BuildLandmarks68(ScriptNet& n, const std::filesystem::path& out) {
  const std::string f = FaceFeatureExtractor(n);
  const std::string y = n.Dense(f, "fc/weights", "fc/bias", "fc");
  n.Save(y, out);  // [B,136]: x0,y0,x1,y1,... as fractions of the padded 112x112 input
}

void BuildExpression(ScriptNet& n, const std::filesystem::path& out) {
  const std::string f = FaceFeatureExtractor(n);
  const std::string y = n.Dense(f, "fc/weights", "fc/bias", "fc");
  n.Save(n.Emit(absl::StrCat("torch.softmax(", y, ", 1)")), out);
}

// ---------------------------------------------------------------------------------------------
// FaceRecognitionNet (faceRecognitionNet/*.ts): dlib's ResNet-34. conv + bias followed by the
// scale layer (x * weights + biases) is folded into one convolution.

Var ResConv(ScriptNet& n, const Var& x, const std::string& prefix, int stride, Pad pad, bool relu) {
  torch::Tensor w = n.Hwio(prefix + "/conv/filters").to(torch::kFloat64);
  torch::Tensor b = n.Tf(prefix + "/conv/bias").to(torch::kFloat64);
  torch::Tensor s = n.Tf(prefix + "/scale/weights").to(torch::kFloat64);
  torch::Tensor sb = n.Tf(prefix + "/scale/biases").to(torch::kFloat64);
  torch::Tensor wf = (w * s.view({-1, 1, 1, 1})).to(torch::kFloat32);
  torch::Tensor bf = (b * s + sb).to(torch::kFloat32);
  Var y = n.Conv(x, wf, bf, stride, pad, 1, prefix);
  return relu ? n.Relu(y, true) : y;
}

Var Residual(ScriptNet& n, const Var& x, const std::string& prefix) {
  Var out = ResConv(n, x, prefix + "/conv1", 1, Pad::kSame, true);
  out = ResConv(n, out, prefix + "/conv2", 1, Pad::kSame, false);
  return n.Relu(n.Add(out, x), true);
}

Var ResidualDown(ScriptNet& n, const Var& x, const std::string& prefix) {
  Var out = ResConv(n, x, prefix + "/conv1", 2, Pad::kValid, true);
  out = ResConv(n, out, prefix + "/conv2", 1, Pad::kSame, false);
  Var pooled = n.AvgPoolValid(x, 2, 2);
  if (pooled.h != out.h || pooled.w != out.w) {
    // face-api appends one row and one column of zeros to the convolution branch.
    if (pooled.h != out.h + 1 || pooled.w != out.w + 1) throw std::runtime_error("bad shapes");
    Var padded = pooled;
    padded.c = out.c;
    out = n.Emit(absl::StrCat("torch.constant_pad_nd(", out.v, ", [0, 1, 0, 1], 0.0)"), padded);
  }
  if (pooled.c != out.c) {
    if (out.c != 2 * pooled.c) throw std::runtime_error("bad channel counts in " + prefix);
    pooled = n.Emit(absl::StrCat("torch.cat([", pooled.v, ", torch.zeros_like(", pooled.v, ")], 1)"),
                    out);
  }
  return n.Relu(n.Add(pooled, out), true);
}

void BuildRecognition(ScriptNet& n, const std::filesystem::path& out) {
  Var x{"x", 3, 150, 150};
  x = ResConv(n, x, "conv32_down", 2, Pad::kValid, true);
  x = n.MaxPoolValid(x, 3, 2);
  x = Residual(n, x, "conv32_1");
  x = Residual(n, x, "conv32_2");
  x = Residual(n, x, "conv32_3");
  x = ResidualDown(n, x, "conv64_down");
  x = Residual(n, x, "conv64_1");
  x = Residual(n, x, "conv64_2");
  x = Residual(n, x, "conv64_3");
  x = ResidualDown(n, x, "conv128_down");
  x = Residual(n, x, "conv128_1");
  x = Residual(n, x, "conv128_2");
  x = ResidualDown(n, x, "conv256_down");
  x = Residual(n, x, "conv256_1");
  x = Residual(n, x, "conv256_2");
  x = ResidualDown(n, x, "conv256_down_out");
  const std::string avg = n.Emit(absl::StrCat("torch.mean(", x.v, ", [2, 3])"));
  n.Save(n.Dense(avg, "fc", "", "fc"), out);
}

// ---------------------------------------------------------------------------------------------
// AgeGenderNet (ageGenderNet/*.ts, xception/TinyXception.ts with two main blocks).

Var XConv(ScriptNet& n, const Var& x, const std::string& prefix, int stride) {
  return n.Conv(x, n.Hwio(prefix + "/filters"), n.Tf(prefix + "/bias"), stride, Pad::kSame, 1,
                prefix);
}

Var ReductionBlock(ScriptNet& n, const Var& x, const std::string& prefix, bool activate_input) {
  Var out = activate_input ? n.Relu(x, false) : x;
  out = n.SeparableConv(out, prefix + "/separable_conv0", 1);
  out = n.SeparableConv(n.Relu(out, true), prefix + "/separable_conv1", 1);
  out = n.MaxPoolSame(out, 3, 2);
  return n.Add(out, XConv(n, x, prefix + "/expansion_conv", 2));
}

Var MainBlock(ScriptNet& n, const Var& x, const std::string& prefix) {
  Var out = n.SeparableConv(n.Relu(x, false), prefix + "/separable_conv0", 1);
  out = n.SeparableConv(n.Relu(out, true), prefix + "/separable_conv1", 1);
  out = n.SeparableConv(n.Relu(out, true), prefix + "/separable_conv2", 1);
  return n.Add(out, x);
}

void BuildAgeGender(ScriptNet& n, const std::filesystem::path& out) {
  Var x{"x", 3, 112, 112};
  x = n.Relu(XConv(n, x, "entry_flow/conv_in", 2), true);
  x = ReductionBlock(n, x, "entry_flow/reduction_block_0", false);
  x = ReductionBlock(n, x, "entry_flow/reduction_block_1", true);
  x = MainBlock(n, x, "middle_flow/main_block_0");
  x = MainBlock(n, x, "middle_flow/main_block_1");
  x = ReductionBlock(n, x, "exit_flow/reduction_block", true);
  x = n.Relu(n.SeparableConv(x, "exit_flow/separable_conv", 1), true);
  x = n.AvgPoolValid(x, 7, 2);
  if (x.h != 1 || x.w != 1) throw std::runtime_error("xception output is not 1x1");
  const std::string age_raw = n.Dense(x.v, "fc/age/weights", "fc/age/bias", "fc_age");
  const std::string age = n.Emit(absl::StrCat(age_raw, ".reshape([-1])"));
  const std::string g = n.Dense(x.v, "fc/gender/weights", "fc/gender/bias", "fc_gender");
  const std::string gender = n.Emit(absl::StrCat("torch.softmax(", g, ", 1)"));
  n.Save(absl::StrCat("(", age, ", ", gender, ")"), out);
}

}  // namespace

absl::Status BuildFaceApiModel(FaceApiNet net, const TfjsWeightMap& weights,
                               const std::filesystem::path& model_pt) {
  try {
    switch (net) {
      case FaceApiNet::kSsdMobilenetV1: {
        ScriptNet n("FaceApiSsdMobilenetV1", weights);
        BuildSsd(n, model_pt);
        break;
      }
      case FaceApiNet::kFaceLandmark68: {
        ScriptNet n("FaceApiLandmark68Net", weights);
        BuildLandmarks68(n, model_pt);
        break;
      }
      case FaceApiNet::kFaceRecognition: {
        ScriptNet n("FaceApiRecognitionNet", weights);
        BuildRecognition(n, model_pt);
        break;
      }
      case FaceApiNet::kAgeGender: {
        ScriptNet n("FaceApiAgeGenderNet", weights);
        BuildAgeGender(n, model_pt);
        break;
      }
      case FaceApiNet::kFaceExpression: {
        ScriptNet n("FaceApiExpressionNet", weights);
        BuildExpression(n, model_pt);
        break;
      }
    }
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("LibTorch: ", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(e.what());
  }
  return absl::OkStatus();
}

}  // namespace stratus::import
