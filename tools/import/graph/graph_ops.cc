#include "tools/import/graph/graph_ops.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace stratus::import_graph::internal {
namespace {

std::string Format(const std::string& fmt, const std::vector<std::string>& args) {
  std::string out;
  size_t k = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] == '{' && i + 1 < fmt.size() && fmt[i + 1] == '}') {
      out += args.at(k++);
      ++i;
    } else {
      out += fmt[i];
    }
  }
  return out;
}

std::vector<int64_t> BroadcastShape(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  const size_t r = std::max(a.size(), b.size());
  std::vector<int64_t> out(r, 1);
  for (size_t i = 0; i < r; ++i) {
    const int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// Emits `out = x.reshape(shape)`, keeping dimension 0 dynamic when it is the batch.
std::string EmitReshape(Converter& c, const std::string& x, const std::vector<int64_t>& in_shape,
                        const std::vector<int64_t>& shape) {
  std::vector<std::string> dims;
  for (int64_t d : shape) dims.push_back(std::to_string(d));
  if (c.options().dynamic_batch && !in_shape.empty() && !shape.empty() &&
      in_shape[0] == c.batch() && shape[0] == c.batch()) {
    dims[0] = x + ".size(0)";
  }
  const std::string out = c.NewVar();
  c.Emit(absl::StrCat(out, " = ", x, ".reshape([", absl::StrJoin(dims, ", "), "])"));
  return out;
}

absl::Status PlaceholderOp(Converter& c) {
  const NodeDef& n = c.node();
  std::vector<int64_t> shape;
  if (n.attr.contains("shape") && n.attr["shape"].contains("shape") &&
      n.attr["shape"]["shape"].contains("dim")) {
    for (const auto& d : n.attr["shape"]["shape"]["dim"]) {
      int64_t size = -1;
      if (d.contains("size"))
        size = std::stoll(d["size"].is_string() ? d["size"].get<std::string>() : d["size"].dump());
      shape.push_back(size);
    }
  }
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0 && i == 0) shape[i] = 1;
    if (shape[i] < 0) return c.Error("dimension ", i, " is dynamic; give the input a fixed size");
  }
  std::string type = "DT_FLOAT";
  if (n.attr.contains("dtype") && n.attr["dtype"].contains("type"))
    type = n.attr["dtype"]["type"].get<std::string>();
  STRATUS_ASSIGN_OR_RETURN(at::ScalarType dtype, TfType(type));
  Value v;
  v.var = absl::StrCat("x", c.NextInput());
  v.shape = shape;
  v.perm = Identity(shape.size());
  v.dtype = dtype;
  if (c.options().nchw_inputs && shape.size() == 4 && !c.FeedsNhwcTranspose(n.name)) {
    v.perm = {0, 3, 1, 2};
  }
  if (!shape.empty()) c.set_batch(shape[0]);
  c.SetOut(0, v);
  return absl::OkStatus();
}

absl::Status AliasOp(Converter& c) {
  Value v = c.In(0);
  v.conv.reset();
  c.SetOut(0, v);
  return absl::OkStatus();
}

OpFn UnaryOp(std::string fmt) {
  return [fmt](Converter& c) -> absl::Status {
    Value& x = c.In(0);
    const std::string xv = c.Materialize(x);
    Value out = c.NewTensor(x.shape, x.perm, x.dtype);
    c.Emit(absl::StrCat(out.var, " = ", Format(fmt, {xv})));
    c.SetOut(0, out);
    return absl::OkStatus();
  };
}

absl::Status LeakyReluOp(Converter& c) {
  STRATUS_ASSIGN_OR_RETURN(double alpha, AttrFloat(c.node(), "alpha", 0.2));
  // TF attrs are float32: print the float32 value.
  return UnaryOp(absl::StrCat("torch.leaky_relu({}, ", FloatLit(static_cast<float>(alpha)), ")"))(
      c);
}

absl::Status CastOp(Converter& c) {
  std::string type = "DT_FLOAT";
  if (c.node().attr.contains("DstT")) type = c.node().attr["DstT"].value("type", type);
  STRATUS_ASSIGN_OR_RETURN(at::ScalarType dtype, TfType(type));
  Value& x = c.In(0);
  const std::string xv = c.Materialize(x);
  Value out = c.NewTensor(x.shape, x.perm, dtype);
  c.Emit(absl::StrCat(out.var, " = ", xv, ".to(", TorchDtype(dtype), ")"));
  c.SetOut(0, out);
  return absl::OkStatus();
}

