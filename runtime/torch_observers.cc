#include "runtime/torch_observers.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string_view>

namespace stratus::runtime {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// A thread-local RecordFunction observer on the warm-up forward: for the outermost convolution
// or matrix product in each call chain (aten::conv2d calls aten::convolution calls
// aten::_convolution...), FLOPs = 2 x output elements x reduction length. Element-wise ops,
// pooling and normalisation are not counted (they are memory-bound and small), so achieved
// GFLOP/s is a lower bound of the work done.
struct FlopContext : at::ObserverContext {
  bool outermost = false;
};
thread_local int tls_flop_depth = 0;
thread_local double tls_flops = 0;
thread_local std::map<std::string, double>* tls_flops_by_op = nullptr;

bool IsCountedOp(std::string_view n) {
  return n == "aten::conv1d" || n == "aten::conv2d" || n == "aten::conv3d" ||
         n == "aten::convolution" || n == "aten::_convolution" || n == "aten::mkldnn_convolution" ||
         n == "aten::linear" || n == "aten::addmm" || n == "aten::mm" || n == "aten::bmm" ||
         n == "aten::matmul" || n == "aten::baddbmm";
}

// Output elements x reduction length, from the inputs alone (the outputs an observer sees are
// not reliable under every executor).
double ConvFlops(c10::ArrayRef<const c10::IValue> in) {
  if (in.size() < 6 || !in[0].isTensor() || !in[1].isTensor()) return 0;
  const at::Tensor& x = in[0].toTensor();
  const at::Tensor& w = in[1].toTensor();
  const int64_t spatial = w.dim() - 2;
  if (spatial < 1 || x.dim() != w.dim()) return 0;
  auto list = [&](size_t i, int64_t d) -> int64_t {
    if (!in[i].isIntList()) return -1;
    const auto v = in[i].toIntVector();
    if (v.empty()) return -1;
    return v.size() == 1 ? v[0] : v.at(static_cast<size_t>(d));
  };
  double out = static_cast<double>(x.size(0)) * static_cast<double>(w.size(0));
  double reduction = static_cast<double>(w.size(1));
  for (int64_t d = 0; d < spatial; ++d) {
    const int64_t k = w.size(2 + d);
    const int64_t n = x.size(2 + d);
    int64_t stride = list(3, d), pad = list(4, d), dil = list(5, d);
    if (stride <= 0) stride = 1;
    if (dil <= 0) dil = 1;
    int64_t o;
    if (pad < 0) {  // padding="same" (stride 1) or "valid"
      const bool same = in[4].isString() && in[4].toStringRef() == "same";
      o = same ? n : (n - dil * (k - 1) - 1) / stride + 1;
    } else {
      o = (n + 2 * pad - dil * (k - 1) - 1) / stride + 1;
    }
    out *= static_cast<double>(std::max<int64_t>(0, o));
    reduction *= static_cast<double>(k);
  }
  return 2.0 * out * reduction;
}

double MatmulFlops(std::string_view n, c10::ArrayRef<const c10::IValue> in) {
  auto t = [&](size_t i) -> const at::Tensor* {
    return i < in.size() && in[i].isTensor() ? &in[i].toTensor() : nullptr;
  };
  if (n == "aten::linear") {
    const at::Tensor *x = t(0), *w = t(1);
    if (!x || !w || w->dim() != 2) return 0;
    return 2.0 * static_cast<double>(x->numel() / std::max<int64_t>(1, x->size(-1))) *
           static_cast<double>(w->size(0)) * static_cast<double>(w->size(1));
  }
  const size_t first = (n == "aten::addmm" || n == "aten::baddbmm") ? 1 : 0;
  const at::Tensor *a = t(first), *b = t(first + 1);
  if (!a || !b || a->dim() < 1 || b->dim() < 1) return 0;
  const double k = static_cast<double>(a->size(-1));
  const double rows = static_cast<double>(a->numel()) / std::max(1.0, k);
  const double cols = b->dim() >= 2 ? static_cast<double>(b->size(-1)) : 1.0;
  return 2.0 * rows * k * cols;
}

std::unique_ptr<at::ObserverContext> FlopStart(const at::RecordFunction& fn) {
  const std::string_view n = fn.name();
  if (!IsCountedOp(n)) return nullptr;
  auto ctx = std::make_unique<FlopContext>();
  ctx->outermost = tls_flop_depth == 0;
  ++tls_flop_depth;
  if (!ctx->outermost) return ctx;
  const double f = n.find("conv") != std::string_view::npos ? ConvFlops(fn.inputs())
                                                            : MatmulFlops(n, fn.inputs());
  tls_flops += f;
  if (tls_flops_by_op) (*tls_flops_by_op)[std::string(n)] += f;
  return ctx;
}

void FlopEnd(const at::RecordFunction& fn, at::ObserverContext* base) {
  if (base != nullptr) --tls_flop_depth;
}

struct ProfileContext : at::ObserverContext {
  Clock::time_point start;
  bool outermost = false;
  std::string key;
};
thread_local int tls_prof_depth = 0;
thread_local std::map<std::string, OpStat>* tls_prof = nullptr;

std::unique_ptr<at::ObserverContext> ProfStart(const at::RecordFunction& fn) {
  auto ctx = std::make_unique<ProfileContext>();
  ctx->outermost = tls_prof_depth == 0;
  ++tls_prof_depth;
  ctx->key = fn.name();
  if (ctx->outermost && ctx->key == "aten::conv2d") {
    // Split convolutions by kind: depthwise / 1x1 / kxk, and their input size.
    const auto inputs = fn.inputs();
    if (inputs.size() >= 2 && inputs[0].isTensor() && inputs[1].isTensor()) {
      const at::Tensor& x = inputs[0].toTensor();
      const at::Tensor& w = inputs[1].toTensor();
      if (x.dim() == 4 && w.dim() == 4) {
        const bool dw = w.size(1) == 1 && x.size(1) > 1;
        ctx->key += dw ? " dw" : (w.size(2) == 1 && w.size(3) == 1 ? " 1x1" : " kxk");
        ctx->key += " " + std::to_string(x.size(1)) + "x" + std::to_string(x.size(2)) + "x" +
                    std::to_string(x.size(3));
      }
    }
  }
  ctx->start = Clock::now();
  return ctx;
}

void ProfEnd(const at::RecordFunction& fn, at::ObserverContext* base) {
  auto* ctx = static_cast<ProfileContext*>(base);
  if (ctx == nullptr) return;
  --tls_prof_depth;
  if (!ctx->outermost || tls_prof == nullptr) return;
  OpStat& s = (*tls_prof)[ctx->key];
  ++s.count;
  s.ms += MsSince(ctx->start);
  const auto& outputs = fn.outputs();
  if (!outputs.empty() && outputs[0].isTensor()) {
    const at::Tensor& t = outputs[0].toTensor();
    if (t.dim() == 4 && t.size(1) > 1 && !t.is_contiguous(at::MemoryFormat::ChannelsLast)) {
      ++s.nchw_outputs;
    }
  }
}

}  // namespace

FlopCounter::FlopCounter() {
  tls_flops = 0;
  tls_flop_depth = 0;
  tls_flops_by_op = &by_op_;
  handle_ = at::addThreadLocalCallback(at::RecordFunctionCallback(FlopStart, FlopEnd)
                                           .needsInputs(true)
                                           .scopes({at::RecordScope::FUNCTION}));
}

FlopCounter::~FlopCounter() {
  at::removeCallback(handle_);
  tls_flops_by_op = nullptr;
}

double FlopCounter::flops() const { return tls_flops; }

OpProfiler::OpProfiler() {
  tls_prof = &stats_;
  tls_prof_depth = 0;
  handle_ = at::addThreadLocalCallback(at::RecordFunctionCallback(ProfStart, ProfEnd)
                                           .needsInputs(true)
                                           .needsOutputs(true)
                                           .scopes({at::RecordScope::FUNCTION}));
}

OpProfiler::~OpProfiler() {
  at::removeCallback(handle_);
  tls_prof = nullptr;
}

}  // namespace stratus::runtime
