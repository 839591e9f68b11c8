#include "field_plot.hpp"

#include <cmath>
#include <sstream>

#include "gnuplot.hpp"

namespace scorematch::app {

void render_field(const std::string& dir, const GridField& f, const GridSpec& g, const Matrix& data,
                  const FieldPicture& pic) {
  const bool density = f.log_density.size() > 0;
  std::ostringstream grid;
  grid.precision(10);
  // gnuplot "with image" wants x fastest with a blank line between rows of constant y.
  for (Index iy = 0; iy < g.ny; ++iy) {
    for (Index ix = 0; ix < g.nx; ++ix) {
      const Index k = iy * g.nx + ix;
      grid << f.points(k, g.axis_x) << ' ' << f.points(k, g.axis_y) << ' '
           << (density ? f.log_density[k] : 0.0) << ' ' << f.divergence[k] << '\n';
    }
    grid << '\n';
  }
  write_text_file(dir + "/field.dat", grid.str());

  // About 24 arrows per axis, each 0.8 lattice cells long, pointing along the steepest ascent of
  // log p in the picture's own coordinates u = x / range (the gradient there is s ⊙ range), so
  // arrows stay perpendicular to the drawn contours even when the axes have different units.
  const Index step_x = std::max<Index>(1, g.nx / 24), step_y = std::max<Index>(1, g.ny / 24);
  const double range_x = g.x_max - g.x_min, range_y = g.y_max - g.y_min;
  const double len_x = 0.8 * range_x * static_cast<double>(step_x) / static_cast<double>(g.nx - 1);
  const double len_y = 0.8 * range_y * static_cast<double>(step_y) / static_cast<double>(g.ny - 1);
  std::ostringstream arrows;
  arrows.precision(10);
  for (Index iy = step_y / 2; iy < g.ny; iy += step_y)
    for (Index ix = step_x / 2; ix < g.nx; ix += step_x) {
      const Index k = iy * g.nx + ix;
      const double a = f.score(k, 0) * range_x, b = f.score(k, 1) * range_y;
      const double norm = std::hypot(a, b);
      if (!(norm > 0)) continue;
      arrows << f.points(k, g.axis_x) - 0.5 * a / norm * len_x << ' '
             << f.points(k, g.axis_y) - 0.5 * b / norm * len_y << ' ' << a / norm * len_x << ' '
             << b / norm * len_y << '\n';
    }
  write_text_file(dir + "/arrows.dat", arrows.str());

  const bool have_data = data.rows() > 0;
  if (have_data) {
    std::ostringstream pts;
    pts.precision(10);
    for (Index r = 0; r < data.rows(); ++r)
      pts << data(r, g.axis_x) << ' ' << data(r, g.axis_y) << '\n';
    write_text_file(dir + "/data.dat", pts.str());
  }

  std::ostringstream gp;
  gp << "set terminal pngcairo size " << pic.width << "," << pic.height
     << " enhanced font 'sans,10'\n"
     << "set output 'field.png'\n"
     << "set multiplot layout 1,2 title " << gnuplot_quoted(pic.title) << "\n"
     << "set xrange [" << g.x_min << ":" << g.x_max << "]\nset yrange [" << g.y_min << ":"
     << g.y_max << "]\n"
     << "set xlabel " << gnuplot_quoted(pic.x_label) << "\nset ylabel "
     << gnuplot_quoted(pic.y_label) << "\n"
     << "set palette defined (0 '#440154', 1 '#3b528b', 2 '#21918c', 3 '#5ec962', 4 '#fde725')\n"
     << "set key top left opaque\n"
     << "set title "
     << gnuplot_quoted(density ? "log density (grid-normalised) and score field"
                               : "score field (no energy: score-only model)")
     << "\nset cblabel " << gnuplot_quoted(density ? "log p (top 12 nats)" : "") << "\n"
     << "set cbrange [" << (density ? f.log_density.maxCoeff() - 12.0 : -1.0) << ":"
     << (density ? f.log_density.maxCoeff() : 1.0) << "]\n"
     << "plot 'field.dat' using 1:2:3 with image notitle, \\\n"
     << "     'arrows.dat' using 1:2:3:4 with vectors head size screen 0.006,20 lc rgb '#ffffff'"
        " lw 0.8 title 'score (steepest ascent)'"
     << (have_data ? ", \\\n     'data.dat' using 1:2 with points pt 7 ps 0.35 lc rgb '#e41a1c'"
                     " title 'data'"
                   : "")
     << "\nset title " << gnuplot_quoted("divergence of the score (= Laplacian of log p)")
     << "\nset cblabel 'div s'\nset autoscale cb\n"
     << "set palette defined (0 '#2166ac', 1 '#f7f7f7', 2 '#b2182b')\n"
     << "plot 'field.dat' using 1:2:4 with image notitle"
     << (have_data ? ", 'data.dat' using 1:2 with points pt 7 ps 0.25 lc rgb '#000000' notitle"
                   : "")
     << "\nunset multiplot\n";
  write_text_file(dir + "/field.gp", gp.str());

  run_gnuplot(dir, "field.gp", "field.png");
}

void render_profile(const std::string& dir, const Profile& p, const ProfilePicture& pic) {
  const bool energy = p.model_potential.size() > 0, data = p.data_potential.size() > 0;
  std::ostringstream dat;
  dat.precision(10);
  for (Index k = 0; k < p.t.size(); ++k)
    dat << p.t[k] << ' ' << (energy ? p.model_potential[k] : 0.0) << ' ' << p.model_gradient[k]
        << ' ' << (data ? p.data_potential[k] : 0.0) << ' ' << (data ? p.data_gradient[k] : 0.0)
        << '\n';
  write_text_file(dir + "/profile.dat", dat.str());
  std::ostringstream gp;
  gp << "set terminal pngcairo size " << pic.width << "," << pic.height
     << " enhanced font 'sans,10'\nset output 'profile.png'\n"
     << "set multiplot layout 1,2 title " << gnuplot_quoted(pic.title) << "\n"
     << "set xlabel " << gnuplot_quoted(pic.x_label) << "\nset key top center\nset grid\n"
     << "set xrange [" << p.t.minCoeff() << ":" << p.t.maxCoeff() << "]\n"
     << "set title " << gnuplot_quoted("potential -log p, shifted to min 0") << "\n";
  if (energy || data) {
    gp << "plot ";
    if (energy) gp << "'profile.dat' using 1:2 with lines lw 2 lc rgb '#1f77b4' title 'model'";
    if (energy && data) gp << ", ";
    if (data)
      gp << "'profile.dat' using 1:4 with lines lw 2 dt 2 lc rgb '#d62728' title 'data (KDE)'";
    gp << "\n";
  } else {
    gp << "set label 1 'score-only model, no data: no potential' at graph 0.2,0.5\n"
       << "plot 1/0 notitle\nunset label 1\n";
  }
  gp << "set title " << gnuplot_quoted("gradient of the potential (= -score)") << "\n"
     << "plot 'profile.dat' using 1:3 with lines lw 2 lc rgb '#1f77b4' title 'model'"
     << (data ? ", 'profile.dat' using 1:5 with lines lw 2 dt 2 lc rgb '#d62728' title 'data (KDE)'"
              : "")
     << "\nunset multiplot\n";
  write_text_file(dir + "/profile.gp", gp.str());
  run_gnuplot(dir, "profile.gp", "profile.png");
}

}  // namespace scorematch::app