// Element-wise binary op. `infix`: the format accepts a scalar literal as second operand.
OpFn BinaryOp(std::string fmt, bool infix, bool boolean_result = false) {
  return [fmt, infix, boolean_result](Converter& c) -> absl::Status {
    if (c.num_inputs() != 2) return c.Error("expects 2 inputs");
    Value& a = c.In(0);
    Value& b = c.In(1);
    const std::string op = c.node().op;
    // Bias after a convolution: fold into the convolution.
    if ((op == "Add" || op == "AddV2" || op == "BiasAdd") && !a.is_const && a.conv && b.is_const &&
        b.constant.dim() == 1 && b.constant.size(0) == a.conv->channels &&
        a.perm == Perm({0, 3, 1, 2}) && c.SingleUse(c.InputName(0))) {
      auto conv = a.conv;
      at::Tensor bias = b.constant.to(at::kFloat);
      conv->bias_value = conv->bias_value.defined() ? conv->bias_value + bias : bias;
      if (conv->bias == "None")
        conv->bias = c.AddBuffer(conv->bias_value.contiguous());
      else
        c.SetBuffer(conv->bias, conv->bias_value.contiguous());
      c.Replace(conv->line,
                absl::StrCat(conv->out, " = torch.conv2d(", conv->x, ", ", conv->weight, ", ",
                             conv->bias, ", ", Ints(conv->stride), ", ", Ints(conv->padding), ", ",
                             Ints(conv->dilation), ", ", conv->groups, ")"));
      Value out = a;
      c.SetOut(0, out);
      return absl::OkStatus();
    }
    // Layout of the result: that of the highest-rank non-constant operand.
    const std::vector<int64_t> shape = BroadcastShape(a.shape, b.shape);
    Perm perm = Identity(shape.size());
    if (!a.is_const && a.rank() == shape.size())
      perm = a.perm;
    else if (!b.is_const && b.rank() == shape.size())
      perm = b.perm;
    std::string av, bv;
    if (a.is_const && a.constant.numel() == 1) {
      Value tmp = a;  // a scalar constant on the left: as a 0-d buffer
      tmp.constant = a.constant.reshape({});
      tmp.shape = {};
      av = c.AddBuffer(tmp.constant);
    } else {
      av = c.Operand(a, perm);
    }
    if (b.is_const && b.constant.numel() == 1 && !infix) {
      bv = c.AddBuffer(b.constant.reshape({}));
    } else {
      bv = c.Operand(b, perm);
    }
    at::ScalarType dtype = boolean_result ? at::kBool : (a.is_const ? b.dtype : a.dtype);
    Value out = c.NewTensor(shape, perm, dtype);
    c.Emit(absl::StrCat(out.var, " = ", Format(fmt, {av, bv})));
    c.SetOut(0, out);
    return absl::OkStatus();
  };
}

absl::Status AddNOp(Converter& c) {
  Value& first = c.In(0);
  Perm perm = first.perm;
  std::vector<std::string> terms;
  for (size_t i = 0; i < c.num_inputs(); ++i) terms.push_back(c.Operand(c.In(i), perm));
  Value out = c.NewTensor(first.shape, perm, first.dtype);
  c.Emit(absl::StrCat(out.var, " = ", absl::StrJoin(terms, " + ")));
  c.SetOut(0, out);
  return absl::OkStatus();
}

