// Running Debian's gnuplot for pictures: scripts and data files are written next to the picture
// and gnuplot runs in that directory, so a user can restyle a picture by editing the script.
#pragma once
#include <filesystem>
#include <functional>
#include <string>

namespace scorematch::app {

void write_text_file(const std::string& path, const std::string& text);
// A double-quoted gnuplot string literal.
std::string gnuplot_quoted(const std::string& s);
// Runs `gnuplot script` in `dir` and checks that it wrote `png` there; throws Error with gnuplot's
// own message otherwise.
void run_gnuplot(const std::string& dir, const std::string& script, const std::string& png);

// A single picture at `target` with no scratch files left beside it: write(dir) fills a scratch
// directory next to the target with the gnuplot script `script` (which writes `png` in that
// directory) and its data; gnuplot runs there, the picture is renamed to `target`, and the scratch
// directory is removed, also when anything throws.
void render_png(const std::string& target, const std::string& script, const std::string& png,
                const std::function<void(const std::filesystem::path& dir)>& write);

}  // namespace scorematch::app
