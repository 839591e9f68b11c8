// Renders a score-field picture with Debian's gnuplot: left panel the grid-normalised log-density
// as a heat map with the score field as arrows (unit direction; colour = |s|, log scale) and the
// data points on top; right panel the divergence of the score (= −Δφ). The gnuplot script is kept
// next to the PNG (field.gp) so the picture can be restyled by hand.
#pragma once
#include <string>

#include "scorematch/visual/field_grid.hpp"

namespace scorematch::cli {

struct FieldPicture {
  int width = 1400, height = 620;
  std::string title;
  std::string x_label = "x", y_label = "y";
};

// Writes field.dat, arrows.dat, field.gp (and uses data.dat when `data` has rows) into `dir`, runs
// gnuplot there and checks that field.png was written. Throws Error with gnuplot's message.
void render_field(const std::string& dir, const GridField& field, const GridSpec& grid,
                  const Matrix& data, const FieldPicture& picture);

}  // namespace scorematch::cli
