// npy_compare DIR_A DIR_B RTOL [RTOL_SE]: every *.npy in DIR_A must exist in DIR_B with the same
// shape and max|a − b| ≤ RTOL · max|a|; arrays named *_se.npy / *_cov.npy (sandwich standard
// errors, whose H⁻¹ C H⁻¹ amplifies rounding by cond(H)) use RTOL_SE (default RTOL). Exit 0 if all
// agree.
#include <filesystem>
#include <iostream>

#include "scorematch/core/error.hpp"
#include "scorematch/io/npy.hpp"

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc != 4 && argc != 5) {
    std::cerr << "usage: npy_compare DIR_A DIR_B RTOL [RTOL_SE]\n";
    return 2;
  }
  const double rtol = std::stod(argv[3]);
  const double rtol_se = argc == 5 ? std::stod(argv[4]) : rtol;
  int compared = 0;
  bool ok = true;
  try {
    for (const auto& entry : fs::directory_iterator(argv[1])) {
      if (entry.path().extension() != ".npy") continue;
      const auto a = scorematch::io::read_npy_array(entry.path().string());
      const auto b =
          scorematch::io::read_npy_array((fs::path(argv[2]) / entry.path().filename()).string());
      if (a.shape != b.shape) {
        std::cerr << entry.path().filename() << ": shapes differ\n";
        ok = false;
        continue;
      }
      double scale = 0, diff = 0;
      for (std::size_t i = 0; i < a.values.size(); ++i) {
        scale = std::max(scale, std::abs(a.values[i]));
        diff = std::max(diff, std::abs(a.values[i] - b.values[i]));
      }
      std::cout << entry.path().filename().string() << ": max relative difference " << diff / scale
                << "\n";
      const std::string stem = entry.path().stem().string();
      const bool derived = stem.ends_with("_se") || stem.ends_with("_cov");
      if (diff > (derived ? rtol_se : rtol) * scale) ok = false;
      ++compared;
    }
  } catch (const scorematch::Error& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  if (compared == 0) {
    std::cerr << "no .npy files in " << argv[1] << "\n";
    return 1;
  }
  return ok ? 0 : 1;
}
