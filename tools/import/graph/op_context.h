// The state the graph converter (graph_converter.h) keeps while it walks a graph, and the API
// its op handlers (graph_ops.h) use to emit TorchScript: a Value per tensor (its logical TF
// shape, the permutation its TorchScript variable holds it in, a deferred pad, or its constant
// value) and the Converter, which owns the module being built, the lines of `forward` and the
// values produced so far.
//
// Internal to the graph importer. Not thread-safe: one Converter converts one graph on one
// thread. Op handlers report bad graphs as INVALID_ARGUMENT through Converter::Error (naming
// the node); an exception a handler throws (ATen's c10::Error, std::out_of_range from In())
// is caught by the Converter and reported the same way.
#ifndef STRATUS_TOOLS_IMPORT_GRAPH_OP_CONTEXT_H_
#define STRATUS_TOOLS_IMPORT_GRAPH_OP_CONTEXT_H_

#include <torch/script.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "tools/import/graph/graph_converter.h"
#include "tools/import/graph/tfjs_graph.h"

namespace stratus::import_graph::internal {

// A permutation of axes: physical axis i holds logical axis perm[i].
using Perm = std::vector<int64_t>;

Perm Identity(size_t rank);
Perm Inverse(const Perm& p);
bool IsIdentity(const Perm& p);

// "[1, 2, 3]": an int list literal of TorchScript.
std::string Ints(const std::vector<int64_t>& v);
// A float literal that TorchScript parses back to the same float32.
std::string FloatLit(double v);

std::vector<int64_t> ShapeOf(const at::Tensor& t);
// The values of an integer (or integral float) tensor, flattened.
std::vector<int64_t> ToInts(const at::Tensor& t);
// The product of the dimensions (1 for a scalar).
int64_t Numel(const std::vector<int64_t>& s);
// A negative axis counted from the end.
int64_t NormAxis(int64_t axis, size_t rank);
// The ATen type a TF dtype is held in (float, int64 or bool); INVALID_ARGUMENT for others.
absl::StatusOr<at::ScalarType> TfType(const std::string& t);
// The ScalarType number TorchScript's Tensor.to() takes.
std::string TorchDtype(at::ScalarType t);
// "node:k" for "node", "node:k" (the key of values produced).
std::string Canonical(const std::string& tensor);

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

// A constant value (identity layout) holding `t`.
Value ConstValue(at::Tensor t);

// Converts one graph (ConvertGraph in graph_converter.h is its only user): Run() visits the
// nodes in topological order, folds those whose inputs are all constant (constant_folding.h)
// and hands the others to their op handler (graph_ops.h), which reads node() and In(i) and
// defines the node's outputs with SetOut. `g` and `o` must outlive the Converter.
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

}  // namespace stratus::import_graph::internal

#endif  // STRATUS_TOOLS_IMPORT_GRAPH_OP_CONTEXT_H_
