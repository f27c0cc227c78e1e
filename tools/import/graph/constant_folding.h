// Constant folding of the graph converter: for each TF op type it can evaluate at import time,
// a function that computes the node's outputs from constant inputs with eager ATen. The
// Converter (op_context.h) folds every node whose inputs are all constant and whose op is in
// this table; the results become constants (buffers or literals) of the module.
//
// Internal to the graph importer. A fold returns INVALID_ARGUMENT for attributes it cannot
// read and may throw c10::Error (shapes that do not fit), which the Converter reports as
// INVALID_ARGUMENT naming the node.
#ifndef STRATUS_TOOLS_IMPORT_GRAPH_CONSTANT_FOLDING_H_
#define STRATUS_TOOLS_IMPORT_GRAPH_CONSTANT_FOLDING_H_

#include <torch/script.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/import/graph/tfjs_graph.h"

namespace stratus::import_graph::internal {

using FoldFn = std::function<absl::StatusOr<std::vector<at::Tensor>>(
    const NodeDef&, const std::vector<at::Tensor>&)>;

// Op type -> fold; built once, never changes (safe to read from any thread).
const std::map<std::string, FoldFn>& FoldTable();

}  // namespace stratus::import_graph::internal

#endif  // STRATUS_TOOLS_IMPORT_GRAPH_CONSTANT_FOLDING_H_
