#include "tools/import/graph/graph_converter.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <numeric>
#include <set>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace stratus::import_graph {
namespace {

using Perm = std::vector<int64_t>;

Perm Identity(size_t rank) {
  Perm p(rank);
  std::iota(p.begin(), p.end(), 0);
  return p;
}

Perm Inverse(const Perm& p) {
  Perm inv(p.size());
  for (size_t i = 0; i < p.size(); ++i) inv[static_cast<size_t>(p[i])] = static_cast<int64_t>(i);
  return inv;
}

bool IsIdentity(const Perm& p) { return p == Identity(p.size()); }

std::string Ints(const std::vector<int64_t>& v) {
  return absl::StrCat("[", absl::StrJoin(v, ", "), "]");
}

// A float literal that TorchScript parses back to the same float32.
std::string FloatLit(double v) {
  if (std::isinf(v)) return v > 0 ? "float(\"inf\")" : "float(\"-inf\")";
  if (std::isnan(v)) return "float(\"nan\")";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  std::string s(buf);
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s;
}

// A convolution statement kept editable until its output is consumed, so that a following
// bias Add can be folded into it.
struct ConvStmt {
  size_t line = 0;
  std::string out, x, weight, bias;  // bias: "None" or a buffer
  std::vector<int64_t> stride, padding, dilation;
  int64_t groups = 1;
  int64_t channels = 0;
  at::Tensor bias_value;   // [channels] or undefined
  std::string activation;  // applied after: "" or a format with {} for the conv
};

struct Value {
  bool is_const = false;
  at::Tensor constant;         // logical value (TF layout) when is_const
  std::string var;             // TorchScript variable holding logical.permute(perm)
  std::vector<int64_t> shape;  // logical static shape
  Perm perm;
  at::ScalarType dtype = at::kFloat;
  // Deferred constant pad in logical axes (empty: none): the tensor is `var` padded so.
  std::vector<int64_t> pad_before, pad_after;
  double pad_value = 0;
  std::shared_ptr<ConvStmt> conv;  // set while a bias can still be folded in

