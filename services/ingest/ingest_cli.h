// `stratus stream add|rm|ls` and `stratus events`: the ingest service from the command line.
// Output is one JSON object per line (streams, events), in the proto's JSON mapping.
#ifndef STRATUS_SERVICES_INGEST_INGEST_CLI_H_
#define STRATUS_SERVICES_INGEST_INGEST_CLI_H_

namespace stratus::ingest {

int RunStreamCommand(int argc, char** argv);
int RunEventsCommand(int argc, char** argv);

}  // namespace stratus::ingest

#endif  // STRATUS_SERVICES_INGEST_INGEST_CLI_H_
