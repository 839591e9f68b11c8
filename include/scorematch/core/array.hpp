// A dense float64 array with a shape (C order): the unit in which models are saved and loaded
// (one NPY file per named array). Conversions to and from Eigen live here.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "scorematch/core/error.hpp"
#include "scorematch/core/types.hpp"

namespace scorematch {

struct Array {
  std::vector<Index> shape;
  std::vector<double> values;

  static Array from(const Vector& v) {
    return {{v.size()}, std::vector<double>(v.data(), v.data() + v.size())};
  }
  static Array from(const Matrix& m) {
    return {{m.rows(), m.cols()}, std::vector<double>(m.data(), m.data() + m.size())};
  }
  Vector to_vector(const std::string& name) const {
    if (shape.size() != 1) throw Error("array '" + name + "' must be 1-D");
    return Eigen::Map<const Vector>(values.data(), shape[0]);
  }
  Matrix to_matrix(const std::string& name) const {
    if (shape.size() != 2) throw Error("array '" + name + "' must be 2-D");
    return Eigen::Map<const Matrix>(values.data(), shape[0], shape[1]);
  }
};

using NamedArrays = std::map<std::string, Array>;

// The array `name` that a model of `kind` needs; a clear error if it is missing.
inline const Array& require_array(const NamedArrays& arrays, const std::string& name,
                                  const std::string& kind) {
  auto it = arrays.find(name);
  if (it == arrays.end()) throw Error(kind + " model needs array '" + name + "'");
  return it->second;
}

}  // namespace scorematch