  size_t rank() const { return shape.size(); }
  bool has_pad() const { return !pad_before.empty(); }
};

std::vector<int64_t> ShapeOf(const at::Tensor& t) {
  return std::vector<int64_t>(t.sizes().begin(), t.sizes().end());
}

Value ConstValue(at::Tensor t) {
  Value v;
  v.is_const = true;
  v.constant = t;
  v.shape = ShapeOf(t);
  v.perm = Identity(v.shape.size());
  v.dtype = t.scalar_type();
  return v;
}

std::vector<int64_t> ToInts(const at::Tensor& t) {
  at::Tensor c = t.to(at::kLong).contiguous().reshape({-1});
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

int64_t NormAxis(int64_t axis, size_t rank) {
  return axis < 0 ? axis + static_cast<int64_t>(rank) : axis;
}

absl::StatusOr<at::ScalarType> TfType(const std::string& t) {
  if (t == "DT_FLOAT" || t == "DT_HALF" || t == "DT_DOUBLE") return at::kFloat;
  if (t == "DT_INT32" || t == "DT_INT64" || t == "DT_UINT8" || t == "DT_INT8" || t == "DT_INT16" ||
      t == "DT_UINT16")
    return at::kLong;
  if (t == "DT_BOOL") return at::kBool;
  return absl::InvalidArgumentError(absl::StrCat("unsupported dtype ", t));
}

std::string TorchDtype(at::ScalarType t) {
  switch (t) {
    case at::kFloat:
      return "6";  // torch.float32 as ScalarType int
    case at::kLong:
      return "4";  // torch.int64
    case at::kBool:
      return "11";  // torch.bool
    default:
      return "6";
  }
}

std::string Canonical(const std::string& tensor) {
  auto [name, k] = SplitTensorName(tensor);
  return absl::StrCat(name, ":", k);
}

class Converter;
using OpFn = std::function<absl::Status(Converter&)>;
const std::map<std::string, OpFn>& OpTable();
using FoldFn = std::function<absl::StatusOr<std::vector<at::Tensor>>(
    const NodeDef&, const std::vector<at::Tensor>&)>;
const std::map<std::string, FoldFn>& FoldTable();

class Converter {
 public:
  Converter(const GraphDef& g, const ConvertOptions& o) : g_(g), o_(o) {}

  absl::StatusOr<ConvertedModel> Run();

  // ---- API for op handlers ----
  const NodeDef& node() const { return *node_; }
  const ConvertOptions& options() const { return o_; }
  size_t num_inputs() const { return node_->inputs.size(); }
  // Throws std::out_of_range (reported as an error naming the node) when the input is missing.
  Value& In(size_t i) { return *inputs_.at(i); }
  absl::StatusOr<at::Tensor> ConstIn(size_t i) {
    if (i >= inputs_.size()) return Error("missing input ", i);
    if (!inputs_[i]->is_const) return Error("input ", i, " must be constant");
    return inputs_[i]->constant;
  }
  absl::StatusOr<std::vector<int64_t>> ConstInts(size_t i) {
    auto t = ConstIn(i);
    if (!t.ok()) return t.status();
    return ToInts(*t);
  }
  template <typename... Args>
  absl::Status Error(const Args&... args) const {
    return absl::InvalidArgumentError(
        absl::StrCat("node '", node_->name, "' (", node_->op, "): ", args...));
  }
  // True when tensor `name` (output 0 of the node) is consumed by exactly one node and is not
  // a graph output: then a statement producing it may be rewritten by its consumer.
  bool SingleUse(const std::string& tensor) const {
    auto it = uses_.find(Canonical(tensor));
    return it != uses_.end() && it->second == 1;
  }
  const std::string& InputName(size_t i) const { return node_->inputs[i]; }

  std::string NewVar() { return absl::StrCat("v", next_var_++); }
  size_t Emit(const std::string& line) {
    lines_.push_back(absl::StrCat("    ", line, "  # ", node_->name));
    return lines_.size() - 1;
  }
  void Replace(size_t line, const std::string& text) {
    lines_[line] = absl::StrCat("    ", text, "  # ", node_->name);
  }
  std::string AddBuffer(const at::Tensor& t) {
    const std::string name = absl::StrCat("w", next_buffer_++);
    module_.register_buffer(name, t);
    return "self." + name;
  }
  // Replaces the value of a buffer returned by AddBuffer ("self.wN").
  void SetBuffer(const std::string& ref, const at::Tensor& t) {
    module_.register_buffer(ref.substr(5), t);
  }

  // The variable with the deferred pad of `v` applied (emits it once and updates `v`).
  std::string Materialize(Value& v) {
    // Constants stay constants (other consumers may need their value): each use gets a buffer.
    if (v.is_const) return AddBuffer(v.constant.contiguous());
    v.conv.reset();
    if (!v.has_pad()) return v.var;
    std::vector<int64_t> pads;  // constant_pad_nd: last physical dim first
    for (size_t i = v.rank(); i-- > 0;) {
      const size_t a = static_cast<size_t>(v.perm[i]);
      pads.push_back(v.pad_before[a]);
      pads.push_back(v.pad_after[a]);
    }
    const std::string out = NewVar();
    Emit(absl::StrCat(out, " = torch.constant_pad_nd(", v.var, ", ", Ints(pads), ", ",
                      FloatLit(v.pad_value), ")"));
    v.var = out;
    v.pad_before.clear();
    v.pad_after.clear();
    return out;
  }

  // The variable holding `v` in physical layout `perm` (materialised, permuted if needed).
  std::string InPerm(Value& v, const Perm& perm) {
    std::string x = Materialize(v);
    if (v.perm == perm) return x;
    const Perm inv = Inverse(v.perm);
    Perm r(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) r[i] = inv[static_cast<size_t>(perm[i])];
    const std::string out = NewVar();
    Emit(absl::StrCat(out, " = ", x, ".permute(", Ints(r), ")"));
    return out;
  }

  // An operand expression for an element-wise op whose result has `rank` and layout `perm`:
  // scalars become literals, other constants buffers broadcast and permuted to that layout.
  std::string Operand(Value& v, const Perm& perm) {
    const size_t rank = perm.size();
    if (v.is_const) {
      at::Tensor c = v.constant;
      if (c.numel() == 1) {
        if (c.scalar_type() == at::kFloat) return FloatLit(c.item<float>());
        if (c.scalar_type() == at::kLong) return std::to_string(c.item<int64_t>());
      }
      std::vector<int64_t> s(rank - std::min<size_t>(rank, static_cast<size_t>(c.dim())), 1);
      for (int64_t d : c.sizes()) s.push_back(d);
      c = c.reshape(s);
      if (!IsIdentity(perm)) c = c.permute(perm);
      return AddBuffer(c.contiguous());
    }
    if (v.rank() == rank) return InPerm(v, perm);
    // Lower rank: align trailing axes (TF broadcasting) in logical layout, then permute.
    std::string x = InPerm(v, Identity(v.rank()));
    std::vector<int64_t> s(rank - v.rank(), 1);
    for (int64_t d : v.shape) s.push_back(d);
    const std::string out = NewVar();
    Emit(absl::StrCat(out, " = ", x, ".reshape(", Ints(s), ")"));
    if (IsIdentity(perm)) return out;
    const std::string out2 = NewVar();
    Emit(absl::StrCat(out2, " = ", out, ".permute(", Ints(perm), ")"));
    return out2;
  }

  // Defines output k of the current node.
  void SetOut(size_t k, Value v) { values_[absl::StrCat(node_->name, ":", k)] = std::move(v); }
  Value NewTensor(std::vector<int64_t> shape, Perm perm, at::ScalarType dtype = at::kFloat) {
    Value v;
    v.var = NewVar();
    v.shape = std::move(shape);
    v.perm = std::move(perm);
    v.dtype = dtype;
    return v;
  }
  // True when tensor `name` reaches, through Pad/PadV2/Identity only, a Transpose to NHWC:
  // the graph itself holds it as NCHW (ONNX-converted models), so forward takes it as is.
  bool FeedsNhwcTranspose(const std::string& name) const {
    std::vector<std::string> todo{name};
    std::set<std::string> seen;
    while (!todo.empty()) {
      const std::string t = todo.back();
      todo.pop_back();
      if (!seen.insert(t).second) continue;
      for (const NodeDef& n : g_.nodes) {
        if (n.inputs.empty() || SplitTensorName(n.inputs[0]).first != t) continue;
        if (n.op == "Pad" || n.op == "PadV2" || n.op == "Identity") todo.push_back(n.name);
        if (n.op == "Transpose" && n.inputs.size() == 2) {
          auto it = g_.consts.find(SplitTensorName(n.inputs[1]).first);
          if (it != g_.consts.end() && ToInts(it->second) == std::vector<int64_t>{0, 2, 3, 1})
            return true;
        }
      }
    }
    return false;
  }
  int64_t batch() const { return batch_; }
  void set_batch(int64_t b) { batch_ = b; }
  int NextInput() { return next_input_++; }
  void AddFlops(double f) { flops_ += f; }

 private:
  absl::Status Convert(const NodeDef& n);
  absl::StatusOr<std::vector<std::string>> OutputNames() const;

  const GraphDef& g_;
  const ConvertOptions& o_;
  torch::jit::Module module_{"__torch__.stratus.ImportedGraph"};
  std::unordered_map<std::string, Value> values_;  // "node:k" -> value
  std::unordered_map<std::string, int> uses_;      // "node:k" -> number of consuming nodes
  std::vector<std::string> lines_;
  std::vector<Value*> inputs_;
  const NodeDef* node_ = nullptr;
  int next_var_ = 0;
  int next_buffer_ = 0;
  int next_input_ = 0;
  int64_t batch_ = 1;
  int folded_ = 0;
  double flops_ = 0;
  std::map<std::string, int> op_counts_;
};

absl::StatusOr<std::vector<std::string>> Converter::OutputNames() const {
  if (!o_.outputs.empty()) return o_.outputs;
  std::vector<std::string> out;
  if (g_.signature.is_object() && g_.signature.contains("outputs")) {
    for (auto it = g_.signature["outputs"].begin(); it != g_.signature["outputs"].end(); ++it) {
      std::string name = it.value().value("name", it.key());
      out.push_back(name);
    }
  }
  if (out.empty()) {
    std::set<std::string> consumed;
    for (const auto& n : g_.nodes)
      for (const auto& in : n.inputs) consumed.insert(SplitTensorName(in).first);
    for (const auto& n : g_.nodes)
      if (n.op != "Const" && n.op != "Placeholder" && n.op != "NoOp" && !consumed.count(n.name))
        out.push_back(n.name);
  }
  // Natural order: "Identity", "Identity_1", ..., "Identity_10".
  auto key = [](const std::string& s) {
    std::string base = SplitTensorName(s).first;
    size_t u = base.find_last_not_of("0123456789");
    int64_t num = -1;
    if (u != std::string::npos && u + 1 < base.size() && base[u] == '_') {
      num = std::stoll(base.substr(u + 1));
      base = base.substr(0, u);
    }
    return std::make_pair(base, num);
  };
  std::sort(out.begin(), out.end(),
            [&](const std::string& a, const std::string& b) { return key(a) < key(b); });
  return out;
}

absl::StatusOr<ConvertedModel> Converter::Run() {
  std::unordered_map<std::string, const NodeDef*> by_name;
  for (const auto& n : g_.nodes) by_name[n.name] = &n;
  auto outputs = OutputNames();
  if (!outputs.ok()) return outputs.status();

  // Nodes the outputs depend on, in topological order (iterative DFS).
  std::vector<const NodeDef*> order;
  std::unordered_map<std::string, int> state;  // 1 visiting, 2 done
  for (const auto& out : *outputs) {
    const std::string root = SplitTensorName(out).first;
    if (!by_name.count(root)) {
      return absl::InvalidArgumentError(absl::StrCat("unknown output tensor '", out, "'"));
    }
    std::vector<std::pair<const NodeDef*, size_t>> stack{{by_name[root], 0}};
    if (state[root] == 2) continue;
    state[root] = 1;
    while (!stack.empty()) {
      auto& [n, i] = stack.back();
      if (i < n->inputs.size()) {
        const std::string dep = SplitTensorName(n->inputs[i++]).first;
        auto it = by_name.find(dep);
        if (it == by_name.end()) {
          return absl::InvalidArgumentError(
              absl::StrCat("node '", n->name, "' reads unknown node '", dep, "'"));
        }
        if (state[dep] == 1) {
          return absl::InvalidArgumentError(absl::StrCat("cycle through node '", dep, "'"));
        }
        if (state[dep] == 0) {
          state[dep] = 1;
          stack.push_back({it->second, 0});
        }
      } else {
        state[n->name] = 2;
        order.push_back(n);
        stack.pop_back();
      }
    }
  }

  // Unsupported ops, all at once.
  std::set<std::string> missing;
  for (const NodeDef* n : order)
    if (n->op != "Const" && !OpTable().count(n->op) && !FoldTable().count(n->op))
      missing.insert(n->op);
  if (!missing.empty()) {
    return absl::UnimplementedError(
        absl::StrCat("unsupported TF ops: ", absl::StrJoin(missing, ", ")));
  }
  for (const NodeDef* n : order)
    for (const auto& in : n->inputs) ++uses_[Canonical(in)];
  for (const auto& out : *outputs) uses_[Canonical(out)] += 2;  // never rewritten

  std::vector<std::string> input_names;
  for (const NodeDef* n : order) {
    if (n->op == "Placeholder") input_names.push_back(n->name);
  }
  for (const NodeDef* n : order) {
    absl::Status s = Convert(*n);
    if (!s.ok()) return s;
  }

  // forward's signature and return.
  std::string header = "def forward(self";
  for (size_t i = 0; i < input_names.size(); ++i) {
    absl::StrAppend(&header, ", x", i, ": Tensor");
  }
  std::vector<std::string> rets;
  ConvertedModel result;
  for (const auto& out : *outputs) {
    Value& v = values_[Canonical(out)];
    node_ = by_name[SplitTensorName(out).first];
    std::string x = InPerm(v, Identity(v.rank()));
    rets.push_back(absl::StrCat(x, ".contiguous()"));
    result.outputs.push_back(SplitTensorName(out).first == out ? out : Canonical(out));
  }
  if (rets.size() == 1) {
    absl::StrAppend(&header, ") -> Tensor:\n");
  } else {
    absl::StrAppend(&header, ") -> Tuple[",
                    absl::StrJoin(std::vector<std::string>(rets.size(), "Tensor"), ", "), "]:\n");
  }
  std::string src = header + absl::StrJoin(lines_, "\n") + "\n    return " +
                    (rets.size() == 1 ? rets[0] : "(" + absl::StrJoin(rets, ", ") + ")") + "\n";
  try {
    module_.define(src);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat(
        "generated TorchScript does not compile: ", e.what_without_backtrace(), "\n", src));
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("generated TorchScript does not compile: ", e.what(), "\n", src));
  }
  result.module = module_;
  result.source = src;
  result.inputs = input_names;
  for (const auto& name : input_names) {
    const Value& v = values_[name + ":0"];
    std::vector<int64_t> phys;
    for (int64_t a : v.perm) phys.push_back(v.shape[static_cast<size_t>(a)]);
    result.input_shapes.push_back(phys);
  }
  result.op_counts = op_counts_;
  result.folded = folded_;
  result.flops = flops_;
  return result;
}

