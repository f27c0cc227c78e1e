// Architectures the trainer builds, as TorchScript modules written in TorchScript source
// (`define()`), so the very module that trains in C++ is the one saved as model.pt.
// Internal to training/ (includes LibTorch).
//
// Every module has two methods:
//   logits(...) -> [B, C] raw scores over the job's labels (what the loss sees);
//   forward(...) -> [B, C'] probabilities (softmax applied) as served; C' = C, or C + 1 for a
//   text model with a derived MIXED output.
#ifndef STRATUS_TRAINING_MODELS_H_
#define STRATUS_TRAINING_MODELS_H_

#include <torch/script.h>

#include <string>

#include "training/job.h"

namespace stratus::training {

struct NgramBagInfo {
  int64_t num_embeddings = 0;  // vocabulary + bigram buckets
  int num_classes = 0;
  torch::Tensor lexicon;    // float [num_embeddings, 2]: positive, negative valence (>= 0)
  int mixed_positive = -1;  // class indices used for MIXED; -1: no MIXED output
  int mixed_negative = -1;
};

// forward(ids int64 [B,T], clauses int64 [B,T]) -> probabilities. Parameters are initialised
// from torch's default generator (seed it first for reproducible runs).
torch::jit::Module BuildNgramBag(const ModelSpec& spec, const NgramBagInfo& info);

// forward(x float [B,3,S,S], normalised) -> probabilities. A small ResNet-like convnet with
// batch norm, channels_last friendly (no views after convolutions).
torch::jit::Module BuildConvNet(const ModelSpec& spec, int num_classes);

}  // namespace stratus::training

#endif  // STRATUS_TRAINING_MODELS_H_
