#include "tools/cost/cost_model.h"

#include <cstdlib>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/cost/load.h"

namespace stratus::cost {
namespace {

using ::testing::DoubleNear;
using ::testing::HasSubstr;

// Round numbers so every figure below can be checked by hand. One month = 730 h = 2,628,000 s.
constexpr char kPrices[] = R"(
provider: test
as_of: "now"
hours_per_month: 730
vm:
  small: {vcpu: 2, on_demand: 0.2, reserved_1y: 0.1, spot: 0.03}
functions: {per_gb_second: 0.00001, per_million_requests: 1.0, gb_per_vcpu: 1}
pods: {per_vcpu_hour: 0.04, per_gb_hour: 0.004}
services:
  svc:
    vm_types: [small]
    function_memory_gb: 1
    pod_vcpu: 0.5
    pod_memory_gb: 1
    min_pods: 0
    scale_down_delay_s: 300
)";

PriceFile Prices(const std::string& extra = "") {
  absl::StatusOr<PriceFile> p = ParsePriceFile(std::string(kPrices) + extra);
  EXPECT_TRUE(p.ok()) << p.status();
  return *p;
}

// A steady load: `rps` for `n` one-minute intervals, w CPU-seconds per request.
ServiceLoad Steady(double rps, int n, double w) {
  ServiceLoad l;
  l.service = "svc";
  for (int i = 0; i < n; ++i) l.intervals.push_back({i * 60.0, (i + 1) * 60.0, rps * 60, 0});
  l.window_s = n * 60;
  l.requests = rps * 60 * n;
  l.mean_rps = l.peak_rps = rps;
  l.active_fraction = 1;
  l.cpu_seconds_per_request = w;
  return l;
}

// The dedicated curve's value at `rps`: on the first segment of distinct rates holding it,
// joined by a straight line (flat between a step's edges).
double CurveAt(const std::vector<CurvePoint>& curve, double rps) {
  for (size_t i = 0; i + 1 < curve.size(); ++i) {
    const CurvePoint &a = curve[i], &b = curve[i + 1];
    if (a.rps < b.rps && a.rps <= rps && rps <= b.rps) {
      return a.monthly + (b.monthly - a.monthly) * (rps - a.rps) / (b.rps - a.rps);
    }
  }
  ADD_FAILURE() << rps << " req/s is outside the curve";
  return 0;
}

void ExpectNonDecreasing(const std::vector<CurvePoint>& curve) {
  for (size_t i = 0; i + 1 < curve.size(); ++i) {
    EXPECT_LE(curve[i].rps, curve[i + 1].rps) << i;
    EXPECT_LE(curve[i].monthly, curve[i + 1].monthly) << i;
  }
}

const PlacementCost& Get(const ServiceCost& c, Placement p) {
  return c.placements[static_cast<int>(p)];
}

TEST(PriceService, PricesEachPlacementByHand) {
  absl::StatusOr<ServiceCost> c = PriceService(Steady(10, 2, 0.1), Prices(), {0.5, 1});
  ASSERT_TRUE(c.ok()) << c.status();
  // Peak demand 1 vCPU at 50% use = 2 vCPUs = one `small`, reserved: 0.1 * 730.
  EXPECT_THAT(Get(*c, Placement::kDedicatedVm).monthly, DoubleNear(73, 1e-9));
  EXPECT_EQ(Get(*c, Placement::kDedicatedVm).detail, "1x small reserved-1y");
  // Spot: the same machine and one spare: 2 * 0.03 * 730.
  EXPECT_THAT(Get(*c, Placement::kSpotVm).monthly, DoubleNear(43.8, 1e-9));
  // 26.28M calls * (1e-6 + 1 GB * 0.1 s * 1e-5).
  EXPECT_THAT(Get(*c, Placement::kServerless).monthly, DoubleNear(52.56, 1e-6));
  // 1 vCPU at 50% of 0.5-vCPU pods = 4 pods * (0.5 * 0.04 + 1 * 0.004) * 730.
  EXPECT_THAT(Get(*c, Placement::kPods).monthly, DoubleNear(70.08, 1e-6));
  EXPECT_EQ(c->cheapest, Placement::kSpotVm);
  EXPECT_EQ(c->work_source, "measured cpu");
  // Dedicated costs 7.3 per req/s at best, serverless 5.256: serverless wins at any rate.
  EXPECT_FALSE(c->break_even_rps.has_value());
  EXPECT_THAT(c->break_even_note, HasSubstr("any sustained rate"));
}

TEST(PriceService, BreakEvenIsWhereServerlessCatchesUpWithMachines) {
  // Serverless at 3e-6 + 1e-6 per call: 10.512 per req/s and month; one machine (73) carries
  // 10 req/s, so the lines cross at 73 / 10.512 = 6.94 req/s, inside the first machine's range.
  PriceFile p = Prices();
  p.functions.per_million_requests = 3.0;
  absl::StatusOr<ServiceCost> c = PriceService(Steady(10, 2, 0.1), p, {0.5, 1});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->break_even_rps.has_value());
  EXPECT_THAT(*c->break_even_rps, DoubleNear(73 / 10.512, 1e-6));
  // The model behind it: the serverless line and the machines sized for each sustained rate
  // (10 req/s per machine) over [0, max(2 * 6.94, 2 * 10, 1.2 * 10)], one step at 10 req/s.
  ASSERT_TRUE(c->serverless_monthly_per_rps.has_value());
  const double slope = *c->serverless_monthly_per_rps;
  EXPECT_THAT(slope, DoubleNear(10.512, 1e-9));
  ASSERT_EQ(c->dedicated_curve.size(), 4u);
  const double want[4][2] = {{0, 73}, {10, 73}, {10, 146}, {20, 146}};
  for (int i = 0; i < 4; ++i) {
    EXPECT_THAT(c->dedicated_curve[i].rps, DoubleNear(want[i][0], 1e-9)) << i;
    EXPECT_THAT(c->dedicated_curve[i].monthly, DoubleNear(want[i][1], 1e-9)) << i;
  }
  const double be = *c->break_even_rps;
  EXPECT_THAT(CurveAt(c->dedicated_curve, be), DoubleNear(slope * be, 1e-6 * slope * be));
  // The dedicated-vm placement is sized for the peak, not on the curve at the mean in general;
  // here peak = mean, so they agree.
  EXPECT_THAT(CurveAt(c->dedicated_curve, c->mean_rps),
              DoubleNear(Get(*c, Placement::kDedicatedVm).monthly, 1e-9));
}