absl::Status PadOp(Converter& c) {
  Value x = c.In(0);
  STRATUS_ASSIGN_OR_RETURN(std::vector<int64_t> p, c.ConstInts(1));
  if (p.size() != 2 * x.rank()) return c.Error("paddings must be [rank, 2]");
  double value = 0;
  if (c.node().op == "PadV2" && c.num_inputs() > 2) {
    STRATUS_ASSIGN_OR_RETURN(at::Tensor v, c.ConstIn(2));
    value = v.to(at::kDouble).item<double>();
  }
  bool any = false;
  for (int64_t q : p) any = any || q != 0;
  x.conv.reset();
  if (!any) {
    c.SetOut(0, x);
    return absl::OkStatus();
  }
  if (x.is_const) {
    x.var = c.Materialize(x);
    x.is_const = false;
  } else if (x.has_pad() && x.pad_value != value) {
    c.Materialize(x);
  }
  if (!x.has_pad()) {
    x.pad_before.assign(x.rank(), 0);
    x.pad_after.assign(x.rank(), 0);
    x.pad_value = value;
  }
  for (size_t a = 0; a < x.rank(); ++a) {
    x.pad_before[a] += p[2 * a];
    x.pad_after[a] += p[2 * a + 1];
    x.shape[a] += p[2 * a] + p[2 * a + 1];
  }
  c.SetOut(0, x);
  return absl::OkStatus();
}

absl::Status TransposeOp(Converter& c) {
  Value x = c.In(0);
  STRATUS_ASSIGN_OR_RETURN(std::vector<int64_t> tp, c.ConstInts(1));
  if (tp.size() != x.rank()) return c.Error("perm rank ", tp.size(), " vs input rank ", x.rank());
  // out logical = in logical.permute(tp); the physical tensor is unchanged.
  const Perm inv_tp = Inverse(tp);
  Value out = x;
  out.conv.reset();
  for (size_t i = 0; i < tp.size(); ++i) {
    out.shape[i] = x.shape[static_cast<size_t>(tp[i])];
    out.perm[i] = inv_tp[static_cast<size_t>(x.perm[i])];
    if (x.has_pad()) {
      out.pad_before[i] = x.pad_before[static_cast<size_t>(tp[i])];
      out.pad_after[i] = x.pad_after[static_cast<size_t>(tp[i])];
    }
  }
  c.SetOut(0, out);
  return absl::OkStatus();
}

absl::Status ReshapeLike(Converter& c, std::vector<int64_t> shape) {
  Value& x = c.In(0);
  int64_t known = 1, unknown = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0)
      unknown = static_cast<int64_t>(i);
    else
      known *= shape[i];
  }
  if (unknown >= 0) shape[static_cast<size_t>(unknown)] = known ? Numel(x.shape) / known : 0;
  if (Numel(shape) != Numel(x.shape)) {
    return c.Error("cannot reshape ", Ints(x.shape), " to ", Ints(shape));
  }
  const std::string xv = c.InPerm(x, Identity(x.rank()));
  Value out;
  out.var = EmitReshape(c, xv, x.shape, shape);
  out.shape = shape;
  out.perm = Identity(shape.size());
  out.dtype = x.dtype;
  c.SetOut(0, out);
  return absl::OkStatus();
}

absl::Status ReshapeOp(Converter& c) {
  STRATUS_ASSIGN_OR_RETURN(std::vector<int64_t> shape, c.ConstInts(1));
  return ReshapeLike(c, shape);
}

absl::Status SqueezeOp(Converter& c) {
  Value& x = c.In(0);
  STRATUS_ASSIGN_OR_RETURN(std::vector<int64_t> dims, AttrInts(c.node(), "squeeze_dims"));
  if (dims.empty()) {
    STRATUS_ASSIGN_OR_RETURN(dims, AttrInts(c.node(), "axis"));
  }
  std::set<int64_t> drop;
  for (int64_t d : dims) drop.insert(NormAxis(d, x.rank()));
  std::vector<int64_t> shape;
  for (size_t i = 0; i < x.rank(); ++i) {
    const bool squeeze = dims.empty() ? x.shape[i] == 1 : drop.count(static_cast<int64_t>(i));
    if (!squeeze) shape.push_back(x.shape[i]);
  }
  return ReshapeLike(c, shape);
}

absl::Status ExpandDimsOp(Converter& c) {
  Value& x = c.In(0);
  STRATUS_ASSIGN_OR_RETURN(std::vector<int64_t> axis, c.ConstInts(1));
  if (axis.size() != 1) return c.Error("axis must be a scalar");
  std::vector<int64_t> shape = x.shape;
  int64_t a = axis[0] < 0 ? axis[0] + static_cast<int64_t>(x.rank()) + 1 : axis[0];
  shape.insert(shape.begin() + a, 1);
  return ReshapeLike(c, shape);
}

