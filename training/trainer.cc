#include "training/trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>
#include <torch/script.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"
#include "nlohmann/json.hpp"
#include "training/metrics.h"
#include "training/report.h"
#include "training/tasks.h"

namespace stratus::training {
namespace {

std::atomic<int> g_stop_signal{0};

extern "C" void OnStopSignal(int sig) { g_stop_signal.store(sig); }

using Clock = std::chrono::steady_clock;
using nlohmann::json;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Everything the trainer needs to continue where it stopped, besides tensors.
struct State {
  int epoch = 0;            // epochs completed
  int64_t step = 0;         // steps completed in the current epoch
  int64_t global_step = 0;  // steps completed in all
  double train_seconds = 0;
  int64_t train_samples = 0;
  int resumes = 0;
  json history = json::array();
  json train_partial;               // ClassMetrics of the current epoch so far
  json resumed_at = json::array();  // where each resume started
  std::string identity;             // what the checkpoint was trained on
};

std::string Identity(const Job& job, const TaskData& task) {
  // Paths are left out on purpose: the same job on another machine resumes.
  std::ostringstream s;
  s << absl::StrJoin(job.labels, ",") << "|" << job.model.architecture << "|"
    << job.model.embedding_dim << "|" << job.model.hidden << "|" << job.model.width << "|"
    << job.model.input_size << "|" << job.model.dropout << "|" << job.model.mixed_label << "|"
    << job.optimiser.type << "|" << job.optimiser.lr << "|" << job.optimiser.weight_decay << "|"
    << job.schedule.type << "|" << job.schedule.warmup_steps << "|" << job.epochs << "|"
    << job.batch_size << "|" << job.seed << "|" << job.augment.token_dropout << "|"
    << job.augment.flip << "|" << task.size(Split::kTrain) << "|" << task.size(Split::kValidation)
    << "|" << task.Identity();
  return s.str();
}

class Trainer {
 public:
  Trainer(const Job& job, const TrainerOptions& opts, std::unique_ptr<TaskData> task,
          std::vector<std::string> sources)
      : job_(job), opts_(opts), task_(std::move(task)), sources_(std::move(sources)) {}

  absl::StatusOr<TrainResult> Run();

 private:
  void MakeOptimizer();
  double LearningRate(int64_t global_step, int epoch) const;
  std::vector<int64_t> EpochOrder(int epoch) const;
  absl::Status SaveCheckpoint(const std::vector<int64_t>& order, const ClassMetrics& partial);
  absl::StatusOr<bool> LoadCheckpoint(std::vector<int64_t>* order);
  // Metrics over a split; per-source metrics into `per_source` when given.
  ClassMetrics Evaluate(Split split, std::map<int, ClassMetrics>* per_source);
  absl::Status Export(const json& test_report);

