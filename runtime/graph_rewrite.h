// Rewrites of frozen TorchScript graphs the model runtime applies at load (model.cc). Internal
// to runtime/: includes LibTorch.
#ifndef STRATUS_RUNTIME_GRAPH_REWRITE_H_
#define STRATUS_RUNTIME_GRAPH_REWRITE_H_

#include <torch/script.h>

namespace stratus::runtime {

// Models imported from TensorFlow pad stride-2 convolutions after the data only
// (constant_pad_nd(x, [0, r, 0, b]) then conv2d(padding=0)): one extra copy of the activations
// per such layer, slow in channels_last. The same sums come from conv2d(x, w', padding=(b, r))
// with w' = w padded by b zero rows on top and r zero columns on the left: the symmetric padding
// adds b rows above (met by the zero weights) and b below (the rows the explicit pad added).
// Applied to frozen graphs, where the weight is a constant. Returns the number of folds.
int FoldTfSamePadding(torch::jit::Module& module);

}  // namespace stratus::runtime

#endif  // STRATUS_RUNTIME_GRAPH_REWRITE_H_
