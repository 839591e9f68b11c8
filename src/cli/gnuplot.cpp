#include "gnuplot.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "scorematch/core/error.hpp"

namespace scorematch::cli {

void write_text_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw Error("cannot write '" + path + "'");
}

std::string gnuplot_quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void run_gnuplot(const std::string& dir, const std::string& script, const std::string& png) {
  const std::string log = dir + "/gnuplot.log";
  const std::string command = "cd '" + dir + "' && gnuplot '" + script + "' 2> gnuplot.log";
  if (std::system(command.c_str()) != 0) {
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    throw Error(
        "gnuplot failed (is Debian's gnuplot-nox installed? tools/install-deps.sh "
        "installs it): " +
        text.str());
  }
  std::filesystem::remove(log);
  const std::string path = dir + "/" + png;
  if (!std::filesystem::exists(path) || std::filesystem::file_size(path) == 0)
    throw Error("gnuplot wrote no " + png);
}

}  // namespace scorematch::cli
