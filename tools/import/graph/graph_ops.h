// The op table of the graph converter: for each TF op type it maps, the handler that emits
// the op's TorchScript statements through the Converter (op_context.h), keeping the layout
// rules of graph_converter.h. Handlers of the element-wise, layout and shape ops live in
// graph_ops.cc; those of the window and linear ops (convolution, pooling, resize, matmul and
// their fused activations) in graph_ops_spatial.cc.
//
// Internal to the graph importer. A handler returns INVALID_ARGUMENT (Converter::Error) for a
// node it cannot express; it may throw c10::Error, which the Converter reports the same way.
#ifndef STRATUS_TOOLS_IMPORT_GRAPH_GRAPH_OPS_H_
#define STRATUS_TOOLS_IMPORT_GRAPH_GRAPH_OPS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tools/import/graph/op_context.h"
#include "tools/import/graph/tfjs_graph.h"

namespace stratus::import_graph::internal {

using OpFn = std::function<absl::Status(Converter&)>;

// Op type -> handler; built once, never changes (safe to read from any thread).
const std::map<std::string, OpFn>& OpTable();

// TF StridedSlice semantics (positive strides, no ellipsis) resolved per output axis; shared
// by the StridedSlice handler and its constant fold.
struct SliceDim {
  enum Kind { kNewAxis, kShrink, kRange } kind = kRange;
  int64_t begin = 0, end = 0, stride = 1;
};

// The plan of StridedSlice node `n` over an input of `in_shape`, and the output's shape.
// INVALID_ARGUMENT naming the node for masks or strides it does not support.
absl::StatusOr<std::vector<SliceDim>> PlanStridedSlice(const NodeDef& n,
                                                       const std::vector<int64_t>& in_shape,
                                                       const std::vector<int64_t>& begin,
                                                       const std::vector<int64_t>& end,
                                                       const std::vector<int64_t>& strides,
                                                       std::vector<int64_t>* out_shape);

// Window and linear ops (graph_ops_spatial.cc), listed in OpTable.
absl::Status PreluOp(Converter& c);
absl::Status ConvOp(Converter& c, bool depthwise);  // Conv2D, DepthwiseConv2dNative, fused
absl::Status ConvTransposeOp(Converter& c);         // Conv2DBackpropInput
absl::Status PoolOp(Converter& c, bool max);        // MaxPool, AvgPool
absl::Status ResizeOp(Converter& c, bool bilinear);
absl::Status MatMulOp(Converter& c);  // MatMul, BatchMatMul(V2), _FusedMatMul

}  // namespace stratus::import_graph::internal

#endif  // STRATUS_TOOLS_IMPORT_GRAPH_GRAPH_OPS_H_