absl::Status ConcatOp(Converter& c) {
  const bool v2 = c.node().op == "ConcatV2";
  const size_t n = c.num_inputs() - 1;
  const size_t first = v2 ? 0 : 1;
  STRATUS_ASSIGN_OR_RETURN(std::vector<int64_t> axis_v, c.ConstInts(v2 ? n : 0));
  Value* ref = nullptr;
  for (size_t i = first; i < first + n; ++i)
    if (!c.In(i).is_const && ref == nullptr) ref = &c.In(i);
  if (ref == nullptr) return c.Error("all inputs constant");
  const int64_t axis = NormAxis(axis_v.at(0), ref->rank());
  const Perm perm = ref->perm;
  std::vector<int64_t> shape = ref->shape;
  shape[static_cast<size_t>(axis)] = 0;
  std::vector<std::string> parts;
  for (size_t i = first; i < first + n; ++i) {
    Value& v = c.In(i);
    if (v.rank() != shape.size()) return c.Error("inputs of different ranks");
    shape[static_cast<size_t>(axis)] += v.shape[static_cast<size_t>(axis)];
    parts.push_back(c.Operand(v, perm));
  }
  Value out = c.NewTensor(shape, perm, ref->dtype);
  c.Emit(absl::StrCat(out.var, " = torch.cat([", absl::StrJoin(parts, ", "), "], ",
                      Inverse(perm)[static_cast<size_t>(axis)], ")"));
  c.SetOut(0, out);
  return absl::OkStatus();
}

absl::Status SplitOp(Converter& c) {
  const bool v = c.node().op == "SplitV";
  Value& x = c.In(v ? 0 : 1);
  STRATUS_ASSIGN_OR_RETURN(std::vector<int64_t> axis_v, c.ConstInts(v ? 2 : 0));
  const int64_t axis = NormAxis(axis_v.at(0), x.rank());
  const int64_t dim = x.shape[static_cast<size_t>(axis)];
  std::vector<int64_t> sizes;
  if (v) {
    STRATUS_ASSIGN_OR_RETURN(sizes, c.ConstInts(1));
    int64_t known = 0, unknown = -1;
    for (size_t i = 0; i < sizes.size(); ++i) {
      if (sizes[i] < 0)
        unknown = static_cast<int64_t>(i);
      else
        known += sizes[i];
    }
    if (unknown >= 0) sizes[static_cast<size_t>(unknown)] = dim - known;
  } else {
    STRATUS_ASSIGN_OR_RETURN(int64_t num, AttrInt(c.node(), "num_split", 1));
    if (num <= 0 || dim % num != 0) return c.Error("cannot split ", dim, " in ", num);
    sizes.assign(static_cast<size_t>(num), dim / num);
  }
  const std::string xv = c.Materialize(x);
  const int64_t pdim = Inverse(x.perm)[static_cast<size_t>(axis)];
  const std::string list = c.NewVar();
  c.Emit(absl::StrCat(list, " = torch.split_with_sizes(", xv, ", ", Ints(sizes), ", ", pdim, ")"));
  for (size_t k = 0; k < sizes.size(); ++k) {
    std::vector<int64_t> shape = x.shape;
    shape[static_cast<size_t>(axis)] = sizes[k];
    Value out = c.NewTensor(shape, x.perm, x.dtype);
    c.Emit(absl::StrCat(out.var, " = ", list, "[", k, "]"));
    c.SetOut(k, out);
  }
  return absl::OkStatus();
}

