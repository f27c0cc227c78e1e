#include "tools/import/graph/constant_folding.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tools/import/graph/graph_ops.h"
#include "tools/import/graph/op_context.h"

namespace stratus::import_graph::internal {
namespace {

using Tensors = std::vector<at::Tensor>;

FoldFn Fold1(std::function<at::Tensor(const at::Tensor&)> f) {
  return [f](const NodeDef&, const Tensors& in) -> absl::StatusOr<Tensors> {
    return Tensors{f(in.at(0))};
  };
}
FoldFn Fold2(std::function<at::Tensor(const at::Tensor&, const at::Tensor&)> f) {
  return [f](const NodeDef&, const Tensors& in) -> absl::StatusOr<Tensors> {
    return Tensors{f(in.at(0), in.at(1))};
  };
}

absl::StatusOr<Tensors> FoldSparseToDense(const NodeDef& n, const Tensors& in) {
  // sparse_indices [N] or [N, R], output_shape [R], sparse_values [N] or scalar, default.
  const std::vector<int64_t> shape = ToInts(in.at(1));
  at::Tensor out = at::full(shape, in.at(3).item(), in.at(2).options());
  at::Tensor idx = in.at(0).to(at::kLong);
  const int64_t count = idx.dim() == 0 ? 1 : idx.size(0);
  idx = idx.reshape({count, static_cast<int64_t>(shape.size())});
  at::Tensor flat = out.reshape({-1});
  for (int64_t i = 0; i < count; ++i) {
    int64_t off = 0;
    for (size_t d = 0; d < shape.size(); ++d) off = off * shape[d] + idx[i][d].item<int64_t>();
    flat[off] = in.at(2).numel() == 1 ? in.at(2).reshape({}) : in.at(2)[i];
  }
  return Tensors{out};
}

absl::StatusOr<Tensors> FoldCast(const NodeDef& n, const Tensors& in) {
  std::string type = "DT_FLOAT";
  if (n.attr.contains("DstT")) type = n.attr["DstT"].value("type", type);
  auto t = TfType(type);
  if (!t.ok()) return t.status();
  return Tensors{in.at(0).to(*t)};
}

absl::StatusOr<Tensors> FoldConcat(const NodeDef& n, const Tensors& in) {
  const bool v2 = n.op == "ConcatV2";
  Tensors parts(in.begin() + (v2 ? 0 : 1), in.end() - (v2 ? 1 : 0));
  const int64_t axis = ToInts(v2 ? in.back() : in.front()).at(0);
  return Tensors{at::cat(parts, axis)};
}

absl::StatusOr<Tensors> FoldPack(const NodeDef& n, const Tensors& in) {
  auto axis = AttrInt(n, "axis", 0);
  if (!axis.ok()) return axis.status();
  return Tensors{at::stack(in, *axis)};
}

absl::StatusOr<Tensors> FoldReshape(const NodeDef&, const Tensors& in) {
  return Tensors{in.at(0).reshape(ToInts(in.at(1)))};
}

absl::StatusOr<Tensors> FoldExpandDims(const NodeDef&, const Tensors& in) {
  int64_t a = ToInts(in.at(1)).at(0);
  if (a < 0) a += in.at(0).dim() + 1;
  return Tensors{in.at(0).unsqueeze(a)};
}

absl::StatusOr<Tensors> FoldSqueeze(const NodeDef& n, const Tensors& in) {
  auto dims = AttrInts(n, "squeeze_dims");
  if (!dims.ok()) return dims.status();
  at::Tensor t = in.at(0);
  if (dims->empty()) return Tensors{t.squeeze()};
  std::vector<int64_t> d = *dims;
  for (auto& v : d) v = NormAxis(v, static_cast<size_t>(t.dim()));
  std::sort(d.rbegin(), d.rend());
  for (int64_t v : d) t = t.squeeze(v);
  return Tensors{t};
}

absl::StatusOr<Tensors> FoldTranspose(const NodeDef&, const Tensors& in) {
  return Tensors{in.at(0).permute(ToInts(in.at(1))).contiguous()};
}

absl::StatusOr<Tensors> FoldFill(const NodeDef&, const Tensors& in) {
  return Tensors{at::full(ToInts(in.at(0)), in.at(1).item(), in.at(1).options())};
}

absl::StatusOr<Tensors> FoldRange(const NodeDef&, const Tensors& in) {
  return Tensors{at::arange(in.at(0).item(), in.at(1).item(), in.at(2).item(), in.at(0).options())};
}

absl::StatusOr<Tensors> FoldShape(const NodeDef&, const Tensors& in) {
  return Tensors{at::tensor(std::vector<int64_t>(in.at(0).sizes().begin(), in.at(0).sizes().end()),
                            at::kLong)};
}

absl::StatusOr<Tensors> FoldGather(const NodeDef&, const Tensors& in) {
  const int64_t axis = in.size() > 2 ? ToInts(in.at(2)).at(0) : 0;
  at::Tensor idx = in.at(1).to(at::kLong);
  at::Tensor out = at::index_select(in.at(0), axis, idx.reshape({-1}));
  std::vector<int64_t> shape(in.at(0).sizes().begin(), in.at(0).sizes().begin() + axis);
  for (int64_t d : idx.sizes()) shape.push_back(d);
  for (int64_t i = axis + 1; i < in.at(0).dim(); ++i) shape.push_back(in.at(0).size(i));
  return Tensors{out.reshape(shape)};
}

absl::StatusOr<Tensors> FoldStridedSlice(const NodeDef& n, const Tensors& in) {
  at::Tensor t = in.at(0);
  std::vector<int64_t> shape;
  auto plan = PlanStridedSlice(n, std::vector<int64_t>(t.sizes().begin(), t.sizes().end()),
                               ToInts(in.at(1)), ToInts(in.at(2)), ToInts(in.at(3)), &shape);
  if (!plan.ok()) return plan.status();
  int64_t dim = 0;
  for (const SliceDim& d : *plan) {
    if (d.kind == SliceDim::kNewAxis) {
      t = t.unsqueeze(dim++);
    } else if (d.kind == SliceDim::kShrink) {
      t = t.select(dim, d.begin);
    } else {
      t = t.slice(dim++, d.begin, d.end, d.stride);
    }
  }
  return Tensors{t.contiguous()};
}

absl::StatusOr<Tensors> FoldPad(const NodeDef& n, const Tensors& in) {
  std::vector<int64_t> p = ToInts(in.at(1)), pads;
  for (size_t a = p.size() / 2; a-- > 0;) {
    pads.push_back(p[2 * a]);
    pads.push_back(p[2 * a + 1]);
  }
  const double v = in.size() > 2 ? in.at(2).to(at::kDouble).item<double>() : 0.0;
  return Tensors{at::constant_pad_nd(in.at(0), pads, v)};
}

at::Tensor Div(const at::Tensor& a, const at::Tensor& b) {
  if (a.is_floating_point() || b.is_floating_point()) return a / b;
  return at::div(a, b, "trunc");  // TF's integer RealDiv/Div truncate
}

}  // namespace

const std::map<std::string, FoldFn>& FoldTable() {
  static const auto* table = new std::map<std::string, FoldFn>{
      {"Identity", Fold1([](const at::Tensor& a) { return a; })},
      {"StopGradient", Fold1([](const at::Tensor& a) { return a; })},
      {"Snapshot", Fold1([](const at::Tensor& a) { return a; })},
      {"Neg", Fold1([](const at::Tensor& a) { return -a; })},
      {"Add", Fold2([](const at::Tensor& a, const at::Tensor& b) { return a + b; })},
      {"AddV2", Fold2([](const at::Tensor& a, const at::Tensor& b) { return a + b; })},
      {"BiasAdd", Fold2([](const at::Tensor& a, const at::Tensor& b) { return a + b; })},
      {"Sub", Fold2([](const at::Tensor& a, const at::Tensor& b) { return a - b; })},
      {"Mul", Fold2([](const at::Tensor& a, const at::Tensor& b) { return a * b; })},
      {"RealDiv", Fold2(Div)},
      {"Div", Fold2(Div)},
      {"FloorDiv",
       Fold2([](const at::Tensor& a, const at::Tensor& b) { return at::div(a, b, "floor"); })},
      {"FloorMod",
       Fold2([](const at::Tensor& a, const at::Tensor& b) { return at::remainder(a, b); })},
      {"Maximum",
       Fold2([](const at::Tensor& a, const at::Tensor& b) { return at::maximum(a, b); })},
      {"Minimum",
       Fold2([](const at::Tensor& a, const at::Tensor& b) { return at::minimum(a, b); })},
      {"Cast", FoldCast},
      {"SparseToDense", FoldSparseToDense},
      {"ConcatV2", FoldConcat},
      {"Concat", FoldConcat},
      {"Pack", FoldPack},
      {"Reshape", FoldReshape},
      {"ExpandDims", FoldExpandDims},
      {"Squeeze", FoldSqueeze},
      {"Transpose", FoldTranspose},
      {"Fill", FoldFill},
      {"Range", FoldRange},
      {"Shape", FoldShape},
      {"GatherV2", FoldGather},
      {"StridedSlice", FoldStridedSlice},
      {"Pad", FoldPad},
      {"PadV2", FoldPad},
  };
  return *table;
}

}  // namespace stratus::import_graph::internal
