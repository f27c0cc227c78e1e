// RecordFunction observers of LibTorch ops run on the calling thread, for the model runtime's
// warm-up and diagnostics (model.cc). Internal to runtime/: includes ATen.
//   FlopCounter counter;  model.forward(...);  counter.flops();
#ifndef STRATUS_RUNTIME_TORCH_OBSERVERS_H_
#define STRATUS_RUNTIME_TORCH_OBSERVERS_H_

#include <ATen/record_function.h>

#include <cstdint>
#include <map>
#include <string>

namespace stratus::runtime {

// While alive, counts the FLOPs of the convolutions and matrix products this thread runs: for
// the outermost such op of each call chain (aten::conv2d calls aten::convolution calls
// aten::_convolution...), 2 x output elements x reduction length. Element-wise ops, pooling and
// normalisation are not counted (memory-bound and small), so achieved GFLOP/s is a lower bound
// of the work done. One per thread at a time.
class FlopCounter {
 public:
  FlopCounter();
  ~FlopCounter();
  FlopCounter(const FlopCounter&) = delete;
  FlopCounter& operator=(const FlopCounter&) = delete;

  double flops() const;
  const std::map<std::string, double>& by_op() const { return by_op_; }

 private:
  at::CallbackHandle handle_;
  std::map<std::string, double> by_op_;
};

// Calls, time and non-channels_last 4-D outputs of one kind of top-level op.
struct OpStat {
  int64_t count = 0;
  double ms = 0;
  int64_t nchw_outputs = 0;  // 4-D outputs not in channels_last
};

// While alive, times the top-level ops this thread runs (convolutions split by kind: depthwise,
// 1x1, kxk, with their input size). One per thread at a time.
class OpProfiler {
 public:
  OpProfiler();
  ~OpProfiler();
  OpProfiler(const OpProfiler&) = delete;
  OpProfiler& operator=(const OpProfiler&) = delete;

  const std::map<std::string, OpStat>& stats() const { return stats_; }

 private:
  at::CallbackHandle handle_;
  std::map<std::string, OpStat> stats_;
};

}  // namespace stratus::runtime

#endif  // STRATUS_RUNTIME_TORCH_OBSERVERS_H_
