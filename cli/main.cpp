// attnsim: the one place that talks to the user and maps failures to exit codes
// (0 ok, 1 runtime failure, 2 bad input).
#include <algorithm>
#include <exception>
#include <iostream>
#include <stdexcept>

#include <CLI/CLI.hpp>

#include "cli/context.hpp"
#include "cli/flags.hpp"
#include "validate/cuda/cuda_devices.hpp"

namespace {

constexpr int kExitRuntime = 1;
constexpr int kExitBadInput = 2;

int fail(const std::string& message, int code) {
  std::string line = message;
  for (char& c : line) {
    if (c == '\n') c = ' ';
  }
  std::cerr << "attnsim: error: " << line << "\n";
  return code;
}

// The deepest subcommand the user reached (the app itself when none was parsed).
const CLI::App& deepest_command(const CLI::App& app) {
  const CLI::App* deepest = &app;
  for (auto parsed = deepest->get_subcommands(); !parsed.empty();
       parsed = deepest->get_subcommands()) {
    deepest = parsed.front();
  }
  return *deepest;
}

std::string command_path(const CLI::App& app, const CLI::App& command) {
  std::string path = "attnsim";
  for (const CLI::App* c = &command; c != &app && c != nullptr; c = c->get_parent()) {
    path.insert(7, " " + c->get_name());
  }
  return path;
}

// The flags and subcommands of the deepest subcommand the user reached, for "unknown flag" errors.
std::string allowed_flags(const CLI::App& app) {
  const CLI::App& deepest = deepest_command(app);
  std::string names;
  for (const CLI::Option* opt : deepest.get_options()) {
    for (const std::string& name : opt->get_lnames())
      names += (names.empty() ? "--" : ", --") + name;
  }
  for (const CLI::App* sub : deepest.get_subcommands({})) {
    names += (names.empty() ? "" : ", ") + sub->get_name();
  }
  return names;
}

// "attnsim frobnicate" and "attnsim hw" name what was wrong and list the commands there are.
std::string missing_command(const CLI::App& app) {
  const CLI::App& deepest = deepest_command(app);
  std::string names;
  for (const CLI::App* sub : deepest.get_subcommands({})) {
    names += (names.empty() ? "" : ", ") + sub->get_name();
  }
  const std::vector<std::string> extra = deepest.remaining();
  const std::string path = command_path(app, deepest);
  const std::string problem = extra.empty() ? path + " needs a command"
                                            : "unknown command '" + extra.front() + "' for " + path;
  return problem + "; commands: " + names + " (see " + path + " --help)";
}

// The first argument the deepest command did not expect, in command-line order (CLI11's message
// lists them last first: "0 --heads"), named with what was wrong: "unknown flag '--heads' for
// attnsim compare", or an argument no flag takes.
std::string unexpected_argument(const CLI::App& app, int argc, char** argv) {
  const CLI::App& deepest = deepest_command(app);
  const std::vector<std::string> extra = deepest.remaining();
  std::string first = extra.empty() ? "" : extra.front();
  for (int i = 1; i < argc; ++i) {
    if (std::find(extra.begin(), extra.end(), argv[i]) != extra.end()) {
      first = argv[i];
      break;
    }
  }
  const std::string path = command_path(app, deepest);
  const std::string flag = first.substr(0, first.find('='));
  if (flag.size() < 2 || flag[0] != '-') {
    return "unexpected argument '" + first + "' for " + path + " (no flag takes it)";
  }
  std::string message = "unknown flag '" + flag + "' for " + path;
  // compare sets a variant's shape per variant, not with query's flags.
  if (deepest.get_name() == "compare" &&
      (flag == "--heads" || flag == "--kv-heads" || flag == "--head-dim" ||
       flag == "--v-head-dim" || flag == "--param" || flag == "--variant")) {
    message +=
        " (compare takes a variant's parameters in --variants, e.g. gqa:heads=32:kv_heads=8)";
  }
  return message;
}

// The on/off flag of `app` or of one of its subcommands that `name` (without "--") names, or null.
const CLI::Option* find_flag(const CLI::App& app, const std::string& name) {
  for (const CLI::Option* opt : app.get_options()) {
    const auto& names = opt->get_lnames();
    if (opt->get_expected_max() == 0 && std::find(names.begin(), names.end(), name) != names.end())
      return opt;
  }
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (const CLI::Option* opt = find_flag(*sub, name)) return opt;
  }
  return nullptr;
}

// "--causal=": a flag given an empty value, which CLI11 would read as the bare flag (true, or
// false for --no-causal=). The message, or "" when no argument is one.
std::string empty_flag_value(const CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    if (arg.size() > 3 && arg.rfind("--", 0) == 0 && arg.back() == '=' &&
        find_flag(app, arg.substr(2, arg.size() - 3)) != nullptr) {
      return arg.substr(0, arg.size() - 1) +
             ": an empty flag value; give the flag alone, or =true or =false";
    }
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  cli::Context ctx;
  CLI::App app{"attnsim: predict what an attention kernel costs before anyone runs it"};
  app.set_version_flag("--version", std::string("attnsim ") + ATTNSIM_VERSION +
                                        " (CUDA backend: " + validate::cuda_build_summary() + ")");
  app.require_subcommand(1);
  cli::add_query_command(app, ctx);
  cli::add_hw_command(app, ctx);
  cli::add_variants_command(app, ctx);
  cli::add_models_command(app, ctx);
  cli::add_compare_command(app, ctx);
  cli::add_sweep_command(app, ctx);
  cli::add_validate_command(app, ctx);
  cli::strict_flag_values(app);
  if (const std::string empty = empty_flag_value(app, argc, argv); !empty.empty())
    return fail(empty, kExitBadInput);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::RequiredError& e) {
    const CLI::App& deepest = deepest_command(app);
    if (deepest.get_require_subcommand_min() > 0 && !deepest.get_subcommands({}).empty()) {
      return fail(missing_command(app), kExitBadInput);
    }
    return fail(std::string(e.what()) + " (see --help)", kExitBadInput);
  } catch (const CLI::ExtrasError&) {
    return fail(unexpected_argument(app, argc, argv) + "; allowed: " + allowed_flags(app),
                kExitBadInput);
  } catch (const CLI::ArgumentMismatch& e) {
    // CLI11 words a flag given twice as "--x: At Most 1 required but received 2".
    std::string message = e.what();
    const std::size_t at = message.find("At Most 1 required but received ");
    if (at != std::string::npos) {
      // "--causal: " names the option; a flag's --no- form is the same option.
      const std::string name = message.substr(0, message.find(':'));
      const CLI::Option* flag = name.rfind("--", 0) == 0 ? find_flag(app, name.substr(2)) : nullptr;
      std::string spellings;
      for (const std::string& n : flag ? flag->get_lnames() : std::vector<std::string>{})
        spellings += (spellings.empty() ? "--" : " or --") + n;
      message = message.substr(0, at) + "given " +
                message.substr(at + std::string_view("At Most 1 required but received ").size()) +
                (flag ? " times; give " + spellings + " once" : " times; it takes one value") +
                " (see --help)";
      return fail(message, kExitBadInput);
    }
    return fail(message + " (see --help)", kExitBadInput);
  } catch (const CLI::ParseError& e) {
    return fail(std::string(e.what()) + " (see --help)", kExitBadInput);
  } catch (const std::invalid_argument& e) {
    return fail(e.what(), kExitBadInput);
  } catch (const std::exception& e) {
    return fail(e.what(), kExitRuntime);
  }
  return 0;
}
