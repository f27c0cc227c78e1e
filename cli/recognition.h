// The recognition subcommands of the `stratus` tool, over gRPC to a recognition service
// (--endpoint, default $STRATUS_RECOGNITION_ADDR or localhost:50053):
//   detect-faces IMAGE... [--attributes ALL]
//   compare-faces SOURCE TARGET [--similarity-threshold N]
//   create-collection ID | delete-collection ID | list-collections
//   index-faces COLLECTION IMAGE... [--external-id ID] [--max-faces N] [--quality-filter F]
//   list-faces COLLECTION [--user-id U] | list-users COLLECTION   (--output lines|json|table)
//   search-faces-by-image COLLECTION IMAGE... [--max-faces N] [--threshold N]
//   detect-labels IMAGE... [--max-labels N] [--min-confidence N]
//   detect-ppe IMAGE... [--min-confidence N] [--required FACE_COVER]
//   detect-text IMAGE... [--min-confidence N]
//   create-user | delete-user COLLECTION USER; associate-faces | disassociate-faces
//   COLLECTION USER FACE_ID...; search-users COLLECTION --user-id U | --face-id F;
//   search-users-by-image COLLECTION IMAGE...
// Output: one JSON object per line in Rekognition's shapes (AWS member names), one per image
// (or per page for the list commands, which also print merged JSON or a table: docs/cli.md).
// Errors go to stderr as "IMAGE: ExceptionName: message"; the exit status is 1 when any call
// failed, 2 on bad usage, 3 when the service could not be reached.
#ifndef STRATUS_CLI_RECOGNITION_H_
#define STRATUS_CLI_RECOGNITION_H_

#include <string>

namespace stratus::cli {

// True for the subcommand names above.
bool IsRecognitionCommand(const std::string& sub);

// Runs subcommand `sub`; argv starts at the subcommand name (argv[0] == sub).
int RunRecognitionCommand(const std::string& sub, int argc, char** argv);

}  // namespace stratus::cli

#endif  // STRATUS_CLI_RECOGNITION_H_
