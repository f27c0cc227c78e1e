// stratus-graph-bench: times an imported model's forward on zeros, per batch size and layout.
//
//   stratus-graph-bench --model $STRATUS_MODEL_DIR/nanodet/model.pt --input 3,416,416
//       --batches 1,8 --runs 20
//
// Prints, per batch and input layout (contiguous NCHW, channels_last), the median and minimum
// milliseconds per batch and per image, and the median process CPU time per image (on a loaded
// machine the wall time includes waiting; with --threads 1 the CPU time is what an idle core
// would take). Threads: LibTorch's default (one per core) unless
// --threads is given.
#include <ATen/Parallel.h>
#include <torch/script.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/flags.h"

int main(int argc, char** argv) {
  std::string model, input = "3,416,416", batches = "1,8";
  int runs = 20, warmup = 3, threads = 0;
  double gflop = 0;
  stratus::FlagSet flags("stratus-graph-bench", "Times an imported TorchScript model.");
  flags.String("model", "", &model, "model.pt");
  flags.String("input", "", &input, "input shape without the batch, e.g. 3,416,416");
  flags.String("batches", "", &batches, "batch sizes, e.g. 1,8");
  flags.Int("runs", "", &runs, "timed runs per case");
  flags.Int("warmup", "", &warmup, "untimed runs per case");
  flags.Int("threads", "", &threads, "intra-op threads (0: LibTorch default)");
  flags.Double("gflop", "", &gflop,
               "GFLOP per image (stratus-import-graph prints it) to report GFLOP/s");
  if (auto s = flags.Parse(argc, argv); !s.ok() || flags.help_requested() || model.empty()) {
    if (!s.ok()) std::cerr << s.message() << "\n";
    std::cerr << flags.Usage();
    return s.ok() && flags.help_requested() ? 0 : 2;
  }
  std::vector<int64_t> shape;
  for (auto p : absl::StrSplit(input, ',')) {
    int64_t v;
    if (!absl::SimpleAtoi(p, &v)) return 2;
    shape.push_back(v);
  }
  if (threads > 0) at::set_num_threads(threads);
  try {
    torch::jit::Module m = torch::jit::load(model);
    m.eval();
    c10::InferenceMode guard;
    std::printf("model %s threads %d\n", model.c_str(), at::get_num_threads());
    for (auto b : absl::StrSplit(batches, ',')) {
      int64_t batch;
      if (!absl::SimpleAtoi(b, &batch)) return 2;
      std::vector<int64_t> s{batch};
      s.insert(s.end(), shape.begin(), shape.end());
      for (bool cl : {false, true}) {
        at::Tensor x = at::rand(s);
        if (cl && s.size() == 4) x = x.contiguous(at::MemoryFormat::ChannelsLast);
        std::vector<double> ms, cpu;
        auto cpu_ms = [] {
          timespec ts;
          clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
          return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
        };
        for (int i = 0; i < warmup + runs; ++i) {
          const double c0 = cpu_ms();
          auto t0 = std::chrono::steady_clock::now();
          m.forward({x});
          auto t1 = std::chrono::steady_clock::now();
          const double c1 = cpu_ms();
          if (i >= warmup) {
            ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
            cpu.push_back(c1 - c0);
          }
        }
        std::sort(ms.begin(), ms.end());
        std::sort(cpu.begin(), cpu.end());
        const double med = ms[ms.size() / 2], mn = ms.front();
        std::printf(
            "batch %ld %-13s median %8.2f ms/batch %7.2f ms/image (min %7.2f) %7.1f images/s",
            static_cast<long>(batch), cl ? "channels_last" : "nchw", med, med / batch, mn / batch,
            1000.0 * batch / med);
        std::printf(" cpu %7.2f ms/image", cpu[cpu.size() / 2] / batch);
        if (gflop > 0) std::printf(" %6.1f GFLOP/s", gflop * batch / (med / 1000.0));
        std::printf("\n");
      }
    }
  } catch (const c10::Error& e) {
    std::cerr << e.what_without_backtrace() << "\n";
    return 1;
  }
  return 0;
}
