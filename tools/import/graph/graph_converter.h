// Converts a TF.js graph model (tfjs_graph.h) into a TorchScript module by generating
// TorchScript source: the graph's nodes are visited in topological order and each op is mapped,
// through an op table, to one statement of `forward` (or to none: see layouts below); Const
// nodes become buffers of the module (or literals when scalar).
//
// Layouts. TF graphs are NHWC; LibTorch convolutions are NCHW (and fast in channels_last
// memory). Every tensor carries its logical TF shape and a permutation `perm` such that the
// TorchScript variable holds `logical.permute(perm)`. Convolutions, pooling and resizes want
// NCHW physically (perm [0,3,1,2] for an NHWC tensor) and produce it; element-wise ops,
// Concat/Split on any axis, reductions and Pad work in whatever layout their input has (axes
// mapped through the permutation); Transpose only changes the permutation and emits nothing;
// ops with layout-sensitive semantics (Reshape, StridedSlice, Pack, ...) first bring their
// input back to the logical layout. Outputs are returned in their logical (TF) layout.
//
// Folding: nodes whose inputs are all constant are evaluated at import time; a bias Add after
// a convolution is folded into it; a zero Pad feeding a convolution (or a -inf pad feeding a
// max pool) becomes the op's padding when symmetric, else an explicit constant_pad_nd. TF's
// SAME padding (extra pixel at the bottom/right) is reproduced exactly.
//
// Batch: shapes are inferred with the placeholders' batch (-1 read as 1); a Reshape whose
// target's first dimension equals the input's batch keeps that dimension dynamic
// (`x.size(0)`), so a model imported at batch 1 runs at any batch size.
//
// Internal to the graph importer. Errors: UNIMPLEMENTED naming every unsupported op type at
// once; INVALID_ARGUMENT for a graph the table cannot express (non-constant shapes, unknown
// output names, ...), naming the node.
#ifndef STRATUS_TOOLS_IMPORT_GRAPH_GRAPH_CONVERTER_H_
#define STRATUS_TOOLS_IMPORT_GRAPH_GRAPH_CONVERTER_H_

#include <torch/script.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/import/graph/tfjs_graph.h"

namespace stratus::import_graph {

struct ConvertOptions {
  // Output tensors ("Identity", "node:1"), in the order forward returns them. Empty: the
  // signature's outputs sorted by name, or else every non-Const node nobody consumes.
  std::vector<std::string> outputs;
  // Rank-4 placeholders are NHWC in TF graphs: forward takes them as NCHW instead, the layout
  // the runtime feeds (default true). A placeholder the graph itself transposes to NHWC (an
  // ONNX-converted graph such as nanodet) is already NCHW and taken as is.
  bool nchw_inputs = true;
  // Store 4-D convolution weights in channels_last memory format (default true: with
  // channels_last activations this is oneDNN's fast path, ~30x on AVX2; runtime/MODELS.md, layout).
  bool channels_last = true;
  // Keep the batch dimension of Reshape targets dynamic (default true; see above).
  bool dynamic_batch = true;
};

struct ConvertedModel {
  torch::jit::Module module;
  std::string source;                              // the generated TorchScript (forward)
  std::vector<std::string> inputs;                 // placeholder names, forward's argument order
  std::vector<std::vector<int64_t>> input_shapes;  // as forward takes them (NCHW), batch 1
  std::vector<std::string> outputs;                // tensor names, forward's return order
  std::map<std::string, int> op_counts;            // converted (non-Const) nodes by op type
  int folded = 0;                                  // nodes evaluated at import time
  double flops = 0;  // multiply-adds x 2 of convolutions and matmuls, at the import batch
};

absl::StatusOr<ConvertedModel> ConvertGraph(const GraphDef& graph, const ConvertOptions& options);

// Op types the table maps (Const and Placeholder included).
std::vector<std::string> SupportedOps();

}  // namespace stratus::import_graph

#endif  // STRATUS_TOOLS_IMPORT_GRAPH_GRAPH_CONVERTER_H_
