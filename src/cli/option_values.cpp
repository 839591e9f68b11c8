#include "option_values.hpp"

#include <map>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>
#include <system_error>

namespace scorematch::cli {

Takes takes(const CLI::Option& option) {
  if (option.get_expected_min() == 0) return Takes::flag;
  std::string type = option.get_type_name();
  type = type.substr(0, type.find(':'));  // validators append ":description"
  if (type == "INT") return Takes::integer;
  if (type == "UINT") return Takes::unsigned_integer;
  if (type == "FLOAT") return Takes::number;
  if (type == "TEXT") return Takes::text;
  return Takes::unknown;
}

const char* described(Takes kind) {
  switch (kind) {
    case Takes::integer:
      return "an integer";
    case Takes::unsigned_integer:
      return "an integer >= 0";
    case Takes::number:
      return "a number";
    case Takes::text:
      return "a string";
    case Takes::flag:
      return "true or false";
    case Takes::unknown:
      break;
  }
  return "a value";
}

std::string number_problem(const std::string& text, double& value) {
  const std::string bad = "expected a finite number, got '" + text + "'";
  // Decimal only: strtod also reads hexadecimal (0x10 is 16, -0x1p3 is -8).
  const std::size_t digits = !text.empty() && (text[0] == '-' || text[0] == '+') ? 1 : 0;
  if (text.empty() || text.find_first_of("xX", digits) != std::string::npos) return bad;
  errno = 0;
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(value)) return bad;
  // strtod signals ERANGE for overflow (±HUGE_VAL, caught above) and for a value below the
  // smallest normal double, which keeps few significant bits and makes any step, rate or level
  // it sets meaningless.
  if (errno == ERANGE)
    return "'" + text + "' is too small to be represented (nonzero magnitudes start at " +
           "2.2e-308)";
  return {};
}

namespace {

// The message for a value that is not a plain decimal integer in range, or "" when it is.
template <class Int>
std::string integer_problem(const std::string& text, bool is_unsigned) {
  const char* expected =
      is_unsigned ? "an integer >= 0 in decimal digits" : "an integer in decimal digits";
  std::string digits = text;
  if (!digits.empty() && (digits[0] == '+' || (!is_unsigned && digits[0] == '-')))
    digits.erase(0, 1);
  const bool plain = !digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos;
  if (!plain) return "expected " + std::string(expected) + ", got '" + text + "'";
  if (digits.size() > 1 && digits[0] == '0')
    return "expected " + std::string(expected) + " without leading zeros, got '" + text + "'";
  Int value{};
  const std::string number = text[0] == '+' ? text.substr(1) : text;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec == std::errc::result_out_of_range)
    return "'" + text + "' is out of range (" + std::string(expected) + " up to " +
           std::to_string(std::numeric_limits<Int>::max()) + ")";
  if (ec != std::errc() || end != number.data() + number.size())
    return "expected " + std::string(expected) + ", got '" + text + "'";
  return {};
}

CLI::Validator decimal_integer(bool is_unsigned) {
  return CLI::Validator(
      [is_unsigned](std::string& text) {
        return is_unsigned ? integer_problem<std::uint64_t>(text, true)
                           : integer_problem<std::int64_t>(text, false);
      },
      "", is_unsigned ? "decimal_unsigned" : "decimal_integer");
}

CLI::Validator finite_number() {
  return CLI::Validator(
      [](std::string& text) {
        double value = 0;
        return number_problem(text, value);
      },
      "", "finite_number");
}

CLI::Validator non_empty() {
  return CLI::Validator(
      [](std::string& text) {
        return text.empty() ? std::string("expected a value, got an empty string") : std::string();
      },
      "", "non_empty");
}

}  // namespace

void add_value_checks(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    switch (takes(*option)) {
      case Takes::integer:
        option->check(decimal_integer(false));
        break;
      case Takes::unsigned_integer:
        option->check(decimal_integer(true));
        break;
      case Takes::number:
        option->check(finite_number());
        break;
      case Takes::text:
        option->check(non_empty());
        break;
      default:
        break;
    }
  }
  for (CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    add_value_checks(*sub);
}

std::string non_finite_value_word(const CLI::App& app, const std::vector<std::string>& args) {
  // What the option before the word takes, in the subcommand named before it (or the root): an
  // integer option's message says so.
  const CLI::App* scope = &app;
  const auto expected = [&](const std::string& name) -> std::string {
    const CLI::Option* option = scope->get_option_no_throw(name);
    if (option == nullptr) option = app.get_option_no_throw(name);
    const Takes kind = option == nullptr ? Takes::number : takes(*option);
    if (kind == Takes::integer || kind == Takes::unsigned_integer)
      return std::string("expected ") + described(kind) + " in decimal digits";
    return "expected a finite number";
  };
  std::string option;
  for (const std::string& word : args) {
    if (scope == &app)
      for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
        if (sub->check_name(word)) scope = sub;
    std::string lower = word;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "-inf" || lower == "-infinity" || lower == "-nan")
      return (option.empty() ? std::string("a value") : option) + ": " + expected(option) +
             ", got '" + word + "'";
    if (word.size() > 1 && word[0] == '-' && !std::isdigit(static_cast<unsigned char>(word[1])) &&
        word[1] != '.')
      option = word.substr(0, word.find('='));
  }
  return {};
}

std::string repeated_list_option(const CLI::App& app, const std::vector<std::string>& args) {
  // CLI11 appends the values of a list option given twice (--hidden 16,16 --hidden 8 would train
  // [16, 16, 8]) where every other option refuses a repeat: refuse it alike.
  const CLI::App* scope = &app;
  std::map<const CLI::Option*, int> seen;
  for (const std::string& word : args) {
    if (scope == &app)
      for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
        if (sub->check_name(word)) scope = sub;
    if (word.rfind("--", 0) != 0) continue;
    const std::string name = word.substr(0, word.find('='));
    const CLI::Option* option = scope->get_option_no_throw(name);
    if (option == nullptr) option = app.get_option_no_throw(name);
    if (option == nullptr || option->get_items_expected_max() <= 1) continue;
    if (++seen[option] == 2)
      return name + " was given twice: give its whole list once, comma-separated";
  }
  return {};
}

}  // namespace scorematch::cli