  const Job& job_;
  const TrainerOptions& opts_;
  std::unique_ptr<TaskData> task_;
  std::vector<std::string> sources_;
  torch::jit::Module module_;
  std::vector<torch::Tensor> params_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  State st_;
  int64_t steps_per_epoch_ = 0;
  std::string ckpt_path_;
};

void Trainer::MakeOptimizer() {
  const auto& o = job_.optimiser;
  if (o.type == "sgd") {
    optimizer_ = std::make_unique<torch::optim::SGD>(
        params_, torch::optim::SGDOptions(o.lr).momentum(o.momentum).weight_decay(o.weight_decay));
  } else if (o.type == "adam") {
    optimizer_ = std::make_unique<torch::optim::Adam>(
        params_, torch::optim::AdamOptions(o.lr).weight_decay(o.weight_decay));
  } else {
    optimizer_ = std::make_unique<torch::optim::AdamW>(
        params_, torch::optim::AdamWOptions(o.lr).weight_decay(o.weight_decay));
  }
}

double Trainer::LearningRate(int64_t global_step, int epoch) const {
  const auto& s = job_.schedule;
  const double base = job_.optimiser.lr;
  if (global_step < s.warmup_steps) {
    return base * static_cast<double>(global_step + 1) / static_cast<double>(s.warmup_steps);
  }
  if (s.type == "constant") return base;
  if (s.type == "step") return base * std::pow(s.gamma, epoch / s.step_epochs);
  const int64_t total = static_cast<int64_t>(job_.epochs) * steps_per_epoch_;
  const double span = std::max<int64_t>(1, total - s.warmup_steps);
  const double p = std::min(1.0, (global_step - s.warmup_steps) / span);
  return base * (s.min_lr_fraction + (1 - s.min_lr_fraction) * 0.5 * (1 + std::cos(M_PI * p)));
}

std::vector<int64_t> Trainer::EpochOrder(int epoch) const {
  std::vector<int64_t> order(task_->size(Split::kTrain));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(Mix64(job_.seed * 1000003ULL + static_cast<uint64_t>(epoch)));
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

absl::Status Trainer::SaveCheckpoint(const std::vector<int64_t>& order,
                                     const ClassMetrics& partial) {
  try {
    torch::serialize::OutputArchive ar;
    for (const auto& p : module_.named_parameters(true)) ar.write("p/" + p.name, p.value);
    for (const auto& b : module_.named_buffers(true)) ar.write("b/" + b.name, b.value, true);
    torch::serialize::OutputArchive opt;
    optimizer_->save(opt);
    ar.write("optimizer", opt);
    ar.write("rng", at::detail::getDefaultCPUGenerator().get_state());
    ar.write("order", torch::tensor(order, torch::kInt64));
    json meta = {{"epoch", st_.epoch},
                 {"step", st_.step},
                 {"global_step", st_.global_step},
                 {"train_seconds", st_.train_seconds},
                 {"train_samples", st_.train_samples},
                 {"resumes", st_.resumes},
                 {"resumed_at", st_.resumed_at},
                 {"history", st_.history},
                 {"train_partial", partial.ToJson()},
                 {"identity", st_.identity}};
    ar.write("meta", c10::IValue(meta.dump()));
    std::ostringstream bytes;
    ar.save_to(bytes);
    return WriteFileAtomic(ckpt_path_, bytes.str());
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("checkpoint: ", e.what_without_backtrace()));
  }
}

absl::StatusOr<bool> Trainer::LoadCheckpoint(std::vector<int64_t>* order) {
  if (!std::filesystem::exists(ckpt_path_)) return false;
  try {
    torch::serialize::InputArchive ar;
    ar.load_from(ckpt_path_);
    c10::IValue meta_v;
    ar.read("meta", meta_v);
    const json meta = json::parse(meta_v.toStringRef());
    if (meta.at("identity").get<std::string>() != st_.identity) {
      return absl::FailedPreconditionError(absl::StrCat(
          "checkpoint ", ckpt_path_,
          " was written by a different job (model, optimiser, schedule, data sizes or vocabulary "
          "differ); delete it or run with --restart"));
    }
    torch::NoGradGuard no_grad;
    for (const auto& p : module_.named_parameters(true)) {
      torch::Tensor t;
      ar.read("p/" + p.name, t);
      p.value.copy_(t);
    }
    for (const auto& b : module_.named_buffers(true)) {
      torch::Tensor t;
      ar.read("b/" + b.name, t, true);
      b.value.copy_(t);
    }
    torch::serialize::InputArchive opt;
    ar.read("optimizer", opt);
    optimizer_->load(opt);
    torch::Tensor rng;
    ar.read("rng", rng);
    at::Generator gen = at::detail::getDefaultCPUGenerator();  // a handle on the global one
    gen.set_state(rng);
    torch::Tensor ord;
    ar.read("order", ord);
    order->assign(ord.data_ptr<int64_t>(), ord.data_ptr<int64_t>() + ord.numel());
    st_.epoch = meta.at("epoch");
    st_.step = meta.at("step");
    st_.global_step = meta.at("global_step");
    st_.train_seconds = meta.at("train_seconds");
    st_.train_samples = meta.at("train_samples");
    st_.resumes = meta.at("resumes").get<int>() + 1;
    st_.history = meta.at("history");
    st_.train_partial = meta.at("train_partial");
    st_.resumed_at = meta.value("resumed_at", json::array());
    st_.resumed_at.push_back(
        {{"epoch", st_.epoch}, {"step", st_.step}, {"global_step", st_.global_step}});
    return true;
  } catch (const c10::Error& e) {
    return absl::DataLossError(
        absl::StrCat("cannot read checkpoint ", ckpt_path_, ": ", e.what_without_backtrace()));
  } catch (const json::exception& e) {
    return absl::DataLossError(
        absl::StrCat("bad checkpoint metadata ", ckpt_path_, ": ", e.what()));
  }
}

ClassMetrics Trainer::Evaluate(Split split, std::map<int, ClassMetrics>* per_source) {
  torch::NoGradGuard no_grad;
  module_.train(false);
  ClassMetrics m(job_.labels);
  const int64_t n = task_->size(split);
  const int64_t bs = std::max(job_.batch_size, 64);
  std::vector<int64_t> idx;
  for (int64_t start = 0; start < n; start += bs) {
    const int64_t count = std::min(bs, n - start);
    idx.resize(count);
    std::iota(idx.begin(), idx.end(), start);
    Batch b = task_->Make(split, idx.data(), count, false, 0);
    torch::Tensor logits = module_.get_method("logits")(b.inputs).toTensor();
    torch::Tensor masked = logits.masked_fill(b.mask.logical_not(), -1e9);
    torch::Tensor logp = torch::log_softmax(masked, 1);
    torch::Tensor loss = -logp.gather(1, b.target.unsqueeze(1)).squeeze(1);
    torch::Tensor pred = masked.argmax(1);
    auto pl = loss.accessor<float, 1>();
    auto pp = pred.accessor<int64_t, 1>();
    auto pt = b.target.accessor<int64_t, 1>();
    for (int64_t i = 0; i < count; ++i) {
      m.Add(static_cast<int>(pt[i]), static_cast<int>(pp[i]), pl[i]);
      if (per_source != nullptr) {
        const int src = task_->example(split, start + i).source;
        per_source->try_emplace(src, job_.labels)
            .first->second.Add(static_cast<int>(pt[i]), static_cast<int>(pp[i]), pl[i]);
      }
    }
  }
  return m;
}

absl::Status Trainer::Export(const json& extra_report) {
  namespace fs = std::filesystem;
  const std::string out = job_.output_dir;
  const std::string staging = absl::StrCat(out, ".tmp-", getpid());
  std::error_code ec;
  fs::remove_all(staging, ec);
  fs::create_directories(staging, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", staging, ": ", ec.message()));
  try {
    module_.train(false);
    module_.save(staging + "/model.pt");
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("saving model.pt: ", e.what_without_backtrace()));
  }
  auto task_lines = task_->WriteModelFiles(staging);
  if (!task_lines.ok()) return task_lines.status();
  const std::string name = fs::path(out).filename().string();
  const std::string config =
      absl::StrCat("# Written by the Stratus trainer from ", job_.file, "\n", "name: ", name, "\n",
                   "version: \"", job_.version, "\"\n", "source: \"stratus-train:", job_.name, "@",
                   job_.content_hash, "\"\n", *task_lines, "report: report.json\n");
  if (auto s = WriteFileAtomic(staging + "/config.yaml", config); !s.ok()) return s;

  Curves curves;
  for (const auto& e : st_.history) {
    curves.train_loss.push_back(e["train"]["loss"]);
    curves.val_loss.push_back(e["validation"]["loss"]);
    curves.train_acc.push_back(e["train"]["accuracy"]);
    curves.val_acc.push_back(e["validation"]["accuracy"]);
  }
  if (auto s = WriteCurvesPng(curves, absl::StrCat(job_.name, " (", job_.version, ")"),
                              staging + "/training_curves.png");
      !s.ok()) {
    return s;
  }
  json report = extra_report;
  report["job"] = job_.name;
  report["job_file"] = job_.file;
  report["version"] = job_.version;
  report["labels"] = job_.labels;
  report["output_labels"] = task_->OutputLabels();
  report["epochs"] = st_.history;
  report["train_examples"] = task_->size(Split::kTrain);
  report["validation_examples"] = task_->size(Split::kValidation);
  report["test_examples"] = task_->size(Split::kTest);
  report["train_seconds"] = st_.train_seconds;
  report["samples_per_second"] =
      st_.train_seconds > 0 ? st_.train_samples / st_.train_seconds : 0.0;
  report["threads"] = job_.threads;
  report["resumes"] = st_.resumes;
  report["resumed_at"] = st_.resumed_at;
  report["steps_per_epoch"] = steps_per_epoch_;
  report["seed"] = job_.seed;
  if (auto s = WriteFileAtomic(staging + "/report.json", report.dump(2) + "\n"); !s.ok()) return s;
  // Swap the finished folder in.
  const std::string old = absl::StrCat(out, ".old-", getpid());
  fs::create_directories(fs::path(out).parent_path(), ec);
  if (fs::exists(out)) fs::rename(out, old, ec);
  fs::rename(staging, out, ec);
  if (ec)
    return absl::InternalError(absl::StrCat("cannot move model to ", out, ": ", ec.message()));
  fs::remove_all(old, ec);
  return absl::OkStatus();
}

absl::StatusOr<TrainResult> Trainer::Run() {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(job_.checkpoint.dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create checkpoint dir ", job_.checkpoint.dir, ": ", ec.message()));
  }
  ckpt_path_ = job_.checkpoint.dir + "/checkpoint.pt";
  st_.identity = Identity(job_, *task_);
  steps_per_epoch_ = (task_->size(Split::kTrain) + job_.batch_size - 1) / job_.batch_size;

  torch::manual_seed(job_.seed);
  module_ = task_->BuildModel();
  for (const auto& p : module_.parameters(true)) params_.push_back(p);
  MakeOptimizer();

  std::vector<int64_t> order;
  if (!opts_.restart) {
    auto resumed = LoadCheckpoint(&order);
    if (!resumed.ok()) return resumed.status();
    if (*resumed) {
      SLOG(INFO) << "resuming from checkpoint" << Kv("path", ckpt_path_) << Kv("epoch", st_.epoch)
                 << Kv("step", st_.step) << Kv("global_step", st_.global_step);
    }
  }
  SLOG(INFO) << "training" << Kv("job", job_.name) << Kv("train", task_->size(Split::kTrain))
             << Kv("validation", task_->size(Split::kValidation))
             << Kv("test", task_->size(Split::kTest)) << Kv("epochs", job_.epochs)
             << Kv("steps_per_epoch", steps_per_epoch_) << Kv("threads", at::get_num_threads());

  Progress progress(opts_.progress_tty);
  auto last_ckpt = Clock::now();
  TrainResult result;
  while (st_.epoch < job_.epochs) {
    if (st_.step == 0 || order.empty()) order = EpochOrder(st_.epoch);
    ClassMetrics train_m(job_.labels);
    if (st_.step > 0 && st_.train_partial.is_object()) {
      train_m = ClassMetrics::FromJson(st_.train_partial);
    }
    module_.train(true);
    progress.StartEpoch(st_.epoch + 1, job_.epochs, steps_per_epoch_, st_.step);
    const uint64_t aug_seed = Mix64(job_.seed ^ Mix64(0xA5A5ULL + st_.epoch));
    while (st_.step < steps_per_epoch_) {
      if (g_stop_signal.load() != 0) {
        progress.EndEpoch();
        SLOG(WARNING) << "stop signal: writing checkpoint" << Kv("signal", g_stop_signal.load())
                      << Kv("epoch", st_.epoch) << Kv("step", st_.step);
        if (auto s = SaveCheckpoint(order, train_m); !s.ok()) return s;
        result.preempted = true;
        return result;
      }
      const auto t0 = Clock::now();
      const int64_t start = st_.step * job_.batch_size;
      const int64_t count =
          std::min<int64_t>(job_.batch_size, static_cast<int64_t>(order.size()) - start);
      Batch b = task_->Make(Split::kTrain, order.data() + start, count, true, aug_seed);
      const double lr = LearningRate(st_.global_step, st_.epoch);
      for (auto& g : optimizer_->param_groups()) g.options().set_lr(lr);
      torch::Tensor logits = module_.get_method("logits")(b.inputs).toTensor();
      torch::Tensor masked = logits.masked_fill(b.mask.logical_not(), -1e9);
      torch::Tensor logp = torch::log_softmax(masked, 1);
      torch::Tensor losses = -logp.gather(1, b.target.unsqueeze(1)).squeeze(1);
      torch::Tensor loss = losses.mean();
      optimizer_->zero_grad();
      loss.backward();
      optimizer_->step();
      {
        torch::Tensor pred = masked.detach().argmax(1);
        torch::Tensor l = losses.detach();
        auto pp = pred.accessor<int64_t, 1>();
        auto pl = l.accessor<float, 1>();
        auto pt = b.target.accessor<int64_t, 1>();
        for (int64_t i = 0; i < count; ++i) {
          train_m.Add(static_cast<int>(pt[i]), static_cast<int>(pp[i]), pl[i]);
        }
      }
      ++st_.step;
      ++st_.global_step;
      st_.train_samples += count;
      st_.train_seconds += Seconds(t0, Clock::now());
      progress.Update(st_.step, count, train_m.mean_loss());
      if (opts_.step_delay_ms > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(opts_.step_delay_ms));
      }
      const bool by_steps =
          job_.checkpoint.every_steps > 0 && st_.global_step % job_.checkpoint.every_steps == 0;
      const bool by_time = job_.checkpoint.every_seconds > 0 &&
                           Seconds(last_ckpt, Clock::now()) >= job_.checkpoint.every_seconds;
      if ((by_steps || by_time) && st_.step < steps_per_epoch_) {
        if (auto s = SaveCheckpoint(order, train_m); !s.ok()) return s;
        last_ckpt = Clock::now();
      }
      if (job_.max_steps > 0 && st_.global_step >= job_.max_steps) {
        progress.EndEpoch();
        SLOG(WARNING) << "max_steps reached: stopping without a checkpoint, as a kill would"
                      << Kv("global_step", st_.global_step);
        result.preempted = true;
        return result;
      }
    }
    progress.EndEpoch();
    const auto te = Clock::now();
    ClassMetrics val = Evaluate(Split::kValidation, nullptr);
    json epoch = {{"epoch", st_.epoch + 1},
                  {"train", train_m.ToJson()},
                  {"validation", val.ToJson()},
                  {"lr", LearningRate(st_.global_step - 1, st_.epoch)},
                  {"eval_seconds", Seconds(te, Clock::now())}};
    st_.history.push_back(epoch);
    SLOG(INFO) << "epoch " << st_.epoch + 1 << "/" << job_.epochs << Kv("train", train_m.Summary())
               << Kv("validation", val.Summary())
               << Kv("samples_per_s",
                     absl::StrFormat("%.0f",
                                     st_.train_samples / std::max(st_.train_seconds, 1e-9)));
    ++st_.epoch;
    st_.step = 0;
    order.clear();
    if (auto s = SaveCheckpoint({}, ClassMetrics(job_.labels)); !s.ok()) return s;
    last_ckpt = Clock::now();
  }

