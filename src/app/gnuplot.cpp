#include "gnuplot.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "scorematch/core/error.hpp"

namespace scorematch::app {

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

void render_png(const std::string& target, const std::string& script, const std::string& png,
                const std::function<void(const std::filesystem::path& dir)>& write) {
  namespace fs = std::filesystem;
  const fs::path out(target);
  const fs::path dir = (out.has_parent_path() ? out.parent_path() : fs::path(".")) /
                       (".gnuplot.tmp-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  try {
    write(dir);
    run_gnuplot(dir.string(), script, png);
    fs::rename(dir / png, out);
  } catch (...) {
    fs::remove_all(dir);
    throw;
  }
  fs::remove_all(dir);
}

}  // namespace scorematch::app
