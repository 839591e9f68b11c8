#include "inverse_options.hpp"

#include "command.hpp"

namespace scorematch::cli {

void add_inverse_options(CLI::App* app, InverseOptions& o, const std::string& group) {
  app->add_option("--obs", o.obs, "Observations y (.csv or .npy), one per row")->group(group);
  app->add_option("--operator", o.op, "identity | mask | blur | dense")->group(group);
  app->add_option("--mask", o.mask, "mask: 0/1 file, one row per observation or one shared row")
      ->group(group);
  app->add_option("--kernel", o.kernel, "blur: kernel file (odd height and width)")->group(group);
  app->add_option("--image", o.image, "blur: image size HxW (row-major pixels)")->group(group);
  app->add_option("--boundary", o.boundary, "blur: zero | reflect")->group(group);
  app->add_option("--matrix", o.matrix, "dense: the m x d matrix A")->group(group);
  app->add_option("--sigma-y", o.sigma_y, "Observation noise sd (> 0)")
      ->check(above(0))
      ->group(group);
}

}  // namespace scorematch::cli
