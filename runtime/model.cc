// The only translation unit of the runtime library that includes LibTorch.
#include "runtime/model.h"

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <ATen/record_function.h>
#include <malloc.h>
#include <time.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/cuda.h>
#include <torch/script.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "runtime/preprocess.h"
#include "runtime/torch_logging.h"

namespace stratus::runtime {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double CpuMs() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

std::string TorchMessage(const c10::Error& e) { return e.what_without_backtrace(); }

// ---- FLOP counting ----------------------------------------------------------------------------
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

// ---- op profile -------------------------------------------------------------------------------
struct OpStat {
  int64_t count = 0;
  double ms = 0;
  int64_t nchw_outputs = 0;  // 4-D outputs not in channels_last
};
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

// ---- graph rewrite: TF "SAME" padding folded into the convolution ----------------------------
// Models imported from TensorFlow pad stride-2 convolutions after the data only
// (constant_pad_nd(x, [0, r, 0, b]) then conv2d(padding=0)): one extra copy of the activations
// per such layer, slow in channels_last. The same sums come from conv2d(x, w', padding=(b, r))
// with w' = w padded by b zero rows on top and r zero columns on the left: the symmetric padding
// adds b rows above (met by the zero weights) and b below (the rows the explicit pad added).
// Applied to frozen graphs, where the weight is a constant. Returns the number of folds.
int FoldTfSamePadding(torch::jit::Module& module) {
  std::shared_ptr<torch::jit::Graph> graph = module.get_method("forward").graph();
  int folded = 0;
  std::vector<torch::jit::Node*> convs;
  for (torch::jit::Node* n : graph->nodes()) {
    if (n->kind() == c10::Symbol::fromQualString("aten::conv2d") && n->inputs().size() == 7) {
      convs.push_back(n);
    }
  }
  for (torch::jit::Node* conv : convs) {
    torch::jit::Value* padded = conv->input(0);
    torch::jit::Node* pad = padded->node();
    if (pad->kind() != c10::Symbol::fromQualString("aten::constant_pad_nd") ||
        padded->uses().size() != 1 || pad->inputs().size() != 3) {
      continue;
    }
    const auto pads = torch::jit::toIValue(pad->input(1));
    const auto value = torch::jit::toIValue(pad->input(2));
    const auto weight = torch::jit::toIValue(conv->input(1));
    const auto conv_pad = torch::jit::toIValue(conv->input(4));
    const auto dilation = torch::jit::toIValue(conv->input(5));
    if (!pads || !pads->isIntList() || !value || !(value->isDouble() || value->isInt()) ||
        !weight || !weight->isTensor() || !conv_pad || !conv_pad->isIntList() || !dilation ||
        !dilation->isIntList()) {
      continue;
    }
    const std::vector<int64_t> p = pads->toIntVector();
    const double v = value->isDouble() ? value->toDouble() : static_cast<double>(value->toInt());
    const std::vector<int64_t> cp = conv_pad->toIntVector();
    const std::vector<int64_t> dil = dilation->toIntVector();
    const at::Tensor w = weight->toTensor();
    const bool zero_conv_pad = std::all_of(cp.begin(), cp.end(), [](int64_t x) { return x == 0; });
    const bool unit_dilation =
        std::all_of(dil.begin(), dil.end(), [](int64_t x) { return x == 1; });
    if (p.size() != 4 || p[0] != 0 || p[2] != 0 || p[1] < 0 || p[3] < 0 || v != 0.0 ||
        !zero_conv_pad || !unit_dilation || w.dim() != 4) {
      continue;
    }
    const int64_t right = p[1], bottom = p[3];
    at::Tensor w2 = at::constant_pad_nd(w, {right, 0, bottom, 0}, 0);
    if (w.is_contiguous(at::MemoryFormat::ChannelsLast) && !w.is_contiguous()) {
      w2 = w2.contiguous(at::MemoryFormat::ChannelsLast);
    }
    torch::jit::WithInsertPoint guard(conv);
    torch::jit::Value* w2v = graph->insertConstant(w2);
    torch::jit::Value* cpv = graph->insertConstant(std::vector<int64_t>{bottom, right});
    conv->replaceInput(0, pad->input(0));
    conv->replaceInput(1, w2v);
    conv->replaceInput(4, cpv);
    if (!pad->hasUses()) pad->destroy();
    ++folded;
  }
  return folded;
}

// ---- outputs ----------------------------------------------------------------------------------
absl::Status Flatten(const c10::IValue& v, std::vector<OutputTensor>& out) {
  if (v.isTensor()) {
    at::Tensor t = v.toTensor().to(at::kCPU, at::kFloat).contiguous();
    OutputTensor o;
    o.shape.assign(t.sizes().begin(), t.sizes().end());
    o.data.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
    out.push_back(std::move(o));
    return absl::OkStatus();
  }
  if (v.isTuple()) {
    for (const c10::IValue& e : v.toTupleRef().elements()) {
      if (absl::Status s = Flatten(e, out); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  if (v.isList()) {
    for (const c10::IValue& e : v.toListRef()) {
      if (absl::Status s = Flatten(e, out); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  if (v.isGenericDict()) {
    for (const auto& e : v.toGenericDict()) {
      if (absl::Status s = Flatten(e.value(), out); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("the model returned a ", v.tagKind(),
                                                 ", expected tensors (or tuples/lists of them)"));
}

absl::StatusOr<torch::Device> ParseDevice(const std::string& name, const std::string& spec) {
  if (spec == "cpu") return torch::Device(torch::kCPU);
  if (spec == "auto") {
    return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0)
                                       : torch::Device(torch::kCPU);
  }
  if (absl::StartsWith(spec, "cuda")) {
    int index = 0;
    if (spec != "cuda" && (!absl::StartsWith(spec, "cuda:") ||
                           !absl::SimpleAtoi(spec.substr(5), &index) || index < 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("model '", name, "': bad device '", spec, "' (auto, cpu, cuda:N)"));
    }
    if (!torch::cuda::is_available()) {
      return absl::InvalidArgumentError(absl::StrCat("model '", name, "': device ", spec,
                                                     " requested but CUDA is not available"));
    }
    if (static_cast<size_t>(index) >= torch::cuda::device_count()) {
      return absl::InvalidArgumentError(absl::StrCat("model '", name, "': device ", spec,
                                                     " does not exist (",
                                                     torch::cuda::device_count(), " devices)"));
    }
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("model '", name, "': bad device '", spec, "' (auto, cpu, cuda:N)"));
}

}  // namespace

// CPU autocast to bfloat16 for the scope when `on` (thread-local state, restored after).
class Bf16Autocast {
 public:
  explicit Bf16Autocast(bool on) : on_(on) {
    if (!on_) return;
    was_enabled_ = at::autocast::is_cpu_enabled();
    was_dtype_ = at::autocast::get_autocast_cpu_dtype();
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::set_cpu_enabled(true);
  }
  ~Bf16Autocast() {
    if (!on_) return;
    at::autocast::set_cpu_enabled(was_enabled_);
    at::autocast::set_autocast_cpu_dtype(was_dtype_);
  }
  Bf16Autocast(const Bf16Autocast&) = delete;
  Bf16Autocast& operator=(const Bf16Autocast&) = delete;

 private:
  const bool on_;
  bool was_enabled_ = false;
  at::ScalarType was_dtype_ = at::kBFloat16;
};

struct Model::Impl {
  ModelConfig config;
  std::unique_ptr<Decoder> decoder;
  // Forward is reentrant; torch::jit::Module::forward is not const-qualified.
  mutable torch::jit::Module module;
  torch::Device device = torch::kCPU;
  bool channels_last = false;
  bool bf16 = false;  // forwards under CPU autocast to bfloat16
  int max_batch_size = 32;
  double load_ms = 0;
  double flops_per_image = 0;

  // Builds the input tensor for `images` (preprocessed straight into its storage).
  absl::StatusOr<at::Tensor> MakeInput(absl::Span<const cv::Mat> images,
                                       std::vector<InputGeometry>* geometry) const {
    const InputSpec& in = config.input;
    const int64_t b = static_cast<int64_t>(images.size());
    at::Tensor x;
    float* data;
    if (channels_last) {
      x = at::empty({b, in.height, in.width, 3}, at::kFloat);
    } else {
      x = at::empty({b, 3, in.height, in.width}, at::kFloat);
    }
    data = x.data_ptr<float>();
    const size_t per = static_cast<size_t>(3) * in.height * in.width;
    if (geometry) geometry->resize(images.size());
    for (size_t i = 0; i < images.size(); ++i) {
      absl::Status s = PreprocessImage(images[i], in, channels_last ? Layout::kNHWC : Layout::kNCHW,
                                       data + i * per, geometry ? &(*geometry)[i] : nullptr);
      if (!s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("model '", config.name, "': image ", i, ": ", s.message()));
      }
    }
    // NHWC storage seen as NCHW: exactly the channels_last memory format.
    if (channels_last) x = x.permute({0, 3, 1, 2});
    if (device.type() != at::kCPU) x = x.to(device, /*non_blocking=*/false);
    return x;
  }

  absl::StatusOr<std::vector<OutputTensor>> ForwardChunk(
      absl::Span<const cv::Mat> images, std::vector<InputGeometry>* geometry) const {
    try {
      c10::InferenceMode guard;
      auto x = MakeInput(images, geometry);
      if (!x.ok()) return x.status();
      Bf16Autocast autocast(bf16);
      c10::IValue out = module.forward({*x});
      std::vector<OutputTensor> outputs;
      if (absl::Status s = Flatten(out, outputs); !s.ok()) {
        return absl::FailedPreconditionError(
            absl::StrCat("model '", config.name, "': ", s.message()));
      }
      return outputs;
    } catch (const c10::Error& e) {
      return absl::InternalError(
          absl::StrCat("model '", config.name, "': forward failed: ", TorchMessage(e)));
    } catch (const std::exception& e) {
      return absl::InternalError(
          absl::StrCat("model '", config.name, "': forward failed: ", e.what()));
    }
  }
};

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

const std::string& Model::name() const { return impl_->config.name; }
const ModelConfig& Model::config() const { return impl_->config; }
std::string Model::device() const { return impl_->device.str(); }
std::string Model::layout() const { return impl_->channels_last ? "channels_last" : "nchw"; }
std::string Model::precision() const { return impl_->bf16 ? "bf16" : "fp32"; }

bool CpuHasNativeBf16() {
  static const bool has = [] {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("flags", 0) != 0) continue;
      std::istringstream words(line);
      std::string w;
      while (words >> w) {
        if (w == "avx512_bf16" || w == "amx_bf16") return true;
      }
      return false;  // the first CPU's flags say it
    }
    return false;
  }();
  return has;
}
int Model::max_batch_size() const { return impl_->max_batch_size; }
double Model::load_ms() const { return impl_->load_ms; }
double Model::flops_per_image() const { return impl_->flops_per_image; }
const Decoder& Model::decoder() const { return *impl_->decoder; }

absl::StatusOr<std::vector<OutputTensor>> Model::Forward(
    absl::Span<const cv::Mat> images, std::vector<InputGeometry>* geometry) const {
  if (images.empty()) return std::vector<OutputTensor>{};
  if (static_cast<int>(images.size()) <= impl_->max_batch_size) {
    return impl_->ForwardChunk(images, geometry);
  }
  // Split, then concatenate along the batch.
  std::vector<OutputTensor> all;
  if (geometry) geometry->clear();
  for (size_t start = 0; start < images.size(); start += impl_->max_batch_size) {
    const size_t n = std::min(images.size() - start, static_cast<size_t>(impl_->max_batch_size));
    std::vector<InputGeometry> g;
    auto part = impl_->ForwardChunk(images.subspan(start, n), &g);
    if (!part.ok()) return part.status();
    if (geometry) geometry->insert(geometry->end(), g.begin(), g.end());
    if (all.empty()) {
      all = std::move(*part);
      continue;
    }
    if (part->size() != all.size()) return absl::InternalError("inconsistent model outputs");
    for (size_t k = 0; k < all.size(); ++k) {
      if (all[k].shape.empty()) return absl::InternalError("scalar model output");
      all[k].shape[0] += (*part)[k].shape.at(0);
      all[k].data.insert(all[k].data.end(), (*part)[k].data.begin(), (*part)[k].data.end());
    }
  }
  return all;
}

absl::StatusOr<std::string> Model::ProfileOps(int batch, int runs) const {
  const InputSpec& in = impl_->config.input;
  const cv::Mat grey(in.height, in.width, CV_8UC3, cv::Scalar(128, 128, 128));
  std::vector<cv::Mat> images(static_cast<size_t>(std::max(1, batch)), grey);
  std::map<std::string, OpStat> stats;
  tls_prof = &stats;
  tls_prof_depth = 0;
  at::CallbackHandle handle =
      at::addThreadLocalCallback(at::RecordFunctionCallback(ProfStart, ProfEnd)
                                     .needsInputs(true)
                                     .needsOutputs(true)
                                     .scopes({at::RecordScope::FUNCTION}));
  double total = 0;
  for (int r = 0; r < std::max(1, runs); ++r) {
    const auto t0 = Clock::now();
    auto out = impl_->ForwardChunk(images, nullptr);
    total += MsSince(t0);
    if (!out.ok()) {
      at::removeCallback(handle);
      tls_prof = nullptr;
      return out.status();
    }
  }
  at::removeCallback(handle);
  tls_prof = nullptr;
  std::vector<std::pair<std::string, OpStat>> rows(stats.begin(), stats.end());
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.second.ms > b.second.ms; });
  std::ostringstream os;
  os << "model " << name() << " layout " << layout() << " batch " << batch << ": "
     << total / std::max(1, runs) << " ms per forward (profiled)\n";
  os << "  op                                   calls   ms/forward  nchw-outputs\n";
  for (const auto& [op, s] : rows) {
    char line[160];
    std::snprintf(line, sizeof(line), "  %-36s %6lld %11.3f %12lld\n", op.c_str(),
                  static_cast<long long>(s.count / std::max(1, runs)), s.ms / std::max(1, runs),
                  static_cast<long long>(s.nchw_outputs / std::max(1, runs)));
    os << line;
  }
  return os.str();
}

absl::StatusOr<std::vector<Prediction>> Model::Run(absl::Span<const cv::Mat> images,
                                                   const DecodeOptions& options) const {
  if (images.empty()) return std::vector<Prediction>{};
  std::vector<InputGeometry> geometry;
  auto outputs = Forward(images, &geometry);
  if (!outputs.ok()) return outputs.status();
  return impl_->decoder->Decode(*outputs, geometry, options);
}

absl::StatusOr<std::unique_ptr<Model>> Model::Load(const std::string& dir,
                                                   const RuntimeOptions& options) {
  RouteTorchLogsToStructuredLog();
  const auto t0 = Clock::now();
  auto config = LoadModelConfig(dir);
  if (!config.ok()) return config.status();
  const std::string& name = config->name;
  auto impl = std::make_unique<Impl>();
  impl->config = *config;

  // Decoder first: a config naming an unknown decoder fails before the expensive load.
  DecoderContext dc;
  dc.model_name = name;
  dc.type = config->decoder_type;
  try {
    dc.params = YAML::Load(config->decoder_yaml);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("model '", name, "': decoder: ", e.what()));
  }
  dc.labels = config->labels;
  dc.input_width = config->input.width;
  dc.input_height = config->input.height;
  auto decoder = CreateDecoder(dc);
  if (!decoder.ok()) return decoder.status();
  impl->decoder = std::move(*decoder);

  auto device = ParseDevice(name, options.device);
  if (!device.ok()) return device.status();
  impl->device = *device;
  // The profiling executor re-specialises a graph whenever the batch size changes (and falls
  // back to an unoptimised path meanwhile), which makes latency jump between calls of different
  // sizes. Frozen graphs are already optimised: the legacy executor caches one plan per input
  // shape. Process-wide, set once.
  if (options.retain_freed_memory) {
    static std::once_flag malloc_once;
    std::call_once(malloc_once, [] {
      mallopt(M_MMAP_MAX, 0);
      mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
    });
  }
  static std::once_flag executor_once;
  std::call_once(executor_once, [] {
    torch::jit::getProfilingMode() = false;
    torch::jit::getExecutorMode() = false;
  });
  const int threads = options.num_threads > 0
                          ? options.num_threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  if (at::get_num_threads() != threads) at::set_num_threads(threads);

  const fs::path weights = fs::path(dir) / "model.pt";
  std::error_code ec;
  if (!fs::exists(weights, ec)) {
    return absl::NotFoundError(absl::StrCat("model '", name, "': no model.pt in ", dir));
  }
  try {
    impl->module = torch::jit::load(weights.string(), impl->device);
    impl->module.eval();
  } catch (const c10::Error& e) {
    return absl::FailedPreconditionError(absl::StrCat(
        "model '", name, "': model.pt does not load as TorchScript: ", TorchMessage(e)));
  } catch (const std::exception& e) {
    return absl::FailedPreconditionError(
        absl::StrCat("model '", name, "': model.pt does not load as TorchScript: ", e.what()));
  }
  if (config->task == "text_classification") {
    return absl::UnimplementedError(
        absl::StrCat("model '", name, "': text models are not served by the image runtime"));
  }

  // Warm-up input: a mid-grey image of the input size (any content exercises the same ops).
  const cv::Mat grey(config->input.height, config->input.width, CV_8UC3, cv::Scalar(128, 128, 128));
  std::vector<cv::Mat> batch1 = {grey};

  // The first forward checks the outputs against the decoder; the second counts FLOPs (the
  // first also runs the executor's graph passes, whose constant folding would be counted).
  {
    impl->channels_last = false;
    auto first = impl->ForwardChunk(batch1, nullptr);
    if (!first.ok()) {
      return absl::FailedPreconditionError(absl::StrCat("warm-up: ", first.status().message()));
    }
    if (absl::Status s = impl->decoder->CheckOutputs(*first, 1); !s.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(s.message(), " (warm-up batch of 1)"));
    }
    at::CallbackHandle handle =
        at::addThreadLocalCallback(at::RecordFunctionCallback(FlopStart, FlopEnd)
                                       .needsInputs(true)
                                       .scopes({at::RecordScope::FUNCTION}));
    tls_flops = 0;
    std::map<std::string, double> by_op;
    tls_flops_by_op = &by_op;
    tls_flop_depth = 0;
    auto out = impl->ForwardChunk(batch1, nullptr);
    at::removeCallback(handle);
    impl->flops_per_image = tls_flops;
    tls_flops_by_op = nullptr;
    for (const auto& [op, f] : by_op) {
      SLOG(DEBUG) << "flops" << Kv("model", name) << Kv("op", op) << Kv("gflop", f / 1e9);
    }
    if (!out.ok()) {
      return absl::FailedPreconditionError(absl::StrCat("warm-up: ", out.status().message()));
    }
  }

