#include "tools/import/graph/graph_converter.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <set>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/import/graph/constant_folding.h"
#include "tools/import/graph/graph_ops.h"
#include "tools/import/graph/op_context.h"

namespace stratus::import_graph {
namespace internal {

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

std::string FloatLit(double v) {
  if (std::isinf(v)) return v > 0 ? "float(\"inf\")" : "float(\"-inf\")";
  if (std::isnan(v)) return "float(\"nan\")";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  std::string s(buf);
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s;
}

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

int64_t Numel(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
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

}  // namespace internal

absl::StatusOr<ConvertedModel> ConvertGraph(const GraphDef& graph, const ConvertOptions& options) {
  internal::Converter c(graph, options);
  return c.Run();
}

std::vector<std::string> SupportedOps() {
  std::set<std::string> ops{"Const"};
  for (const auto& [k, v] : internal::OpTable()) ops.insert(k);
  for (const auto& [k, v] : internal::FoldTable()) ops.insert(k);
  return std::vector<std::string>(ops.begin(), ops.end());
}

}  // namespace stratus::import_graph