absl::Status Converter::Convert(const NodeDef& n) {
  node_ = &n;
  if (n.op == "Const") {
    SetOut(0, ConstValue(g_.consts.at(n.name)));
    return absl::OkStatus();
  }
  inputs_.clear();
  bool all_const = true;
  for (const auto& in : n.inputs) {
    auto it = values_.find(Canonical(in));
    if (it == values_.end()) return Error("input '", in, "' was not produced");
    inputs_.push_back(&it->second);
    all_const = all_const && it->second.is_const;
  }
  auto fold = FoldTable().find(n.op);
  if (fold != FoldTable().end() && all_const && n.op != "Placeholder") {
    std::vector<at::Tensor> in;
    for (Value* v : inputs_) in.push_back(v->constant);
    try {
      auto out = fold->second(n, in);
      if (!out.ok()) return out.status();
      for (size_t k = 0; k < out->size(); ++k) SetOut(k, ConstValue((*out)[k]));
    } catch (const c10::Error& e) {
      return Error("constant folding failed: ", e.what_without_backtrace());
    } catch (const std::exception& e) {
      return Error("constant folding failed: ", e.what());
    }
    ++folded_;
    return absl::OkStatus();
  }
  auto op = OpTable().find(n.op);
  if (op == OpTable().end()) return Error("only supported on constant inputs");
  ++op_counts_[n.op];
  try {
    return op->second(*this);
  } catch (const c10::Error& e) {
    return Error(e.what_without_backtrace());
  } catch (const std::exception& e) {
    return Error(e.what());
  }
}

// ---------------------------------------------------------------------------------------------
// The op table.

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

int64_t Numel(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
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

// TF StridedSlice semantics (positive strides, no ellipsis) resolved per output axis.
struct SliceDim {
  enum Kind { kNewAxis, kShrink, kRange } kind = kRange;
  int64_t begin = 0, end = 0, stride = 1;
};

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

// ---- constant folding (import time, eager ATen) ----

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

}  // namespace

absl::StatusOr<ConvertedModel> ConvertGraph(const GraphDef& graph, const ConvertOptions& options) {
  Converter c(graph, options);
  return c.Run();
}

std::vector<std::string> SupportedOps() {
  std::set<std::string> ops{"Const"};
  for (const auto& [k, v] : OpTable()) ops.insert(k);
  for (const auto& [k, v] : FoldTable()) ops.insert(k);
  return std::vector<std::string>(ops.begin(), ops.end());
}

}  // namespace stratus::import_graph