TEST(PriceService, BreakEvenLiesOnBothCurvesWhereTheyCrossAStep) {
  // Two machine types and a dearer function: the lines cross past the first steps.
  PriceFile p = Prices();
  p.vms["big"] = p.vms.at("small");
  p.vms["big"].vcpu = 3;
  p.vms["big"].reserved_1y = 0.14;
  p.services.at("svc").vm_types = {"small", "big"};
  // 2.66e-6 per call: 6.99 per req/s and month, between big's 6.81 and small's 7.3 per req/s.
  // Machines for a rate: 73 up to 10 req/s, then one big (102.2) up to 15, which serverless
  // reaches at 102.2 / 6.99 = 14.6 req/s.
  p.functions.per_million_requests = 1.16;
  p.functions.per_gb_second = 0.000015;
  absl::StatusOr<ServiceCost> c = PriceService(Steady(5, 2, 0.1), p, {0.5, 1});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->break_even_rps.has_value());
  ASSERT_TRUE(c->serverless_monthly_per_rps.has_value());
  const double slope = *c->serverless_monthly_per_rps, be = *c->break_even_rps;
  EXPECT_THAT(be, DoubleNear(102.2 / (2628000 * 2.66e-6), 1e-6));
  EXPECT_THAT(CurveAt(c->dedicated_curve, be), DoubleNear(slope * be, 1e-6 * slope * be));
  ExpectNonDecreasing(c->dedicated_curve);
  EXPECT_THAT(c->dedicated_curve.back().rps, DoubleNear(2 * be, 1e-9));
  // Just below the break-even serverless is the cheaper line, just above it the dearer one.
  EXPECT_LT(slope * be * 0.99, CurveAt(c->dedicated_curve, be * 0.99));
  EXPECT_GT(slope * be * 1.01, CurveAt(c->dedicated_curve, be * 1.01));
}

TEST(PriceService, ACurveWithTooManyStepsIsSampled) {
  // 1000 req/s at 10 per machine: 200 steps in range, more than kMaxCurvePoints can draw.
  PriceFile p = Prices();
  p.functions.per_million_requests = 3.0;
  absl::StatusOr<ServiceCost> c = PriceService(Steady(1000, 2, 0.1), p, {0.5, 1});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->break_even_rps.has_value());
  EXPECT_LE(c->dedicated_curve.size(), static_cast<size_t>(kMaxCurvePoints));
  ExpectNonDecreasing(c->dedicated_curve);
  EXPECT_THAT(c->dedicated_curve.front().rps, DoubleNear(0, 1e-12));
  EXPECT_THAT(c->dedicated_curve.back().rps, DoubleNear(2000, 1e-9));
  EXPECT_THAT(c->dedicated_curve.back().monthly, DoubleNear(200 * 73, 1e-6));
  const double slope = *c->serverless_monthly_per_rps, be = *c->break_even_rps;
  EXPECT_THAT(CurveAt(c->dedicated_curve, be), DoubleNear(slope * be, 1e-6 * slope * be));
}