  // Layout candidates: the module as loaded (NCHW), and a copy with 4-D weights in
  // channels_last fed channels_last input (oneDNN's fast path on CPUs). Each is frozen (weights
  // become constants, conv+bn folded) when options.freeze.
  const torch::jit::Module base = impl->module;
  auto prepare = [&](bool cl) -> torch::jit::Module {
    torch::jit::Module m = base;
    if (cl) {
      m = base.clone();
      torch::NoGradGuard no_grad;
      for (at::Tensor p : m.parameters()) {
        if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
      }
    }
    if (options.freeze || options.optimize_for_inference) {
      try {
        m = torch::jit::freeze(m);
        if (options.fold_padding) {
          const int n = FoldTfSamePadding(m);
          if (n > 0) {
            SLOG(DEBUG) << "folded padding into convolutions" << Kv("model", name)
                        << Kv("convs", n);
          }
        }
        if (options.optimize_for_inference) m = torch::jit::optimize_for_inference(m);
      } catch (const c10::Error& e) {
        SLOG(WARNING) << "freeze/optimize failed, running unfrozen" << Kv("model", name)
                      << Kv("error", TorchMessage(e));
      }
    }
    return m;
  };
  auto time_layout = [&](bool cl) -> absl::StatusOr<double> {
    try {
      impl->module = prepare(cl);
    } catch (const c10::Error& e) {
      return absl::FailedPreconditionError(
          absl::StrCat("model '", name, "': preparing the module: ", TorchMessage(e)));
    }
    impl->channels_last = cl;
    // Process CPU time rather than wall time: on a shared machine the wall time mostly
    // measures the other processes.
    double best = 1e30;
    for (int i = 0; i < std::max(1, options.warmup_runs); ++i) {
      const double t = CpuMs();
      auto out = impl->ForwardChunk(batch1, nullptr);
      if (!out.ok())
        return absl::FailedPreconditionError(absl::StrCat(
            "warm-up (", cl ? "channels_last" : "nchw", "): ", out.status().message()));
      best = std::min(best, CpuMs() - t);
    }
    return best;
  };
  std::string layout = options.layout;
  if (impl->device.type() != at::kCPU && layout == "auto") layout = "nchw";
  if (layout == "auto") {
    auto cl = time_layout(true);
    if (!cl.ok()) return cl.status();
    auto nchw = time_layout(false);
    if (!nchw.ok()) return nchw.status();
    if (*cl < *nchw) {
      auto again = time_layout(true);
      if (!again.ok()) return again.status();
    }
    SLOG(INFO) << "layout chosen" << Kv("model", name) << Kv("nchw_cpu_ms", *nchw)
               << Kv("channels_last_cpu_ms", *cl)
               << Kv("layout", impl->channels_last ? "channels_last" : "nchw");
  } else if (layout == "channels_last" || layout == "nchw") {
    auto t = time_layout(layout == "channels_last");
    if (!t.ok()) return t.status();
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "model '", name, "': bad layout '", options.layout, "' (auto, nchw, channels_last)"));
  }

  // Precision, on the chosen layout: bf16 kept when asked, or under "auto" for a detection model
  // when it is at least 10% faster (best process CPU time of the warm-up runs each,
  // interleaved). "auto" leaves the crop models (landmarks, descriptor, age/gender,
  // expressions, classifiers) in FP32: measured against the golden outputs, bf16 moves their
  // landmarks by up to 7 px and their probabilities by up to 0.44, while it keeps detection
  // boxes within IoU 0.986 of FP32's (runtime/MODELS.md).
  const std::string& precision = options.precision;
  if (precision != "fp32" && precision != "bf16" && precision != "auto") {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", name, "': bad precision '", precision, "' (fp32, bf16, auto)"));
  }
  if (precision == "bf16" && impl->device.type() == at::kCPU && !CpuHasNativeBf16()) {
    return absl::FailedPreconditionError(
        absl::StrCat("model '", name,
                     "': precision bf16 asked, but this CPU has no native "
                     "bfloat16 (neither avx512_bf16 nor amx_bf16 in /proc/cpuinfo)"));
  }
  const bool detection = config->task == "face_detection" || config->task == "object_detection";
  if ((precision == "bf16" || (precision == "auto" && detection)) &&
      impl->device.type() == at::kCPU && CpuHasNativeBf16()) {
    double fp32_ms = 1e30, bf16_ms = 1e30;
    for (int i = 0; i < std::max(1, options.warmup_runs); ++i) {
      for (bool bf : {false, true}) {
        impl->bf16 = bf;
        const double t = CpuMs();
        auto out = impl->ForwardChunk(batch1, nullptr);
        if (!out.ok()) {
          return absl::FailedPreconditionError(
              absl::StrCat("warm-up (", bf ? "bf16" : "fp32", "): ", out.status().message()));
        }
        (bf ? bf16_ms : fp32_ms) = std::min(bf ? bf16_ms : fp32_ms, CpuMs() - t);
      }
    }
    impl->bf16 = precision == "bf16" || bf16_ms < 0.9 * fp32_ms;
    SLOG(INFO) << "precision chosen" << Kv("model", name) << Kv("fp32_cpu_ms", fp32_ms)
               << Kv("bf16_cpu_ms", bf16_ms) << Kv("precision", impl->bf16 ? "bf16" : "fp32");
  }

  // A batch of up to 4: a model with a batch size baked in is limited to 1 rather than failed,
  // and a model for which batching does not pay (large activations make big batches
  // memory-bound: the 512x512 SSD is ~5x slower per image at batch 8 on these CPUs) runs its
  // images one per forward.
  impl->max_batch_size = std::max(1, options.max_batch_size);
  if (impl->max_batch_size > 1) {
    const int probe = std::min(4, impl->max_batch_size);
    std::vector<cv::Mat> batch(static_cast<size_t>(probe), grey);
    auto out = impl->ForwardChunk(batch, nullptr);  // also builds the plan for this shape
    absl::Status s = out.ok() ? impl->decoder->CheckOutputs(*out, probe) : out.status();
    if (!s.ok()) {
      SLOG(WARNING) << "model does not take batches, running one image per forward"
                    << Kv("model", name) << Kv("error", s.message());
      impl->max_batch_size = 1;
    } else if (impl->device.type() == at::kCPU) {
      // Best of three of each, interleaved, so that a busy moment of the machine (other models
      // loading, the other services of a 2-core box) weighs on both sides alike: with one
      // batched run against the best of two single ones, noise alone turned batching off for
      // the SSD in some starts and not in others.
      double single = 1e30, per_image = 1e30;
      for (int i = 0; i < 3; ++i) {
        double t = CpuMs();
        (void)impl->ForwardChunk(batch1, nullptr);
        single = std::min(single, CpuMs() - t);
        t = CpuMs();
        (void)impl->ForwardChunk(batch, nullptr);
        per_image = std::min(per_image, (CpuMs() - t) / probe);
      }
      if (per_image >= single) {
        impl->max_batch_size = 1;
      }
      SLOG(INFO) << "batching" << Kv("model", name) << Kv("cpu_ms_batch1", single)
                 << Kv("cpu_ms_per_image_batch" + std::to_string(probe), per_image)
                 << Kv("max_batch_size", impl->max_batch_size);
    }
  }
  impl->load_ms = MsSince(t0);
  SLOG(INFO) << "model ready" << Kv("model", name) << Kv("version", config->version)
             << Kv("device", impl->device.str())
             << Kv("layout", impl->channels_last ? "channels_last" : "nchw")
             << Kv("precision", impl->bf16 ? "bf16" : "fp32")
             << Kv("gflops_per_image", impl->flops_per_image / 1e9) << Kv("ms", impl->load_ms);
  return std::unique_ptr<Model>(new Model(std::move(impl)));
}

}  // namespace stratus::runtime