  // Final evaluation on validation (per source) and test.
  json extra;
  std::map<int, ClassMetrics> val_sources, test_sources;
  ClassMetrics val = Evaluate(Split::kValidation, &val_sources);
  extra["validation"] = val.ToJson();
  for (auto& [src, m] : val_sources) extra["validation_by_source"][sources_[src]] = m.ToJson();
  result.val_accuracy = val.accuracy();
  result.val_loss = val.mean_loss();
  if (task_->size(Split::kTest) > 0) {
    ClassMetrics test = Evaluate(Split::kTest, &test_sources);
    extra["test"] = test.ToJson();
    for (auto& [src, m] : test_sources) extra["test_by_source"][sources_[src]] = m.ToJson();
    result.test_accuracy = test.accuracy();
    SLOG(INFO) << "test" << Kv("metrics", test.Summary());
  }
  if (auto s = Export(extra); !s.ok()) return s;
  result.output_dir = job_.output_dir;
  result.samples_per_second = st_.train_seconds > 0 ? st_.train_samples / st_.train_seconds : 0;
  result.resumes = st_.resumes;
  SLOG(INFO) << "model written" << Kv("dir", job_.output_dir)
             << Kv("val_accuracy", absl::StrFormat("%.4f", result.val_accuracy))
             << Kv("train_seconds", absl::StrFormat("%.1f", st_.train_seconds))
             << Kv("samples_per_s", absl::StrFormat("%.0f", result.samples_per_second));
  return result;
}

}  // namespace

void InstallStopSignalHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

absl::StatusOr<TrainResult> RunTraining(const Job& job, const TrainerOptions& options) {
  try {
    at::set_num_threads(job.threads);
    // The profiling JIT may swap kernels after a few runs; a resumed process would then run a
    // different kernel sequence than an uninterrupted one. Plain interpretation is exact.
    torch::jit::GraphOptimizerEnabledGuard no_jit_opt(false);
    auto data = LoadDataset(job);
    if (!data.ok()) return data.status();
    SLOG(INFO) << "data" << Kv("train", data->train.size())
               << Kv("validation", data->validation.size()) << Kv("test", data->test.size())
               << Kv("skipped_rows", data->skipped_rows);
    std::vector<std::string> sources = data->sources;
    absl::StatusOr<std::unique_ptr<TaskData>> task = job.task == Task::kTextClassifier
                                                         ? MakeTextTask(job, std::move(*data))
                                                         : MakeImageTask(job, std::move(*data));
    if (!task.ok()) return task.status();
    Trainer trainer(job, options, std::move(*task), std::move(sources));
    return trainer.Run();
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("training failed: ", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("training failed: ", e.what()));
  }
}

}  // namespace stratus::training
