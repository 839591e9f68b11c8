// What each option takes, from the type CLI11 records for it, and the checks every option's value
// gets before CLI11 converts it (add_value_checks).
#pragma once
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace scorematch::cli {

// What an option takes on the command line (INT, UINT, FLOAT, TEXT; a flag takes no value).
enum class Takes { integer, unsigned_integer, number, text, flag, unknown };

Takes takes(const CLI::Option& option);
// "an integer", "an integer >= 0", "a number", ...
const char* described(Takes kind);

// Reads a number option's text: decimal digits (no hexadecimal), finite (no inf or nan), not
// subnormal (below 2.2e-308 in magnitude, unless 0). Returns "" and sets `value`, or what is
// wrong, for a message after the option's name. Every number check uses it.
std::string number_problem(const std::string& text, double& value);

// Adds to every option of `app` and its subcommands the check its kind needs, so that a value is
// either read as written or refused naming the option (and the job file that set it):
//  - integers are decimal digits with an optional sign, in range for 64 bits. CLI11 (2.1) reads
//    them with strtoll base 0 — `--steps 010` is 8 steps, `0x10` is 16 — and saturates on
//    overflow, so `--seed 99999999999999999999` silently became 2^64 - 1;
//  - an unsigned integer has no minus sign (strtoull wraps -1 to 2^64 - 1);
//  - a number is decimal, finite and not subnormal (number_problem): inf and nan mean nothing to
//    any option (std::stod reads both);
//  - a text value is not empty: `--init-from ''` or `--data ''` read as "not given" or as a file
//    with no name.
// Call it once every option is registered.
void add_value_checks(CLI::App& app);

// CLI11 takes a word that starts with '-' and is not a number for an option name, so `--range 1
// -inf 0 1` failed with "At least 2 required but received 1" and `--through 3 -inf` with "argument
// was not expected". No option has such a name and no number option takes a non-finite value:
// returns "<option>: expected a finite number, got '-inf'" for the first -inf, -infinity or -nan
// among the (unreversed) arguments, naming the option before it (an integer option of `app` or
// its subcommands: "expected an integer in decimal digits"), or "" when there is none.
std::string non_finite_value_word(const CLI::App& app, const std::vector<std::string>& args);

// A list option (--hidden, --models, …) given more than once: the message, else empty.
std::string repeated_list_option(const CLI::App& app, const std::vector<std::string>& args);

}  // namespace scorematch::cli
