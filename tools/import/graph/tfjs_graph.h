// Reader for TensorFlow.js graph models: `model.json` (format "graph-model") holding a TF
// GraphDef as JSON (`modelTopology.node`: name, op, inputs, attrs) and a `weightsManifest` whose
// binary shards hold the value of every `Const` node.
//
// Weights are decoded as tfjs-core's io.decodeWeights does: float32/int32/bool stored as is,
// float16 widened, uint8/uint16 affine-quantised values computed as q * scale + min in double
// and rounded once to float32 (int32 tensors rounded to the nearest integer). Const values are
// returned in TF layout (NHWC activations, HWIO filters); layout conversion is the converter's.
//
// Internal to the graph importer (includes LibTorch). Thread-safe: no shared state.
// Errors: NOT_FOUND for a missing file, INVALID_ARGUMENT for a malformed model or short shard.
#ifndef STRATUS_TOOLS_IMPORT_GRAPH_TFJS_GRAPH_H_
#define STRATUS_TOOLS_IMPORT_GRAPH_TFJS_GRAPH_H_

#include <torch/script.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace stratus::import_graph {

struct NodeDef {
  std::string name;
  std::string op;
  // Data inputs as written in the graph: "node" (output 0) or "node:k"; control inputs ("^x")
  // are dropped.
  std::vector<std::string> inputs;
  nlohmann::json attr;  // the raw attr map, read with the Attr* helpers below
};

struct GraphDef {
  std::vector<NodeDef> nodes;                // in file order (not necessarily topological)
  std::map<std::string, at::Tensor> consts;  // value of each Const node, by node name
  nlohmann::json signature;                  // may be null
};

// Parses an already-loaded model.json; `weights` is the concatenation of all shards, in
// manifest order.
absl::StatusOr<GraphDef> ParseTfjsGraph(const nlohmann::json& model, const std::string& weights);

// Reads `model_json` and its shards (paths relative to its folder).
absl::StatusOr<GraphDef> LoadTfjsGraph(const std::filesystem::path& model_json);

// Attribute helpers. Each returns `fallback` when the attribute is absent and INVALID_ARGUMENT
// when it is present with another type.
absl::StatusOr<int64_t> AttrInt(const NodeDef& n, const std::string& key, int64_t fallback);
absl::StatusOr<double> AttrFloat(const NodeDef& n, const std::string& key, double fallback);
absl::StatusOr<bool> AttrBool(const NodeDef& n, const std::string& key, bool fallback);
// String attributes are base64 in the JSON; returned decoded.
absl::StatusOr<std::string> AttrString(const NodeDef& n, const std::string& key,
                                       const std::string& fallback);
absl::StatusOr<std::vector<int64_t>> AttrInts(const NodeDef& n, const std::string& key);
absl::StatusOr<std::vector<std::string>> AttrStrings(const NodeDef& n, const std::string& key);

// Splits "node:k" into ("node", k); "node" gives ("node", 0).
std::pair<std::string, int> SplitTensorName(const std::string& tensor);

// Decodes one IEEE 754 half-precision value.
float HalfToFloat(uint16_t h);

}  // namespace stratus::import_graph

#endif  // STRATUS_TOOLS_IMPORT_GRAPH_TFJS_GRAPH_H_