absl::Status ReduceOp(Converter& c, const std::string& fn) {
  Value& x = c.In(0);
  STRATUS_ASSIGN_OR_RETURN(std::vector<int64_t> axes, c.ConstInts(1));
  STRATUS_ASSIGN_OR_RETURN(bool keep, AttrBool(c.node(), "keep_dims", false));
  const std::string xv = c.Materialize(x);
  const Perm inv = Inverse(x.perm);
  std::set<int64_t> logical;
  std::vector<int64_t> phys;
  for (int64_t a : axes) {
    const int64_t la = NormAxis(a, x.rank());
    logical.insert(la);
    phys.push_back(inv[static_cast<size_t>(la)]);
  }
  std::vector<int64_t> shape;
  Perm perm;
  if (keep) {
    shape = x.shape;
    for (int64_t a : logical) shape[static_cast<size_t>(a)] = 1;
    perm = x.perm;
  } else {
    std::vector<int64_t> renumber(x.rank(), -1);
    int64_t k = 0;
    for (size_t a = 0; a < x.rank(); ++a) {
      if (!logical.count(static_cast<int64_t>(a))) {
        renumber[a] = k++;
        shape.push_back(x.shape[a]);
      }
    }
    for (int64_t l : x.perm)
      if (renumber[static_cast<size_t>(l)] >= 0) perm.push_back(renumber[static_cast<size_t>(l)]);
  }
  Value out = c.NewTensor(shape, perm, x.dtype);
  c.Emit(absl::StrCat(out.var, " = ", fn, "(", xv, ", ", Ints(phys), ", ", keep ? "True" : "False",
                      ")"));
  c.SetOut(0, out);
  return absl::OkStatus();
}

absl::Status SoftmaxOp(Converter& c) {
  Value& x = c.In(0);
  const std::string xv = c.Materialize(x);
  Value out = c.NewTensor(x.shape, x.perm, x.dtype);
  c.Emit(absl::StrCat(out.var, " = torch.softmax(", xv, ", ", Inverse(x.perm)[x.rank() - 1],
                      ", None)"));
  c.SetOut(0, out);
  return absl::OkStatus();
}

absl::Status ShapeOp(Converter& c) {
  Value& x = c.In(0);
  c.SetOut(0, ConstValue(at::tensor(x.shape, at::kLong)));
  return absl::OkStatus();
}

absl::Status PackOp(Converter& c) {
  STRATUS_ASSIGN_OR_RETURN(int64_t axis, AttrInt(c.node(), "axis", 0));
  std::vector<std::string> parts;
  std::vector<int64_t> shape = c.In(0).shape;
  axis = axis < 0 ? axis + static_cast<int64_t>(shape.size()) + 1 : axis;
  for (size_t i = 0; i < c.num_inputs(); ++i) {
    Value& v = c.In(i);
    parts.push_back(c.Operand(v, Identity(v.rank())));
  }
  shape.insert(shape.begin() + axis, static_cast<int64_t>(c.num_inputs()));
  Value out = c.NewTensor(shape, Identity(shape.size()), c.In(0).dtype);
  c.Emit(absl::StrCat(out.var, " = torch.stack([", absl::StrJoin(parts, ", "), "], ", axis, ")"));
  c.SetOut(0, out);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<SliceDim>> PlanStridedSlice(const NodeDef& n,
                                                       const std::vector<int64_t>& in_shape,
                                                       const std::vector<int64_t>& begin,
                                                       const std::vector<int64_t>& end,
                                                       const std::vector<int64_t>& strides,
                                                       std::vector<int64_t>* out_shape) {
  auto err = [&](const std::string& m) {
    return absl::InvalidArgumentError(absl::StrCat("node '", n.name, "' (StridedSlice): ", m));
  };
  STRATUS_ASSIGN_OR_RETURN(int64_t bm, AttrInt(n, "begin_mask", 0));
  STRATUS_ASSIGN_OR_RETURN(int64_t em, AttrInt(n, "end_mask", 0));
  STRATUS_ASSIGN_OR_RETURN(int64_t ellipsis, AttrInt(n, "ellipsis_mask", 0));
  STRATUS_ASSIGN_OR_RETURN(int64_t newax, AttrInt(n, "new_axis_mask", 0));
  STRATUS_ASSIGN_OR_RETURN(int64_t shrink, AttrInt(n, "shrink_axis_mask", 0));
  if (ellipsis != 0) return err("ellipsis_mask is not supported");
  if (end.size() != begin.size() || strides.size() != begin.size()) {
    return err("begin, end and strides differ in length");
  }
  std::vector<SliceDim> plan;
  out_shape->clear();
  size_t dim = 0;
  for (size_t i = 0; i < begin.size(); ++i) {
    SliceDim d;
    if (newax & (1 << i)) {
      d.kind = SliceDim::kNewAxis;
      plan.push_back(d);
      out_shape->push_back(1);
      continue;
    }
    if (dim >= in_shape.size()) return err("slice has more axes than the input");
    const int64_t size = in_shape[dim++];
    d.stride = strides[i];
    if (d.stride <= 0) return err("negative or zero strides are not supported");
    auto clamp = [&](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + size : v, 0, size); };
    if (shrink & (1 << i)) {
      d.kind = SliceDim::kShrink;
      d.begin = begin[i] < 0 ? begin[i] + size : begin[i];
      if (d.begin < 0 || d.begin >= size) return err("shrink index out of range");
      plan.push_back(d);
      continue;
    }
    d.begin = (bm & (1 << i)) ? 0 : clamp(begin[i]);
    d.end = (em & (1 << i)) ? size : clamp(end[i]);
    d.end = std::max(d.end, d.begin);
    plan.push_back(d);
    out_shape->push_back((d.end - d.begin + d.stride - 1) / d.stride);
  }
  for (; dim < in_shape.size(); ++dim) {
    plan.push_back(SliceDim{SliceDim::kRange, 0, in_shape[dim], 1});
    out_shape->push_back(in_shape[dim]);
  }
  return plan;
}

