#include "tools/cost/cost_command.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "tools/cost/cost_model.h"
#include "tools/cost/load.h"
#include "tools/cost/metrics.h"
#include "tools/cost/prices.h"

namespace stratus::cost {
namespace {

constexpr char kUsage[] =
    "usage: stratus cost [--prices FILE] [--metrics [SERVICE=]FILE]... [--prometheus FILE]...\n"
    "                    [--service NAME]... [--utilisation F] [--json]\n"
    "Prices each service's measured load as a dedicated VM, a spot VM, serverless functions and\n"
    "autoscaled pods, per month, and names the cheapest and the break-even request rate.\n"
    "  --prices FILE        price file (default $STRATUS_PRICES or deploy/prices/aws-2026.yaml)\n"
    "  --metrics [S=]FILE   /metrics scrapes with sample timestamps; S= assigns them to service S\n"
    "  --prometheus FILE    Prometheus /api/v1/query_range JSON of the raw counters\n"
    "  --service NAME       report only this service (repeatable)\n"
    "  --utilisation F      target vCPU utilisation of machines and pods (default 0.6)\n"
    "  --json               print JSON instead of a table\n";

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

std::string DefaultPricePath() {
  if (const char* env = std::getenv("STRATUS_PRICES"); env && *env) return env;
  for (const char* p : {"deploy/prices/aws-2026.yaml", "/usr/share/stratus/prices/aws-2026.yaml",
                        STRATUS_COST_SOURCE_PRICES}) {
    std::error_code ec;
    if (std::filesystem::exists(p, ec)) return p;
  }
  return "deploy/prices/aws-2026.yaml";
}

}  // namespace

int RunCost(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string prices_path;
  std::vector<std::pair<std::string, std::string>> metric_files;  // (service, path)
  std::vector<std::string> prom_files;
  std::set<std::string> only;
  CostModelOptions options;
  bool json = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* v) {
      if (i + 1 >= args.size()) return false;
      *v = args[++i];
      return true;
    };
    std::string v;
    if (a == "-h" || a == "--help") {
      out << kUsage;
      return 0;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--prices" && value(&v)) {
      prices_path = v;
    } else if (a == "--metrics" && value(&v)) {
      size_t eq = v.find('=');
      if (eq != std::string::npos && v.find('/') > eq) {
        metric_files.emplace_back(v.substr(0, eq), v.substr(eq + 1));
      } else {
        metric_files.emplace_back("", v);
      }
    } else if (a == "--prometheus" && value(&v)) {
      prom_files.push_back(v);
    } else if (a == "--service" && value(&v)) {
      only.insert(NormaliseServiceName(v));
    } else if (a == "--utilisation" && value(&v)) {
      if (!absl::SimpleAtod(v, &options.target_utilisation) || options.target_utilisation <= 0 ||
          options.target_utilisation > 1) {
        err << "cost: --utilisation must be in (0, 1]\n";
        return 2;
      }
    } else {
      err << "cost: unknown or incomplete option " << a << "\n" << kUsage;
      return 2;
    }
  }
  if (metric_files.empty() && prom_files.empty()) {
    err << "cost: give at least one --metrics or --prometheus input\n" << kUsage;
    return 2;
  }
  if (prices_path.empty()) prices_path = DefaultPricePath();
  absl::StatusOr<PriceFile> prices = LoadPriceFile(prices_path);
  if (!prices.ok()) {
    err << "cost: " << prices.status().message() << "\n";
    return 1;
  }

  std::map<std::string, ServiceLoad> loads;
  auto add_loads = [&](const std::vector<Series>& series, const std::string& service,
                       const std::string& path) {
    absl::StatusOr<std::map<std::string, ServiceLoad>> l = ExtractLoads(series, service);
    if (!l.ok()) {
      err << "cost: " << path << ": " << l.status().message() << "\n";
      return false;
    }
    for (auto& [name, load] : *l) {
      if (loads.count(name)) {
        err << "cost: " << path << ": service " << name << " is in more than one input\n";
        return false;
      }
      loads[name] = std::move(load);
    }
    return true;
  };
  std::string text;
  // Per-service files are read apart (their process_cpu_seconds_total belong to that service);
  // files without a service are pooled, so scrapes of one job may span several files.
  std::vector<Series> pooled;
  std::string pooled_names;
  for (const auto& [service, path] : metric_files) {
    if (!ReadFile(path, &text)) {
      err << "cost: cannot read " << path << "\n";
      return 1;
    }
    absl::StatusOr<std::vector<Series>> s = ParsePrometheusText(text, 0);
    if (!s.ok()) {
      err << "cost: " << path << ": " << s.status().message() << "\n";
      return 1;
    }
    if (service.empty()) {
      MergeSeries(pooled, std::move(*s));
      pooled_names += (pooled_names.empty() ? "" : ", ") + path;
    } else if (!add_loads(*s, service, path)) {
      return 1;
    }
  }
  for (const std::string& path : prom_files) {
    if (!ReadFile(path, &text)) {
      err << "cost: cannot read " << path << "\n";
      return 1;
    }
    absl::StatusOr<std::vector<Series>> s = ParseQueryRangeJson(text);
    if (!s.ok()) {
      err << "cost: " << path << ": " << s.status().message() << "\n";
      return 1;
    }
    MergeSeries(pooled, std::move(*s));
    pooled_names += (pooled_names.empty() ? "" : ", ") + path;
  }
  if (!pooled.empty() && !add_loads(pooled, "", pooled_names)) return 1;

  std::vector<ServiceCost> costs;
  double window_s = 0;
  for (const auto& [name, load] : loads) {
    if (!only.empty() && !only.count(name)) continue;
    absl::StatusOr<ServiceCost> c = PriceService(load, *prices, options);
    if (!c.ok()) {
      err << "cost: " << c.status().message() << "\n";
      return 1;
    }
    window_s = std::max(window_s, load.window_s);
    costs.push_back(std::move(*c));
  }
  if (costs.empty()) {
    err << "cost: none of the requested services is in the inputs\n";
    return 1;
  }

  if (json) {
    nlohmann::json j;
    j["prices"] = {{"file", prices_path},          {"provider", prices->provider},
                   {"region", prices->region},     {"as_of", prices->as_of},
                   {"currency", prices->currency}, {"hours_per_month", prices->hours_per_month}};
    j["target_utilisation"] = options.target_utilisation;
    for (const ServiceCost& c : costs) {
      nlohmann::json s = {{"service", c.service},
                          {"mean_rps", c.mean_rps},
                          {"peak_rps", c.peak_rps},
                          {"active_fraction", c.active_fraction},
                          {"work_seconds_per_request", c.work_s},
                          {"work_source", c.work_source},
                          {"cheapest", std::string(PlacementName(c.cheapest))},
                          {"break_even_note", c.break_even_note}};
      s["break_even_rps"] = c.break_even_rps ? nlohmann::json(*c.break_even_rps) : nullptr;
      s["serverless_monthly_per_rps"] =
          c.serverless_monthly_per_rps ? nlohmann::json(*c.serverless_monthly_per_rps) : nullptr;
      s["dedicated_curve"] = nlohmann::json::array();
      for (const CurvePoint& p : c.dedicated_curve) {
        s["dedicated_curve"].push_back({p.rps, p.monthly});
      }
      for (const PlacementCost& p : c.placements) {
        s["placements"][std::string(PlacementName(p.placement))] = {
            {"available", p.available},
            {"monthly", p.available ? nlohmann::json(p.monthly) : nullptr},
            {"detail", p.detail}};
      }
      j["services"].push_back(s);
    }
    out << j.dump(2) << "\n";
    return 0;
  }

  out << absl::StrFormat("Prices: %s %s as of %s, %s per month of %g h (%s)\n", prices->provider,
                         prices->region, prices->as_of, prices->currency, prices->hours_per_month,
                         prices_path);
  out << absl::StrFormat("Load: %.2f h of metrics; machines and pods sized for %.0f%% vCPU use\n\n",
                         window_s / 3600, options.target_utilisation * 100);
  out << absl::StrFormat("%-12s %8s %8s %7s %9s %12s %12s %12s %12s  %s\n", "service", "mean/s",
                         "peak/s", "active", "vcpu-s/req", "dedicated-vm", "spot-vm", "serverless",
                         "pods", "cheapest");
  for (const ServiceCost& c : costs) {
    out << absl::StrFormat("%-12s %8.3g %8.3g %6.0f%% %9.3g", c.service, c.mean_rps, c.peak_rps,
                           c.active_fraction * 100, c.work_s);
    for (const PlacementCost& p : c.placements) {
      if (p.available) {
        out << absl::StrFormat(" %12.2f", p.monthly);
      } else {
        out << absl::StrFormat(" %12s", "n/a");
      }
    }
    out << "  " << PlacementName(c.cheapest) << "\n";
  }
  out << "\n";
  for (const ServiceCost& c : costs) {
    out << c.service << " (work per request from " << c.work_source << "):\n";
    for (const PlacementCost& p : c.placements) {
      out << absl::StrFormat("  %-13s %s\n", PlacementName(p.placement), p.detail);
    }
    out << "  break-even    " << c.break_even_note << "\n";
  }
  return 0;
}

}  // namespace stratus::cost

int RunCostCommand(int argc, char** argv) {
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  return stratus::cost::RunCost(args, std::cout, std::cerr);
}
