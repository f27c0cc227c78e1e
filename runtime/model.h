// A loaded model: config + TorchScript module + decoder, warmed up and ready to run.
//
//   auto model = Model::Load("/models/faces", RuntimeOptions{});
//   if (!model.ok()) { /* message names the model and the problem */ }
//   auto predictions = (*model)->Run({rgb_image}, DecodeOptions{});
//
// LibTorch stays behind the pimpl: this header does not include it.
//
// Errors (all name the model): NotFound (no config.yaml / model.pt), InvalidArgument (bad
// config, unknown decoder, unusable device), FailedPrecondition (model.pt does not load, forward
// fails on the warm-up batch, or its outputs have a shape the decoder does not expect).
//
// Thread safety: a loaded Model is immutable; Run()/Forward() may be called concurrently from
// any number of threads (TorchScript's forward is reentrant; each call owns its tensors). Batch
// size is free: calls above max_batch_size() are split.
#ifndef STRATUS_RUNTIME_MODEL_H_
#define STRATUS_RUNTIME_MODEL_H_

#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/decoder.h"
#include "runtime/model_config.h"

namespace stratus::runtime {

struct RuntimeOptions {
  // "auto" (first CUDA device when LibTorch sees one, else CPU), "cpu", or "cuda:N". Asking for
  // CUDA on a machine (or a LibTorch build) without it fails the load.
  std::string device = "auto";
  // LibTorch intra-op threads for the whole process (at::set_num_threads). 0: one per core
  // (std::thread::hardware_concurrency; LibTorch's own default is 1 on these machines). The last
  // Load() wins: set it the same for every model.
  int num_threads = 0;
  // Memory layout of the input and of 4-D weights on the CPU. "auto": time both on the warm-up
  // batch and keep the faster (channels_last is ~30x faster for oneDNN convs on AVX2 CPUs, but
  // a model with an op that falls back to NCHW can lose, and 1x1 convolutions gain little);
  // "channels_last"; "nchw".
  std::string layout = "auto";
  // Arithmetic of convolutions and matrix products on the CPU. "fp32": exact, what the golden
  // tests check. "bf16": LibTorch's CPU autocast to bfloat16 (oneDNN's AVX512-BF16 and AMX
  // kernels) for every model, refused on a CPU without native bf16 (CpuHasNativeBf16). "auto":
  // bf16 for detection models when the CPU has it and the warm-up measures it at least 10%
  // faster, else fp32; crop models stay fp32 (bf16 costs them too much accuracy).
  // Inputs, weights and outputs stay float; bf16 costs accuracy (runtime/MODELS.md measures it
  // against the golden outputs). CUDA models stay fp32.
  std::string precision = "fp32";
  // Freeze the module (weights become constants, conv+bn folded) before running.
  bool freeze = true;
  // With freeze: fold TensorFlow-style "pad after, then stride-2 convolution" into the
  // convolution (zero-padded kernel, symmetric padding), saving a copy of the activations per
  // such layer (TF.js-imported models have many).
  bool fold_padding = true;
  // Keep freed memory in the heap (glibc: no mmap for large blocks, no trimming), process-wide,
  // set by the first Load() that asks: the one allocator setting of every Stratus process that
  // runs models (no service sets its own). Without it glibc returns the multi-MB activations to
  // the kernel after every forward and page-faults them back in: measured on the SSD (1 thread,
  // CPU-ms/image) 59 -> 45 at batch 1 and 77 -> 38 at batch 8; decoded images (megabytes each)
  // stay in the heap too. The cost: RSS stays at its peak.
  bool retain_freed_memory = true;
  // Also run torch.jit.optimize_for_inference (oneDNN blocked-layout subgraphs for convs).
  bool optimize_for_inference = false;
  // Forward runs on the warm-up batch per layout candidate (the best process CPU time counts).
  int warmup_runs = 3;
  // Largest batch one forward gets; larger Run() calls are split. A model whose forward fails
  // at batch 4 during warm-up (a batch of 1 baked in), or whose per-image CPU time at batch 4
  // is not below batch 1 (memory-bound), gets 1.
  int max_batch_size = 32;
};

// Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX-BF16, from /proc/cpuinfo).
bool CpuHasNativeBf16();

class Model {
 public:
  // Loads `dir` (a folder with config.yaml and model.pt), checks the decoder against the outputs
  // of a dummy batch and warms up. Returns only a ready model.
  static absl::StatusOr<std::unique_ptr<Model>> Load(const std::string& dir,
                                                     const RuntimeOptions& options);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const std::string& name() const;
  const ModelConfig& config() const;
  std::string device() const;     // "cpu", "cuda:0"
  std::string layout() const;     // "channels_last" or "nchw": what the warm-up chose
  std::string precision() const;  // "fp32" or "bf16": what the warm-up chose
  int max_batch_size() const;
  double load_ms() const;  // load + warm-up wall time
  // Multiply-adds x2 of convolutions and matrix products for one image at the model's input
  // size, counted on the warm-up run (see the note in model.cc). 0 if unknown.
  double flops_per_image() const;

  // Preprocesses `images` (8-bit RGB, any size; an ROI of a larger Mat is fine), runs the
  // model and decodes. One Prediction per image, in order. InvalidArgument for an empty or
  // non-RGB image (naming its index), Internal for a LibTorch error.
  absl::StatusOr<std::vector<Prediction>> Run(absl::Span<const cv::Mat> images,
                                              const DecodeOptions& options = {}) const;

  // Preprocess + forward only: the raw outputs (batch first) and each image's geometry.
  absl::StatusOr<std::vector<OutputTensor>> Forward(absl::Span<const cv::Mat> images,
                                                    std::vector<InputGeometry>* geometry) const;

  // Diagnostics for benchmarks: runs `runs` forwards on a batch of `batch` dummy images with an
  // observer and returns a table of the top-level ops (count, total ms, how many 4-D outputs
  // were not channels_last when the model runs channels_last), slowest first.
  absl::StatusOr<std::string> ProfileOps(int batch, int runs) const;

  // The decoder (for callers that run Forward() themselves).
  const Decoder& decoder() const;

 private:
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace stratus::runtime

#endif  // STRATUS_RUNTIME_MODEL_H_
