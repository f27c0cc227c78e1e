// stratus: the command-line tool. `stratus help` lists the commands.
#include <cstring>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace {

struct Command {
  const char* name;
  const char* summary;
  std::function<int(int, char**)> run;  // gets argv starting at the command name
};

const std::vector<Command>& Commands() {
  static const auto* kCommands = new std::vector<Command>{
      {"up", "run PostgreSQL and all services on this machine", stratus::cli::RunUpCommand},
      {"health", "check services' health: stratus health HOST:PORT...",
       stratus::cli::RunHealthCommand},
  };
  return *kCommands;
}

int Help(std::ostream& out) {
  out << "usage: stratus COMMAND [flags] [args]\n\ncommands:\n";
  for (const auto& c : Commands()) {
    out << "  " << c.name << std::string(22 - std::min<size_t>(21, std::strlen(c.name)), ' ')
        << c.summary << "\n";
  }
  out << "\n`stratus COMMAND --help` describes a command.\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "help" || std::string(argv[1]) == "--help" ||
      std::string(argv[1]) == "-h") {
    return Help(std::cout);
  }
  for (const auto& c : Commands()) {
    if (c.name == std::string(argv[1])) return c.run(argc - 1, argv + 1);
  }
  std::cerr << "stratus: unknown command '" << argv[1] << "'\n\n";
  Help(std::cerr);
  return 2;
}