namespace {

absl::Status StridedSliceOp(Converter& c) {
  Value& x = c.In(0);
  STRATUS_ASSIGN_OR_RETURN(std::vector<int64_t> begin, c.ConstInts(1));
  STRATUS_ASSIGN_OR_RETURN(std::vector<int64_t> end, c.ConstInts(2));
  STRATUS_ASSIGN_OR_RETURN(std::vector<int64_t> strides, c.ConstInts(3));
  std::vector<int64_t> shape;
  STRATUS_ASSIGN_OR_RETURN(std::vector<SliceDim> plan,
            PlanStridedSlice(c.node(), x.shape, begin, end, strides, &shape));
  std::vector<std::string> idx;
  for (const SliceDim& d : plan) {
    if (d.kind == SliceDim::kNewAxis)
      idx.push_back("None");
    else if (d.kind == SliceDim::kShrink)
      idx.push_back(std::to_string(d.begin));
    else
      idx.push_back(absl::StrCat(d.begin, ":", d.end, ":", d.stride));
  }
  const std::string xv = c.InPerm(x, Identity(x.rank()));
  Value out = c.NewTensor(shape, Identity(shape.size()), x.dtype);
  c.Emit(absl::StrCat(out.var, " = ", xv, "[", absl::StrJoin(idx, ", "), "]"));
  c.SetOut(0, out);
  return absl::OkStatus();
}

absl::Status DepthToSpaceOp(Converter& c) {
  Value& x = c.In(0);
  STRATUS_ASSIGN_OR_RETURN(int64_t r, AttrInt(c.node(), "block_size", 2));
  STRATUS_ASSIGN_OR_RETURN(std::string fmt, AttrString(c.node(), "data_format", "NHWC"));
  if (fmt != "NHWC" || x.rank() != 4) return c.Error("only NHWC is supported");
  const int64_t h = x.shape[1], w = x.shape[2], ch = x.shape[3] / (r * r);
  // TF: input channel (i * r + j) * C + c -> output pixel (h * r + i, w * r + j), channel c.
  const std::string xv = c.InPerm(x, Identity(4));
  const std::string t = EmitReshape(c, xv, x.shape, {x.shape[0], h, w, r, r, ch});
  const std::string p = c.NewVar();
  c.Emit(absl::StrCat(p, " = ", t, ".permute([0, 1, 3, 2, 4, 5])"));
  Value out;
  out.shape = {x.shape[0], h * r, w * r, ch};
  out.perm = Identity(4);
  out.var = EmitReshape(c, p, {x.shape[0], h, r, w, r, ch}, out.shape);
  c.SetOut(0, out);
  return absl::OkStatus();
}

absl::Status TopKOp(Converter& c) {
  Value& x = c.In(0);
  STRATUS_ASSIGN_OR_RETURN(std::vector<int64_t> k, c.ConstInts(1));
  STRATUS_ASSIGN_OR_RETURN(bool sorted, AttrBool(c.node(), "sorted", true));
  if (k.size() != 1) return c.Error("k must be a scalar");
  const std::string xv = c.InPerm(x, Identity(x.rank()));
  const std::string pair = c.NewVar();
  c.Emit(absl::StrCat(pair, " = torch.topk(", xv, ", ", k[0], ", -1, True, ",
                      sorted ? "True" : "False", ")"));
  std::vector<int64_t> shape = x.shape;
  shape.back() = k[0];
  Value values = c.NewTensor(shape, Identity(shape.size()), x.dtype);
  c.Emit(absl::StrCat(values.var, " = ", pair, "[0]"));
  Value indices = c.NewTensor(shape, Identity(shape.size()), at::kLong);
  c.Emit(absl::StrCat(indices.var, " = ", pair, "[1]"));
  c.SetOut(0, values);
  c.SetOut(1, indices);
  return absl::OkStatus();
}

absl::Status GatherOp(Converter& c) {
  Value& params = c.In(0);
  Value& indices = c.In(1);
  int64_t axis = 0;
  if (c.num_inputs() > 2) {
    STRATUS_ASSIGN_OR_RETURN(std::vector<int64_t> a, c.ConstInts(2));
    axis = NormAxis(a.at(0), params.rank());
  }
  STRATUS_ASSIGN_OR_RETURN(int64_t batch_dims, AttrInt(c.node(), "batch_dims", 0));
  if (batch_dims != 0) return c.Error("batch_dims is not supported");
  const std::string pv = c.InPerm(params, Identity(params.rank()));
  std::string iv;
  if (indices.is_const) {
    iv = c.AddBuffer(indices.constant.to(at::kLong).reshape({-1}).contiguous());
  } else {
    iv = c.NewVar();
    c.Emit(absl::StrCat(iv, " = ", c.InPerm(indices, Identity(indices.rank())),
                        ".reshape([-1]).long()"));
  }
  std::vector<int64_t> shape(params.shape.begin(), params.shape.begin() + axis);
  for (int64_t d : indices.shape) shape.push_back(d);
  for (size_t i = static_cast<size_t>(axis) + 1; i < params.rank(); ++i)
    shape.push_back(params.shape[i]);
  const std::string sel = c.NewVar();
  c.Emit(absl::StrCat(sel, " = torch.index_select(", pv, ", ", axis, ", ", iv, ")"));
  Value out = c.NewTensor(shape, Identity(shape.size()), params.dtype);
  c.Emit(absl::StrCat(out.var, " = ", sel, ".reshape(", Ints(shape), ")"));
  c.SetOut(0, out);
  return absl::OkStatus();
}

}  // namespace

