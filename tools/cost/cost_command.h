// `stratus cost`: prices each service's measured load in every placement and names the cheapest.
//
//   stratus cost [--prices FILE] [--metrics [SERVICE=]FILE]... [--prometheus FILE]...
//                [--service NAME]... [--utilisation F] [--json]
//
// --metrics reads a recording of /metrics scrapes (Prometheus text format with sample
// timestamps; see docs/deployment.md for a one-line recorder); SERVICE= assigns every series of
// the file to that service. --prometheus reads a /api/v1/query_range answer of the raw counters.
// The price file defaults to $STRATUS_PRICES, then deploy/prices/aws-2026.yaml under the
// current directory, then /usr/share/stratus/prices/aws-2026.yaml, then the source tree's copy.
//
// --json prints {prices:{file, provider, region, as_of, currency, hours_per_month},
// target_utilisation, services:[{service, mean_rps, peak_rps, active_fraction,
// work_seconds_per_request, work_source, cheapest, break_even_rps|null, break_even_note,
// serverless_monthly_per_rps|null, dedicated_curve:[[rps, monthly], ...],
// placements:{"dedicated-vm"|"spot-vm"|"serverless"|"pods":{available, monthly|null, detail}}}]}.
// The last two are the break-even model (ServiceCost in cost_model.h): serverless costs
// serverless_monthly_per_rps * rate, dedicated VMs sized for that rate cost the step curve
// dedicated_curve; they meet at break_even_rps.
#ifndef STRATUS_TOOLS_COST_COST_COMMAND_H_
#define STRATUS_TOOLS_COST_COST_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

namespace stratus::cost {

// Runs the command with `args` (without the program and subcommand names), writing the report
// to `out` and diagnostics to `err`. Returns 0 on success, 1 on bad input files, 2 on bad usage.
int RunCost(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace stratus::cost

// Entry for the CLI: argv[0] is the command name ("cost" or "stratus-cost"), options follow.
// Writes to stdout/stderr; returns the exit status.
int RunCostCommand(int argc, char** argv);

#endif  // STRATUS_TOOLS_COST_COST_COMMAND_H_
