#include "trace_plot.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "gnuplot.hpp"
#include "scorematch/core/error.hpp"
#include "scorematch/diagnostics/convergence.hpp"
#include "scorematch/io/npy.hpp"

namespace scorematch::app {

void check_plot_dims(const std::vector<Index>& dims, Index d, const std::string& option) {
  for (const Index j : dims)
    if (j < 0 || j >= d)
      throw SettingError(option + " " + std::to_string(j) + " is outside [0, " + std::to_string(d) +
                         ")");
}

void render_trace(const TracePicture& pic, const std::string& png) {
  const io::NpyHeader header = io::read_npy_header(pic.samples);
  if (header.shape.size() != 2) throw Error("'" + pic.samples + "' is not a 2-D array");
  const Index rows = header.shape[0], d = header.shape[1];
  if (pic.chains < 1 || rows % pic.chains != 0)
    throw Error("'" + pic.samples + "' has " + std::to_string(rows) +
                " rows, not a multiple of --chains " + std::to_string(pic.chains));
  const Index draws = rows / pic.chains;
  if (draws < 4) throw Error("trace plots need at least 4 draws per chain");
  if (pic.dims.empty()) throw SettingError("choose at least one dimension to plot");
  check_plot_dims(pic.dims, d, pic.dims_option);
  if (pic.width < 200 || pic.width > 8000 ||
      (pic.height != 0 && (pic.height < 150 || pic.height > 8000)))
    throw SettingError("picture size must lie between 200 x 150 and 8000 x 8000 pixels");
  const Index used = std::min<Index>(pic.chains, 64);
  const Matrix x = io::read_npy_rows(pic.samples, header, {0, used * draws});
  const Index lags = std::min(pic.max_lag, draws - 1), shown = std::min(pic.trace_chains, used);

  render_png(png, "trace.gp", "trace.png", [&](const std::filesystem::path& dir) {
    std::ostringstream gp;
    const int height = pic.height > 0 ? pic.height : 260 * static_cast<int>(pic.dims.size()) + 60;
    gp << "set terminal pngcairo size " << pic.width << "," << height
       << " enhanced font 'sans,10'\nset output 'trace.png'\n"
       << "set multiplot layout " << pic.dims.size() << ",2 title " << gnuplot_quoted(pic.title)
       << "\nset grid\nset key top right\n";
    for (std::size_t p = 0; p < pic.dims.size(); ++p) {
      const Index j = pic.dims[p];
      const std::string label = p < pic.labels.size() && !pic.labels[p].empty()
                                    ? pic.labels[p]
                                    : "x" + std::to_string(j + 1);
      std::ostringstream trace, acf;
      trace.precision(10);
      acf.precision(10);
      for (Index t = 0; t < draws; ++t) {
        trace << t;
        for (Index c = 0; c < shown; ++c) trace << ' ' << x(c * draws + t, j);
        trace << '\n';
      }
      Vector mean_acf = Vector::Zero(lags + 1);
      for (Index c = 0; c < used; ++c)
        mean_acf += diagnostics::autocorrelation(x.col(j).segment(c * draws, draws)).head(lags + 1);
      mean_acf /= static_cast<double>(used);
      for (Index k = 0; k <= lags; ++k) acf << k << ' ' << mean_acf[k] << '\n';
      const std::string tf = "trace" + std::to_string(p) + ".dat",
                        af = "acf" + std::to_string(p) + ".dat";
      write_text_file((dir / tf).string(), trace.str());
      write_text_file((dir / af).string(), acf.str());
      gp << "set title " << gnuplot_quoted("trace of " + label) << "\nset xlabel 'draw'\n"
         << "set ylabel " << gnuplot_quoted(label) << "\nplot ";
      for (Index c = 0; c < shown; ++c)
        gp << (c ? ", " : "") << "'" << tf << "' using 1:" << c + 2
           << " with lines lw 0.8 title 'chain " << c << "'";
      const double band = 1.96 / std::sqrt(static_cast<double>(draws));
      gp << "\nset title "
         << gnuplot_quoted("autocorrelation of " + label + " (mean over " + std::to_string(used) +
                           " chains)")
         << "\nset xlabel 'lag'\nset ylabel 'ACF'\nset yrange [-0.2:1.05]\n"
         << "plot '" << af << "' using 1:2 with impulses lw 3 title 'ACF', " << band
         << " with lines dt 2 lc rgb '#777777' title '±1.96/√N', " << -band
         << " with lines dt 2 lc rgb '#777777' notitle\nset autoscale y\n";
    }
    gp << "unset multiplot\n";
    write_text_file((dir / "trace.gp").string(), gp.str());
  });
}

}  // namespace scorematch::app