TEST(PriceService, SpotIsNeverCheapestForWhatCannotBeInterrupted) {
  PriceFile p = Prices("    interruptible: false\n");
  ASSERT_FALSE(p.services.at("svc").interruptible);
  absl::StatusOr<ServiceCost> c = PriceService(Steady(10, 2, 0.1), p, {0.5, 1});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(Get(*c, Placement::kSpotVm).monthly, DoubleNear(43.8, 1e-9));
  EXPECT_THAT(Get(*c, Placement::kSpotVm).detail, HasSubstr("not interruptible"));
  EXPECT_EQ(c->cheapest, Placement::kServerless);
}

TEST(PriceService, PodsScaleToZeroAfterTheCooldown) {
  ServiceLoad l = Steady(0, 0, 0.01);
  l.intervals = {{0, 60, 60, 0}, {60, 660, 0, 0}};  // One busy minute, then ten idle.
  l.window_s = 660;
  l.requests = 60;
  l.mean_rps = 60.0 / 660;
  l.peak_rps = 1;
  absl::StatusOr<ServiceCost> c = PriceService(l, Prices(), {0.5, 1});
  ASSERT_TRUE(c.ok()) << c.status();
  // One pod for the busy minute and the 300 s cooldown: 360 of 660 s.
  double hourly = 0.5 * 0.04 + 1 * 0.004;
  EXPECT_THAT(Get(*c, Placement::kPods).monthly, DoubleNear(360.0 / 660 * 730 * hourly, 1e-9));
}

TEST(PriceService, ServerlessUnavailableForLongLivedWork) {
  PriceFile p = Prices("    serverless_possible: false\n");
  absl::StatusOr<ServiceCost> c = PriceService(Steady(1, 2, 0.1), p);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(Get(*c, Placement::kServerless).available);
  EXPECT_NE(c->cheapest, Placement::kServerless);
  EXPECT_FALSE(c->break_even_rps.has_value());
  EXPECT_FALSE(c->serverless_monthly_per_rps.has_value());
  // The machines' curve is there all the same: one machine up to 1.2 * the peak of 1 req/s.
  ASSERT_EQ(c->dedicated_curve.size(), 2u);
  EXPECT_THAT(c->dedicated_curve.back().rps, DoubleNear(2, 1e-9));
  EXPECT_THAT(c->dedicated_curve.back().monthly,
              DoubleNear(Get(*c, Placement::kDedicatedVm).monthly, 1e-9));
}

TEST(PriceService, WorkFallsBackToLatencyAndErrorsWithoutEither) {
  ServiceLoad l = Steady(1, 2, 0);
  l.cpu_seconds_per_request.reset();
  l.mean_latency_s = 0.2;
  absl::StatusOr<ServiceCost> c = PriceService(l, Prices());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->work_source, "latency");
  EXPECT_THAT(c->work_s, DoubleNear(0.2, 1e-12));
  l.mean_latency_s.reset();
  EXPECT_FALSE(PriceService(l, Prices()).ok());
  l.service = "unknown";
  EXPECT_EQ(PriceService(l, Prices()).status().code(), absl::StatusCode::kNotFound);
}

TEST(PriceService, AFleetOfCamerasPutsTheDetectorOnAGpu) {
  // With the shipped AWS prices: 60 frames/s at 0.15 CPU-s each is 9 vCPUs busy. A g4dn.xlarge
  // (4 vCPUs + a T4 worth 12) carries it for less than the 16-vCPU c7i.4xlarge it would
  // otherwise take.
  const char* root = std::getenv("STRATUS_SOURCE_DIR");
  absl::StatusOr<PriceFile> p =
      LoadPriceFile(std::string(root ? root : ".") + "/deploy/prices/aws-2026.yaml");
  ASSERT_TRUE(p.ok()) << p.status();
  ServiceLoad l = Steady(60, 10, 0.15);
  l.service = "detector";
  absl::StatusOr<ServiceCost> c = PriceService(l, *p);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->cheapest, Placement::kDedicatedVm);
  EXPECT_EQ(Get(*c, Placement::kDedicatedVm).detail, "1x g4dn.xlarge reserved-1y");
  EXPECT_THAT(Get(*c, Placement::kDedicatedVm).monthly, DoubleNear(0.331 * 730, 1e-6));
}

TEST(ParsePriceFile, NamesWhatIsWrong) {
  absl::StatusOr<PriceFile> p =
      ParsePriceFile(std::string(kPrices) + "  other: {vm_types: [big]}\n");
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("big"));
  p = ParsePriceFile("provider: x\nas_of: y\nvm: {a: {vcpu: 2}}\n");
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("vm.a.on_demand"));
}

}  // namespace
}  // namespace stratus::cost
