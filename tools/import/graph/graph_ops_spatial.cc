// The window and linear ops of the op table (graph_ops.h): convolutions (plain, depthwise,
// transposed), pooling, resizes and matmuls, with the padding they absorb and the activations
// TF fuses into them.
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "tools/import/graph/graph_ops.h"

namespace stratus::import_graph::internal {
namespace {

// Activation after a fused op; returns the variable holding the result.
absl::StatusOr<std::string> EmitActivation(Converter& c, const std::string& act,
                                           const std::string& y, Value* prelu_alpha,
                                           const Perm& perm) {
  const NodeDef& n = c.node();
  std::string expr;
  if (act.empty() || act == "Identity") return y;
  if (act == "Relu")
    expr = absl::StrCat("torch.relu(", y, ")");
  else if (act == "Relu6")
    expr = absl::StrCat("torch.hardtanh(", y, ", 0.0, 6.0)");
  else if (act == "Elu")
    expr = absl::StrCat("torch.elu(", y, ")");
  else if (act == "Sigmoid")
    expr = absl::StrCat("torch.sigmoid(", y, ")");
  else if (act == "Tanh")
    expr = absl::StrCat("torch.tanh(", y, ")");
  else if (act == "LeakyRelu") {
    STRATUS_ASSIGN_OR_RETURN(double alpha, AttrFloat(n, "leakyrelu_alpha", 0.2));
    expr = absl::StrCat("torch.leaky_relu(", y, ", ", FloatLit(static_cast<float>(alpha)), ")");
  } else if (act == "Prelu") {
    if (prelu_alpha == nullptr) return c.Error("Prelu without alpha");
    const std::string alpha = c.Operand(*prelu_alpha, perm);
    expr = absl::StrCat("torch.where(", y, " > 0.0, ", y, ", ", y, " * ", alpha, ")");
  } else {
    return c.Error("unsupported fused activation ", act);
  }
  const std::string out = c.NewVar();
  c.Emit(absl::StrCat(out, " = ", expr));
  return out;
}

struct SpatialAttrs {
  bool nhwc = true;
  size_t h = 1, w = 2, ch = 3;
  std::vector<int64_t> strides{1, 1}, dilations{1, 1};
  std::string padding = "VALID";
  std::vector<int64_t> explicit_pads;  // 8 values in data_format order
  Perm want{0, 3, 1, 2};
};

absl::StatusOr<SpatialAttrs> ReadSpatial(Converter& c, const char* strides_key) {
  const NodeDef& n = c.node();
  SpatialAttrs s;
  STRATUS_ASSIGN_OR_RETURN(std::string fmt, AttrString(n, "data_format", "NHWC"));
  if (fmt == "NCHW") {
    s.nhwc = false;
    s.h = 2, s.w = 3, s.ch = 1;
    s.want = Identity(4);
  } else if (fmt != "NHWC") {
    return c.Error("unsupported data_format ", fmt);
  }
  STRATUS_ASSIGN_OR_RETURN(std::vector<int64_t> st, AttrInts(n, strides_key));
  if (st.size() == 4) s.strides = {st[s.h], st[s.w]};
  STRATUS_ASSIGN_OR_RETURN(std::vector<int64_t> dl, AttrInts(n, "dilations"));
  if (dl.size() == 4) s.dilations = {dl[s.h], dl[s.w]};
  STRATUS_ASSIGN_OR_RETURN(s.padding, AttrString(n, "padding", "VALID"));
  STRATUS_ASSIGN_OR_RETURN(s.explicit_pads, AttrInts(n, "explicit_paddings"));
  return s;
}

// Padding [top, bottom, left, right] of a window op: the deferred pad of `x` that the op can
// absorb (constant `absorb_value` on the spatial axes only) plus SAME or EXPLICIT padding.
// Returns the unpadded input in NCHW and sets `pads`; `x` is materialised when its pad cannot
// be absorbed.
absl::StatusOr<std::string> WindowInput(Converter& c, Value& x, const SpatialAttrs& s, int64_t kh,
                                        int64_t kw, double absorb_value,
                                        std::array<int64_t, 4>* pads, int64_t* in_h,
                                        int64_t* in_w) {
  if (x.rank() != 4) return c.Error("expects a rank-4 input, got rank ", x.rank());
  *pads = {0, 0, 0, 0};
  Value raw = x;
  if (x.has_pad()) {
    bool ok = x.pad_value == absorb_value || (std::isinf(absorb_value) && std::isinf(x.pad_value) &&
                                              (absorb_value < 0) == (x.pad_value < 0));
    for (size_t a = 0; a < 4; ++a) {
      if (a != s.h && a != s.w && (x.pad_before[a] != 0 || x.pad_after[a] != 0)) ok = false;
    }
    if (ok) {
      *pads = {x.pad_before[s.h], x.pad_after[s.h], x.pad_before[s.w], x.pad_after[s.w]};
      raw.pad_before.clear();
      raw.pad_after.clear();
      raw.shape[s.h] -= (*pads)[0] + (*pads)[1];
      raw.shape[s.w] -= (*pads)[2] + (*pads)[3];
    } else {
      c.Materialize(x);
      raw = x;
    }
  }
  const std::string xv = c.InPerm(raw, s.want);
  int64_t h = raw.shape[s.h] + (*pads)[0] + (*pads)[1];
  int64_t w = raw.shape[s.w] + (*pads)[2] + (*pads)[3];
  if (s.padding == "SAME") {
    auto same = [](int64_t in, int64_t k, int64_t stride, int64_t dil) {
      const int64_t out = (in + stride - 1) / stride;
      const int64_t total = std::max<int64_t>((out - 1) * stride + (k - 1) * dil + 1 - in, 0);
      return std::make_pair(total / 2, total - total / 2);  // TF: the extra pixel after
    };
    auto [t, b] = same(h, kh, s.strides[0], s.dilations[0]);
    auto [l, r] = same(w, kw, s.strides[1], s.dilations[1]);
    (*pads)[0] += t, (*pads)[1] += b, (*pads)[2] += l, (*pads)[3] += r;
    h += t + b;
    w += l + r;
  } else if (s.padding == "EXPLICIT") {
    if (s.explicit_pads.size() != 8) return c.Error("explicit_paddings must have 8 values");
    (*pads)[0] += s.explicit_pads[2 * s.h], (*pads)[1] += s.explicit_pads[2 * s.h + 1];
    (*pads)[2] += s.explicit_pads[2 * s.w], (*pads)[3] += s.explicit_pads[2 * s.w + 1];
    h += s.explicit_pads[2 * s.h] + s.explicit_pads[2 * s.h + 1];
    w += s.explicit_pads[2 * s.w] + s.explicit_pads[2 * s.w + 1];
  } else if (s.padding != "VALID") {
    return c.Error("unsupported padding ", s.padding);
  }
  *in_h = h;
  *in_w = w;
  return xv;
}

// Emits an explicit pad when the window op cannot pad symmetrically itself.
std::string PadIfAsymmetric(Converter& c, const std::string& xv, std::array<int64_t, 4>* pads,
                            double value, bool force = false) {
  const auto& p = *pads;
  if (!force && p[0] == p[1] && p[2] == p[3]) return xv;
  if (p[0] == 0 && p[1] == 0 && p[2] == 0 && p[3] == 0) return xv;
  const std::string out = c.NewVar();
  c.Emit(absl::StrCat(out, " = torch.constant_pad_nd(", xv, ", ", Ints({p[2], p[3], p[0], p[1]}),
                      ", ", FloatLit(value), ")"));
  *pads = {0, 0, 0, 0};
  return out;
}

// Row-interpolation matrix of TF's legacy bilinear resize (align_corners and
// half_pixel_centers both false): src = dst * in / out.
at::Tensor LegacyBilinearMatrix(int64_t in, int64_t out) {
  at::Tensor m = at::zeros({out, in});
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  for (int64_t o = 0; o < out; ++o) {
    const double src = o * scale;
    const int64_t lo = static_cast<int64_t>(std::floor(src));
    const int64_t hi = std::min(lo + 1, in - 1);
    const float frac = static_cast<float>(src - static_cast<double>(lo));
    m[o][lo] = m[o][lo].item<float>() + (1.0f - frac);
    m[o][hi] = m[o][hi].item<float>() + frac;
  }
  return m;
}

}  // namespace

absl::Status PreluOp(Converter& c) {
  Value& x = c.In(0);
  const std::string xv = c.Materialize(x);
  STRATUS_ASSIGN_OR_RETURN(std::string y, EmitActivation(c, "Prelu", xv, &c.In(1), x.perm));
  Value out = x;
  out.var = y;
  out.conv.reset();
  c.SetOut(0, out);
  return absl::OkStatus();
}

absl::Status ConvOp(Converter& c, bool depthwise) {
  const NodeDef& n = c.node();
  STRATUS_ASSIGN_OR_RETURN(SpatialAttrs s, ReadSpatial(c, "strides"));
  Value& x = c.In(0);
  STRATUS_ASSIGN_OR_RETURN(at::Tensor f, c.ConstIn(1));
  if (f.dim() != 4) return c.Error("filter must be rank 4");
  f = f.to(at::kFloat);
  const int64_t kh = f.size(0), kw = f.size(1);
  std::array<int64_t, 4> pads;
  int64_t h, w;
  STRATUS_ASSIGN_OR_RETURN(std::string xv, WindowInput(c, x, s, kh, kw, 0.0, &pads, &h, &w));
  at::Tensor weight;
  int64_t groups = 1, cout;
  if (depthwise) {  // [H, W, C, M] -> [C*M, 1, H, W]; output channel c*M + m as in TF
    const int64_t cin = f.size(2), mult = f.size(3);
    weight = f.permute({2, 3, 0, 1}).reshape({cin * mult, 1, kh, kw});
    groups = cin;
    cout = cin * mult;
  } else {  // HWIO -> OIHW
    weight = f.permute({3, 2, 0, 1});
    cout = f.size(3);
    const int64_t cin = x.shape[s.ch];
    if (cin % f.size(2) != 0) return c.Error("input channels ", cin, " vs filter ", f.size(2));
    groups = cin / f.size(2);
  }
  // Fused ops (_FusedConv2D, FusedDepthwiseConv2dNative).
  std::vector<std::string> fused;
  if (n.attr.contains("fused_ops")) {
    STRATUS_ASSIGN_OR_RETURN(fused, AttrStrings(n, "fused_ops"));
  }
  at::Tensor bias;
  std::string act;
  Value* prelu_alpha = nullptr;
  size_t fi = 0;
  if (fi < fused.size() && fused[fi] == "BiasAdd") {
    STRATUS_ASSIGN_OR_RETURN(bias, c.ConstIn(2));
    bias = bias.to(at::kFloat).reshape({-1});
    ++fi;
  } else if (fi < fused.size() && fused[fi] == "FusedBatchNorm") {
    STRATUS_ASSIGN_OR_RETURN(at::Tensor scale, c.ConstIn(2));
    STRATUS_ASSIGN_OR_RETURN(at::Tensor offset, c.ConstIn(3));
    STRATUS_ASSIGN_OR_RETURN(at::Tensor mean, c.ConstIn(4));
    STRATUS_ASSIGN_OR_RETURN(at::Tensor var, c.ConstIn(5));
    STRATUS_ASSIGN_OR_RETURN(double eps, AttrFloat(n, "epsilon", 1e-3));
    at::Tensor k = scale.to(at::kFloat) / at::sqrt(var.to(at::kFloat) + eps);
    weight = weight * k.reshape({-1, 1, 1, 1});
    bias = offset.to(at::kFloat) - mean.to(at::kFloat) * k;
    ++fi;
  }
  if (fi < fused.size()) {
    act = fused[fi];
    if (act == "Prelu") {
      if (c.num_inputs() < 4) return c.Error("Prelu without alpha input");
      prelu_alpha = &c.In(3);
    }
    ++fi;
  }
  if (fi < fused.size()) return c.Error("unsupported fused_ops sequence");
  weight = c.options().channels_last ? weight.contiguous(at::MemoryFormat::ChannelsLast)
                                     : weight.contiguous();
  xv = PadIfAsymmetric(c, xv, &pads, 0.0);
  const int64_t oh = (h - s.dilations[0] * (kh - 1) - 1) / s.strides[0] + 1;
  const int64_t ow = (w - s.dilations[1] * (kw - 1) - 1) / s.strides[1] + 1;
  std::vector<int64_t> shape = s.nhwc ? std::vector<int64_t>{x.shape[0], oh, ow, cout}
                                      : std::vector<int64_t>{x.shape[0], cout, oh, ow};
  c.AddFlops(2.0 * static_cast<double>(x.shape[0] * oh * ow * cout) *
             static_cast<double>(weight.size(1) * kh * kw));
  auto conv = std::make_shared<ConvStmt>();
  conv->out = c.NewVar();
  conv->x = xv;
  conv->weight = c.AddBuffer(weight);
  conv->bias = bias.defined() ? c.AddBuffer(bias.contiguous()) : "None";
  conv->bias_value = bias;
  conv->stride = s.strides;
  conv->padding = {pads[0], pads[2]};
  conv->dilation = s.dilations;
  conv->groups = groups;
  conv->channels = cout;
  conv->line = c.Emit(absl::StrCat(conv->out, " = torch.conv2d(", xv, ", ", conv->weight, ", ",
                                   conv->bias, ", ", Ints(conv->stride), ", ", Ints(conv->padding),
                                   ", ", Ints(conv->dilation), ", ", groups, ")"));
  Value out;
  out.shape = shape;
  out.perm = s.want;
  STRATUS_ASSIGN_OR_RETURN(out.var, EmitActivation(c, act, conv->out, prelu_alpha, s.want));
  if (act.empty()) out.conv = conv;
  c.SetOut(0, out);
  return absl::OkStatus();
}

// Conv2DBackpropInput (transposed convolution): conv_transpose2d without padding, then the
// crop that TF's padding of the corresponding forward convolution implies.
absl::Status ConvTransposeOp(Converter& c) {
  STRATUS_ASSIGN_OR_RETURN(SpatialAttrs s, ReadSpatial(c, "strides"));
  STRATUS_ASSIGN_OR_RETURN(std::vector<int64_t> sizes, c.ConstInts(0));
  STRATUS_ASSIGN_OR_RETURN(at::Tensor f, c.ConstIn(1));
  Value& x = c.In(2);
  if (sizes.size() != 4 || f.dim() != 4 || x.rank() != 4) return c.Error("expects rank-4 tensors");
  const int64_t kh = f.size(0), kw = f.size(1), cout = f.size(2);
  const int64_t oh = sizes[s.h], ow = sizes[s.w];
  auto before = [&](int64_t out, int64_t k, int64_t st, int64_t dil, size_t axis) -> int64_t {
    if (s.padding == "SAME") {
      const int64_t n = (out + st - 1) / st;
      return std::max<int64_t>((n - 1) * st + (k - 1) * dil + 1 - out, 0) / 2;
    }
    if (s.padding == "EXPLICIT" && s.explicit_pads.size() == 8) return s.explicit_pads[2 * axis];
    return 0;
  };
  const int64_t pt = before(oh, kh, s.strides[0], s.dilations[0], s.h);
  const int64_t pl = before(ow, kw, s.strides[1], s.dilations[1], s.w);
  at::Tensor w = f.to(at::kFloat).permute({3, 2, 0, 1});  // [in (x), out, kh, kw]
  w = c.options().channels_last ? w.contiguous(at::MemoryFormat::ChannelsLast) : w.contiguous();
  c.AddFlops(2.0 * static_cast<double>(Numel(x.shape) * cout * kh * kw));
  const std::string xv = c.InPerm(x, s.want);
  const std::string full = c.NewVar();
  c.Emit(absl::StrCat(full, " = torch.conv_transpose2d(", xv, ", ", c.AddBuffer(w), ", None, ",
                      Ints(s.strides), ", [0, 0], [0, 0], 1, ", Ints(s.dilations), ")"));
  Value out;
  out.var = c.NewVar();
  out.shape = s.nhwc ? std::vector<int64_t>{x.shape[0], oh, ow, cout}
                     : std::vector<int64_t>{x.shape[0], cout, oh, ow};
  out.perm = s.want;
  c.Emit(
      absl::StrCat(out.var, " = ", full, "[:, :, ", pt, ":", pt + oh, ", ", pl, ":", pl + ow, "]"));
  c.SetOut(0, out);
  return absl::OkStatus();
}

absl::Status PoolOp(Converter& c, bool max) {
  const NodeDef& n = c.node();
  STRATUS_ASSIGN_OR_RETURN(SpatialAttrs s, ReadSpatial(c, "strides"));
  STRATUS_ASSIGN_OR_RETURN(std::vector<int64_t> ksize, AttrInts(n, "ksize"));
  if (ksize.size() != 4) return c.Error("ksize must have 4 values");
  const int64_t kh = ksize[s.h], kw = ksize[s.w];
  Value& x = c.In(0);
  std::array<int64_t, 4> pads;
  int64_t h, w;
  STRATUS_ASSIGN_OR_RETURN(std::string xv, WindowInput(c, x, s, kh, kw, max ? -INFINITY : 0.0, &pads, &h, &w));
  const int64_t oh = (h - kh) / s.strides[0] + 1;
  const int64_t ow = (w - kw) / s.strides[1] + 1;
  Value out;
  out.var = c.NewVar();
  out.shape = s.nhwc ? std::vector<int64_t>{x.shape[0], oh, ow, x.shape[s.ch]}
                     : std::vector<int64_t>{x.shape[0], x.shape[s.ch], oh, ow};
  out.perm = s.want;
  const std::string k = Ints({kh, kw}), st = Ints(s.strides);
  if (max) {
    // max_pool2d pads with -inf itself, up to half the window.
    const bool fits = pads[0] * 2 <= kh && pads[2] * 2 <= kw;
    xv = PadIfAsymmetric(c, xv, &pads, -INFINITY, !fits);
    c.Emit(absl::StrCat(out.var, " = torch.max_pool2d(", xv, ", ", k, ", ", st, ", ",
                        Ints({pads[0], pads[2]}), ", [1, 1], False)"));
  } else if (pads == std::array<int64_t, 4>{0, 0, 0, 0}) {
    c.Emit(absl::StrCat(out.var, " = torch.avg_pool2d(", xv, ", ", k, ", ", st,
                        ", [0, 0], False, True, None)"));
  } else {
    // TF averages over the valid pixels only: window sums divided by a constant count map.
    const std::array<int64_t, 4> p = pads;
    xv = PadIfAsymmetric(c, xv, &pads, 0.0, true);
    at::Tensor ones = at::ones({1, 1, h - p[0] - p[1], w - p[2] - p[3]});
    at::Tensor count = at::avg_pool2d(at::constant_pad_nd(ones, {p[2], p[3], p[0], p[1]}, 0),
                                      {kh, kw}, s.strides, {0, 0}, false, true, 1);
    const std::string cnt = c.AddBuffer(count.contiguous());
    c.Emit(absl::StrCat(out.var, " = torch.avg_pool2d(", xv, ", ", k, ", ", st,
                        ", [0, 0], False, True, 1) / ", cnt));
  }
  c.SetOut(0, out);
  return absl::OkStatus();
}

absl::Status ResizeOp(Converter& c, bool bilinear) {
  Value& x = c.In(0);
  if (x.rank() != 4) return c.Error("expects an NHWC input");
  STRATUS_ASSIGN_OR_RETURN(std::vector<int64_t> size, c.ConstInts(1));
  if (size.size() != 2) return c.Error("size must have 2 values");
  STRATUS_ASSIGN_OR_RETURN(bool align, AttrBool(c.node(), "align_corners", false));
  STRATUS_ASSIGN_OR_RETURN(bool half, AttrBool(c.node(), "half_pixel_centers", false));
  const Perm want{0, 3, 1, 2};
  const std::string xv = c.InPerm(x, want);
  Value out = c.NewTensor({x.shape[0], size[0], size[1], x.shape[3]}, want);
  const std::string s = Ints(size);
  if (bilinear && (half || align)) {
    c.Emit(absl::StrCat(out.var, " = torch.upsample_bilinear2d(", xv, ", ", s, ", ",
                        align ? "True" : "False", ", None, None)"));
  } else if (bilinear) {
    const std::string ry = c.AddBuffer(LegacyBilinearMatrix(x.shape[1], size[0]));
    const std::string rx = c.AddBuffer(LegacyBilinearMatrix(x.shape[2], size[1]).t().contiguous());
    c.Emit(absl::StrCat(out.var, " = torch.matmul(torch.matmul(", ry, ", ", xv, "), ", rx, ")"));
  } else if (align) {
    return c.Error("nearest-neighbour resize with align_corners is not supported");
  } else if (half) {
    c.Emit(
        absl::StrCat(out.var, " = torch._upsample_nearest_exact2d(", xv, ", ", s, ", None, None)"));
  } else {
    c.Emit(absl::StrCat(out.var, " = torch.upsample_nearest2d(", xv, ", ", s, ", None, None)"));
  }
  c.SetOut(0, out);
  return absl::OkStatus();
}

absl::Status MatMulOp(Converter& c) {
  const NodeDef& n = c.node();
  const bool batch = n.op == "BatchMatMulV2" || n.op == "BatchMatMul";
  STRATUS_ASSIGN_OR_RETURN(bool ta, AttrBool(n, batch ? "adj_x" : "transpose_a", false));
  STRATUS_ASSIGN_OR_RETURN(bool tb, AttrBool(n, batch ? "adj_y" : "transpose_b", false));
  Value& a = c.In(0);
  Value& b = c.In(1);
  std::vector<std::string> fused;
  if (n.attr.contains("fused_ops")) {
    STRATUS_ASSIGN_OR_RETURN(fused, AttrStrings(n, "fused_ops"));
  }
  std::string av = c.InPerm(a, Identity(a.rank()));
  if (ta) av = absl::StrCat(av, ".transpose(-1, -2)");
  std::vector<int64_t> shape = a.shape;
  const int64_t nout = tb ? b.shape[b.rank() - 2] : b.shape[b.rank() - 1];
  if (ta) std::swap(shape[shape.size() - 1], shape[shape.size() - 2]);
  shape.back() = nout;
  std::string bias = "None";
  size_t fi = 0;
  if (fi < fused.size() && fused[fi] == "BiasAdd") {
    STRATUS_ASSIGN_OR_RETURN(at::Tensor bt, c.ConstIn(2));
    bias = c.AddBuffer(bt.to(at::kFloat).reshape({-1}).contiguous());
    ++fi;
  }
  std::string act = fi < fused.size() ? fused[fi++] : "";
  Value* alpha = act == "Prelu" && c.num_inputs() > 3 ? &c.In(3) : nullptr;
  Value out = c.NewTensor(shape, Identity(shape.size()), a.dtype);
  c.AddFlops(2.0 * static_cast<double>(Numel(shape)) *
             static_cast<double>(ta ? a.shape[a.rank() - 2] : a.shape[a.rank() - 1]));
  std::string y = out.var;
  if (b.is_const && b.rank() == 2) {
    at::Tensor wt = b.constant.to(at::kFloat);
    if (!tb) wt = wt.t();  // linear wants [out, in]
    const std::string wv = c.AddBuffer(wt.contiguous());
    c.Emit(absl::StrCat(y, " = torch.linear(", av, ", ", wv, ", ", bias, ")"));
  } else {
    std::string bv = c.InPerm(b, Identity(b.rank()));
    if (tb) bv = absl::StrCat(bv, ".transpose(-1, -2)");
    c.Emit(absl::StrCat(y, " = torch.matmul(", av, ", ", bv, ")"));
    if (bias != "None") {
      const std::string y2 = c.NewVar();
      c.Emit(absl::StrCat(y2, " = ", y, " + ", bias));
      y = y2;
    }
  }
  STRATUS_ASSIGN_OR_RETURN(out.var, EmitActivation(c, act, y, alpha, out.perm));
  c.SetOut(0, out);
  return absl::OkStatus();
}

}  // namespace stratus::import_graph::internal
