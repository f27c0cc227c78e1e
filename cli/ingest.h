// `stratus stream add|rm|ls` and `stratus events`: the ingest service from the command line.
// Output is one JSON object per line (streams, events), in the proto's JSON mapping.
#ifndef STRATUS_CLI_INGEST_H_
#define STRATUS_CLI_INGEST_H_

namespace stratus::cli {

int RunStreamCommand(int argc, char** argv);
int RunEventsCommand(int argc, char** argv);

}  // namespace stratus::cli

#endif  // STRATUS_CLI_INGEST_H_