const std::map<std::string, OpFn>& OpTable() {
  static const auto* table = new std::map<std::string, OpFn>{
      {"Placeholder", PlaceholderOp},
      {"Identity", AliasOp},
      {"StopGradient", AliasOp},
      {"Snapshot", AliasOp},
      {"Relu", UnaryOp("torch.relu({})")},
      {"Relu6", UnaryOp("torch.hardtanh({}, 0.0, 6.0)")},
      {"Elu", UnaryOp("torch.elu({})")},
      {"Selu", UnaryOp("torch.selu({})")},
      {"Sigmoid", UnaryOp("torch.sigmoid({})")},
      {"Tanh", UnaryOp("torch.tanh({})")},
      {"Exp", UnaryOp("torch.exp({})")},
      {"Log", UnaryOp("torch.log({})")},
      {"Sqrt", UnaryOp("torch.sqrt({})")},
      {"Rsqrt", UnaryOp("torch.rsqrt({})")},
      {"Square", UnaryOp("torch.square({})")},
      {"Neg", UnaryOp("torch.neg({})")},
      {"Abs", UnaryOp("torch.abs({})")},
      {"Floor", UnaryOp("torch.floor({})")},
      {"Ceil", UnaryOp("torch.ceil({})")},
      {"Round", UnaryOp("torch.round({})")},
      {"Sin", UnaryOp("torch.sin({})")},
      {"Cos", UnaryOp("torch.cos({})")},
      {"Reciprocal", UnaryOp("torch.reciprocal({})")},
      {"Softplus", UnaryOp("torch.log1p(torch.exp({}))")},
      {"LogicalNot", UnaryOp("torch.logical_not({})")},
      {"ZerosLike", UnaryOp("torch.zeros_like({})")},
      {"OnesLike", UnaryOp("torch.ones_like({})")},
      {"LeakyRelu", LeakyReluOp},
      {"Prelu", PreluOp},
      {"Cast", CastOp},
      {"Add", BinaryOp("({} + {})", true)},
      {"AddV2", BinaryOp("({} + {})", true)},
      {"BiasAdd", BinaryOp("({} + {})", true)},
      {"Sub", BinaryOp("({} - {})", true)},
      {"Mul", BinaryOp("({} * {})", true)},
      {"RealDiv", BinaryOp("({} / {})", true)},
      {"Div", BinaryOp("({} / {})", true)},
      {"DivNoNan", BinaryOp("torch.nan_to_num({} / {}, 0.0, 0.0, 0.0)", true)},
      {"FloorDiv", BinaryOp("torch.div({}, {}, rounding_mode=\"floor\")", false)},
      {"FloorMod", BinaryOp("torch.remainder({}, {})", true)},
      {"Maximum", BinaryOp("torch.maximum({}, {})", false)},
      {"Minimum", BinaryOp("torch.minimum({}, {})", false)},
      {"Pow", BinaryOp("torch.pow({}, {})", true)},
      {"SquaredDifference", BinaryOp("torch.square({} - {})", true)},
      {"Equal", BinaryOp("torch.eq({}, {})", true, true)},
      {"NotEqual", BinaryOp("torch.ne({}, {})", true, true)},
      {"Less", BinaryOp("torch.lt({}, {})", true, true)},
      {"LessEqual", BinaryOp("torch.le({}, {})", true, true)},
      {"Greater", BinaryOp("torch.gt({}, {})", true, true)},
      {"GreaterEqual", BinaryOp("torch.ge({}, {})", true, true)},
      {"LogicalAnd", BinaryOp("torch.logical_and({}, {})", false, true)},
      {"LogicalOr", BinaryOp("torch.logical_or({}, {})", false, true)},
      {"AddN", AddNOp},
      {"Conv2D", [](Converter& c) { return ConvOp(c, false); }},
      {"_FusedConv2D", [](Converter& c) { return ConvOp(c, false); }},
      {"DepthwiseConv2dNative", [](Converter& c) { return ConvOp(c, true); }},
      {"FusedDepthwiseConv2dNative", [](Converter& c) { return ConvOp(c, true); }},
      {"MaxPool", [](Converter& c) { return PoolOp(c, true); }},
      {"AvgPool", [](Converter& c) { return PoolOp(c, false); }},
      {"Pad", PadOp},
      {"PadV2", PadOp},
      {"Transpose", TransposeOp},
      {"Reshape", ReshapeOp},
      {"Squeeze", SqueezeOp},
      {"ExpandDims", ExpandDimsOp},
      {"ConcatV2", ConcatOp},
      {"Concat", ConcatOp},
      {"Split", SplitOp},
      {"SplitV", SplitOp},
      {"Mean", [](Converter& c) { return ReduceOp(c, "torch.mean"); }},
      {"Sum", [](Converter& c) { return ReduceOp(c, "torch.sum"); }},
      {"Max", [](Converter& c) { return ReduceOp(c, "torch.amax"); }},
      {"Min", [](Converter& c) { return ReduceOp(c, "torch.amin"); }},
      {"Softmax", SoftmaxOp},
      {"ResizeBilinear", [](Converter& c) { return ResizeOp(c, true); }},
      {"ResizeNearestNeighbor", [](Converter& c) { return ResizeOp(c, false); }},
      {"MatMul", MatMulOp},
      {"_FusedMatMul", MatMulOp},
      {"BatchMatMul", MatMulOp},
      {"BatchMatMulV2", MatMulOp},
      {"Shape", ShapeOp},
      {"Pack", PackOp},
      {"StridedSlice", StridedSliceOp},
      {"DepthToSpace", DepthToSpaceOp},
      {"TopKV2", TopKOp},
      {"Conv2DBackpropInput", ConvTransposeOp},
      {"NoOp", [](Converter&) { return absl::OkStatus(); }},  // control only: no outputs
      {"GatherV2", GatherOp},
  };
  return *table;
}

}  // namespace stratus::import_graph::internal
