// Error type for everything a user can fix: bad input files, bad options, singular statistics.
// The message is one line that names the file / row / column and what was expected.
#pragma once
#include <stdexcept>
#include <string>

namespace scorematch {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace scorematch
