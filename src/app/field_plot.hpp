// Renders a score-field picture with Debian's gnuplot: left panel the grid-normalised log-density
// as a heat map with the score field as arrows (unit direction; colour = |s|, log scale) and the
// data points on top; right panel the divergence of the score (= −Δφ). The gnuplot script is kept
// next to the PNG (field.gp) so the picture can be restyled by hand.
#pragma once
#include <string>

#include "scorematch/visual/field_grid.hpp"
#include "scorematch/visual/field_profile.hpp"

namespace scorematch::app {

struct FieldPicture {
  int width = 1400, height = 620;
  std::string title;
  std::string x_label = "x", y_label = "y";
};

// Writes field.dat, arrows.dat, field.gp (and uses data.dat when `data` has rows) into `dir`, runs
// gnuplot there and checks that field.png was written. Throws Error with gnuplot's message.
void render_field(const std::string& dir, const GridField& field, const GridSpec& grid,
                  const Matrix& data, const FieldPicture& picture);

// The 1-D mode: left, model and data potentials (each shifted to a minimum of 0); right, their
// gradients. Writes profile.dat and profile.gp, runs gnuplot, checks profile.png.
struct ProfilePicture {
  int width = 1400, height = 620;
  std::string title, x_label = "x";
};
void render_profile(const std::string& dir, const Profile& profile, const ProfilePicture& picture);

}  // namespace scorematch::app
